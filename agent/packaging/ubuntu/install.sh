#!/usr/bin/env bash
# vpsfw installer for Ubuntu 22.04 / 24.04 and Debian 12, run as root from a vpsfw checkout.
#
#   install.sh                 install (or update) and start the service
#   install.sh --no-start      install, do not enable or start (image builds, chroots)
#   install.sh --root DIR      install into another root tree (implies no apt, no systemctl)
#   install.sh --dry-run       print what it would do, change nothing
#   install.sh --uninstall [--purge]   remove it all; --purge also removes the policy and the bans
#
# Idempotent: a second run with nothing changed changes nothing and needs no network.
set -euo pipefail

PREFIX=/opt/vpsfw
POLICY=/etc/vpsfw/policy.json
NODE_MAJOR=20
NPM_MAJOR=10
APT_PACKAGES=(iptables ipset iproute2 libnetfilter-queue1 libnetfilter-queue-dev libnetfilter-log1 libnetfilter-log-dev build-essential python3 ca-certificates)

ROOT="" NO_START=0 DRY=0 MODE=install PURGE=0
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?--root needs a directory}"; shift ;;
    --no-start) NO_START=1 ;;
    --dry-run) DRY=1 ;;
    --uninstall) MODE=uninstall ;;
    --purge) PURGE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ "$PURGE" = 1 ] && [ "$MODE" != uninstall ] && { echo "install.sh: --purge goes with --uninstall" >&2; exit 2; }
[ -n "$ROOT" ] && { ROOT=$(cd "$ROOT" && pwd); NO_START=1; }

SRC=$(cd "$(dirname "$0")/../../.." && pwd)
DEST="$ROOT$PREFIX"
UNIT="$ROOT/etc/systemd/system/vpsfw.service"
WRAPPER="$ROOT/usr/local/bin/vpsfw"
CHANGED=0

say() { echo "vpsfw-install: $*"; }
die() { echo "vpsfw-install: $*" >&2; exit 1; }
run() { if [ "$DRY" = 1 ]; then echo "+ $*"; else "$@"; fi; }
host() { [ -z "$ROOT" ]; }

# Writes stdin to a file only when the content differs (so a re-run changes nothing).
put() {
  local file=$1 mode=$2 tmp
  tmp=$(mktemp)
  cat > "$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; return 0; fi
  if [ "$DRY" = 1 ]; then say "would write $file"; rm -f "$tmp"; return 0; fi
  mkdir -p "$(dirname "$file")"
  install -m "$mode" "$tmp" "$file"
  rm -f "$tmp"
  CHANGED=1
  say "wrote $file"
}

# Node's own builds trust only the certificate authorities compiled into them, Debian's and Ubuntu's
# the system store: let npm trust what the administrator configured (a TLS-inspecting proxy's CA, say).
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

[ "$(id -u)" -eq 0 ] || [ "$DRY" = 1 ] || die "run as root"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

install_packages() {
  host || return 0
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ! command -v npm >/dev/null; then missing+=(npm); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# NODE runs here; NODE_IN_TARGET is the same binary as the target root sees it (the unit's ExecStart).
# Node 20 or later from the distribution when it has one (Debian 12 and Ubuntu 24.04 ship 18): else
# Node's own build, as the npm registry carries it (package node-linux-<arch>), under $PREFIX/runtime,
# with npm's own release beside it: the distribution's npm runs on the old Node with a node-gyp
# patched for the distribution's headers, and a binding it builds crashed the new Node (found by the
# systemd system test). NPM is the npm to use with NODE.
ensure_node() {
  local system
  system=$(command -v node || true)
  if [ -n "$system" ] && [ "$(node_major "$system")" -ge "$NODE_MAJOR" ] && [ "${VPSFW_BUNDLED_NODE:-0}" != 1 ]; then
    NODE=$system NODE_IN_TARGET=$system NPM=(npm)
    return 0
  fi
  NODE="$DEST/runtime/bin/node" NODE_IN_TARGET="$PREFIX/runtime/bin/node" NPM=("$DEST/runtime/bin/node" "$DEST/runtime/lib/npm/bin/npm-cli.js")
  [ -x "$NODE" ] && [ "$(node_major "$NODE")" -ge "$NODE_MAJOR" ] && [ -f "${NPM[1]}" ] && return 0
  local arch tmp
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "no Node.js $NODE_MAJOR build for $(uname -m)" ;; esac
  say "bringing Node.js $NODE_MAJOR (node-linux-$arch) and npm $NPM_MAJOR into $PREFIX/runtime"
  [ "$DRY" = 1 ] && { echo "+ npm pack node-linux-$arch@$NODE_MAJOR npm@$NPM_MAJOR; tar -x -C $DEST/runtime"; return 0; }
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_MAJOR" "npm@$NPM_MAJOR" >/dev/null)
  mkdir -p "$DEST/runtime/lib/npm"
  tar -xzf "$tmp"/node-linux-*.tgz -C "$DEST/runtime" --strip-components=1
  tar -xzf "$tmp"/npm-*.tgz -C "$DEST/runtime/lib/npm" --strip-components=1
  rm -rf "$tmp"
  CHANGED=1
}

# The agent: built in the checkout (npm ci builds it), copied with its production dependencies.
install_agent() {
  if [ ! -f "$SRC/agent/dist/cli/main.js" ]; then
    say "building the agent in $SRC"
    run bash -c "cd '$SRC' && npm ci --no-audit --no-fund"
  fi
  local stamp
  stamp=$( { cat "$SRC/package-lock.json"; "$NODE" --version; find "$SRC/agent/dist" "$SRC/bin" "$SRC/agent/packaging" "$SRC/agent/native/binding.gyp" "$SRC/agent/native/src" -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1)
  if [ -f "$DEST/.install-stamp" ] && [ "$(cat "$DEST/.install-stamp")" = "$stamp" ]; then return 0; fi
  say "installing the agent into $DEST"
  [ "$DRY" = 1 ] && { echo "+ copy agent to $DEST; npm ci --omit=dev"; return 0; }
  mkdir -p "$DEST"
  rm -rf "$DEST/agent" "$DEST/bin" "$DEST/docs" "$DEST/node_modules"
  mkdir -p "$DEST/agent/native"
  cp -a "$SRC/package.json" "$SRC/package-lock.json" "$SRC/bin" "$SRC/docs" "$DEST/"
  cp -a "$SRC/agent/dist" "$SRC/agent/packaging" "$DEST/agent/"
  cp -a "$SRC/agent/native/binding.gyp" "$SRC/agent/native/src" "$DEST/agent/native/"
  # Production dependencies only, no install scripts (`prepare` would compile TypeScript, which is
  # compiled already); then the NFQUEUE addon (agent/native) is compiled for this Node.
  # The bundled runtime carries Node's headers (include/node): node-gyp then downloads none.
  local nodedir=""
  [ -d "$(dirname "$NODE")/../include/node" ] && nodedir=$(cd "$(dirname "$NODE")/.." && pwd)
  (cd "$DEST" && export PATH="$(dirname "$NODE"):$PATH" ${nodedir:+npm_config_nodedir="$nodedir"} \
    && "${NPM[@]}" ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
    && "${NPM[@]}" run --silent build:native >/dev/null)
  echo "$stamp" > "$DEST/.install-stamp"
  CHANGED=1
}

install_files() {
  local cli="$NODE $DEST/bin/vpsfw.js"
  if [ ! -f "$ROOT$POLICY" ]; then
    if [ "$DRY" = 1 ]; then say "would write $ROOT$POLICY (the built-in default policy)"; else
      # With OpenSSH installed, its journal is followed for password guessing (docs/logsources.md).
      local sshd=""
      [ -e "$ROOT/lib/systemd/system/ssh.service" ] || [ -e "$ROOT/usr/lib/systemd/system/ssh.service" ] && sshd=ssh.service
      $cli render --format policy | "$NODE" -e 'let d = ""; process.stdin.on("data", (c) => (d += c)).on("end", () => { const p = JSON.parse(d); if (process.argv[1]) p.logSources = [{ name: "sshd", kind: "sshd", journal: process.argv[1], maxRetry: 5, findTime: "10m", ban: "1h" }]; process.stdout.write(JSON.stringify(p, null, 2) + "\n"); })' "$sshd" | put "$ROOT$POLICY" 0644
    fi
  fi
  [ "$DRY" = 1 ] || $cli check --policy "$ROOT$POLICY" >/dev/null || die "$ROOT$POLICY is not a valid policy (see above): fix it, then run this again"
  printf '#!/bin/sh\n# Installed by vpsfw install.sh.\nexec %s %s/bin/vpsfw.js "$@"\n' "$NODE_IN_TARGET" "$PREFIX" | put "$WRAPPER" 0755
  "$NODE" "$SRC/agent/packaging/unit.mjs" --node "$NODE_IN_TARGET" --prefix "$PREFIX" --policy "$POLICY" --log-access "$ROOT$POLICY" | put "$UNIT" 0644
}

start_service() {
  [ "$NO_START" = 1 ] && { say "installed; not started (--no-start)"; return 0; }
  command -v systemctl >/dev/null || die "no systemctl: start the agent yourself (vpsfw run --policy $POLICY)"
  if [ "$CHANGED" = 1 ]; then run systemctl daemon-reload; fi
  systemctl is-enabled --quiet vpsfw.service 2>/dev/null || run systemctl enable --quiet vpsfw.service
  if ! systemctl is-active --quiet vpsfw.service; then
    run systemctl start vpsfw.service
  elif [ "$CHANGED" = 1 ]; then
    run systemctl restart vpsfw.service
  fi
  say "vpsfw is running: vpsfw status"
}

uninstall() {
  if host && command -v systemctl >/dev/null; then
    run systemctl disable --now --quiet vpsfw.service 2>/dev/null || true
  fi
  # Rules left by an agent that was killed: remove them too (only in this root's own namespace).
  if host && [ -x "$WRAPPER" ]; then run "$WRAPPER" cleanup >/dev/null 2>&1 || true; fi
  run rm -rf "$UNIT" "$WRAPPER" "$DEST"
  if host && command -v systemctl >/dev/null; then run systemctl daemon-reload; fi
  if [ "$PURGE" = 1 ]; then
    run rm -rf "$ROOT/etc/vpsfw" "$ROOT/var/lib/vpsfw" "$ROOT/var/lib/private/vpsfw"
  else
    [ -f "$ROOT$POLICY" ] && say "kept $ROOT$POLICY (--purge removes it)"
  fi
  say "uninstalled"
}

if [ "$MODE" = uninstall ]; then uninstall; exit 0; fi
install_packages
ensure_node
install_agent
install_files
start_service
