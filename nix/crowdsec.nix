# services.vpsfw.crowdsec: the agent as a CrowdSec bouncer and machine (docs/fleet.md). The key and
# the password are files outside the store, handed to the unit by systemd (LoadCredential=); the
# policy names their credential paths; the hardened unit may reach the LAPI's address and no other.
{ config, lib, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  cfg = config.services.vpsfw.crowdsec;
  credentials = "/run/credentials/vpsfw.service";
  # services.crowdsec's LAPI on this host, when asked for: its listen_uri ("host:port").
  localListen = lib.attrByPath [ "services" "crowdsec" "settings" "config" "api" "server" "listen_uri" ] "127.0.0.1:8080" config;
  url = if cfg.useLocalCrowdsec then "http://${localListen}/" else cfg.url;
  # The host of the URL, when it is an address: what IPAddressAllow= takes.
  hostOf =
    u:
    let
      v6 = builtins.match "https?://\\[([0-9a-fA-F:.]+)](:[0-9]+)?(/.*)?" u;
      other = builtins.match "https?://([^/:]+)(:[0-9]+)?(/.*)?" u;
    in
    if v6 != null then lib.head v6 else if other != null then lib.head other else null;
  host = if url == null then null else hostOf url;
  isAddress = host != null && (builtins.match "[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*" host != null);
  lapiAddress = if cfg.lapiAddress != null then cfg.lapiAddress else host;
in
{
  options.services.vpsfw.crowdsec = {
    enable = mkEnableOption "CrowdSec: enforce the Local API's ban decisions, report the agent's bans to it";
    url = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://lapi.example.net:8080/";
      description = "The CrowdSec Local API (policy `crowdsec.url`).";
    };
    useLocalCrowdsec = mkOption {
      type = types.bool;
      default = false;
      description = "Use `services.crowdsec` on this host: the URL from its `listen_uri`, started after it.";
    };
    lapiAddress = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "192.0.2.10";
      description = "The LAPI's address for `IPAddressAllow=` when `url` names it by host name.";
    };
    bouncerKeyFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/run/secrets/vpsfw-bouncer-key";
      description = "A file (outside the store) holding the key of `cscli bouncers add`; null: decisions are not pulled.";
    };
    machine = {
      login = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "The name of `cscli machines add`; null: bans are not reported.";
      };
      passwordFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "A file (outside the store) holding that machine's password.";
      };
    };
  };

  config = lib.mkIf (config.services.vpsfw.enable && cfg.enable) {
    assertions = [
      { assertion = url != null; message = "services.vpsfw.crowdsec: set url, or useLocalCrowdsec = true."; }
      { assertion = cfg.bouncerKeyFile != null || cfg.machine.login != null; message = "services.vpsfw.crowdsec: set bouncerKeyFile, machine.login, or both."; }
      { assertion = (cfg.machine.login == null) == (cfg.machine.passwordFile == null); message = "services.vpsfw.crowdsec: machine.login and machine.passwordFile go together."; }
      { assertion = lapiAddress != null && (cfg.lapiAddress != null || isAddress); message = "services.vpsfw.crowdsec: ${toString url} names no address; set lapiAddress (the unit allows that address alone)."; }
    ];
    services.vpsfw.settings.crowdsec =
      { inherit url; }
      // lib.optionalAttrs (cfg.bouncerKeyFile != null) { bouncerKeyFile = "${credentials}/crowdsec-bouncer-key"; }
      // lib.optionalAttrs (cfg.machine.login != null) { machine = { inherit (cfg.machine) login; passwordFile = "${credentials}/crowdsec-machine-password"; }; };
    systemd.services.vpsfw = {
      after = lib.mkIf cfg.useLocalCrowdsec [ "crowdsec.service" ];
      wants = lib.mkIf cfg.useLocalCrowdsec [ "crowdsec.service" ];
      serviceConfig = {
        LoadCredential =
          lib.optional (cfg.bouncerKeyFile != null) "crowdsec-bouncer-key:${cfg.bouncerKeyFile}"
          ++ lib.optional (cfg.machine.passwordFile != null) "crowdsec-machine-password:${cfg.machine.passwordFile}";
        IPAddressAllow = [ lapiAddress ];
      };
    };
  };
}
