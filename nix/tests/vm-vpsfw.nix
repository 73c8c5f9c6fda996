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

  testScript =
    { nodes, ... }:
    let
      attackerIp = nodes.attacker.networking.primaryIPAddress;
    in
    ''
      start_all()
      server.wait_for_unit("vpsfw.service")
      server.wait_for_unit("web.service")
      server.wait_for_open_port(80)
      server.wait_for_open_port(8080)

      with subtest("the rules were rendered at build time and applied"):
          server.succeed("grep -q 'NFQUEUE --queue-num 0 --queue-bypass' /etc/vpsfw/rules.txt")
          server.succeed("iptables -S VPSFW-INPUT | grep -q NFQUEUE")
          server.succeed("ip6tables -S VPSFW-INPUT | grep -q NFQUEUE")

      with subtest("allowed port reachable, others not"):
          attacker.succeed("curl -sf --max-time 5 http://server/hostname")
          attacker.fail("curl -sf --max-time 5 http://server:8080/hostname")

      with subtest("a denied network is dropped in the kernel"):
          attacker.fail("curl -sf --max-time 5 --interface ${deniedAddress} http://server/hostname")

      with subtest("a payload rule drops"):
          attacker.fail("curl -sf --max-time 5 http://server/x/etc/passwd")
          attacker.succeed("curl -sf --max-time 5 http://server/hostname")

      with subtest("vpsfw status"):
          print(server.succeed("vpsfw status"))
          server.succeed("vpsfw status --json | grep -q '\"payload:no-passwd\"'")

      with subtest("a SYN flood gets its source banned, and released after its time"):
          attacker.succeed("timeout 20 hping3 -q -S -p 80 -i u500 -c 2000 server || true")
          server.wait_until_succeeds("vpsfw bans | grep -q '^${attackerIp} '", timeout=10)
          server.succeed("journalctl -u vpsfw -o cat | grep '\"event\":\"ban\"' | grep -q synFlood")
          attacker.fail("curl -sf --max-time 3 http://server/hostname")
          server.wait_until_fails("vpsfw bans | grep -q '^${attackerIp} '", timeout=60)
          attacker.wait_until_succeeds("curl -sf --max-time 3 http://server/hostname", timeout=30)

      with subtest("switching configuration applies the new rules and keeps the bans"):
          server.succeed("vpsfw ban ${deniedAddress} --for 1h --reason 'before the switch'")
          server.succeed("/run/current-system/specialisation/second/bin/switch-to-configuration test")
          server.wait_until_succeeds("journalctl -u vpsfw -o cat | grep -q '\"event\":\"reload\"'", timeout=30)
          attacker.wait_until_succeeds("curl -sf --max-time 3 http://server:8080/hostname", timeout=30)
          server.succeed("vpsfw bans | grep -q '^${deniedAddress} '")

      with subtest("the unit's exposure"):
          import re
          verdict = server.succeed("systemd-analyze security vpsfw.service | tail -n 1")
          print(verdict)
          score = float(re.search(r"vpsfw\.service: ([0-9.]+)", verdict).group(1))
          assert score <= 2.0, f"exposure {score} above 2.0"
    '';
}
