#!/usr/bin/env bash
# Everything a fresh Debian 12 / Ubuntu 22.04+ machine needs to build, demo and test vpsfw, as root:
# the system packages (kernel tools, the libnetfilter_queue and libnetfilter_log headers for the
# native addon, the tools the tests attack with), the npm dependencies (`npm ci`, which also
# builds), and nothing else.
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  iptables ipset iproute2 conntrack            # the kernel side the agent drives
  libnetfilter-queue-dev libnetfilter-log-dev libnfnetlink-dev build-essential python3 # the native addon (node-gyp)
  iputils-ping netcat-openbsd hping3 python3-scapy tcpdump iperf3 # demo, tests and benchmarks
  prometheus chromium tmux                     # the observability tests: a real scraper, a browser, a terminal
  clang libbpf-dev bpftool                     # the benchmark's XDP drop program (tests/bench/xdp-drop.c): build, load, fill its map
  nix-bin debootstrap systemd                  # Nix hash check, the systemd container test, systemd-analyze
  openssh-server openssh-client sshpass openssl # log sources: a real sshd and a password guesser
  fail2ban python3-pyinotify                   # the log-source benchmark's comparison
  mypy pyflakes3                               # the NixOS VM test scripts, checked as nixpkgs' driver does
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs system packages; the tests create network namespaces)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The tests run their own sshd and fail2ban, in namespaces: the services these packages start
  # are stopped, when this run installed them (a machine's own sshd or fail2ban is left as it was).
  if [ -d /run/systemd/system ]; then
    case " ${missing[*]} " in *" openssh-server "*) systemctl disable --now ssh.service ssh.socket 2>/dev/null || true ;; esac
    case " ${missing[*]} " in *" fail2ban "*) systemctl disable --now fail2ban.service 2>/dev/null || true ;; esac
  fi
fi

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup.sh: Node.js 20 or later is required (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "          Install it (e.g. your distribution's nodejs if >= 20) and run this again." >&2
  exit 1
fi

# The legacy iptables backend is not what this project targets: make sure nf_tables is the default.
if update-alternatives --query iptables 2>/dev/null | grep -q '^Value: .*legacy'; then
  echo "setup.sh: note: iptables points at the legacy backend; vpsfw works with either, tests use the default"
fi

npm ci --no-audit --no-fund
