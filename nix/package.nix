# The light-containerd package (a callPackage function). The full packaging
# (wrapped tool PATH, apps, dev shell, NixOS module, VM test) is still to come.
{ lib, stdenv, cmake, pkg-config, libwebsockets, json_c, cmocka }:

stdenv.mkDerivation {
  pname = "light-containerd";
  version = "0.1.0";
  src = lib.cleanSource ../.;

  nativeBuildInputs = [ cmake pkg-config ];
  buildInputs = [ libwebsockets json_c ];
  nativeCheckInputs = [ cmocka ];

  doCheck = true;
  # the unit tests only: the e2e suite needs namespaces the build sandbox lacks
  checkPhase = ''
    runHook preCheck
    ctest -L unit --output-on-failure
    runHook postCheck
  '';

  meta = {
    description = "Rootless OCI container engine daemon with a live JSON-RPC/WebSocket API";
    platforms = lib.platforms.linux;
    mainProgram = "light-containerd";
  };
}
