# An attacker and a server running services.vpsfw: the allowed port answers, others do not, a
# denied network is dropped, a payload rule drops, a SYN flood gets its source banned and released
# after its time, `vpsfw status` works, and switching to a second configuration applies its rules
# while earlier bans survive. What the agent's own namespace tests prove, on NixOS.
{ lib, ... }:
let
  deniedAddress = "192.168.1.200";
in
{
  name = "vpsfw";

  nodes.server =
    { pkgs, ... }:
    {
      services.vpsfw = {
        enable = true;
        openPorts.tcp = [ 80 ];
        denyNetworks = [ "${deniedAddress}/32" ];
        detectors.synFlood = {
          perSource = {
            rate = 20;
            burst = 40;
          };
          ban = "20s";
        };
        payloadRules = [
          {
            name = "no-passwd";
            protocol = "tcp";
            ports = [ 80 ];
            pattern.text = "/etc/passwd";
            action = "drop";
          }
        ];
      };
      # networking.firewall (iptables backend) stays on: vpsfw coexists with it.
      networking.firewall.allowedTCPPorts = [
        80
        8080
      ];
      systemd.services.web = {
        wantedBy = [ "multi-user.target" ];
        script = ''
          ${pkgs.python3}/bin/python3 -m http.server 80 --directory /etc &
          exec ${pkgs.python3}/bin/python3 -m http.server 8080 --directory /etc
        '';
      };
      specialisation.second.configuration = {
        services.vpsfw.openPorts.tcp = lib.mkForce [
          80
          8080
        ];
      };
    };

  nodes.attacker =
    { pkgs, ... }:
    {
      environment.systemPackages = [
        pkgs.hping
        pkgs.curl
      ];
      networking.interfaces.eth1.ipv4.addresses = [
        {
          address = deniedAddress;
          prefixLength = 32;
        }
      ];
    };

  testScript = builtins.readFile ./vm-vpsfw.py;
}
