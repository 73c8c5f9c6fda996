# services.vpsfw options: the few typed ones users set most, and RFC 42 `settings` for the rest of
# the policy (docs/policy.md). Needs nixpkgs' lib only, so it is evaluated by tests here too.
{ lib, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  json = import ./json-type.nix { inherit lib; };
  duration = types.strMatching "[0-9]+(ms|s|m|h|d|w)" // {
    description = "duration such as \"10m\", \"1h\", \"7d\"";
  };
  banFor = types.either duration (types.enum [ false ]);
  port = types.either types.port (types.strMatching "[0-9]+-[0-9]+");
  rate = types.submodule {
    options = {
      rate = mkOption {
        type = types.ints.positive;
        description = "Tokens added per `per`.";
      };
      per = mkOption {
        type = duration;
        default = "1s";
        description = "The interval `rate` refers to.";
      };
      burst = mkOption {
        type = types.ints.positive;
        description = "How many may come at once.";
      };
    };
  };
  detector =
    extra: defaultBan:
    types.submodule {
      options = {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = "Whether this detector runs.";
        };
        ban = mkOption {
          type = banFor;
          default = defaultBan;
          description = "How long a source it catches is banned, or `false` to drop without banning.";
        };
      }
      // extra;
    };
  # The two flood detectors: a per-source token bucket, and a ban.
  floodDetector =
    what: rateDefault: description:
    mkOption {
      type = detector {
        perSource = mkOption {
          type = rate;
          default = rateDefault;
          description = "${what} per source.";
        };
      } "10m";
      default = { };
      inherit description;
    };
in
{
  options.services.vpsfw = {
    enable = mkEnableOption "vpsfw, the firewall and mini-IPS agent (iptables/ipset in the kernel, NFQUEUE judging in user space)";

    package = mkOption {
      type = types.package;
      description = "The vpsfw package (the agent and its CLI).";
    };

    openPorts = mkOption {
      type = types.submodule {
        options = {
          tcp = mkOption {
            type = types.listOf port;
            default = [ 22 ];
            example = [ 22 80 443 "8000-8100" ];
            description = "TCP ports open to new inbound connections from anywhere (a rule named `open-tcp`).";
          };
          udp = mkOption {
            type = types.listOf port;
            default = [ ];
            description = "UDP ports open to anyone (a rule named `open-udp`).";
          };
        };
      };
      default = { };
      description = "Ports open to all. Finer rules (by source, outbound) go in `rules`.";
    };

    allowPing = mkOption {
      type = types.bool;
      default = true;
      description = "Answer ICMP and ICMPv6 echo requests (flood and size limits still apply).";
    };

    rules = mkOption {
      type = types.listOf (types.attrsOf json);
      default = [ ];
      example = [
        {
          name = "ssh-office";
          action = "accept";
          protocol = "tcp";
          ports = [ 2222 ];
          source = [ "198.51.100.0/24" ];
        }
      ];
      description = "Further static rules (policy `rules`), placed before the `openPorts` rules; first match wins.";
    };

    denyNetworks = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "203.0.113.0/24" "2001:db8:bad::/48" ];
      description = "Networks dropped in the kernel before any judgement (an ipset `hash:net`).";
    };

    defaultInbound = mkOption {
      type = types.enum [ "accept" "drop" "reject" ];
      default = "drop";
      description = "Verdict for new inbound connections no rule matches.";
    };

    failMode = mkOption {
      type = types.enum [ "open" "closed" ];
      default = "open";
      description = "`open`: traffic keeps flowing if the agent is gone (`--queue-bypass`); `closed`: new connections are refused until it is back.";
    };

    queueNumber = mkOption {
      type = types.ints.between 0 65535;
      default = 0;
      description = "The NFQUEUE number the agent reads.";
    };

    bans = {
      duration = mkOption {
        type = duration;
        default = "1h";
        description = "Ban length when a detector or `vpsfw ban` gives none.";
      };
      escalation = {
        factor = mkOption {
          type = types.either types.int types.float;
          default = 2;
          description = "Each repeat ban lasts this many times the last.";
        };
        max = mkOption {
          type = duration;
          default = "7d";
          description = "The longest an escalated ban lasts.";
        };
      };
      allowlist = mkOption {
        type = types.listOf types.str;
        default = [ "127.0.0.0/8" "::1/128" ];
        description = "Networks never banned and never judged (accepted in the kernel). Keep loopback in it.";
      };
    };

    detectors = {
      synFlood = floodDetector "SYNs" {
        rate = 20;
        burst = 40;
      } "SYN-flood detection per source.";
      icmpFlood = floodDetector "Echo requests" {
        rate = 10;
        burst = 20;
      } "ICMP/ICMPv6 echo flood detection.";
      oversizedIcmp = mkOption {
        type = detector {
          maxBytes = mkOption {
            type = types.ints.between 64 65535;
            default = 1024;
            description = "Largest echo request (whole IP packet) let through.";
          };
        } false;
        default = { };
        description = "Oversized echo requests are dropped.";
      };
      portScan = mkOption {
        type = detector {
          ports = mkOption {
            type = types.ints.between 2 1024;
            default = 12;
            description = "Distinct closed ports one source may touch within `window`.";
          };
          window = mkOption {
            type = duration;
            default = "10s";
            description = "The scan window.";
          };
        } "1h";
        default = { };
        description = "Port-scan detection.";
      };
    };

    payloadRules = mkOption {
      type = types.listOf (types.attrsOf json);
      default = [ ];
      example = [
        {
          name = "path-traversal";
          protocol = "tcp";
          ports = [ 80 ];
          pattern.text = "/../../";
          action = "reject";
          ban = "1h";
        }
      ];
      description = "Payload (DPI) rules: patterns matched across TCP segments (policy `payloadRules`).";
    };

    http = {
      enable = mkEnableOption "the agent's HTTP listener: Prometheus metrics at /metrics and the dashboard at /, both behind a token (`vpsfw dashboard` prints the address with it; docs/observability.md)";
      listenAddress = mkOption {
        type = types.str;
        default = "127.0.0.1";
        example = "::1";
        description = "The address it listens on. One beyond loopback also needs `settings.http.allowFrom` naming the networks that may connect (plain HTTP: docs/observability.md, Risks).";
      };
      port = mkOption {
        type = types.port;
        default = 9469;
        description = "The port it listens on.";
      };
    };

    logLevel = mkOption {
      type = types.enum [ "fatal" "error" "warn" "info" "debug" "trace" ];
      default = "info";
      description = "The agent's log level (JSON lines in the journal).";
    };

    settings = mkOption {
      type = types.submodule { freeformType = json; };
      default = { };
      example = {
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
      };
      description = "Anything else of the policy (docs/policy.md), merged over what the options above produce; `vpsfw check` validates the result at build time.";
    };
  };
}
