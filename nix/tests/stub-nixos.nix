# Just enough of NixOS and nixpkgs to evaluate nix/module.nix with lib alone: the options it reads
# and sets, typed and defaulted as nixpkgs declares them (networking/firewall.nix, nftables.nix,
# ssh/sshd.nix, firewalld/: the firewall's `lo` trust, openssh's openFirewall, firewalld's
# backend), and a `pkgs` whose builders return descriptions instead of derivations. A store path
# depends on what it is made of, as Nix's do, so triggers can be compared. What the module hands
# systemd can then be checked here (tests/nix/module-eval.test.ts).
{ lib }:
let
  inherit (lib) mkOption types;
  loose = mkOption {
    type = types.anything;
    default = { };
  };
  option = type: default: mkOption { inherit type default; };
  # nixos/lib/systemd-unit-options.nix: a unit setting defined in two modules is one list of both
  # when either is a list (IPAddressAllow= for the HTTP listener and for the CrowdSec LAPI), else one value.
  unitOption = lib.mkOptionType {
    name = "systemd option";
    merge =
      loc: defs:
      let
        defs' = lib.filterOverrides defs;
      in
      if lib.any (def: lib.isList def.value) defs' then lib.concatMap (def: lib.toList def.value) defs' else lib.mergeEqualOption loc defs';
  };
  stubDrv =
    name: extra:
    {
      inherit name;
      type = "derivation";
      outPath = "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" (builtins.toJSON extra))}-${name}";
    }
    // extra;
  pkgs = {
    runtimeShell = "/stub/bin/sh";
    coreutils = "/stub/coreutils";
    formats.json = _: { generate = name: value: stubDrv name { inherit value; }; };
    runCommand = name: env: script: stubDrv name ({ inherit script; } // env.passthru or { });
    callPackage =
      _: args:
      stubDrv "vpsfw" {
        meta.mainProgram = "vpsfw";
        iptables = if args.iptables.legacy or false then "iptables-legacy" else args.iptables.name;
      };
    iptables = stubDrv "iptables" { };
    iptables-legacy = stubDrv "iptables" { legacy = true; };
    nftables = stubDrv "nftables" { };
  };
  # Sorted and once each, as nixpkgs' firewall.nix applies to them.
  portList = mkOption {
    type = types.listOf types.port;
    default = [ ];
    apply = ports: lib.unique (builtins.sort builtins.lessThan ports);
  };
  ports = {
    allowedTCPPorts = portList;
    allowedUDPPorts = portList;
    allowedTCPPortRanges = option (types.listOf (types.attrsOf types.port)) [ ];
    allowedUDPPortRanges = option (types.listOf (types.attrsOf types.port)) [ ];
  };
in
{ config, ... }:
{
  config = {
    _module.args = { inherit pkgs; };
    networking.firewall.trustedInterfaces = lib.mkIf config.networking.firewall.enable [ "lo" ];
    networking.firewall.allowedTCPPorts =
      let
        ssh = config.services.openssh;
      in
      lib.mkIf (ssh.enable && ssh.openFirewall) ssh.ports;
  };
  options = {
    assertions = option (types.listOf types.anything) [ ];
    warnings = option (types.listOf types.str) [ ];
    networking.nftables = {
      enable = option types.bool false;
      flushRuleset = option types.bool false;
    };
    networking.firewall = ports // {
      enable = option types.bool true;
      backend = option (types.enum [
        "iptables"
        "nftables"
        "firewalld"
      ]) (
        if config.services.firewalld.enable then
          "firewalld"
        else if config.networking.nftables.enable then
          "nftables"
        else
          "iptables"
      );
      package = option types.package (if config.networking.nftables.enable then pkgs.nftables else pkgs.iptables);
      trustedInterfaces = option (types.listOf types.str) [ ];
      interfaces = option (types.attrsOf (types.submodule { options = ports; })) { };
    };
    services.openssh = {
      enable = option types.bool false;
      ports = option (types.listOf types.port) [ 22 ];
      openFirewall = option types.bool true;
      listenAddresses = option (types.listOf types.attrs) [ ];
      startWhenNeeded = option types.bool false;
    };
    services.firewalld = {
      enable = option types.bool false;
      settings = option (types.attrsOf types.anything) { };
    };
    environment = loose;
    system.build = loose;
    systemd.tmpfiles.rules = option (types.listOf types.str) [ ];
    systemd.services = option (types.attrsOf (
      types.submodule {
        freeformType = types.attrsOf types.anything;
        options.serviceConfig = option (types.attrsOf unitOption) { };
      }
    )) { };
  };
}
