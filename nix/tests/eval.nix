# The module's options, the policies it produces, and the unit it declares, with nixpkgs' lib only
# (stub-nixos.nix stands in for the rest of NixOS):
#   nix-instantiate --eval --strict --json nix/tests/eval.nix --arg lib 'import <nixpkgs.lib>/lib'
{ lib }:
let
  evalWith =
    modules:
    lib.evalModules {
      modules = [
        ../module.nix
        (import ./stub-nixos.nix { inherit lib; })
      ] ++ modules;
    };
  servicesVpsfw = config: evalWith [ { services.vpsfw = config; } ];
  policyFor = config: import ../policy.nix {
    inherit lib;
    cfg = (servicesVpsfw config).config.services.vpsfw;
  };
  options = lib.optionAttrSetToDocList (servicesVpsfw { }).options.services.vpsfw;
  unitOf =
    extra:
    let
      c = (evalWith [ { services.vpsfw.enable = true; } extra ]).config;
      s = c.systemd.services.vpsfw;
    in
    {
      inherit (s) wantedBy before after unitConfig serviceConfig reloadTriggers restartTriggers;
      partOf = s.partOf or [ ];
      etc = lib.attrNames c.environment.etc;
      inherit (c) warnings;
    };
in
{
  policies = lib.mapAttrs (_: policyFor) (import ./configurations.nix);
  options = map (o: o.name) options;
  # Every option users see must say what it does.
  undocumented = map (o: o.name) (lib.filter (o: o.visible && (o.description or null) == null) options);
  unit = unitOf { };
  unitWithFlushedNftables = unitOf {
    networking.nftables = {
      enable = true;
      flushRuleset = true;
    };
  };
  unitWithHttp = unitOf { services.vpsfw.http.enable = true; };
  servicesWhenDisabled = lib.attrNames (servicesVpsfw { }).config.systemd.services;
}
