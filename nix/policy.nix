# The policy document the module hands the agent: a pure function of the options, so it is
# evaluated (and checked with `vpsfw check`) without nixpkgs too.
{ lib, cfg }:
let
  detector =
    d: extra:
    {
      enabled = d.enable;
      inherit (d) ban;
    }
    // extra;
  openRule =
    proto: ports:
    lib.optional (ports != [ ]) {
      name = "open-${proto}";
      action = "accept";
      protocol = proto;
      inherit ports;
    };
  typed = {
    version = 1;
    queue = {
      num = cfg.queueNumber;
      failMode = cfg.failMode;
    };
    defaults.inbound = cfg.defaultInbound;
    denyNetworks = cfg.denyNetworks;
    rules =
      cfg.rules
      ++ openRule "tcp" cfg.openPorts.tcp
      ++ openRule "udp" cfg.openPorts.udp
      ++ lib.optionals cfg.allowPing [
        {
          name = "ping";
          action = "accept";
          protocol = "icmp";
        }
        {
          name = "ping6";
          action = "accept";
          protocol = "icmpv6";
        }
      ];
    detectors = with cfg.detectors; {
      synFlood = detector synFlood { inherit (synFlood) perSource; };
      icmpFlood = detector icmpFlood { inherit (icmpFlood) perSource; };
      oversizedIcmp = detector oversizedIcmp { inherit (oversizedIcmp) maxBytes; };
      portScan = detector portScan { inherit (portScan) ports window; };
    };
    payloadRules = cfg.payloadRules;
    bans = {
      inherit (cfg.bans) duration allowlist;
      escalation = { inherit (cfg.bans.escalation) factor max; };
    };
    logging.level = cfg.logLevel;
  }
  // lib.optionalAttrs cfg.http.enable {
    http.listen = if lib.hasInfix ":" cfg.http.listenAddress then "[${cfg.http.listenAddress}]:${toString cfg.http.port}" else "${cfg.http.listenAddress}:${toString cfg.http.port}";
  };
in
lib.recursiveUpdate typed cfg.settings
