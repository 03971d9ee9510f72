/* completion.c - the shell completion script `lightctl completion bash`
 * (and zsh) prints, made from the command table and the global options.
 *
 * DESIGN: the script has two parts. The data is generated from the tables
 * each time it is printed: the command names, the global options (and
 * which take a value), and per command the options, the options that take
 * a value and the kind of each argument, all read from its usage text
 * ("[--tag T]" is an option with a value, "NAME[:TAG]..." containers, as
 * many as wanted; "IMAGE" a cached image; "bash|zsh" those words). The
 * code is fixed: it finds the command after the global options, and
 * offers commands, options, or arguments of the kind at that position.
 * Containers and images come from `lightctl --json ps` and `--json images`
 * on the same daemon (the global options typed are passed on), matched
 * line by line against their alphabets, never evaluated; when the daemon
 * is down nothing is offered and nothing is said. Every word the data
 * holds is checked against a plain alphabet, so it is safe inside the
 * single quotes it is written in. One thread; bounded buffers only.
 */
#include "completion.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* A space-separated list of words in a fixed buffer; over when one did
 * not fit. */
struct words {
        char buf[1024];
        size_t len;
        bool over;
};

static void words_add(struct words *w, const char *word, size_t n)
{
        size_t need = n + (w->len > 0);
        if (w->over || w->len + need >= sizeof w->buf) {
                w->over = true;
                return;
        }
        if (w->len > 0)
                w->buf[w->len++] = ' ';
        memcpy(w->buf + w->len, word, n);
        w->len += n;
        w->buf[w->len] = '\0';
}

static bool words_has(const struct words *w, const char *word, size_t n)
{
        for (const char *p = w->buf; *p != '\0';) {
                size_t len = strcspn(p, " ");
                if (len == n && memcmp(p, word, n) == 0)
                        return true;
                p += len + (p[len] == ' ');
        }
        return false;
}

/* Whether word[0..n) is non-empty and only of [A-Za-z0-9_-] (extra: more
 * characters allowed). */
static bool plain(const char *word, size_t n, const char *extra)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = word[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-' || (extra != NULL && strchr(extra, c) != NULL)))
                        return false;
        }
        return true;
}

/* What completes an argument written word[0..n) in a usage: "name"
 * (NAME[:TAG], a container), "image" (IMAGE, a cached image), the words of
 * "a|b", or "-" (nothing); with "..." when it repeats. */
static void add_kind(struct words *args, const char *word, size_t n)
{
        char kind[128];
        bool repeats = n >= 3 && memcmp(word + n - 3, "...", 3) == 0;
        size_t base = repeats ? n - 3 : n;
        const char *k = "-";
        size_t klen = 1;
        if (base >= 4 && memcmp(word, "NAME", 4) == 0) {
                k = "name";
                klen = 4;
        } else if (base == 5 && memcmp(word, "IMAGE", 5) == 0) {
                k = "image";
                klen = 5;
        } else if (memchr(word, '|', base) != NULL && plain(word, base, "|")) {
                k = word;
                klen = base;
        }
        int len = snprintf(kind, sizeof kind, "%.*s%s", (int)klen, k, repeats ? "..." : "");
        if (len < 0 || (size_t)len >= sizeof kind) {
                args->over = true;
                return;
        }
        words_add(args, kind, (size_t)len);
}

/* One command's usage text -> its options, those taking a value, and the
 * kind of each argument. A bracket that opens with an option holds that
 * option and its value ("[--time SECONDS]"); any other is of arguments
 * ("[CMD [ARG...]]"). 0, -EINVAL (an option outside the alphabet) or
 * -ENOSPC. */
static int read_usage(const char *usage, struct words *opts, struct words *values, struct words *args)
{
        int depth = 0;
        bool option_group = false;
        const char *pending = NULL; /* the option whose value may follow */
        size_t pending_len = 0;
        for (const char *p = usage; *p != '\0';) {
                if (*p == ' ') {
                        p++;
                        continue;
                }
                int opens = 0;
                for (; *p == '['; p++)
                        opens++;
                const char *word = p;
                int inner = 0; /* brackets inside the word: NAME[:TAG] */
                for (; *p != '\0' && *p != ' ' && (*p != ']' || inner > 0); p++)
                        inner += *p == '[' ? 1 : *p == ']' ? -1 : 0;
                size_t n = (size_t)(p - word);
                int closes = 0;
                for (; *p != '\0' && *p != ' '; p++)
                        closes += *p == ']';
                if (depth == 0 && opens > 0)
                        option_group = word[0] == '-';
                depth += opens;
                if (n > 0 && word[0] == '-') {
                        size_t eq = strcspn(word, "=");
                        if (eq < n)
                                n = eq;
                        if (!plain(word, n, NULL))
                                return -EINVAL;
                        if (!words_has(opts, word, n))
                                words_add(opts, word, n);
                        pending = word;
                        pending_len = n;
                } else if (n > 0 && depth > 0 && option_group) {
                        if (pending != NULL && !words_has(values, pending, pending_len))
                                words_add(values, pending, pending_len);
                        pending = NULL;
                } else if (n > 0) {
                        add_kind(args, word, n);
                }
                depth = closes > depth ? 0 : depth - closes;
                if (depth == 0)
                        pending = NULL;
        }
        return opts->over || values->over || args->over ? -ENOSPC : 0;
}

/* The fixed part: the functions that read the data above them. */
static const char script[] =
        "_lightctl_has() {\n"
        "    local w\n"
        "    for w in $2; do\n"
        "        [[ $w == \"$1\" ]] && return 0\n"
        "    done\n"
        "    return 1\n"
        "}\n"
        "\n"
        "_lightctl_add() {\n"
        "    [[ $1 == \"$_cur\"* ]] && COMPREPLY+=(\"$1\")\n"
        "    return 0\n"
        "}\n"
        "\n"
        "_lightctl_offer() {\n"
        "    local w\n"
        "    for w in $1; do\n"
        "        [[ $w == \"$_cur\"* ]] && COMPREPLY+=(\"$w\")\n"
        "    done\n"
        "}\n"
        "\n"
        "# NAME:TAG of each container, or each cached image's ref, from --json output\n"
        "# (matched line by line against their alphabets; nothing is evaluated).\n"
        "_lightctl_listed() {\n"
        "    local ctl=${_w[0]} line name='' re_name re_tag re_ref list=ps\n"
        "    [[ $1 == image ]] && list=images\n"
        "    [[ $ctl == \"~/\"* ]] && ctl=$HOME/${ctl#\"~/\"}\n"
        "    command -v \"$ctl\" >/dev/null 2>&1 || return 0\n"
        "    re_name='^[[:space:]]*\"name\": ?\"([a-z0-9][a-z0-9_.-]*)\",?$'\n"
        "    re_tag='^[[:space:]]*\"tag\": ?\"([A-Za-z0-9_][A-Za-z0-9_.-]*)\",?$'\n"
        "    re_ref='^[[:space:]]*\"ref\": ?\"([A-Za-z0-9][A-Za-z0-9_./:@-]*)\",?$'\n"
        "    while IFS= read -r line; do\n"
        "        if [[ $1 == image ]]; then\n"
        "            [[ $line =~ $re_ref ]] && _lightctl_add \"${BASH_REMATCH[1]}\"\n"
        "        elif [[ $line =~ $re_name ]]; then\n"
        "            name=${BASH_REMATCH[1]}\n"
        "        elif [[ -n $name && $line =~ $re_tag ]]; then\n"
        "            _lightctl_add \"$name:${BASH_REMATCH[1]}\"\n"
        "            name=''\n"
        "        fi\n"
        "    done < <(\"$ctl\" \"${_g[@]}\" --timeout 3 --json \"$list\" 2>/dev/null)\n"
        "}\n"
        "\n"
        "_lightctl() {\n"
        "    local -a _w=() _g=() kinds=()\n"
        "    local _cur i j n=0 c join=0 w cmd kind _lo _lv _la pos=0 ended=0\n"
        "    [[ -n ${ZSH_VERSION-} ]] && setopt localoptions ksharrays bashrematch shwordsplit noglob\n"
        "    COMPREPLY=()\n"
        "    # bash splits NAME:TAG and --opt=VALUE at : and = (COMP_WORDBREAKS): join them again\n"
        "    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do\n"
        "        w=${COMP_WORDS[i]}\n"
        "        if ((n > 0)) && [[ $w =~ ^[:=]+$ || ($join == 1 && -n $w) ]]; then\n"
        "            _w[n-1]+=$w\n"
        "        else\n"
        "            _w[n++]=$w\n"
        "        fi\n"
        "        [[ $w =~ ^[:=]+$ ]] && join=1 || join=0\n"
        "        ((i == COMP_CWORD)) && c=$((n - 1))\n"
        "    done\n"
        "    if [[ -z $c ]]; then\n"
        "        _w[n]=''\n"
        "        c=$n\n"
        "    fi\n"
        "    _cur=${_w[c]}\n"
        "    # the global options, then the command\n"
        "    for ((i = 1; i < c; i++)); do\n"
        "        w=${_w[i]}\n"
        "        [[ $w == -* ]] || break\n"
        "        if [[ $w != *=* ]] && _lightctl_has \"$w\" \"$_lightctl_global_values\"; then\n"
        "            ((i + 1 == c)) && { compopt -o default 2>/dev/null; return 0; }\n"
        "            _g+=(\"$w\" \"${_w[i + 1]}\")\n"
        "            ((i++))\n"
        "        elif [[ $w == *=* ]] || [[ $w == --insecure ]]; then\n"
        "            _g+=(\"$w\")\n"
        "        fi\n"
        "    done\n"
        "    if ((i == c)); then\n"
        "        if [[ $_cur == --*=* ]]; then\n"
        "            compopt -o default 2>/dev/null\n"
        "        elif [[ $_cur == -* ]]; then\n"
        "            _lightctl_offer \"$_lightctl_globals\"\n"
        "        else\n"
        "            _lightctl_offer \"$_lightctl_commands\"\n"
        "        fi\n"
        "        return 0\n"
        "    fi\n"
        "    cmd=${_w[i]}\n"
        "    _lightctl_spec \"$cmd\" || return 0\n"
        "    # the command's options come first (getopt stops at the first argument), then its arguments\n"
        "    for ((j = i + 1; j < c; j++)); do\n"
        "        w=${_w[j]}\n"
        "        if ((pos > 0 || ended)) || [[ $w != -?* ]]; then\n"
        "            ((pos++))\n"
        "        elif [[ $w == -- ]]; then\n"
        "            ended=1\n"
        "        elif [[ $w != *=* ]] && _lightctl_has \"$w\" \"$_lv\"; then\n"
        "            ((j + 1 == c)) && return 0\n"
        "            ((j++))\n"
        "        fi\n"
        "    done\n"
        "    if ((pos == 0 && !ended)) && [[ $_cur == -* ]]; then\n"
        "        [[ $_cur == *=* ]] || _lightctl_offer \"$_lo\"\n"
        "        return 0\n"
        "    fi\n"
        "    kinds=($_la)\n"
        "    ((${#kinds[@]} > 0)) || return 0\n"
        "    if ((pos < ${#kinds[@]})); then\n"
        "        kind=${kinds[pos]}\n"
        "    else\n"
        "        kind=${kinds[${#kinds[@]} - 1]}\n"
        "        [[ $kind == *... ]] || return 0\n"
        "    fi\n"
        "    kind=${kind%...}\n"
        "    case $kind in\n"
        "    name | image) _lightctl_listed \"$kind\" ;;\n"
        "    *'|'*) _lightctl_offer \"${kind//|/ }\" ;;\n"
        "    esac\n"
        "    # bash completes only the text after the word's last colon\n"
        "    if [[ $_cur == *:* && $COMP_WORDBREAKS == *:* ]]; then\n"
        "        local colon=${_cur%\"${_cur##*:}\"} r\n"
        "        local -a trimmed=()\n"
        "        for r in \"${COMPREPLY[@]}\"; do\n"
        "            trimmed+=(\"${r#\"$colon\"}\")\n"
        "        done\n"
        "        COMPREPLY=(\"${trimmed[@]}\")\n"
        "    fi\n"
        "    return 0\n"
        "}\n";

int ctl_completion_write(FILE *out, const char *shell, const ctl_command_t *cmds, const struct option *globals)
{
        bool zsh = strcmp(shell, "zsh") == 0;
        if (!zsh && strcmp(shell, "bash") != 0)
                return -EINVAL;
        struct words names = {.len = 0}, gopts = {.len = 0}, gvalues = {.len = 0};
        for (const ctl_command_t *c = cmds; c->name != NULL; c++) {
                if (!plain(c->name, strlen(c->name), NULL))
                        return -EINVAL;
                words_add(&names, c->name, strlen(c->name));
        }
        for (const struct option *o = globals; o->name != NULL; o++) {
                char opt[64];
                int len = snprintf(opt, sizeof opt, "--%s", o->name);
                if (len < 0 || (size_t)len >= sizeof opt || !plain(opt, (size_t)len, NULL))
                        return -EINVAL;
                words_add(&gopts, opt, (size_t)len);
                if (o->has_arg == required_argument)
                        words_add(&gvalues, opt, (size_t)len);
        }
        if (names.over || gopts.over || gvalues.over)
                return -ENOSPC;
        fprintf(out,
                "# lightctl completion for %s, made by `lightctl completion %s` from its command table.\n"
                "# Load it with: source <(lightctl completion %s)%s\n",
                shell, shell, shell, zsh ? "" : ", or save it as /etc/bash_completion.d/lightctl");
        if (zsh)
                fputs("(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }\n"
                      "autoload -U +X bashcompinit && bashcompinit\n",
                      out);
        fprintf(out, "_lightctl_commands='%s'\n_lightctl_globals='%s'\n_lightctl_global_values='%s'\n\n", names.buf,
                gopts.buf, gvalues.buf);
        fputs("# _lightctl_spec COMMAND: its options (_lo), those that take a value (_lv), and\n"
              "# what completes each argument (_la): name (a container), image (a cached image),\n"
              "# a|b (those words), - (nothing); ... repeats the last\n"
              "_lightctl_spec() {\n    case $1 in\n",
              out);
        for (const ctl_command_t *c = cmds; c->name != NULL; c++) {
                struct words opts = {.len = 0}, values = {.len = 0}, args = {.len = 0};
                int r = read_usage(c->args, &opts, &values, &args);
                if (r < 0)
                        return r;
                fprintf(out, "    %s) _lo='%s' _lv='%s' _la='%s' ;;\n", c->name, opts.buf, values.buf, args.buf);
        }
        fputs("    *) return 1 ;;\n    esac\n}\n\n", out);
        fputs(script, out);
        fputs("\ncomplete -F _lightctl lightctl\n", out);
        return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}
