# NixOS configurations with services.vpsfw evaluated by the checks: here with nixpkgs' lib alone
# (tests/nix, through stub-nixos.nix), and in `nix flake check` through real NixOS. Every one's
# policy goes through `vpsfw check`: `bad-*` ones must be refused by it, `refused-*` ones by an
# assertion at evaluation, the rest must pass.
{
  defaults = { };
  following-a-file = {
    services.vpsfw.logSources = [
      {
        name = "ids";
        kind = "suricata-eve";
        file = "/var/log/suricata/eve.json";
      }
    ];
  };
  with-sshd = {
    services.openssh.enable = true;
  };
  # What the NixOS firewall opens, per interface too, and sshd on its own port: opened, and only that.
  firewall-and-sshd = {
    networking.firewall = {
      allowedTCPPorts = [ 80 443 ];
      allowedUDPPortRanges = [ { from = 60000; to = 61000; } ];
      interfaces.wg0.allowedUDPPorts = [ 51820 ];
      trustedInterfaces = [ "tailscale0" ];
    };
    services.openssh = {
      enable = true;
      ports = [ 2222 ];
    };
    services.vpsfw.allowDhcpClient = false;
  };
  not-following-the-firewall = {
    networking.firewall.allowedTCPPorts = [ 8080 ];
    services.vpsfw = {
      followFirewall = false;
      openPorts.tcp = [ 443 ];
    };
  };
  web-server = {
    services.openssh.enable = true;
    services.vpsfw = {
      openPorts.tcp = [ 80 443 { from = 8000; to = 8100; } "9000-9010" ];
      openPorts.udp = [ 51820 ];
      denyNetworks = [ "203.0.113.0/24" "2001:db8:bad::/48" ];
      rules = [
        {
          name = "admin-office";
          action = "accept";
          protocol = "tcp";
          localPorts = [ 8443 ];
          source = [ "198.51.100.0/24" ];
        }
      ];
      rateLimits = [
        {
          name = "web";
          protocol = "tcp";
          localPorts = [ 443 ];
          rate = 50;
          burst = 100;
          ban = "10m";
        }
      ];
      payloadRules = [
        {
          name = "path-traversal";
          protocol = "tcp";
          localPorts = [ 80 ];
          pattern.text = "/../../";
          action = "reject";
          ban = "1h";
        }
      ];
      bans.allowlist = [ "127.0.0.0/8" "::1/128" "198.51.100.7" ];
      detectors.synFlood.perSource = { rate = 50; burst = 100; };
    };
  };
  fail-closed-with-settings = {
    services.vpsfw = {
      failMode = "closed";
      queueNumber = 7;
      logLevel = "debug";
      detectors.oversizedIcmp = { maxBytes = 600; ban = "5m"; };
      detectors.portScan.enable = false;
      settings = {
        queue.maxLen = 8192;
        detectors.synFlood.total = { rate = 5000; burst = 10000; };
        logging.dropLogsPerSecond = 5;
      };
    };
  };
  # Triggers: a port against a queue setting.
  another-port = {
    services.vpsfw.openPorts.tcp = [ 8081 ];
  };
  another-queue-length = {
    services.vpsfw.settings.queue.maxLen = 1024;
  };
  nftables = {
    networking.nftables.enable = true;
  };
  nftables-flushed = {
    networking.nftables = {
      enable = true;
      flushRuleset = true;
    };
  };
  nftables-without-firewall = {
    networking.nftables.enable = true;
    networking.firewall.enable = false;
  };
  firewalld = {
    networking.nftables.enable = true;
    services.firewalld.enable = true;
    networking.firewall.allowedTCPPorts = [ 443 ];
  };
  iptables-legacy =
    { pkgs, ... }:
    {
      networking.firewall.package = pkgs.iptables-legacy;
    };
  lockout-allowed = {
    services.openssh = {
      enable = true;
      openFirewall = false;
    };
    services.vpsfw.ssh = {
      ports = [ ];
      allowLockout = true;
    };
  };
  http-on = {
    services.vpsfw.http.enable = true;
  };
  http-beyond-loopback = {
    services.vpsfw = {
      http = {
        enable = true;
        listenAddress = "::";
        port = 9100;
      };
      settings.http.allowFrom = [ "10.0.0.0/24" ];
    };
  };
  crowdsec-and-http = {
    services.vpsfw = {
      http.enable = true;
      crowdsec = {
        enable = true;
        url = "https://192.0.2.10:8080/";
        bouncerKeyFile = "/run/secrets/vpsfw-bouncer-key";
        machine = {
          login = "web1";
          passwordFile = "/run/secrets/vpsfw-machine-password";
        };
      };
    };
  };
  bad-cidr = {
    services.vpsfw.denyNetworks = [ "10.0.0.300/8" ];
  };
  bad-settings-key = {
    services.vpsfw.settings.nonsense = true;
  };
  refused-settings-rules = {
    services.openssh.enable = true;
    services.vpsfw.settings.rules = [ { name = "web"; action = "accept"; protocol = "tcp"; localPorts = [ 80 ]; } ];
  };
  refused-settings-queue = {
    services.vpsfw.settings.queue.num = 3;
  };
  # sshd on 2222, opened neither in the NixOS firewall nor in vpsfw.
  refused-lockout = {
    services.openssh = {
      enable = true;
      ports = [ 2222 ];
      openFirewall = false;
    };
    services.vpsfw.ssh.ports = [ ];
  };
  refused-firewalld-iptables = {
    networking.nftables.enable = true;
    services.firewalld = {
      enable = true;
      settings.FirewallBackend = "iptables";
    };
  };
}
