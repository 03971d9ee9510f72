# The light-containerd package: a callPackage function.
#
# Both binaries are wrapped so that PATH holds crun, conmon, skopeo, umoci
# and pasta (passt: private networks) from nixpkgs. newuidmap/newgidmap
# must be setuid, which a store path cannot be: they come from the host
# (/run/wrappers/bin on NixOS, appended to PATH; elsewhere the uidmap/shadow
# package's, found on the caller's PATH).
#
# openssl is a build input of its own: nixpkgs' libwebsockets is built with
# TLS, so libwebsockets.h includes <openssl/ssl.h>, but openssl is not a
# propagated input of it and its .pc file does not require it.
{
  lib,
  stdenv,
  cmake,
  pkg-config,
  makeWrapper,
  python3,
  openssl,
  libwebsockets,
  json_c,
  cmocka,
  crun,
  conmon,
  skopeo,
  umoci,
  passt,
}:

stdenv.mkDerivation (finalAttrs: {
  pname = "light-containerd";
  version = "0.1.0";

  src = lib.cleanSourceWith {
    src = ../.;
    # what the build reads: not the build trees scripts/dev makes at the top
    # (build, build-asan, ...), nix-build's result links, .git, node_modules
    filter =
      path: type:
      let
        rel = lib.removePrefix (toString ../. + "/") (toString path);
        base = baseNameOf path;
        top = rel == base;
      in
      !(
        (top && type == "directory" && (base == "build" || lib.hasPrefix "build-" base))
        || (top && lib.hasPrefix "result" base && type == "symlink")
        || base == ".git"
        || base == "node_modules"
      );
  };

  nativeBuildInputs = [
    cmake
    pkg-config
    makeWrapper
  ];
  buildInputs = [
    openssl
    libwebsockets
    json_c
  ];
  nativeCheckInputs = [ python3 ];
  checkInputs = [ cmocka ];

  # the tests need cmocka: configure them only when they run
  cmakeFlags = [ (lib.cmakeBool "LCD_TESTS" finalAttrs.doCheck) ];

  doCheck = true;
  # The unit tests that fit a build sandbox (label "pkgcheck": seconds each,
  # no network beyond loopback, no $HOME). The allocation-failure loops take
  # up to an hour and stay in CI; the e2e, browser and load suites need user
  # namespaces, a registry and root to set up their sandbox.
  checkPhase = ''
    runHook preCheck
    ctest -L pkgcheck --output-on-failure
    runHook postCheck
  '';

  postFixup = ''
    for prog in light-containerd lightctl; do
      wrapProgram $out/bin/$prog \
        --prefix PATH : ${
          lib.makeBinPath [
            crun
            conmon
            skopeo
            umoci
            passt
          ]
        } \
        --suffix PATH : /run/wrappers/bin
    done
  '';

  meta = {
    description = "Rootless OCI container engine daemon with a live JSON-RPC/WebSocket API";
    longDescription = ''
      light-containerd pulls images with skopeo, unpacks them with umoci and
      runs them with crun under conmon, as an ordinary user. Clients talk
      JSON-RPC 2.0 over WebSockets and get every state change pushed; a
      dashboard is built in. Containers do not outlive the daemon.
    '';
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "light-containerd";
  };
})
