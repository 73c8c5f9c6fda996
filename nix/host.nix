# What the rest of this NixOS configuration says that vpsfw follows: the ports and interfaces
# networking.firewall opens (every module's `openFirewall` lands there), the SSH daemon's ports, the
# firewall backend, and the iptables package it runs. Read as nixpkgs declares them
# (nixos/modules/services/networking/firewall.nix, ssh/sshd.nix); `or` where an option is younger
# than some NixOS releases still in use.
{ lib, config, pkgs }:
let
  fw = config.networking.firewall;
  nft = config.networking.nftables;
  ssh = config.services.openssh;
  firewalld = config.services.firewalld or { enable = false; };

  # The firewall's ports and its { from, to } ranges, as policy port specs.
  spec = p: if lib.isAttrs p then (if p.from == p.to then p.from else "${toString p.from}-${toString p.to}") else p;
  portsOf =
    o: {
      tcp = map spec (o.allowedTCPPorts ++ o.allowedTCPPortRanges);
      udp = map spec (o.allowedUDPPorts ++ o.allowedUDPPortRanges);
    };

  backend = fw.backend or (if nft.enable then "nftables" else "iptables");
  # The agent drives the same iptables as the firewall: the iptables backend's package
  # (pkgs.iptables, or pkgs.iptables-legacy), else iptables-nft.
  iptables = if backend == "iptables" && lib.getName fw.package == "iptables" then fw.package else pkgs.iptables;
in
{
  inherit backend iptables spec;
  firewallEnabled = fw.enable;
  firewall = portsOf fw;
  interfaces = lib.mapAttrs (_: portsOf) fw.interfaces;
  # Loopback is never judged by vpsfw anyway.
  trustedInterfaces = lib.filter (i: i != "lo") fw.trustedInterfaces;
  legacyIptables = iptables == (pkgs.iptables-legacy or null);
  nftables = { inherit (nft) enable flushRuleset; };
  firewalld = {
    inherit (firewalld) enable;
    backend = firewalld.settings.FirewallBackend or "nftables";
  };
  # Where sshd listens: `ports`, and the ports of `listenAddresses` entries that name one.
  sshPorts = lib.optionals ssh.enable (
    lib.unique (ssh.ports ++ lib.filter (p: p != null) (map (a: a.port or null) ssh.listenAddresses))
  );
  sshEnabled = ssh.enable;
}
