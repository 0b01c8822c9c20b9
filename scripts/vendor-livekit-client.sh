#!/usr/bin/env bash
# Vendors livekit-client (the call page's LiveKit transport) into web/assets/vendor, where the
# binary embeds it: the pages load nothing from a CDN. The version is the one web/package.json
# pins; npm fetches the package from the registry and checks it against the registry's
# integrity hash. The minified UMD build and the package's licence are copied byte for byte,
# and SHA256SUMS records them with the version (web/vendor_test.go checks all three agree).
#
# To move to another version: change web/package.json, run this script, commit what changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/.*"livekit-client": *"\([^"]*\)".*/\1/p' "$root/web/package.json")
if [ -z "$version" ]; then
  echo "web/package.json pins no livekit-client version" >&2
  exit 1
fi
dest="$root/web/assets/vendor/livekit-client"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "livekit-client@$version" >/dev/null)
tar -xzf "$tmp/livekit-client-$version.tgz" -C "$tmp"
got=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$tmp/package/package.json")
if [ "$got" != "$version" ]; then
  echo "npm gave livekit-client $got, not $version" >&2
  exit 1
fi
mkdir -p "$dest"
cp "$tmp/package/dist/livekit-client.umd.js" "$dest/livekit-client.umd.js"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
{
  echo "# livekit-client $version (npm), Apache-2.0: written by scripts/vendor-livekit-client.sh"
  (cd "$dest" && sha256sum livekit-client.umd.js LICENSE)
} >"$dest/SHA256SUMS"
echo "Vendored livekit-client $version into web/assets/vendor/livekit-client ($(wc -c <"$dest/livekit-client.umd.js") bytes)"
