# services.vpsfw settings evaluated by the checks: here with nixpkgs' lib alone (tests/nix), and in
# `nix flake check` through the module. `bad-*` ones must be refused by `vpsfw check`.
{
  defaults = { };
  web-server = {
    openPorts.tcp = [ 22 80 443 "8000-8100" ];
    openPorts.udp = [ 51820 ];
    denyNetworks = [ "203.0.113.0/24" "2001:db8:bad::/48" ];
    rules = [
      {
        name = "ssh-office";
        action = "accept";
        protocol = "tcp";
        ports = [ 2222 ];
        source = [ "198.51.100.0/24" ];
      }
    ];
    payloadRules = [
      {
        name = "path-traversal";
        protocol = "tcp";
        ports = [ 80 ];
        pattern.text = "/../../";
        action = "reject";
        ban = "1h";
      }
    ];
    bans.allowlist = [ "127.0.0.0/8" "::1/128" "198.51.100.7" ];
    detectors.synFlood.perSource = { rate = 50; burst = 100; };
  };
  fail-closed-with-settings = {
    failMode = "closed";
    queueNumber = 7;
    logLevel = "debug";
    detectors.oversizedIcmp = { maxBytes = 600; ban = "5m"; };
    detectors.portScan.enable = false;
    settings = {
      rateLimits = [
        {
          name = "web";
          protocol = "tcp";
          ports = [ 443 ];
          rate = 50;
          burst = 100;
          ban = "10m";
        }
      ];
      logging.dropLogsPerSecond = 5;
    };
  };
  http-beyond-loopback = {
    http = {
      enable = true;
      listenAddress = "::";
      port = 9100;
    };
    settings.http.allowFrom = [ "10.0.0.0/24" ];
  };
  bad-cidr = {
    denyNetworks = [ "10.0.0.300/8" ];
  };
  bad-settings-key = {
    settings.nonsense = true;
  };
}
