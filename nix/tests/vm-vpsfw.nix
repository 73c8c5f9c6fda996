# An attacker and a server running services.vpsfw beside NixOS' own firewall: what the agent's
# namespace tests prove, on NixOS, through the switches and upgrades an owner goes through. The
# script (vm-vpsfw.py, type-checked here and by the driver) reads addresses and ports from the
# machines, so this file is the one place that sets them.
{ ... }:
let
  deniedAddress = "192.168.1.200";
  # A second address of the attacker's, banned while the agent is upgraded.
  probeAddress = "192.168.1.201";
  # The policy change of the switch test: NixOS' firewall opens 8080, vpsfw follows it.
  second = {
    networking.firewall.allowedTCPPorts = [ 8080 ];
  };
in
{
  name = "vpsfw";

  nodes.server =
    { pkgs, lib, ... }:
    let
      snakeOil = import "${pkgs.path}/nixos/tests/ssh-keys.nix" pkgs;
    in
    {
      services.vpsfw = {
        enable = true;
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
            localPorts = [ 80 ];
            pattern.text = "/etc/passwd";
            action = "drop";
          }
        ];
      };
      # SSH on a port of its own: vpsfw opens it because sshd listens there.
      services.openssh = {
        enable = true;
        ports = [ 2222 ];
      };
      users.users.root.openssh.authorizedKeys.keys = [ snakeOil.snakeOilPublicKey ];
      # networking.firewall (iptables backend) stays on, and vpsfw follows it: port 80. It also
      # admits 8080, by a rule of its own that vpsfw does not read, so vpsfw alone refuses 8080.
      networking.firewall.allowedTCPPorts = [ 80 ];
      networking.firewall.extraCommands = "ip46tables -A nixos-fw -p tcp --dport 8080 -j nixos-fw-accept";
      systemd.services.web = {
        wantedBy = [ "multi-user.target" ];
        script = ''
          ${pkgs.python3}/bin/python3 -m http.server 80 --directory /etc &
          exec ${pkgs.python3}/bin/python3 -m http.server 8080 --directory /etc
        '';
      };
      specialisation.second.configuration = second;
      # The same policy with another package (the same build, linked anew): a restart of the agent.
      specialisation.upgraded.configuration = {
        imports = [ second ];
        services.vpsfw.package = lib.mkForce (
          pkgs.symlinkJoin {
            name = "vpsfw-upgraded";
            paths = [ (pkgs.callPackage ../package.nix { }) ];
            meta.mainProgram = "vpsfw";
          }
        );
      };
    };

  nodes.attacker =
    { pkgs, ... }:
    let
      snakeOil = import "${pkgs.path}/nixos/tests/ssh-keys.nix" pkgs;
    in
    {
      environment.systemPackages = [
        pkgs.hping
        pkgs.curl
        # One HTTP status per line (000: no answer) from address $1 to URL $2, until stopped.
        (pkgs.writeShellScriptBin "probe" ''
          while :; do
            ${pkgs.curl}/bin/curl -s -o /dev/null -w '%{http_code}\n' --max-time 0.5 --interface "$1" "$2"
            sleep 0.05
          done
        '')
      ];
      environment.etc."vpsfw-test/id_snakeoil" = {
        source = snakeOil.snakeOilPrivateKey;
        mode = "0600";
      };
      networking.interfaces.eth1.ipv4.addresses = [
        {
          address = deniedAddress;
          prefixLength = 32;
        }
        {
          address = probeAddress;
          prefixLength = 32;
        }
      ];
    };

  testScript = builtins.readFile ./vm-vpsfw.py;
}
