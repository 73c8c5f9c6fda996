# services.vpsfw options: the few typed ones users set most, and RFC 42 `settings` for the rest of
# the policy (docs/policy.md). Needs nixpkgs' lib (and `pkgs` only for the package's default), so
# it is evaluated by tests here too. A feature adds its options as a block of their own (`http`,
# …), and the policy keys they make in policy.nix.
{
  lib,
  config,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption mkEnableOption types;
  host = import ./host.nix { inherit lib config pkgs; };
  json = import ./json-type.nix { inherit lib; };
  duration = types.strMatching "[0-9]+(ms|s|m|h|d|w)" // {
    description = "duration such as \"10m\", \"1h\", \"7d\"";
  };
  banFor = types.either duration (types.enum [ false ]);
  # A port, a range as nixpkgs' firewall writes it, or (kept from earlier releases) "from-to".
  portRange = types.submodule {
    options = {
      from = mkOption {
        type = types.port;
        description = "First port of the range.";
      };
      to = mkOption {
        type = types.port;
        description = "Last port of the range (inclusive).";
      };
    };
  };
  port = types.oneOf [
    types.port
    portRange
    (types.strMatching "[0-9]+-[0-9]+")
  ];
  # A token bucket's options; `per` defaults differ between the detectors and the SSH limit.
  rateOptions = perDefault: {
    rate = mkOption {
      type = types.ints.positive;
      description = "Tokens added per `per` (per source where the limit is per source).";
    };
    per = mkOption {
      type = duration;
      default = perDefault;
      description = "The interval `rate` refers to.";
    };
    burst = mkOption {
      type = types.ints.positive;
      description = "How many may come at once.";
    };
  };
  rate = types.submodule { options = rateOptions "1s"; };
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
      default = pkgs.callPackage ./package.nix { inherit (host) iptables; };
      defaultText = lib.literalMD "vpsfw built from this flake's `nix/package.nix` with the system's nixpkgs and the iptables package of `networking.firewall` (`pkgs.iptables`, or `pkgs.iptables-legacy` when the firewall uses it)";
      description = "The vpsfw package (the agent and its CLI).";
    };

    openPorts = mkOption {
      type = types.submodule {
        options = {
          tcp = mkOption {
            type = types.listOf port;
            default = [ ];
            example = lib.literalExpression ''[ 80 443 { from = 8000; to = 8100; } ]'';
            description = "TCP ports open to new inbound connections from anywhere, in vpsfw (rule `open-tcp`) and in `networking.firewall`, as a module's `openFirewall` does. Ranges as `{ from, to }`; the string form `\"8000-8100\"` is still accepted.";
          };
          udp = mkOption {
            type = types.listOf port;
            default = [ ];
            description = "UDP ports open to anyone (rule `open-udp`, and in `networking.firewall`).";
          };
        };
      };
      default = { };
      description = "Ports open to all. SSH and what `networking.firewall` opens need no entry here (see `ssh` and `followFirewall`). Finer rules (by source, interface, outbound) go in `rules`.";
    };

    followFirewall = mkOption {
      type = types.bool;
      default = true;
      description = "Open in vpsfw every port `networking.firewall` opens (`allowedTCPPorts`, `allowedUDPPorts`, their `*PortRanges`, and those of `networking.firewall.interfaces.<name>` on that interface only), and never judge its `trustedInterfaces`. Every nixpkgs module's `openFirewall` opens its port there. Read whether or not the NixOS firewall itself is enabled.";
    };

    trustedInterfaces = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "wg0" ];
      description = "Interfaces vpsfw never judges (policy `trustedInterfaces`), besides those of `networking.firewall.trustedInterfaces` (see `followFirewall`). Loopback is never judged.";
    };

    ssh = {
      ports = mkOption {
        type = types.listOf types.port;
        default = host.sshPorts;
        defaultText = lib.literalMD "the ports `services.openssh` listens on (`ports` and those of `listenAddresses`) when it is enabled, else `[ ]`";
        description = "SSH ports: opened (rule `ssh`) and rate-limited per source (`ssh.rateLimit`).";
      };
      rateLimit = mkOption {
        type = types.nullOr (
          types.submodule {
            options = rateOptions "1m" // {
              ban = mkOption {
                type = banFor;
                description = "How long a source over the limit is banned, or `false` to drop the excess only.";
              };
            };
          }
        );
        # The agent's built-in policy's limit (agent/src/policy/defaults.ts).
        default = {
          rate = 10;
          per = "1m";
          burst = 20;
          ban = "15m";
        };
        description = "The per-source limit on new SSH connections (rate limit `ssh-connections`), or `null` for none.";
      };
      allowLockout = mkOption {
        type = types.bool;
        default = false;
        description = "Build even when `services.openssh` is enabled and no vpsfw rule admits one of its ports (say, SSH is reached only over a trusted interface). Without it that configuration fails with an assertion, before it can lock you out.";
      };
    };

    allowDhcpClient = mkOption {
      type = types.bool;
      default = true;
      description = "Accept DHCP (udp 68) and DHCPv6 (udp 546) replies, as the agent's built-in policy does: a lease is renewed by broadcast, so the server's answer is not a tracked reply.";
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
          name = "admin-office";
          action = "accept";
          protocol = "tcp";
          localPorts = [ 8443 ];
          source = [ "198.51.100.0/24" ];
        }
      ];
      description = "Further static rules (policy `rules`), placed before every rule the other options make; first match wins.";
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

    rateLimits = mkOption {
      type = types.listOf (types.attrsOf json);
      default = [ ];
      example = [
        {
          name = "web";
          protocol = "tcp";
          localPorts = [ 443 ];
          rate = 50;
          burst = 100;
          ban = "10m";
        }
      ];
      description = "Per-source rate limits (policy `rateLimits`), after `ssh.rateLimit`.";
    };

    payloadRules = mkOption {
      type = types.listOf (types.attrsOf json);
      default = [ ];
      example = [
        {
          name = "path-traversal";
          protocol = "tcp";
          localPorts = [ 80 ];
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

    sshdLogSource = mkOption {
      type = types.nullOr types.str;
      default = null;
      defaultText = lib.literalMD "`\"sshd.service\"` (`\"sshd@*.service\"` with `services.openssh.startWhenNeeded`) when `services.openssh.enable`, else `null`";
      example = "sshd.service";
      description = "The unit whose journal is followed for SSH password guessing (a `logSources` entry of kind `sshd`: 5 failures within 10 minutes ban for 1 hour); `null`: none (give your own in `logSources` to change its limits).";
    };

    logSources = mkOption {
      type = types.listOf (types.attrsOf json);
      default = [ ];
      example = [
        {
          name = "ids";
          kind = "suricata-eve";
          file = "/var/log/suricata/eve.json";
          minSeverity = 2;
          ban = "1h";
        }
      ];
      description = "Further log sources (policy `logSources`, docs/logsources.md), after the sshd one of `sshdLogSource`; the unit may read what they name and nothing more.";
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
        queue.maxLen = 8192;
        logging.statsInterval = "5m";
        detectors.synFlood.total = {
          rate = 5000;
          burst = 10000;
        };
      };
      description = "The rest of the policy (docs/policy.md): keys the options above do not produce, merged into their attribute sets. A key they produce (say `rules`, `queue.num`) is refused at evaluation, naming the option to use: it would discard theirs. `vpsfw check` validates the result at build time.";
    };
  };
}
