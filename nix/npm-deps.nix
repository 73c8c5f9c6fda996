# Every npm package of package-lock.json, fetched as the registry's own tarballs and checked
# against the lock's integrity: a fixed-output derivation, so it may use the network. Our lock has
# no `resolved` URLs (fetchNpmDeps and importNpmLock need them), so npm resolves names itself from
# its default registry. When package-lock.json changes, update npm-deps.hash
# (tests/nix/npm-deps-hash.test.ts computes it and fails until you do).
{
  lib,
  stdenvNoCC,
  nodejs,
  cacert,
}:
stdenvNoCC.mkDerivation {
  name = "vpsfw-npm-deps";
  nativeBuildInputs = [ nodejs ];
  dontUnpack = true;
  buildPhase = ''
    runHook preBuild
    export HOME=$TMPDIR
    export NODE_EXTRA_CA_CERTS=${cacert}/etc/ssl/certs/ca-bundle.crt
    export npm_config_cafile=${cacert}/etc/ssl/certs/ca-bundle.crt
    node ${./fetch-npm-deps.mjs} ${../package-lock.json} $out
    runHook postBuild
  '';
  dontInstall = true;
  outputHashMode = "recursive";
  outputHashAlgo = "sha256";
  outputHash = lib.fileContents ./npm-deps.hash;
}
