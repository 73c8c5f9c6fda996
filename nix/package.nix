# The agent: TypeScript compiled, the native NFQUEUE binding built against nixpkgs'
# libnetfilter_queue, production dependencies only, `bin/vpsfw` with the kernel tools on its PATH.
{
  lib,
  stdenv,
  callPackage,
  nodejs_20,
  python3,
  pkg-config,
  makeWrapper,
  libnetfilter_queue,
  libnfnetlink,
  iptables,
  ipset,
  iproute2,
}:
let
  nodejs = nodejs_20;
  npmDeps = callPackage ./npm-deps.nix { inherit nodejs; };
  packageJson = lib.importJSON ../package.json;
in
stdenv.mkDerivation {
  pname = "vpsfw";
  inherit (packageJson) version;
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../package.json
      ../package-lock.json
      ../tsconfig.json
      ../bin
      ../agent/src
      ../agent/packaging
      ../docs
      ./lock-with-tarballs.mjs
    ];
  };
  nativeBuildInputs = [
    nodejs
    python3
    pkg-config
    makeWrapper
  ];
  buildInputs = [
    libnetfilter_queue
    libnfnetlink
  ];
  buildPhase = ''
    runHook preBuild
    export HOME=$TMPDIR npm_config_cache=$TMPDIR/npm-cache npm_config_nodedir=${nodejs}
    node nix/lock-with-tarballs.mjs package-lock.json ${npmDeps}
    npm ci --offline --ignore-scripts --no-audit --no-fund
    npm rebuild nfqueue --offline
    npx tsc -p tsconfig.json
    npm prune --omit=dev --offline --no-audit --no-fund
    runHook postBuild
  '';
  installPhase = ''
    runHook preInstall
    dest=$out/lib/vpsfw
    mkdir -p $dest/agent $out/bin
    cp -r package.json bin docs node_modules $dest/
    cp -r agent/dist agent/packaging $dest/agent/
    makeWrapper ${nodejs}/bin/node $out/bin/vpsfw \
      --add-flags $dest/bin/vpsfw.js \
      --prefix PATH : ${
        lib.makeBinPath [
          iptables
          ipset
          iproute2
        ]
      }
    runHook postInstall
  '';
  meta = {
    description = "Firewall and mini-IPS for virtual private servers";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "vpsfw";
  };
}
