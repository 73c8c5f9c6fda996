# `nix flake check`: every VM scenario in this folder (one file each, found by name), and
# `module-eval`: each configuration of configurations.nix evaluated by real NixOS, whose policy must
# be the one the lib-only evaluation (eval.nix, what tests/nix checks without nixpkgs) finds, whose
# assertions must be the same, and whose policy `vpsfw check` must accept (refuse, for `bad-*`).
{ pkgs, self }:
let
  inherit (pkgs) lib;
  runTest =
    file:
    pkgs.testers.runNixOSTest {
      imports = [ file ];
      defaults.imports = [ self.nixosModules.default ];
      globalTimeout = 1800;
    };
  scenarios = lib.filterAttrs (
    name: type: type == "regular" && lib.hasPrefix "vm-" name && lib.hasSuffix ".nix" name
  ) (builtins.readDir ./.);
  stub = (import ./eval.nix { inherit lib; }).systems;
  vpsfw = lib.getExe self.packages.${pkgs.stdenv.hostPlatform.system}.default;

  real =
    name: configuration:
    let
      config =
        (pkgs.nixos {
          imports = [
            self.nixosModules.default
            configuration
          ];
          services.vpsfw.enable = true;
          boot.loader.grub.enable = false;
          fileSystems."/".device = "none";
          system.stateVersion = lib.trivial.release;
        }).config;
      ours = lib.filter (m: lib.hasPrefix "services.vpsfw" m) (
        map (a: a.message) (lib.filter (a: !a.assertion) config.assertions)
      );
      json = what: value: pkgs.writeText "${name}-${what}.json" (builtins.toJSON value);
    in
    ''
      echo "== ${name}"
      diff -u ${json "lib-only-assertions" stub.${name}.failedAssertions} ${json "assertions" ours}
    ''
    + lib.optionalString (!lib.hasPrefix "refused-" name) ''
      policy=${json "policy" config.system.build.vpsfwPolicy.document}
      diff -u <(jq -S . ${json "lib-only-policy" stub.${name}.policy}) <(jq -S . $policy)
      if ${vpsfw} check --policy $policy; then
        ${lib.optionalString (lib.hasPrefix "bad-" name) ''echo "${name} should have been refused"; exit 1''}
      else
        ${lib.optionalString (!lib.hasPrefix "bad-" name) ''echo "${name} was refused"; exit 1''}
      fi
    '';
in
lib.mapAttrs' (name: _: lib.nameValuePair (lib.removeSuffix ".nix" name) (runTest ./${name})) scenarios
// {
  module-eval = pkgs.runCommand "vpsfw-module-eval" { nativeBuildInputs = [ pkgs.jq ]; } ''
    set -euo pipefail
    ${lib.concatStrings (lib.mapAttrsToList real (import ./configurations.nix))}
    touch $out
  '';
}
