#!/bin/sh
# Load test of `shadowfleet serve` on loopback with wrk (Debian's package, installed here when
# missing): the vessel profile, the vessel search (FTS5), a vessel's track (GeoParquet, at a
# zoom and in full) and events in a bounding box (R*Tree), on a month of the `baltic`
# scenario (the demo's store). Prints wrk's latency distribution and requests/s.
# Usage: sh benches/load/run.sh [DURATION]   (default 20s; run from the repository root)
set -eu
duration=${1:-20s}
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi
cargo build --release --quiet
bin=target/release/shadowfleet
dir=target/load-demo
# A store made before positions were stored is made again.
[ -d "$dir/store/positions" ] || "$bin" demo --no-serve --dir "$dir" >/dev/null
"$bin" serve --store "$dir/store" --listen 127.0.0.1:8787 2>"$dir/serve.log" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 100); do
    curl -sf http://127.0.0.1:8787/api/vessels?limit=1 >/dev/null 2>&1 && break
    sleep 0.2
done
id=$(curl -sf 'http://127.0.0.1:8787/api/vessels?limit=1' | sed 's/.*"id":"\([^"]*\)".*/\1/')
echo "vessel profile /api/vessels/$id"
wrk -t2 -c16 -d"$duration" --latency "http://127.0.0.1:8787/api/vessels/$id"
echo "vessel search /api/vessels?q=gaz&limit=20"
wrk -t2 -c16 -d"$duration" --latency "http://127.0.0.1:8787/api/vessels?q=gaz&limit=20"
echo "track at zoom 8 /api/vessels/$id/track?zoom=8"
wrk -t2 -c16 -d"$duration" --latency "http://127.0.0.1:8787/api/vessels/$id/track?zoom=8"
echo "full track /api/vessels/$id/track"
wrk -t2 -c16 -d"$duration" --latency "http://127.0.0.1:8787/api/vessels/$id/track"
echo "events in a box /api/events?bbox=27,59,30,61&limit=100"
wrk -t2 -c16 -d"$duration" --latency "http://127.0.0.1:8787/api/events?bbox=27,59,30,61&limit=100"
