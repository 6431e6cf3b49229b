#!/bin/sh
# Re-vendors MapLibre GL JS from the npm registry (users never need Node: the files are
# committed and compiled into the binary). Usage: sh crates/api/web/vendor.sh
set -eu
version=5.24.1
sha256=b84d7fdf7fba5922fd3fff9a92733936c7a03b99165afc6c84f41c311bdbfa9d
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "maplibre-gl@$version" --silent >/dev/null)
echo "$sha256  $tmp/maplibre-gl-$version.tgz" | sha256sum -c -
tar xzf "$tmp/maplibre-gl-$version.tgz" -C "$tmp"
cp "$tmp/package/dist/maplibre-gl.js" "$tmp/package/dist/maplibre-gl.css" "$here/vendor/"
cp "$tmp/package/LICENSE.txt" "$here/vendor/MAPLIBRE-LICENSE.txt"
