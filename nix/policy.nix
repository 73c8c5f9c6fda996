# The policy document the module hands the agent: a pure function of the configuration (the
# services.vpsfw options, and what host.nix reads of networking.firewall and services.openssh), so
# it is evaluated (and checked with `vpsfw check`) without nixpkgs too.
#
# `settings` adds keys: it is merged into the attribute sets the options make (lib.recursiveUpdate),
# and may not set a key they produce (`conflicts`, refused by an assertion in module.nix): a list
# or value in settings would replace theirs whole, SSH rule and open ports included.
{
  lib,
  cfg,
  host,
}:
let
  # openPorts entries as policy specs: a port, a { from, to } range, or a "from-to" string.
  spec = p: if lib.isString p then p else host.spec p;
  sshPorts = cfg.ssh.ports;
  follow = cfg.followFirewall;

  detector =
    d: extra:
    {
      enabled = d.enable;
      inherit (d) ban;
    }
    // extra;
  accept =
    name: protocol: ports: extra:
    lib.optional (ports != [ ]) (
      {
        inherit name protocol;
        action = "accept";
        localPorts = ports;
      }
      // extra
    );
  # Open ports: ours and the firewall's, once each, SSH's left to the `ssh` rule.
  open =
    ours: theirs:
    lib.subtractLists sshPorts (lib.unique (map spec ours ++ lib.optionals follow theirs));
  # Interface names as rule names: the policy takes letters, digits and `_ . -`.
  ruleName = s: lib.concatStrings (map (c: if builtins.match "[A-Za-z0-9_.-]" c == null then "_" else c) (lib.stringToCharacters s));
  perInterface = lib.optionals follow (
    lib.concatLists (
      lib.mapAttrsToList (
        iface: ports:
        accept "open-tcp-${ruleName iface}" "tcp" ports.tcp { interfaces = [ iface ]; }
        ++ accept "open-udp-${ruleName iface}" "udp" ports.udp { interfaces = [ iface ]; }
      ) host.interfaces
    )
  );

  typed = {
    version = 1;
    queue = {
      num = cfg.queueNumber;
      failMode = cfg.failMode;
    };
    defaults.inbound = cfg.defaultInbound;
    denyNetworks = cfg.denyNetworks;
    trustedInterfaces = lib.unique (lib.optionals follow host.trustedInterfaces ++ cfg.trustedInterfaces);
    rules =
      cfg.rules
      ++ accept "ssh" "tcp" sshPorts { }
      ++ lib.optionals cfg.allowDhcpClient (
        accept "dhcp-client" "udp" [ 68 ] { } ++ accept "dhcpv6-client" "udp" [ 546 ] { }
      )
      ++ accept "open-tcp" "tcp" (open cfg.openPorts.tcp host.firewall.tcp) { }
      ++ accept "open-udp" "udp" (open cfg.openPorts.udp host.firewall.udp) { }
      ++ perInterface
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
    rateLimits =
      lib.optional (sshPorts != [ ] && cfg.ssh.rateLimit != null) (
        {
          name = "ssh-connections";
          protocol = "tcp";
          localPorts = sshPorts;
        }
        // cfg.ssh.rateLimit
      )
      ++ cfg.rateLimits;
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
    logSources =
      lib.optional (cfg.sshdLogSource != null) {
        name = "sshd";
        kind = "sshd";
        journal = cfg.sshdLogSource;
        maxRetry = 5;
        findTime = "10m";
        ban = "1h";
      }
      ++ cfg.logSources;
  }
  // lib.optionalAttrs cfg.http.enable {
    http.listen = if lib.hasInfix ":" cfg.http.listenAddress then "[${cfg.http.listenAddress}]:${toString cfg.http.port}" else "${cfg.http.listenAddress}:${toString cfg.http.port}";
  };

  # Paths of `settings` that the options already produce: where both are attribute sets the
  # merge goes deeper, anywhere else settings would replace the options' value.
  overlaps =
    path: ours: theirs:
    lib.concatLists (
      lib.mapAttrsToList (
        k: v:
        if !(ours ? ${k}) then
          [ ]
        else if lib.isAttrs ours.${k} && lib.isAttrs v then
          overlaps (path ++ [ k ]) ours.${k} v
        else
          [ (path ++ [ k ]) ]
      ) theirs
    );
  # The option that makes each policy key, where its name is not the key's own path.
  madeBy = {
    rules = "rules, openPorts, ssh.ports, allowDhcpClient, allowPing and followFirewall";
    rateLimits = "rateLimits and ssh.rateLimit";
    trustedInterfaces = "trustedInterfaces and followFirewall";
    "queue.num" = "queueNumber";
    "queue.failMode" = "failMode";
    "defaults.inbound" = "defaultInbound";
    "logging.level" = "logLevel";
    logSources = "logSources and sshdLogSource";
    "http.listen" = "http.listenAddress and http.port";
  };
  optionFor =
    path:
    let
      key = lib.concatStringsSep "." path;
    in
    madeBy.${key} or (lib.concatStringsSep "." (map (k: if k == "enabled" then "enable" else k) path));

  final = lib.recursiveUpdate typed cfg.settings;

  # Port specs: numbers, "p" or "from-to" strings.
  covers =
    port: s:
    if lib.isInt s then
      s == port
    else
      let
        m = builtins.match "([0-9]+)(-([0-9]+))?" s;
        from = lib.toInt (lib.elemAt m 0);
        to = if lib.elemAt m 2 == null then from else lib.toInt (lib.elemAt m 2);
      in
      m != null && from <= port && port <= to;
  # Does some inbound accept rule (or the inbound default) let new TCP connections to `port` in?
  # Rules restricted by source or interface count: they admit someone.
  admits =
    port:
    final.defaults.inbound == "accept"
    || lib.any (
      r:
      (r.action or null) == "accept"
      && (r.direction or "inbound") == "inbound"
      && lib.elem (r.protocol or "any") [
        "tcp"
        "any"
      ]
      && (
        let
          ports = r.localPorts or r.ports or null;
        in
        ports == null || lib.any (covers port) ports
      )
    ) final.rules;
in
{
  inherit typed final;
  conflicts = map (path: {
    setting = "services.vpsfw.settings.${lib.concatStringsSep "." path}";
    option = "services.vpsfw.${optionFor path}";
  }) (overlaps [ ] typed cfg.settings);
  # SSH ports no rule of the final policy admits: the lock-out check.
  unadmittedSshPorts = lib.filter (p: !admits p) host.sshPorts;
  # The settings a reload cannot change in a running agent (the queue it reads; the agent's own
  # list): a change to any of them restarts it, every other change of the policy reloads it.
  restartSettings =
    let
      fields = lib.importJSON ../agent/src/policy/restart-fields.json;
    in
    lib.genAttrs fields.queue (k: final.queue.${k} or null)
    // lib.optionalAttrs (final ? http) { http = lib.genAttrs fields.http (k: final.http.${k} or null); };
}
