# The module's options and the policies it produces, with nixpkgs' lib only:
#   nix-instantiate --eval --strict --json nix/tests/eval.nix --arg lib 'import <nixpkgs.lib>/lib'
{ lib }:
let
  evalOptions =
    config:
    lib.evalModules {
      modules = [
        ../options.nix
        { config.services.vpsfw = config; }
      ];
    };
  policyFor = config: import ../policy.nix {
    inherit lib;
    cfg = (evalOptions config).config.services.vpsfw;
  };
  # Every option users see must say what it does.
  undocumented = lib.filter (o: o.visible && (o.description or null) == null) (
    lib.optionAttrSetToDocList (evalOptions { }).options.services.vpsfw
  );
in
{
  policies = lib.mapAttrs (_: policyFor) (import ./configurations.nix);
  options = map (o: o.name) (lib.optionAttrSetToDocList (evalOptions { }).options.services.vpsfw);
  undocumented = map (o: o.name) undocumented;
}
