# The light-containerd package: a callPackage function.
#
# Both binaries are wrapped so that PATH holds crun, conmon, skopeo and
# umoci from nixpkgs. newuidmap/newgidmap must be setuid, which a store path
# cannot be: they come from the host (/run/wrappers/bin on NixOS, appended
# to PATH; elsewhere the uidmap/shadow package's, found on the caller's PATH).
{
  lib,
  stdenv,
  cmake,
  pkg-config,
  makeWrapper,
  python3,
  libwebsockets,
  json_c,
  cmocka,
  crun,
  conmon,
  skopeo,
  umoci,
}:

stdenv.mkDerivation {
  pname = "light-containerd";
  version = "0.1.0";

  src = lib.cleanSourceWith {
    src = ../.;
    # what the build reads: no tests' node_modules, no build trees
    filter =
      path: type:
      let
        base = baseNameOf path;
      in
      !(lib.hasPrefix "build" base || base == "node_modules" || base == ".git" || base == "result");
  };

  nativeBuildInputs = [
    cmake
    pkg-config
    makeWrapper
  ];
  buildInputs = [
    libwebsockets
    json_c
  ];
  nativeCheckInputs = [
    cmocka
    python3
  ];
  checkInputs = [ cmocka ];

  cmakeFlags = [ "-DLCD_TESTS=ON" ];

  doCheck = true;
  # The unit tests (the allocation-failure loops among them). The e2e,
  # browser and load suites need user namespaces, a registry and root to set
  # up their sandbox, which the build sandbox does not have.
  checkPhase = ''
    runHook preCheck
    ctest -L unit --output-on-failure
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
          ]
        } \
        --suffix PATH : /run/wrappers/bin
    done
  '';

  meta = {
    description = "Rootless OCI container engine daemon with a live JSON-RPC/WebSocket API and dashboard";
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
}
