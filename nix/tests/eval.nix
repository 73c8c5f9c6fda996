# The module's options, the policies, assertions and warnings of configurations.nix, and the units
# the module declares, with nixpkgs' lib only (stub-nixos.nix stands in for the rest of NixOS):
#   nix-instantiate --eval --strict --json nix/tests/eval.nix --arg lib 'import <nixpkgs.lib>/lib'
{ lib }:
let
  evalWith =
    modules:
    lib.evalModules {
      modules = [
        ../module.nix
        (import ./stub-nixos.nix { inherit lib; })
      ]
      ++ modules;
    };
  configurations = import ./configurations.nix;
  # What a configuration with services.vpsfw enabled becomes.
  system =
    configuration:
    let
      c = (evalWith [
        { services.vpsfw.enable = true; }
        configuration
      ]).config;
      unit = s: {
        inherit (s)
          description
          before
          after
          unitConfig
          serviceConfig
          reloadTriggers
          ;
        wantedBy = s.wantedBy or [ ];
        wants = s.wants or [ ];
        requires = s.requires or [ ];
        partOf = s.partOf or [ ];
        restartTriggers = s.restartTriggers or [ ];
        reloadIfChanged = s.reloadIfChanged or false;
        stopIfChanged = s.stopIfChanged or true;
      };
    in
    {
      policy = c.system.build.vpsfwPolicy.document;
      failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);
      inherit (c) warnings;
      units = lib.mapAttrs (_: unit) c.systemd.services;
      etc = lib.attrNames c.environment.etc;
      # The iptables the default package is built with (the stub records its name and kind).
      iptables = c.services.vpsfw.package.iptables or null;
      tmpfiles = c.systemd.tmpfiles.rules;
      firewall = {
        inherit (c.networking.firewall) allowedTCPPorts allowedTCPPortRanges allowedUDPPorts;
      };
    };
  options = lib.filter (o: !lib.hasInfix "_module" o.name) (
    lib.optionAttrSetToDocList (evalWith [ ]).options.services.vpsfw
  );
in
{
  systems = lib.mapAttrs (_: system) configurations;
  options = map (o: o.name) options;
  # Every option users see must say what it does.
  undocumented = map (o: o.name) (lib.filter (o: o.visible && (o.description or null) == null) options);
  # What the docs show as the package's default.
  packageDefault = (lib.findFirst (o: o.name == "services.vpsfw.package") { } options).default or null;
  servicesWhenDisabled = lib.attrNames (evalWith [ ]).config.systemd.services;
  # The name nix/npm-deps.nix gives its output, or null when the pin is stale (its own message is
  # tests/nix/npm-deps.test.ts's to show; the rest of the module is checked all the same).
  depsName =
    let
      r = builtins.tryEval
        (import ../npm-deps-pin.nix {
          inherit lib;
          lock = ../../package-lock.json;
          pinFile = ../npm-deps.json;
        }).name;
    in
    if r.success then r.value else null;
}
