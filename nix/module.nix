# services.vpsfw: the options (options.nix), the policy they make (policy.nix) checked by the agent
# at build time, the rules it renders, and the hardened unit (agent/packaging/hardening.json, the
# file the Ubuntu unit is made from too). docs/nixos.md says why each choice.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vpsfw;
  vpsfw = lib.getExe cfg.package;

  document = import ./policy.nix { inherit lib cfg; };
  unchecked = (pkgs.formats.json { }).generate "vpsfw-policy-unchecked.json" document;
  # systemd filters by the peer's address: the listener's clients (http.allowFrom, loopback by default).
  httpClients = document.http.allowFrom or [ "127.0.0.0/8" "::1/128" ];
  # `vpsfw check` prints every error as `path: message (got value)`: a bad policy fails the build
  # (and so nixos-rebuild) with the agent's own words.
  policy = pkgs.runCommand "vpsfw-policy.json" { } ''
    ${vpsfw} check --policy ${unchecked}
    cp ${unchecked} $out
  '';
  # What the agent will apply, readable before it does: /etc/vpsfw/rules.txt.
  rules = pkgs.runCommand "vpsfw-rules.txt" { } ''
    ${vpsfw} render --policy ${policy} > $out
  '';

  # "_comment" and the like are notes, not directives; booleans and lists as NixOS writes them.
  hardening = lib.filterAttrs (k: _: !lib.hasPrefix "_" k) (lib.importJSON ../agent/packaging/hardening.json);

  controlSocket = "/run/vpsfw/control.sock";
  nft = config.networking.nftables;
  flushed = nft.enable && nft.flushRuleset;
in
{
  imports = [ ./options.nix ];

  config = lib.mkIf cfg.enable {
    services.vpsfw.package = lib.mkDefault (pkgs.callPackage ./package.nix { });

    warnings =
      lib.optional nft.enable "services.vpsfw: with networking.nftables, NixOS' nftables firewall and vpsfw's iptables-nft rules both judge every packet: a port must be open in both (docs/nixos.md)."
      ++ lib.optional (nft.enable && nft.flushRuleset) "services.vpsfw: networking.nftables.flushRuleset removes vpsfw's rules on every nftables.service start or reload; vpsfw is reloaded right after to put them back, a short window without them each time (docs/nixos.md).";

    environment.etc."vpsfw/policy.json".source = policy;
    environment.etc."vpsfw/rules.txt".source = rules;
    environment.systemPackages = [ cfg.package ];
    system.build.vpsfwRules = rules;
    system.build.vpsfwPolicy = policy;

    systemd.services.vpsfw = {
      description = "vpsfw firewall and mini-IPS agent";
      # Rules in force before interfaces come up and before services listen, as NixOS' own
      # firewall.service does: early (no default dependencies), after the file systems and journal.
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-pre.target" ];
      after = [
        "local-fs.target"
        "systemd-modules-load.service"
        "systemd-journald.socket"
        "firewall.service"
      ]
      ++ lib.optional flushed "nftables.service";
      before = [
        "network-pre.target"
        "shutdown.target"
        "sshd.service"
        "sshd.socket"
      ];
      conflicts = [ "shutdown.target" ];
      # A flushed ruleset takes vpsfw's tables with it: stop with it, and reload (re-apply) after it.
      partOf = lib.optional flushed "nftables.service";
      unitConfig = {
        DefaultDependencies = false;
      }
      // lib.optionalAttrs flushed { ReloadPropagatedFrom = "nftables.service"; };
      # A policy change is a SIGHUP (bans and counters kept), not a restart: the unit reads the
      # policy through /etc, which the switch has already pointed at the new file.
      reloadTriggers = [ policy ];
      # The settings a reload refuses to change.
      restartTriggers = [ (toString cfg.queueNumber) ] ++ lib.optional (document ? http) (builtins.toJSON document.http);

      serviceConfig = hardening // {
        Type = "exec";
        ExecStart = "${vpsfw} run --policy /etc/vpsfw/policy.json";
        # "Started" means the rules are in force: the agent opens its control socket last.
        ExecStartPost = "${pkgs.runtimeShell} -c 'while [ ! -S ${controlSocket} ]; do kill -0 $MAINPID || exit 1; ${pkgs.coreutils}/bin/sleep 0.1; done'";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "on-failure";
        RestartSec = "1s";
        StateDirectory = "vpsfw";
        StateDirectoryMode = "0700";
        RuntimeDirectory = "vpsfw";
        RuntimeDirectoryMode = "0755";
      }
      // lib.optionalAttrs ((document.http.listen or null) != null) { IPAddressAllow = httpClients; };
    };
  };
}
