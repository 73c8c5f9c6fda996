#!/usr/bin/env bash
# Everything a fresh Debian 12 / Ubuntu 22.04+ machine needs to build, demo and test vpsfw, as root:
# the system packages (kernel tools, the libnetfilter_queue and _log headers for the native addon, the tools
# the tests attack and look with), a Node.js (the machine's when it is 20 or later, else the pinned
# LTS of agent/packaging/node.pin, checked against its sha512), the npm dependencies (`npm ci`, which
# also builds), and a `vpsfw` command on the PATH (/usr/local/bin/vpsfw, a link to this checkout's).
# Idempotent: a second run installs nothing new, needs no network, and only rebuilds the agent.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOUT=$(pwd)

PACKAGES=(
  iptables ipset iproute2 conntrack procps     # the kernel side the agent drives; sysctl, kill, ps
  libnetfilter-queue-dev libnetfilter-log-dev libnfnetlink-dev build-essential python3 # the native addon (node-gyp)
  iputils-ping netcat-openbsd hping3 python3-scapy tcpdump iperf3 # demo, tests and benchmarks
  prometheus chromium tmux                     # the observability tests: a real scraper, a browser, a terminal
  clang libbpf-dev bpftool                     # the benchmark's XDP drop program (tests/bench/xdp-drop.c): build, load, fill its map
  nix-bin debootstrap systemd git              # Nix hash check, the systemd container tests, systemd-analyze
  openssh-server openssh-client sshpass openssl # log sources: a real sshd and a password guesser
  fail2ban python3-pyinotify                   # the log-source benchmark's comparison
  mypy pyflakes3                               # the NixOS VM test scripts, checked as nixpkgs' driver does
  crowdsec crowdsec-firewall-bouncer           # the CrowdSec tests' LAPI and cscli, the benchmark's peer bouncer
  ufw                                          # coexistence: real ufw beside vpsfw, in a namespace (never enabled here)
  ca-certificates                              # npm over TLS
)
NODE_HOME=/usr/local/lib/vpsfw-node

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs system packages; the tests create network namespaces)" >&2
  exit 1
fi

# Node's own builds trust only the certificate authorities compiled into them: let npm trust what
# the administrator configured too (a TLS-inspecting proxy's CA, say).
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

node_ok() { command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ]; }
NODE_VERSION=$(agent/packaging/node-runtime.sh --version)
bring_node=0
node_ok || bring_node=1

# Debian's ufw Breaks netfilter-persistent: apt would remove it to install ufw. Not on a machine
# that has it (tests/e2e/coexistence.test.ts, which runs real ufw, then fails for want of it).
if dpkg-query -W -f='${Status}' netfilter-persistent 2>/dev/null | grep -q 'install ok installed'; then
  echo "setup.sh: netfilter-persistent is installed, and Debian's ufw would remove it: ufw not installed"
  PACKAGES=("${PACKAGES[@]/ufw}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  [ -n "$p" ] || continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm only to download the pinned Node.js, when there is none to do it with.
if [ "$bring_node" = 1 ] && [ ! -x "$NODE_HOME/$NODE_VERSION/bin/node" ] && [ -z "${VPSFW_NODE_TARBALLS:-}" ] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  apt-get update -qq
  # crowdsec's post-install registers with the Central API, which fails offline: a non-empty
  # credentials file tells it not to (the tests run their own LAPI, Central API off).
  mkdir -p /etc/crowdsec
  [ -s /etc/crowdsec/online_api_credentials.yaml ] || echo '# vpsfw setup.sh: no Central API' > /etc/crowdsec/online_api_credentials.yaml
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The tests run their own sshd and fail2ban, in namespaces: the services these packages start
  # are stopped, when this run installed them (a machine's own sshd or fail2ban is left as it was).
  if [ -d /run/systemd/system ]; then
    case " ${missing[*]} " in *" openssh-server "*) systemctl disable --now ssh.service ssh.socket 2>/dev/null || true ;; esac
    case " ${missing[*]} " in *" fail2ban "*) systemctl disable --now fail2ban.service 2>/dev/null || true ;; esac
  fi
fi

# No Node.js 20 or later here (Debian 12 and Ubuntu 24.04 ship 18, 22.04 ships 12): the pinned LTS,
# linked into /usr/local/bin, which comes before /usr/bin on the PATH.
if [ "$bring_node" = 1 ]; then
  if [ ! -x "$NODE_HOME/$NODE_VERSION/bin/node" ]; then
    echo "setup.sh: bringing Node.js $NODE_VERSION into $NODE_HOME/$NODE_VERSION (checked against agent/packaging/node.pin)"
    agent/packaging/node-runtime.sh "$NODE_HOME/$NODE_VERSION"
  fi
  for tool in node npm npx; do ln -sfn "$NODE_HOME/$NODE_VERSION/bin/$tool" "/usr/local/bin/$tool"; done
  # Debian's own nodejs trusts the system's certificate store; this npm does too, for every later
  # npm command (npm test packs the lock's tarballs), not only those run by this script.
  if [ -f /etc/ssl/certs/ca-certificates.crt ] && [ ! -f "$NODE_HOME/$NODE_VERSION/etc/npmrc" ]; then
    mkdir -p "$NODE_HOME/$NODE_VERSION/etc"
    echo 'cafile=/etc/ssl/certs/ca-certificates.crt' >"$NODE_HOME/$NODE_VERSION/etc/npmrc"
  fi
  hash -r
  node_ok || { echo "setup.sh: /usr/local/bin/node is not on the PATH before an older node: put /usr/local/bin first" >&2; exit 1; }
fi

# The legacy iptables backend is not what this project targets: make sure nf_tables is the default.
if update-alternatives --query iptables 2>/dev/null | grep -q '^Value: .*legacy'; then
  echo "setup.sh: note: iptables points at the legacy backend; vpsfw works with either, tests use the default"
fi

# node-gyp builds the addons against the headers beside node (Node's own layout: include/node) rather
# than downloading them.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then export npm_config_nodedir=$node_prefix; fi

# npm ci when the lock or the Node.js changed since the last run; else only the build, which picks
# up changed sources (the demo runs the compiled agent; the tests run the sources).
stamp="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
if [ "$(cat node_modules/.vpsfw-setup 2>/dev/null)" != "$stamp" ]; then
  npm ci --no-audit --no-fund
  echo "$stamp" > node_modules/.vpsfw-setup
else
  npm run --silent build
fi

# `vpsfw` on the PATH: this checkout's CLI, unless the installer's is there (agent/packaging/ubuntu).
if [ -f /usr/local/bin/vpsfw ] && [ ! -L /usr/local/bin/vpsfw ]; then
  echo "setup.sh: /usr/local/bin/vpsfw is the installed vpsfw (install.sh): left as it is; this checkout's is $CHECKOUT/bin/vpsfw.js"
elif [ "$(readlink /usr/local/bin/vpsfw 2>/dev/null)" != "$CHECKOUT/bin/vpsfw.js" ]; then
  ln -sfn "$CHECKOUT/bin/vpsfw.js" /usr/local/bin/vpsfw
  echo "setup.sh: vpsfw is on the PATH: /usr/local/bin/vpsfw -> $CHECKOUT/bin/vpsfw.js"
fi
