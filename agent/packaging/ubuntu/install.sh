#!/usr/bin/env bash
# vpsfw installer for Ubuntu 22.04 / 24.04 and Debian 12, run as root from a checkout of vpsfw.
# docs/ubuntu.md says what it does and why.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: install.sh [--no-start] [--root DIR] [--dry-run]
       install.sh --uninstall [--purge]

Installs (or updates) vpsfw from this checkout as two systemd units, vpsfw-rules.service (the
kernel rules) and vpsfw.service (the agent), built and run on the Node.js LTS it brings.

  --no-start     install, but do not enable, start or restart anything (image builds, chroots)
  --root DIR     install into another root tree (DIR is made if missing); implies --no-start and
                 touches neither this machine's apt nor its systemd
  --dry-run      say what it would do, change nothing
  --uninstall    stop and remove vpsfw (units, /opt/vpsfw, the vpsfw command, its kernel rules);
                 keeps /etc/vpsfw/policy.json
  --purge        with --uninstall: also remove /etc/vpsfw and the saved bans

Run again with nothing changed, it changes nothing and needs no network.
EOF
}

PREFIX=/opt/vpsfw
POLICY=/etc/vpsfw/policy.json
UNITS=(vpsfw-rules.service vpsfw.service)
# What the build and the agent need; npm only to download the pinned Node.js when none is here.
APT_PACKAGES=(iptables ipset iproute2 libnetfilter-queue1 libnetfilter-queue-dev libnetfilter-log1 libnetfilter-log-dev build-essential python3 ca-certificates)

ROOT="" NO_START=0 DRY=0 MODE=install PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "install.sh: --root needs a directory" >&2; exit 2; }
      ROOT=$2; shift ;;
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

say() { echo "vpsfw-install: $*"; }
die() { echo "vpsfw-install: $*" >&2; exit 1; }
# Runs a command, or in a dry run says it would.
run() { if [ "$DRY" = 1 ]; then echo "vpsfw-install: would run: $*"; else "$@"; fi; }
host() { [ -z "$ROOT" ]; }

[ "$(id -u)" -eq 0 ] || [ "$DRY" = 1 ] || die "run as root (sudo $0)"

if [ -n "$ROOT" ]; then
  if [ ! -d "$ROOT" ]; then
    if [ "$DRY" = 1 ]; then say "would create the root directory $ROOT"; else mkdir -p "$ROOT" && say "created the root directory $ROOT"; fi
  fi
  [ -d "$ROOT" ] && ROOT=$(cd "$ROOT" && pwd)
  NO_START=1
fi

SRC=$(cd "$(dirname "$0")/../../.." && pwd)
RUNTIME_SH="$SRC/agent/packaging/node-runtime.sh"
DEST="$ROOT$PREFIX"
WRAPPER="$ROOT/usr/local/bin/vpsfw"
UNIT_DIR="$ROOT/etc/systemd/system"
UNITS_CHANGED=0 SWITCHED=0

# Writes CONTENT (and a final newline) to FILE only when it differs, so a re-run changes nothing;
# sets WROTE=1 when it wrote, or in a dry run would have.
put() {
  local file=$1 mode=$2 content=$3 tmp
  WROTE=0
  tmp=$(mktemp)
  printf '%s\n' "$content" > "$tmp"
  if [ -f "$file" ] && [ ! -L "$file" ] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; return 0; fi
  WROTE=1
  if [ "$DRY" = 1 ]; then say "would write $file"; rm -f "$tmp"; return 0; fi
  mkdir -p "$(dirname "$file")"
  rm -f "$file" # a symlink (scripts/setup.sh links the checkout's CLI here) is replaced, not followed
  install -m "$mode" "$tmp" "$file"
  rm -f "$tmp"
  say "wrote $file"
}

# Node's own builds trust only the certificate authorities compiled into them, Debian's and Ubuntu's
# the system store: let npm trust what the administrator configured (a TLS-inspecting proxy's CA, say).
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

# ---- what is there already ------------------------------------------------------------------------

NODE_VERSION=$("$RUNTIME_SH" --version)
RUNTIME="$DEST/node/$NODE_VERSION"

# The release: a hash of everything the build reads, and of the pinned Node.js it is built with.
stamp() {
  (cd "$SRC" && find package.json package-lock.json tsconfig.json bin agent/src agent/native/binding.gyp agent/native/src agent/packaging docs -type f -print0 |
    sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}
RELEASE=$(stamp)
RELEASE_DIR="$DEST/releases/$RELEASE"
installed() { [ -f "$RELEASE_DIR/.complete" ]; }

install_packages() {
  host || return 0
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ! installed && [ ! -f "$RUNTIME/.vpsfw-runtime" ] && [ -z "${VPSFW_NODE_TARBALLS:-}" ] && ! command -v npm >/dev/null; then
    say "no npm here to download the pinned Node.js with: installing the distribution's npm for that alone (vpsfw is never built or run with it)"
    missing+=(npm)
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# ufw and netfilter-persistent load, change or flush rules too: say how vpsfw stands beside them.
neighbours() {
  if [ -x "$ROOT/usr/sbin/ufw" ]; then
    local state=inactive
    grep -qs '^ENABLED=yes' "$ROOT/etc/ufw/ufw.conf" && state=active
    say "ufw is installed ($state). vpsfw runs beside it and never overrides it: vpsfw judges first (its"
    say "  jumps come first in raw PREROUTING and mangle INPUT) and only ever removes traffic; what it"
    say "  accepts goes on to ufw's rules in the filter table, so ufw's denies and limits still apply."
  fi
  if [ -x "$ROOT/usr/sbin/netfilter-persistent" ]; then
    say "netfilter-persistent is installed. At boot it restores its saved rules first, then"
    say "  vpsfw-rules.service (After=netfilter-persistent.service) puts vpsfw's chains and jumps in."
    say "  Stop vpsfw (systemctl stop vpsfw) before \`netfilter-persistent save\`: saved rules that hold"
    say "  vpsfw's chains name ipset sets that do not exist at boot, and the whole restore would fail."
  fi
}

# ---- the release: built from this checkout with the pinned Node.js, in a directory of its own -----

build_release() {
  if installed; then return 0; fi
  local version
  version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$SRC/package.json" | head -1)
  if [ "$DRY" = 1 ]; then
    [ -f "$RUNTIME/.vpsfw-runtime" ] || "$RUNTIME_SH" --describe | while read -r pkg ver sum; do
      say "would bring $pkg $ver into $PREFIX/node/$NODE_VERSION, checked against its $sum"
    done
    say "would build vpsfw $version (release $RELEASE) on Node.js $NODE_VERSION into $PREFIX/releases/$RELEASE:"
    say "  npm ci, the TypeScript build and the NFQUEUE addon, then production dependencies only"
    return 0
  fi
  if [ ! -f "$RUNTIME/.vpsfw-runtime" ]; then
    say "bringing Node.js $NODE_VERSION and its npm into $PREFIX/node/$NODE_VERSION (checked against agent/packaging/node.pin)"
    "$RUNTIME_SH" "$RUNTIME"
  fi
  say "building vpsfw $version (release $RELEASE) on Node.js $NODE_VERSION"
  local work="$DEST/releases/.build-$RELEASE-$$"
  rm -rf "$work"
  mkdir -p "$work/agent/native"
  trap 'rm -rf "$work"' EXIT
  (cd "$SRC" && cp -a package.json package-lock.json tsconfig.json bin docs "$work/" && cp -a agent/src agent/packaging "$work/agent/" &&
    cp -a agent/native/binding.gyp agent/native/src "$work/agent/native/")
  # The pinned Node.js and npm first on the PATH (node-gyp runs `node`), its headers for the addon;
  # the npm cache serves what it holds (an upgrade needs no network for an unchanged lock).
  (cd "$work" && export PATH="$RUNTIME/bin:$PATH" npm_config_nodedir="$RUNTIME" npm_config_update_notifier=false &&
    npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null &&
    npm run --silent build >/dev/null &&
    npm prune --omit=dev --no-audit --no-fund --loglevel=error >/dev/null) || die "the build failed (above); nothing was changed"
  # What runs: the compiled agent, its addon, the production dependencies; not the sources.
  find "$work/agent/native/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$work/agent/native/build/Release" -mindepth 1 -maxdepth 1 ! -name vpsfw_queue.node -exec rm -rf {} +
  rm -rf "$work/agent/src" "$work/agent/native/src" "$work/tsconfig.json"
  find "$work/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete # scopes whose packages were all dev
  ln -s "../../node/$NODE_VERSION" "$work/node"
  touch "$work/.complete"
  mv "$work" "$RELEASE_DIR"
  trap - EXIT
}

# ---- the files around it ----------------------------------------------------------------------------

install_files() {
  local cli=("$RELEASE_DIR/node/bin/node" "$RELEASE_DIR/bin/vpsfw.js")
  if [ ! -f "$ROOT$POLICY" ]; then
    if [ "$DRY" = 1 ]; then say "would write $ROOT$POLICY (the built-in default policy)"; else
      put "$ROOT$POLICY" 0644 "$("${cli[@]}" render --format policy | "${cli[0]}" "$SRC/agent/packaging/default-policy.mjs" "${ROOT:-/}")"
    fi
  elif [ "$DRY" = 1 ] && ! installed; then
    say "would check $ROOT$POLICY (kept as it is)"
  fi
  if [ "$DRY" = 0 ] || installed; then
    "${cli[@]}" check --policy "$ROOT$POLICY" >/dev/null || die "$ROOT$POLICY is not a valid policy (above): fix it, then run this again"
  fi
  put "$WRAPPER" 0755 "$(printf '#!/bin/sh\n# Installed by vpsfw install.sh.\nexec %s/current/node/bin/node %s/current/bin/vpsfw.js "$@"' "$PREFIX" "$PREFIX")"
  local unit file
  for unit in rules agent; do
    file="$UNIT_DIR/vpsfw-$unit.service"
    if [ "$unit" = agent ]; then file="$UNIT_DIR/vpsfw.service"; fi
    # unit.mjs runs on the pinned Node.js, so a dry run before it is here can only say so.
    if [ ! -x "$RUNTIME/bin/node" ]; then say "would write $file"; continue; fi
    put "$file" 0644 "$("$RUNTIME/bin/node" "$SRC/agent/packaging/unit.mjs" "$unit" --prefix "$PREFIX" --policy "$POLICY" --log-access "$ROOT$POLICY")"
    if [ "$WROTE" = 1 ]; then UNITS_CHANGED=1; fi
  done
}

# Points $PREFIX/current at the release in one rename: whatever starts vpsfw next starts the new one.
switch() {
  [ "$(readlink "$DEST/current" 2>/dev/null)" = "releases/$RELEASE" ] && return 0
  SWITCHED=1
  if [ "$DRY" = 1 ]; then say "would switch $PREFIX/current to releases/$RELEASE"; return 0; fi
  ln -sfn "releases/$RELEASE" "$DEST/current.new"
  mv -T "$DEST/current.new" "$DEST/current"
  say "switched $PREFIX/current to releases/$RELEASE"
}

# The first start, or an upgrade: the rules reloaded in place and the agent restarted once, never a
# stop (a stop of the agent would take the rules unit, and with it every rule and ban, down).
start_service() {
  if [ "$NO_START" = 1 ]; then
    if [ "$DRY" = 1 ]; then say "would leave it stopped (--no-start)"; else say "installed; not started (--no-start)"; fi
    return 0
  fi
  command -v systemctl >/dev/null || die "no systemctl: start it yourself (vpsfw run --policy $POLICY)"
  if [ "$UNITS_CHANGED" = 1 ]; then run systemctl daemon-reload; fi
  systemctl is-enabled --quiet vpsfw.service 2>/dev/null || run systemctl enable --quiet vpsfw.service
  if ! systemctl is-active --quiet vpsfw.service; then
    run systemctl start vpsfw.service
  elif [ "$SWITCHED" = 1 ] || [ "$UNITS_CHANGED" = 1 ]; then
    run systemctl reload vpsfw-rules.service
    run systemctl restart vpsfw.service
  fi
  if [ "$DRY" = 1 ]; then return 0; fi
  systemctl is-active --quiet vpsfw.service || die "vpsfw.service is not active: journalctl -u vpsfw -u vpsfw-rules"
  say "vpsfw is running: vpsfw status"
}

# Releases and Node.js builds the current release does not use. Not while an agent may still run
# from one (installed with --no-start beside a running service): it spawns from its own files.
prune() {
  [ "$DRY" = 1 ] && return 0
  if [ "$NO_START" = 1 ] && host && systemctl is-active --quiet vpsfw.service 2>/dev/null; then return 0; fi
  local d
  for d in "$DEST"/releases/* "$DEST"/node/*; do
    [ -e "$d" ] || continue
    [ "$d" = "$RELEASE_DIR" ] || [ "$d" = "$DEST/node/$NODE_VERSION" ] || { rm -rf "$d"; say "removed $PREFIX/${d#"$DEST"/}"; }
  done
}

uninstall() {
  if host && command -v systemctl >/dev/null; then
    # A real stop: the agent, then the rules unit, which removes every vpsfw chain, jump and set.
    run systemctl disable --quiet vpsfw.service 2>/dev/null || true
    run systemctl stop "${UNITS[@]}" 2>/dev/null || true
  fi
  # Rules left by an agent that was killed: remove them too (only in this root's own namespace).
  if host && [ -x "$WRAPPER" ]; then run "$WRAPPER" cleanup >/dev/null 2>&1 || true; fi
  run rm -rf "$UNIT_DIR/vpsfw-rules.service" "$UNIT_DIR/vpsfw.service" "$UNIT_DIR/vpsfw.service.d/crowdsec.conf" "$WRAPPER" "$DEST"
  if host && command -v systemctl >/dev/null; then run systemctl daemon-reload; fi
  if [ "$PURGE" = 1 ]; then
    run rm -rf "$ROOT/etc/vpsfw" "$ROOT/var/lib/vpsfw" "$ROOT/var/lib/private/vpsfw"
  else
    [ -f "$ROOT$POLICY" ] && say "kept $ROOT$POLICY (--purge removes it)"
  fi
  if [ "$DRY" = 1 ]; then say "dry run: nothing was changed"; else say "uninstalled"; fi
}

# --- CrowdSec (docs/fleet.md). One function, kept apart from the rest; called once, below. ---
# With a CrowdSec LAPI on this host (cscli present): register the agent as a bouncer and a machine
# named vpsfw-<hostname>, keep both secrets in /etc/vpsfw/crowdsec/ (root only), hand them to the
# unit as systemd credentials with the LAPI's address allowed (a drop-in), and add a crowdsec
# section to the policy if it has none. Registered already (the files exist): nothing changes.
# Without cscli: say where the page on joining a fleet is.
register_crowdsec() {
  host || return 0
  command -v cscli >/dev/null || { say "no local CrowdSec (cscli): to share bans with a fleet, see $PREFIX/docs/fleet.md"; return 0; }
  local dir=/etc/vpsfw/crowdsec name listen lapi key pw creds=/run/credentials/vpsfw.service
  name="vpsfw-$(hostname -s)"
  listen=$(cscli config show --key Config.API.Server.ListenURI 2>/dev/null || echo 127.0.0.1:8080)
  lapi=${listen%:*}
  case "$lapi" in 0.0.0.0|'') lapi=127.0.0.1 ;; '[::]'|'::') lapi='::1' ;; esac
  lapi=${lapi#[}; lapi=${lapi%]}
  if [ ! -s "$dir/bouncer.key" ] || [ ! -s "$dir/machine.password" ]; then
    [ "$DRY" = 1 ] && { say "would register $name with the local CrowdSec LAPI (cscli bouncers add, cscli machines add)"; return 0; }
    key=$(cscli bouncers add "$name" -o raw) || die "cscli bouncers add $name failed: if it is registered already, cscli bouncers delete $name and run this again"
    pw=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    cscli machines add "$name" --password "$pw" >/dev/null || die "cscli machines add $name failed: if it is registered already, cscli machines delete $name and run this again"
    install -d -m 0700 "$dir"
    (umask 077 && printf '%s\n' "$key" > "$dir/bouncer.key" && printf '%s\n' "$pw" > "$dir/machine.password")
    say "registered $name with the local CrowdSec LAPI ($listen)"
  fi
  # The agent's unit allows its HTTP listener's clients; systemd adds this list to that one.
  put "$UNIT_DIR/vpsfw.service.d/crowdsec.conf" 0644 "$(printf '# Installed by vpsfw install.sh (docs/fleet.md): the CrowdSec secrets, and the LAPI'"'"'s address.\n[Service]\nLoadCredential=crowdsec-bouncer-key:%s/bouncer.key\nLoadCredential=crowdsec-machine-password:%s/machine.password\nIPAddressAllow=%s' "$dir" "$dir" "$lapi")"
  if [ "$WROTE" = 1 ]; then UNITS_CHANGED=1; fi
  [ "$DRY" = 1 ] && return 0
  local node="$RELEASE_DIR/node/bin/node"
  if ! "$node" -e 'process.exit("crowdsec" in JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")) ? 0 : 1)' "$POLICY"; then
    local url="http://$listen/"
    case "$lapi" in *:*) url="http://[$lapi]:${listen##*:}/" ;; esac
    put "$POLICY" 0644 "$("$node" -e 'const [f, url, creds, login] = process.argv.slice(1); const p = JSON.parse(require("fs").readFileSync(f, "utf8"));
      p.crowdsec = { url, bouncerKeyFile: `${creds}/crowdsec-bouncer-key`, machine: { login, passwordFile: `${creds}/crowdsec-machine-password` } };
      process.stdout.write(JSON.stringify(p, null, 2));' "$POLICY" "$url" "$creds" "$name")"
    "$node" "$RELEASE_DIR/bin/vpsfw.js" check --policy "$POLICY" >/dev/null || die "$POLICY with its new crowdsec section is not valid (see above)"
    # The agent reads its policy and its credentials when it starts: start_service restarts it.
    UNITS_CHANGED=1
    say "added a crowdsec section to $POLICY: bans shared with the LAPI at $url"
  fi
}

if [ "$MODE" = uninstall ]; then uninstall; exit 0; fi
install_packages
neighbours
build_release
install_files
switch
register_crowdsec
start_service
prune
if [ "$DRY" = 1 ]; then say "dry run: nothing was changed"; fi
