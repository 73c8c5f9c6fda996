# Every package of package-lock.json as the registry's own tarball, checked against the lock's
# integrity (nix/npm-deps.mjs). A fixed-output derivation, so it may use the network: npm reaches its
# default registry, as nixpkgs' pnpm fetcher runs pnpm. Its hash and the lock it is for are pinned
# in npm-deps.json (npm-deps-pin.nix): `npm run nix:pin-deps` writes it, and
# tests/nix/npm-deps.test.ts fails when package-lock.json moved without it.
{
  lib,
  stdenvNoCC,
  nodejs,
  cacert,
}:
let
  pin = import ./npm-deps-pin.nix {
    inherit lib;
    lock = ../package-lock.json;
    pinFile = ./npm-deps.json;
  };
in
stdenvNoCC.mkDerivation {
  inherit (pin) name;
  nativeBuildInputs = [ nodejs ];
  dontUnpack = true;
  buildPhase = ''
    runHook preBuild
    export HOME=$TMPDIR npm_config_cache=$TMPDIR/npm-cache npm_config_update_notifier=false
    export NODE_EXTRA_CA_CERTS=${cacert}/etc/ssl/certs/ca-bundle.crt
    node ${./npm-deps.mjs} fetch ${../package-lock.json} $out
    runHook postBuild
  '';
  dontInstall = true;
  dontFixup = true;
  impureEnvVars = lib.fetchers.proxyImpureEnvVars;
  outputHashMode = "recursive";
  outputHash = pin.hash;
}
