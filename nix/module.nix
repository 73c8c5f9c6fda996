# services.vpsfw: the options (options.nix), the policy they make from them and from what
# networking.firewall and services.openssh say (policy.nix, host.nix), checked by the agent at
# build time, the rules it renders, and two hardened units (agent/packaging/hardening.json, the file
# the Ubuntu units are made from too): vpsfw-rules owns the kernel state, vpsfw is the agent.
# docs/nixos.md says why each choice.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vpsfw;
  vpsfw = lib.getExe cfg.package;
  host = import ./host.nix { inherit lib config pkgs; };
  made = import ./policy.nix { inherit lib cfg host; };

  unchecked = (pkgs.formats.json { }).generate "vpsfw-policy-unchecked.json" made.final;
  # `vpsfw check` prints every error as `path: message (got value)`: a bad policy fails the build
  # (and so nixos-rebuild) with the agent's own words. `document` is the policy as a Nix value.
  policy = pkgs.runCommand "vpsfw-policy.json" { passthru.document = made.final; } ''
    ${vpsfw} check --policy ${unchecked}
    cp ${unchecked} $out
  '';
  # What the agent will apply, readable before it does: /etc/vpsfw/rules.txt.
  rules = pkgs.runCommand "vpsfw-rules.txt" { } ''
    ${vpsfw} render --policy ${policy} > $out
  '';
  # The units read the policy through /etc, which a switch points at the new file before it
  # reloads them.
  policyFile = "/etc/vpsfw/policy.json";
  controlSocket = "/run/vpsfw/control.sock";
  # What the log sources read, and nothing more: the journal (its group), the followed files' directories.
  logSources = made.final.logSources or [ ];
  readsJournal = lib.any (s: s ? journal) logSources;
  followedDirs = lib.unique (map (s: dirOf s.file) (lib.filter (s: s ? file) logSources));
  # The HTTP listener's clients (systemd filters by the peer's address: http.allowFrom, the agent's
  # loopback default when the policy names none), and nothing more.
  httpClients = lib.optionals ((made.final.http.listen or null) != null) (made.final.http.allowFrom or [ "127.0.0.0/8" "::1/128" ]);

  # "_comment" and the like are notes, not directives; booleans and lists as NixOS writes them.
  hardening = lib.filterAttrs (k: _: !lib.hasPrefix "_" k) (lib.importJSON ../agent/packaging/hardening.json);
  flushed = host.nftables.enable && host.nftables.flushRuleset;

  # Both units: early, as NixOS' own firewall.service (no default dependencies, after the file
  # systems and the journal, before any interface is configured and before sshd), the same
  # hardening and dynamic user, and the state directory that holds the bans; a policy change
  # reloads them.
  early =
    unit:
    unit
    // {
      after = [
        "local-fs.target"
        "systemd-modules-load.service"
        "systemd-journald.socket"
      ]
      # iptables-legacy takes /run/xtables.lock, which the read-only /run of the unit must already hold.
      ++ lib.optional host.legacyIptables "systemd-tmpfiles-setup.service"
      ++ unit.after;
      before = [
        "network-pre.target"
        "shutdown.target"
        "sshd.service"
        "sshd.socket"
      ];
      conflicts = [ "shutdown.target" ];
      unitConfig = {
        DefaultDependencies = false;
      }
      // unit.unitConfig or { };
      reloadTriggers = [ policy ];
      serviceConfig =
        hardening
        // {
          StateDirectory = "vpsfw";
          StateDirectoryMode = "0700";
        }
        // unit.serviceConfig;
    };

  # openPorts as networking.firewall takes them.
  asRange =
    p:
    if lib.isString p then
      let
        m = builtins.match "([0-9]+)-([0-9]+)" p;
      in
      {
        from = lib.toInt (lib.elemAt m 0);
        to = lib.toInt (lib.elemAt m 1);
      }
    else
      p;
  singles = ports: lib.filter lib.isInt ports;
  ranges = ports: map asRange (lib.filter (p: !lib.isInt p) ports);
in
{
  imports = [ ./options.nix ./crowdsec.nix ];

  config = lib.mkIf cfg.enable {
    services.vpsfw.sshdLogSource = lib.mkIf config.services.openssh.enable (
      lib.mkDefault (if config.services.openssh.startWhenNeeded then "sshd@*.service" else "sshd.service")
    );

    assertions =
      map (c: {
        assertion = false;
        message = "${c.setting}: the policy key comes from ${c.option}, and a value here would replace theirs. Set it through that option; `settings` only adds keys the typed options do not produce (docs/nixos.md, Settings).";
      }) made.conflicts
      ++ [
        {
          assertion = cfg.ssh.allowLockout || made.unadmittedSshPorts == [ ];
          message = "services.vpsfw: sshd listens on port ${lib.concatMapStringsSep ", " toString made.unadmittedSshPorts}, which no vpsfw rule admits: this configuration would lock you out of SSH. Open it (services.vpsfw.ssh.ports follows services.openssh.ports by default; services.vpsfw.rules), or set services.vpsfw.ssh.allowLockout = true if SSH is reached another way.";
        }
        {
          assertion = !(host.firewalld.enable && host.firewalld.backend == "iptables");
          message = "services.vpsfw: firewalld's iptables backend (services.firewalld.settings.FirewallBackend = \"iptables\") flushes and deletes every iptables chain, in every table, on each start, reload and stop, vpsfw's with them. Use its nftables backend, the default: its chains hook in after vpsfw's (docs/nixos.md).";
        }
        {
          assertion = !(host.legacyIptables && host.nftables.enable);
          message = "services.vpsfw: networking.firewall.package is iptables-legacy, but networking.nftables.enable blacklists the ip_tables module it needs. Use one or the other.";
        }
      ];

    warnings = lib.optional flushed "services.vpsfw: networking.nftables.flushRuleset removes vpsfw's rules on every nftables.service start or reload; vpsfw-rules is reloaded right after to put them back, a short window without them each time (docs/nixos.md).";

    # Like a module's openFirewall: what vpsfw opens to all, NixOS' firewall opens too, since a
    # packet vpsfw accepts goes on to be judged by it.
    networking.firewall = {
      allowedTCPPorts = singles cfg.openPorts.tcp;
      allowedTCPPortRanges = ranges cfg.openPorts.tcp;
      allowedUDPPorts = singles cfg.openPorts.udp;
      allowedUDPPortRanges = ranges cfg.openPorts.udp;
    };
    systemd.tmpfiles.rules = lib.optional host.legacyIptables "f /run/xtables.lock 0644 root root -";

    environment.etc."vpsfw/policy.json".source = policy;
    environment.etc."vpsfw/rules.txt".source = rules;
    environment.systemPackages = [ cfg.package ];
    system.build.vpsfwRules = rules;
    system.build.vpsfwPolicy = policy;

    # The kernel state (rules, sets, the saved bans): applied atomically, in force from before the
    # network is up until vpsfw.service really stops (StopWhenUnneeded; a restart of the agent
    # keeps it). A switch reloads it, never restarts it.
    systemd.services.vpsfw-rules = early {
      description = "vpsfw kernel rules, sets and saved bans";
      wants = [ "network-pre.target" ];
      # After the host firewall, so that our jumps land first; a flushed nftables ruleset takes
      # them with it: stop with it, and re-apply after each of its reloads.
      after = [
        "firewall.service"
        "nftables.service"
      ];
      partOf = lib.optional flushed "nftables.service";
      unitConfig = {
        StopWhenUnneeded = true;
      }
      // lib.optionalAttrs flushed { ReloadPropagatedFrom = "nftables.service"; };
      reloadIfChanged = true;
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = "${vpsfw} apply --policy ${policyFile}";
        ExecReload = "${vpsfw} apply --policy ${policyFile}";
        ExecStop = "${vpsfw} cleanup";
      };
    };

    # The agent. It leaves the kernel state to vpsfw-rules when it exits, so a restart (a crash, a
    # new package) never opens a gap; a switch restarts it in one step (stopIfChanged = false)
    # when it must, and reloads it otherwise.
    systemd.services.vpsfw = early {
      description = "vpsfw firewall and mini-IPS agent";
      wantedBy = [ "multi-user.target" ];
      requires = [ "vpsfw-rules.service" ];
      after = [ "vpsfw-rules.service" ];
      stopIfChanged = false;
      # What a reload cannot change in place; any other change of the policy is a reload.
      restartTriggers = [ (builtins.toJSON made.restartSettings) ];
      serviceConfig = {
        Type = "exec";
        ExecStart = "${vpsfw} run --policy ${policyFile} --keep-rules";
        # "Started" means judging: the agent opens its control socket last.
        ExecStartPost = "${pkgs.runtimeShell} -c 'while [ ! -S ${controlSocket} ]; do kill -0 $MAINPID || exit 1; ${pkgs.coreutils}/bin/sleep 0.1; done'";
        # Waits for the outcome and fails with the agent's refusal, so a rejected policy fails the switch.
        ExecReload = "${vpsfw} reload";
        Restart = "always";
        RestartSec = "1s";
        RuntimeDirectory = "vpsfw";
        RuntimeDirectoryMode = "0755";
      }
      // lib.optionalAttrs readsJournal { SupplementaryGroups = [ "systemd-journal" ]; }
      // lib.optionalAttrs (followedDirs != [ ]) { ReadOnlyPaths = followedDirs; }
      // lib.optionalAttrs (httpClients != [ ]) { IPAddressAllow = httpClients; };
    };
  };
}
