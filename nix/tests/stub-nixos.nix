# Just enough of NixOS and nixpkgs to evaluate nix/module.nix with lib alone: the options it sets,
# loosely typed, and a `pkgs` whose builders return descriptions instead of derivations. What the
# module hands systemd can then be checked here (tests/nix/module-eval.test.ts).
{ lib }:
let
  inherit (lib) mkOption types;
  loose = mkOption {
    type = types.anything;
    default = { };
  };
  stubDrv =
    name: extra:
    {
      inherit name;
      type = "derivation";
      outPath = "/nix/store/stub-${name}";
    }
    // extra;
  pkgs = {
    runtimeShell = "/stub/bin/sh";
    coreutils = "/stub/coreutils";
    formats.json = _: { generate = name: value: stubDrv name { inherit value; }; };
    runCommand = name: _: script: stubDrv name { inherit script; };
    callPackage = _: _: stubDrv "vpsfw" { meta.mainProgram = "vpsfw"; };
  };
in
{
  config._module.args = { inherit pkgs; };
  options = {
    assertions = mkOption {
      type = types.listOf types.anything;
      default = [ ];
    };
    warnings = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    networking.nftables = {
      enable = mkOption {
        type = types.bool;
        default = false;
      };
      flushRuleset = mkOption {
        type = types.bool;
        default = false;
      };
    };
    services.openssh = {
      enable = mkOption {
        type = types.bool;
        default = false;
      };
      startWhenNeeded = mkOption {
        type = types.bool;
        default = false;
      };
    };
    environment = loose;
    system.build = loose;
    systemd.services = mkOption {
      type = types.attrsOf types.anything;
      default = { };
    };
  };
}
