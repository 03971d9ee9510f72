#!/usr/bin/env bash
# tests/e2e/sandbox.sh - rootless sandbox helpers for the light-containerd e2e tests.
#
# Runs as root. Sets up an unprivileged user with subordinate id ranges, a
# local plain-HTTP registry, a tiny busybox OCI image, and a private cgroup2
# subtree in which a command runs as that user (the way the daemon runs in
# the tests). No network other than loopback is used.
#
# Usage:
#   sandbox.sh user [--no-subids]
#       Create system user lcd-test (home /var/lib/lcd-test) with /etc/subuid
#       and /etc/subgid ranges of 65536 ids, if absent (--no-subids: without,
#       for the single-id mode; use another LCD_TEST_USER). Prints the name.
#   sandbox.sh registry DIR
#       Start docker-registry on a free 127.0.0.1 port, storage and config in
#       DIR, in the background. Prints "PORT PID".
#   sandbox.sh registry-stop DIR
#       Stop the registry started with DIR (pid in DIR/registry.pid).
#   sandbox.sh image PORT [REPO:TAG [EXTRA_MB]]
#       Build (once, cached) a busybox OCI image with umoci and push it to
#       docker://127.0.0.1:PORT/REPO:TAG (default acc/busybox:1.0). With
#       EXTRA_MB, the image gets a layer of that many MB of random files.
#       Prints the pushed manifest digest.
#   sandbox.sh run [--cgroup-name NAME] [--keep] -- CMD [ARGS...]
#       In a private mount namespace with a fresh cgroup2 mount, create the
#       cgroups /NAME and /NAME/daemon (default NAME lcd-e2e-<pid>), hand
#       them to lcd-test, and run CMD as lcd-test inside /NAME/daemon.
#       Afterwards kill what is left in /NAME and remove it. Exits with
#       CMD's status. With --keep, /NAME may exist already (it is reused)
#       and is left as it is afterwards (for crash-recovery tests; 'sweep'
#       removes it).
#   sandbox.sh sweep [NAME]
#       Kill and remove the cgroup /NAME; without NAME, remove the /lcd-e2e-*
#       cgroups that are empty or whose "run" (lcd-e2e-PID) is gone.
#   sandbox.sh check
#       Exit 77 (skip) with a message on stderr if a prerequisite is missing.
#
# Environment:
#   LCD_TEST_USER     user name (default lcd-test)
#   LCD_IMAGE_CACHE   where the built OCI layout is cached
#                     (default /var/cache/lcd-test/images)
#   LCD_IMAGE_FORMAT  manifest format pushed by "image": oci (default) or
#                     v2s2 (Docker schema 2; skopeo converts it to OCI when
#                     copying into an oci: layout, so the digest changes)
#   LCD_RUNTIME_DIR   XDG_RUNTIME_DIR for CMD under "run" (created, owned by
#                     the user, mode 0700, kept); default a fresh temporary
#                     directory that is removed afterwards.
#   LCD_SANDBOX_RESOLV  a file bind-mounted on /etc/resolv.conf for CMD
#                     (a test's resolver on this host: pasta forwards the
#                     containers' DNS to the first nameserver in it)
#
# CMD under "run" gets a clean environment: HOME, USER, LOGNAME,
# XDG_RUNTIME_DIR, PATH (LCD_SANDBOX_PATH when set: the faults tests give
# the daemon a PATH with a tool missing or replaced), every LCD_* variable
# of the caller, and
#   LCD_SANDBOX_CGROUP       /NAME (path relative to the cgroup2 mount)
#   LCD_SANDBOX_CONTROLLERS  controllers enabled for /NAME's children
#                            (space separated, may be empty)

set -euo pipefail

readonly TEST_USER=${LCD_TEST_USER:-lcd-test}
readonly TEST_HOME=/var/lib/${TEST_USER}
readonly SUBID_COUNT=65536
readonly SUBID_MIN_START=200000
readonly IMAGE_CACHE=${LCD_IMAGE_CACHE:-/var/cache/lcd-test/images}
readonly DEFAULT_IMAGE_REF=acc/busybox:1.0
readonly IMAGE_FORMAT=${LCD_IMAGE_FORMAT:-oci}
readonly CGROUP_MNT=/sys/fs/cgroup
readonly KILL_GRACE=10  # seconds between SIGTERM and SIGKILL for "run"
SELF=$(readlink -f "${BASH_SOURCE[0]}")
readonly SELF
readonly BUSYBOX_APPLETS=(sh true false sleep echo cat ls env pwd id ps kill
                          mkdir rm touch printf test wc head tail grep hostname
                          uname date mount stat chown)

die() { printf 'sandbox: %s\n' "$*" >&2; exit 1; }
note() { printf 'sandbox: %s\n' "$*" >&2; }
need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

# ---------------------------------------------------------------- user

# Print the first id after every range in FILE, but at least SUBID_MIN_START.
next_free_subid() {
    local file=$1 start=$SUBID_MIN_START name first count
    while IFS=: read -r name first count; do
        [[ -n $name && $first =~ ^[0-9]+$ && $count =~ ^[0-9]+$ ]] || continue
        (( first + count > start )) && start=$(( first + count ))
    done < "$file"
    printf '%s\n' "$start"
}

add_subid_range() {
    local file=$1
    [[ -e $file ]] || install -m 0644 /dev/null "$file"
    grep -q "^${TEST_USER}:" "$file" && return 0
    printf '%s:%s:%s\n' "$TEST_USER" "$(next_free_subid "$file")" \
        "$SUBID_COUNT" >> "$file"
}

cmd_user() {
    need_root
    local subids=1
    [[ ${1:-} == --no-subids ]] && subids=0
    if ! getent passwd "$TEST_USER" >/dev/null; then
        useradd --system --user-group --home-dir "$TEST_HOME" --create-home \
                --shell /bin/sh "$TEST_USER"
    fi
    if [[ ! -d $TEST_HOME ]]; then
        install -d -m 0755 -o "$TEST_USER" -g "$TEST_USER" "$TEST_HOME"
    fi
    if (( subids )); then
        add_subid_range /etc/subuid
        add_subid_range /etc/subgid
    elif grep -q "^${TEST_USER}:" /etc/subuid /etc/subgid 2>/dev/null; then
        die "user $TEST_USER has subordinate ids; --no-subids wants a user without"
    fi
    printf '%s\n' "$TEST_USER"
}

# ------------------------------------------------------------ registry

port_in_use() {
    ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

# GET http://127.0.0.1:PORT/v2/ with bash's /dev/tcp; succeed on any
# HTTP status line (the registry answers 200, or 401 with auth).
registry_answers() {
    local port=$1 status
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS= read -r -t 2 status <&3 || status=
    exec 3>&-
    [[ $status == HTTP/1.?' '[0-9][0-9][0-9]* ]]
}

cmd_registry() {
    [[ $# -eq 1 ]] || die "usage: sandbox.sh registry DIR"
    local dir port pid tries i
    mkdir -p "$1"
    dir=$(readlink -f "$1")
    mkdir -p "$dir/storage"
    for tries in 1 2 3 4 5; do
        port=$(( 20000 + RANDOM % 40000 ))
        port_in_use "$port" && continue
        cat > "$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: lcd-e2e-not-a-secret
EOF
        setsid /usr/bin/docker-registry serve "$dir/config.yml" \
            </dev/null >>"$dir/registry.log" 2>&1 &
        pid=$!
        for (( i = 0; i < 100; i++ )); do
            if registry_answers "$port"; then
                printf '%s\n' "$pid" > "$dir/registry.pid"
                printf '%s\n' "$port" > "$dir/registry.port"
                printf '%s %s\n' "$port" "$pid"
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        note "registry on port $port did not come up (attempt $tries)"
    done
    tail -n 20 "$dir/registry.log" >&2 || true
    die "could not start docker-registry"
}

cmd_registry_stop() {
    [[ $# -eq 1 ]] || die "usage: sandbox.sh registry-stop DIR"
    local pidfile=$1/registry.pid pid i
    [[ -f $pidfile ]] || return 0
    pid=$(<"$pidfile")
    if kill "$pid" 2>/dev/null; then
        for (( i = 0; i < 50; i++ )); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

# --------------------------------------------------------------- image

# Fill the OCI layout $1 (tag "latest") with the busybox image.
build_layout() {
    local oci=$1 bundle=$1.bundle applet
    umoci init --layout "$oci"
    umoci new --image "$oci:latest"
    umoci unpack --image "$oci:latest" "$bundle" >/dev/null
    install -d -m 0755 "$bundle/rootfs/bin" "$bundle/rootfs/etc" \
        "$bundle/rootfs/proc" "$bundle/rootfs/sys" "$bundle/rootfs/dev" \
        "$bundle/rootfs/root"
    install -d -m 1777 "$bundle/rootfs/tmp"
    install -m 0755 /bin/busybox "$bundle/rootfs/bin/busybox"
    for applet in "${BUSYBOX_APPLETS[@]}"; do
        ln -s busybox "$bundle/rootfs/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
        > "$bundle/rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$bundle/rootfs/etc/group"
    # files of other owners, so tests can see ownership survive the unpack
    install -d -m 0755 -o 1000 -g 1000 "$bundle/rootfs/home/app"
    printf 'app\n' > "$bundle/rootfs/home/app/owned"
    chown 1000:1000 "$bundle/rootfs/home/app/owned"
    install -d -m 0750 -o 33 -g 33 "$bundle/rootfs/srv/www"
    umoci repack --image "$oci:latest" "$bundle" >/dev/null
    umoci config --image "$oci:latest" \
        --config.cmd /bin/sh \
        --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --config.workingdir / \
        --os linux --architecture amd64
    umoci gc --layout "$oci"
    chmod -R a+rX "$oci"
}

# Build the busybox image once, as OCI layout $IMAGE_CACHE/busybox-v2.
build_image() {
    local layout=$IMAGE_CACHE/busybox-v2 work lockfd rc=0
    mkdir -p "$IMAGE_CACHE"
    exec {lockfd}>"$IMAGE_CACHE/.lock"
    flock "$lockfd"
    if [[ ! -f $layout/index.json ]]; then
        rm -rf "$layout" "$IMAGE_CACHE"/.build.*
        work=$(mktemp -d "$IMAGE_CACHE/.build.XXXXXX")
        # A separate process: set -e does not work in a function called with ||.
        "$SELF" __build-layout "$work/oci" >&2 || rc=$?
        if (( rc == 0 )); then mv "$work/oci" "$layout"; fi
        rm -rf "$work"
    fi
    exec {lockfd}>&-
    (( rc == 0 )) || die "building the busybox image failed"
}

# Add a layer of MB one-megabyte files of random data to the busybox
# layout $1 (copied to $2): an image whose size is not in its metadata.
build_big_layout() {
    local src=$1 oci=$2 mb=$3 bundle=$2.bundle i
    cp -a "$src" "$oci"
    umoci unpack --image "$oci:latest" "$bundle" >/dev/null
    install -d -m 0755 "$bundle/rootfs/data"
    for (( i = 0; i < mb; i++ )); do
        head -c 1048576 /dev/urandom > "$bundle/rootfs/data/blob-$i"
    done
    umoci repack --image "$oci:latest" "$bundle" >/dev/null
    umoci gc --layout "$oci"
    rm -rf "$bundle"
    chmod -R a+rX "$oci"
}

# Build (once) the busybox image plus MB megabytes, as $IMAGE_CACHE/big-MB.
build_big_image() {
    local mb=$1 layout=$IMAGE_CACHE/big-$1 work lockfd rc=0
    build_image
    exec {lockfd}>"$IMAGE_CACHE/.lock"
    flock "$lockfd"
    if [[ ! -f $layout/index.json ]]; then
        rm -rf "$layout"
        work=$(mktemp -d "$IMAGE_CACHE/.build.XXXXXX")
        "$SELF" __build-big-layout "$IMAGE_CACHE/busybox-v2" "$work/oci" "$mb" >&2 || rc=$?
        if (( rc == 0 )); then mv "$work/oci" "$layout"; fi
        rm -rf "$work"
    fi
    exec {lockfd}>&-
    (( rc == 0 )) || die "building the ${mb} MB image failed"
}

cmd_image() {
    [[ $# -ge 1 && $# -le 3 ]] || die "usage: sandbox.sh image PORT [REPO:TAG [EXTRA_MB]]"
    local port=$1 ref=${2:-$DEFAULT_IMAGE_REF} mb=${3:-0} digestfile layout
    [[ $port =~ ^[0-9]+$ ]] || die "bad port: $port"
    [[ $mb =~ ^[0-9]+$ ]] || die "bad size: $mb"
    need_root
    if (( mb > 0 )); then
        build_big_image "$mb"
        layout=$IMAGE_CACHE/big-$mb
    else
        build_image
        layout=$IMAGE_CACHE/busybox-v2
    fi
    digestfile=$(mktemp)
    if ! skopeo copy --quiet --dest-tls-verify=false --digestfile "$digestfile" \
            --format "$IMAGE_FORMAT" \
            "oci:$layout:latest" "docker://127.0.0.1:$port/$ref" >&2; then
        rm -f "$digestfile"
        die "skopeo copy to 127.0.0.1:$port/$ref failed"
    fi
    cat "$digestfile"
    echo
    rm -f "$digestfile"
}

# ----------------------------------------------------------------- run

# Kill every process in cgroup DIR (recursively) and remove it.
destroy_cgroup() {
    local dir=$1 i pid
    [[ -d $dir ]] || return 0
    # A frozen cgroup would keep its tasks from dying on older kernels.
    if [[ -f $dir/cgroup.freeze ]]; then echo 0 2>/dev/null > "$dir/cgroup.freeze" || true; fi
    for (( i = 0; i < 100; i++ )); do
        grep -q '^populated 0' "$dir/cgroup.events" 2>/dev/null && break
        if [[ -f $dir/cgroup.kill ]]; then
            echo 1 2>/dev/null > "$dir/cgroup.kill" || true
        else
            while read -r pid; do
                kill -KILL "$pid" 2>/dev/null || true
            done < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
        fi
        sleep 0.05
    done
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ ! -d $dir ]] || note "could not remove cgroup $dir"
}

# Enable what can be enabled of WANT in DIR/cgroup.subtree_control;
# print the controllers enabled there afterwards.
enable_controllers() {
    local dir=$1 c
    shift
    for c in "$@"; do
        grep -qw "$c" "$dir/cgroup.controllers" || continue
        echo "+$c" 2>/dev/null > "$dir/cgroup.subtree_control" || true
    done
    cat "$dir/cgroup.subtree_control"
}

RUN_CGROUP=
RUN_TMPDIR=
RUN_CHILD=
RUN_SIGNALED=0

# EXIT trap of run_inner.
# shellcheck disable=SC2317  # invoked by trap
run_cleanup() {
    if [[ -n $RUN_CGROUP ]]; then destroy_cgroup "$RUN_CGROUP"; fi
    if [[ -n $RUN_TMPDIR ]]; then rm -rf "$RUN_TMPDIR"; fi
}

# TERM/INT/HUP trap of run_inner: pass SIGTERM on to CMD.
# shellcheck disable=SC2317  # invoked by trap
run_on_signal() {
    RUN_SIGNALED=1
    if [[ -n $RUN_CHILD ]]; then kill -TERM "$RUN_CHILD" 2>/dev/null || true; fi
}

# True while PID exists and is not a zombie.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# Runs inside "unshare -m": NAME -- CMD ARGS...
run_inner() {
    local name=$1 keep=$2 cg rundir rundir_tmp=0 controllers wanted var rc=0 i
    shift 3
    local -a envv
    wanted=(cpu cpuset io memory pids hugetlb)

    mount --make-rprivate /
    mount -t cgroup2 cgroup2 "$CGROUP_MNT"
    # the daemon's (and so pasta's) resolver: a test's own, on this host
    if [[ -n ${LCD_SANDBOX_RESOLV:-} ]]; then
        mount --bind "$LCD_SANDBOX_RESOLV" /etc/resolv.conf
    fi
    cg=$CGROUP_MNT/$name
    [[ ! -e $cg ]] || (( keep )) || die "cgroup /$name already exists"

    if [[ -n ${LCD_RUNTIME_DIR:-} ]]; then
        rundir=$LCD_RUNTIME_DIR
        install -d -m 0700 -o "$TEST_USER" -g "$TEST_USER" "$rundir"
    else
        rundir=$(mktemp -d /tmp/lcd-run.XXXXXX)
        rundir_tmp=1
        chown "$TEST_USER:$TEST_USER" "$rundir"
        chmod 0700 "$rundir"
    fi

    RUN_CGROUP=$cg
    if (( keep )); then RUN_CGROUP=; fi
    RUN_TMPDIR=
    if (( rundir_tmp )); then RUN_TMPDIR=$rundir; fi
    trap run_cleanup EXIT
    trap run_on_signal TERM INT HUP

    enable_controllers "$CGROUP_MNT" "${wanted[@]}" >/dev/null
    mkdir -p "$cg/daemon"
    controllers=$(enable_controllers "$cg" "${wanted[@]}")
    chown -R "$TEST_USER:$TEST_USER" "$cg"
    note "cgroup /$name, controllers for its children: ${controllers:-none}"

    envv=(HOME="$TEST_HOME" USER="$TEST_USER" LOGNAME="$TEST_USER"
          XDG_RUNTIME_DIR="$rundir" PATH="${LCD_SANDBOX_PATH:-$PATH}"
          LCD_SANDBOX_CGROUP="/$name" LCD_SANDBOX_CONTROLLERS="$controllers")
    while IFS= read -r var; do
        case $var in LCD_SANDBOX_CGROUP|LCD_SANDBOX_CONTROLLERS) continue ;; esac
        envv+=("$var=${!var}")
    done < <(compgen -e | grep '^LCD_' || true)

    if (( RUN_SIGNALED )); then exit 143; fi
    # Keep the caller's stdin: bash gives background jobs /dev/null.
    (
        echo "$BASHPID" > "$cg/daemon/cgroup.procs"
        exec setpriv --reuid "$TEST_USER" --regid "$TEST_USER" --init-groups \
            env -i "${envv[@]}" "$@"
    ) 0<&0 &
    RUN_CHILD=$!
    while :; do
        # wait returns early when a trapped signal arrives: wait again.
        wait "$RUN_CHILD" && rc=0 || rc=$?
        kill -0 "$RUN_CHILD" 2>/dev/null || break
        if (( RUN_SIGNALED )); then
            # Give CMD KILL_GRACE seconds after SIGTERM, then kill the lot.
            for (( i = 0; i < KILL_GRACE * 10; i++ )); do
                alive "$RUN_CHILD" || break
                sleep 0.1
            done
            if alive "$RUN_CHILD"; then
                echo 1 2>/dev/null > "$cg/cgroup.kill" || kill -KILL "$RUN_CHILD" 2>/dev/null || true
            fi
        fi
    done
    exit "$rc"
}

cmd_run() {
    need_root
    local name=lcd-e2e-$$ keep=0
    while [[ $# -gt 0 ]]; do
        case $1 in
            --keep) keep=1; shift ;;
            --cgroup-name) [[ $# -ge 2 ]] || die "--cgroup-name needs a value"
                           name=$2; shift 2 ;;
            --cgroup-name=*) name=${1#*=}; shift ;;
            --) shift; break ;;
            *) die "usage: sandbox.sh run [--cgroup-name NAME] [--keep] -- CMD [ARGS...]" ;;
        esac
    done
    [[ $# -ge 1 ]] || die "run: no command"
    [[ $name =~ ^[A-Za-z0-9._-]+$ && $name != . && $name != .. ]] \
        || die "bad cgroup name: $name"
    getent passwd "$TEST_USER" >/dev/null \
        || die "user $TEST_USER missing: run 'sandbox.sh user' first"
    # pasta opens /dev/net/tun as the daemon's user: Debian's udev makes it
    # 0666, these machines have it 0600 (a host fix, not the daemon's)
    [[ -c /dev/net/tun ]] && chmod 0666 /dev/net/tun
    exec unshare -m -- "$SELF" __run-inner "$name" "$keep" -- "$@"
}

# --------------------------------------------------------------- sweep

# The cgroup2 hierarchy is shared by every sandbox on the machine: without
# NAME, only remove lcd-e2e-* cgroups that are empty, or named lcd-e2e-PID
# (the default of "run") with PID gone.
sweep_inner() {
    local d name
    mount --make-rprivate /
    mount -t cgroup2 cgroup2 "$CGROUP_MNT"
    if [[ $# -eq 1 ]]; then
        destroy_cgroup "$CGROUP_MNT/$1"
        return 0
    fi
    for d in "$CGROUP_MNT"/lcd-e2e-*; do
        [[ -d $d ]] || continue
        name=${d##*/}
        if grep -q '^populated 1' "$d/cgroup.events" &&
           ! [[ $name =~ ^lcd-e2e-([0-9]+)$ && ! -d /proc/${BASH_REMATCH[1]} ]]; then
            note "leaving /$name: in use"
            continue
        fi
        note "removing /$name"
        destroy_cgroup "$d"
    done
    return 0
}

cmd_sweep() {
    need_root
    [[ $# -le 1 ]] || die "usage: sandbox.sh sweep [NAME]"
    exec unshare -m -- "$SELF" __sweep-inner "$@"
}

# --------------------------------------------------------------- check

cmd_check() {
    local missing=() t
    for t in skopeo umoci crun conmon newuidmap newgidmap unshare setpriv \
             setsid flock useradd mount ss pasta; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    [[ -x /usr/bin/docker-registry ]] || missing+=(/usr/bin/docker-registry)
    [[ -x /bin/busybox ]] || missing+=("/bin/busybox (busybox-static)")
    if (( ${#missing[@]} )); then
        printf 'sandbox: missing prerequisites: %s\n' "${missing[*]}" >&2
        exit 77
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "sandbox: must run as root" >&2; exit 77
    fi
    if ! grep -qw cgroup2 /proc/filesystems; then
        echo "sandbox: kernel lacks cgroup2" >&2; exit 77
    fi
    if [[ $(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0) -eq 0 ]]; then
        echo "sandbox: user namespaces are disabled" >&2; exit 77
    fi
    if ! unshare -m -- sh -c "mount --make-rprivate / && mount -t cgroup2 cgroup2 $CGROUP_MNT" \
            2>/dev/null; then
        echo "sandbox: cannot mount cgroup2 in a private mount namespace" >&2
        exit 77
    fi
    return 0
}

# ---------------------------------------------------------------- main

main() {
    [[ $# -ge 1 ]] || die "usage: sandbox.sh user|registry|registry-stop|image|run|sweep|check ..."
    local sub=$1
    shift
    case $sub in
        user) cmd_user "$@" ;;
        registry) cmd_registry "$@" ;;
        registry-stop) cmd_registry_stop "$@" ;;
        image) cmd_image "$@" ;;
        run) cmd_run "$@" ;;
        sweep) cmd_sweep "$@" ;;
        check) cmd_check "$@" ;;
        __run-inner) run_inner "$@" ;;
        __sweep-inner) sweep_inner "$@" ;;
        __build-layout) build_layout "$@" ;;
        __build-big-layout) build_big_layout "$@" ;;
        *) die "unknown subcommand: $sub" ;;
    esac
}

# "exit" on the same line: bash must not read on if this file is replaced
# while it runs.
main "$@"; exit
