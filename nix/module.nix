# services.vpsfw: the policy is generated from the options, checked by `vpsfw check` and rendered
# by `vpsfw render` at build time (a bad policy fails nixos-rebuild with the agent's message); the
# agent runs as a hardened unit whose settings come from agent/packaging/hardening.json, the same
# file the Ubuntu installer reads.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vpsfw;
  policy = import ./policy.nix { inherit lib cfg; };

  # Validated at build time; /etc/vpsfw/policy.json points here.
  policyFile =
    pkgs.runCommand "vpsfw-policy.json"
      {
        nativeBuildInputs = [ cfg.package ];
        policy = builtins.toJSON policy;
        passAsFile = [ "policy" ];
      }
      ''
        cp "$policyPath" policy.json
        vpsfw check --policy policy.json
        cp policy.json $out
      '';

  # What the agent will apply, visible before it does: /etc/vpsfw/rules.txt.
  rulesFile = pkgs.runCommand "vpsfw-rules.txt" { nativeBuildInputs = [ cfg.package ]; } ''
    vpsfw render --policy ${policyFile} > $out
  '';

  hardening = lib.filterAttrs (name: _: !lib.hasPrefix "_" name) (
    lib.importJSON ../agent/packaging/hardening.json
  );
in
{
  imports = [ ./options.nix ];

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.bans.allowlist != [ ];
        message = "services.vpsfw.bans.allowlist is empty: keep loopback (127.0.0.0/8, ::1/128) in it, or the agent may ban the host's own services.";
      }
    ];
    warnings = lib.optional config.networking.nftables.enable ''
      services.vpsfw: networking.nftables is enabled. vpsfw writes its rules with iptables-nft, and
      nftables.service replaces the whole ruleset (`flush ruleset`) when it starts or reloads, which
      removes them; vpsfw is restarted and reloaded with nftables.service to put them back, so there
      is a short window without them each time. The iptables backend of networking.firewall has no
      such window.
    '';

    environment.systemPackages = [ cfg.package ];
    environment.etc."vpsfw/policy.json".source = policyFile;
    environment.etc."vpsfw/rules.txt".source = rulesFile;

    systemd.services.vpsfw = {
      description = "vpsfw firewall and mini-IPS agent";
      wantedBy = [ "multi-user.target" ];
      # Early, like NixOS' own firewall.service: rules in place before interfaces come up and
      # before sshd or any other service listens.
      unitConfig = {
        DefaultDependencies = false;
      }
      // lib.optionalAttrs config.networking.nftables.enable { ReloadPropagatedFrom = "nftables.service"; };
      wants = [ "network-pre.target" ];
      before = [
        "network-pre.target"
        "sshd.service"
        "shutdown.target"
      ];
      after = [
        "local-fs.target"
        "systemd-modules-load.service"
        "systemd-journald.socket"
      ] ++ lib.optional config.networking.nftables.enable "nftables.service";
      conflicts = [ "shutdown.target" ];
      partOf = lib.optional config.networking.nftables.enable "nftables.service";
      # `nixos-rebuild switch` with a new policy reloads (SIGHUP): rules swapped, bans kept.
      reloadTriggers = [ policyFile ];
      serviceConfig = hardening // {
        Type = "simple";
        ExecStart = "${lib.getExe cfg.package} run --policy /etc/vpsfw/policy.json";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "on-failure";
        RestartSec = "1s";
        StateDirectory = "vpsfw";
        StateDirectoryMode = "0700";
        RuntimeDirectory = "vpsfw";
        RuntimeDirectoryMode = "0755";
      };
    };
  };
}
