# The agent: TypeScript compiled, the native addon (agent/native) built against nixpkgs'
# libnetfilter_queue and libnetfilter_log, the production node_modules, and bin/vpsfw wrapped with
# the tools it runs on its PATH. Dependencies come from npm-deps.nix, installed offline (`npm ci`
# from a lock whose entries point at its tarballs).
{
  lib,
  stdenv,
  callPackage,
  nodejs,
  python3,
  makeWrapper,
  libnetfilter_queue,
  libnetfilter_log,
  libnfnetlink,
  iptables,
  ipset,
  iproute2,
}:
assert lib.assertMsg (lib.versionAtLeast nodejs.version "20") "vpsfw needs Node.js 20 or later (got ${nodejs.version})";
let
  manifest = lib.importJSON ../package.json;
  # Node's flags and environment for the agent (the Ubuntu unit reads the same file).
  nodeOptions = lib.importJSON ../agent/packaging/node-options.json;
  npmDeps = callPackage ./npm-deps.nix { inherit nodejs; };
in
stdenv.mkDerivation {
  pname = "vpsfw";
  inherit (manifest) version;

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../package.json
      ../package-lock.json
      ../tsconfig.json
      ../bin
      ../agent/src
      ../agent/native/binding.gyp
      ../agent/native/src
      ../docs
    ];
  };

  nativeBuildInputs = [
    nodejs
    python3 # node-gyp
    makeWrapper
  ];
  buildInputs = [
    libnetfilter_queue
    libnetfilter_log
    libnfnetlink
  ];

  env = {
    npm_config_offline = "true";
    npm_config_update_notifier = "false";
    npm_config_audit = "false";
    npm_config_fund = "false";
    # node-gyp takes Node's headers from here instead of downloading them.
    npm_config_nodedir = "${nodejs}";
  };

  configurePhase = ''
    runHook preConfigure
    export HOME=$TMPDIR npm_config_cache=$TMPDIR/npm-cache
    node ${./npm-deps.mjs} localize package-lock.json ${npmDeps}
    npm ci --ignore-scripts --loglevel=error
    patchShebangs node_modules
    runHook postConfigure
  '';

  buildPhase = ''
    runHook preBuild
    # TypeScript, then the native addon (agent/native) against nixpkgs' libnetfilter_queue and
    # libnetfilter_log.
    npm run build
    npm prune --omit=dev --loglevel=error
    # npm records where each package came from (node_modules/.package-lock.json): the tarballs,
    # which the installed agent must not keep in its closure.
    node ${./npm-deps.mjs} forget ${npmDeps} node_modules
    runHook postBuild
  '';

  # The tarballs (dev dependencies and other platforms' binaries among them) stay out of the
  # runtime closure.
  disallowedReferences = [ npmDeps ];

  doInstallCheck = true;
  # The built-in policy passes the agent's own check: the build runs.
  installCheckPhase = ''
    runHook preInstallCheck
    $out/bin/vpsfw check
    runHook postInstallCheck
  '';

  installPhase = ''
    runHook preInstall
    mkdir -p $out/lib/vpsfw/agent
    cp -r package.json bin docs node_modules $out/lib/vpsfw/
    cp -r agent/dist $out/lib/vpsfw/agent/
    install -Dm755 agent/native/build/Release/vpsfw_queue.node $out/lib/vpsfw/agent/native/build/Release/vpsfw_queue.node
    makeWrapper ${lib.getExe nodejs} $out/bin/vpsfw \
      --add-flags "${lib.escapeShellArgs nodeOptions.flags} $out/lib/vpsfw/bin/vpsfw.js" \
      ${lib.concatStringsSep " " (lib.mapAttrsToList (k: v: "--set ${k} ${v}") nodeOptions.environment)} \
      --prefix PATH : ${
        lib.makeBinPath [
          iptables
          ipset
          iproute2
        ]
      }
    runHook postInstall
  '';

  passthru = { inherit npmDeps; };

  meta = {
    inherit (manifest) description;
    license = lib.licenses.mit;
    mainProgram = "vpsfw";
    platforms = lib.platforms.linux;
  };
}
