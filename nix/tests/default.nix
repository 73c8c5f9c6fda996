# `nix flake check`: every VM scenario in this folder (one file each, found by name), plus the
# module-evaluation check (the policies of configurations.nix through `vpsfw check`).
{ pkgs, self }:
let
  inherit (pkgs) lib;
  runTest =
    file:
    pkgs.testers.runNixOSTest {
      imports = [ file ];
      defaults.imports = [ self.nixosModules.default ];
      globalTimeout = 900;
    };
  scenarios = lib.filterAttrs (
    name: type: type == "regular" && lib.hasPrefix "vm-" name && lib.hasSuffix ".nix" name
  ) (builtins.readDir ./.);
  evaluated = import ./eval.nix { inherit lib; };
  vpsfw = lib.getExe self.packages.${pkgs.stdenv.hostPlatform.system}.default;
in
lib.mapAttrs' (name: _: lib.nameValuePair (lib.removeSuffix ".nix" name) (runTest ./${name})) scenarios
// {
  module-eval = pkgs.runCommand "vpsfw-module-eval" { } ''
    ${lib.concatStrings (
      lib.mapAttrsToList (name: policy: ''
        if ${vpsfw} check --policy ${pkgs.writeText "${name}.json" (builtins.toJSON policy)}; then
          ${lib.optionalString (lib.hasPrefix "bad-" name) ''echo "${name} should have been refused"; exit 1''}
        else
          ${lib.optionalString (!lib.hasPrefix "bad-" name) ''echo "${name} was refused"; exit 1''}
        fi
      '') evaluated.policies
    )}
    touch $out
  '';
}
