"""A simulated month from Python: simulate, analyse, screen, then map one tanker's track and
plot the Russian oil received by country.

    python python/examples/month.py [--bin target/release/shadowfleet] [--out /tmp/sf-month] [--days 30]

Draws PNGs with matplotlib when it is installed (``pip install matplotlib``); writes the
track as GeoJSON and the exposure as CSV in any case.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess

import pyarrow.compute as pc
import pyarrow.csv as pcsv

import shadowfleet as sf


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join("target", "release", "shadowfleet"), help="the shadowfleet binary (for simulate and screen)")
    ap.add_argument("--out", default="/tmp/sf-month")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()

    world = os.path.join(a.out, "world")
    if not os.path.exists(os.path.join(world, "ais.nmea")):
        subprocess.run([a.bin, "simulate", "--scenario", "baltic", "--days", str(a.days), "--seed", str(a.seed), "--out", world, "-q"], check=True)
    store = os.path.join(a.out, "store")
    report = sf.analyze(os.path.join(world, "ais.nmea"), store)
    print(f"{report['messages']:,} messages, {sum(report['events'].values())} events")
    lists = [os.path.join(world, f) for f in ("sanctions_eu.csv", "watchlist.csv", "particulars.csv")]
    subprocess.run([a.bin, "screen", "--store", store, "--lists", *lists], check=True, capture_output=True)

    s = sf.Store(store)
    risks = s.risks().to_pylist()
    top = risks[0]
    mmsi = top["mmsis"][0]
    print(f"highest risk: {top['names']} MMSI {mmsi}, score {top['score']}")
    track = s.positions(mmsi=mmsi).sort_by("time")
    events = s.events(mmsi=mmsi)
    print(f"  {track.num_rows} positions, events: {dict(zip(*[x.to_pylist() for x in pc.value_counts(events['kind']).flatten()]))}")

    line = [[lon, lat] for lon, lat in zip(track["lon"].to_pylist(), track["lat"].to_pylist())]
    with open(os.path.join(a.out, f"track-{mmsi}.geojson"), "w") as f:
        json.dump({"type": "Feature", "properties": {"mmsi": mmsi}, "geometry": {"type": "LineString", "coordinates": line}}, f)
    exposure = s.exposure()
    pcsv.write_csv(exposure.select(["country", "month", "volume_bbl", "low_bbl", "high_bbl"]), os.path.join(a.out, "exposure.csv"))

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib not installed: wrote {a.out}/track-{mmsi}.geojson and {a.out}/exposure.csv")
        return
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.plot([p[0] for p in line], [p[1] for p in line], lw=0.8)
    for r in events.to_pylist():
        if r["lat"] is not None:
            ax.scatter(r["lon"], r["lat"], s=12, label=r["kind"])
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(dict(zip(labels, handles)).values(), dict(zip(labels, handles)).keys(), fontsize=7)
    ax.set_title(f"MMSI {mmsi} ({', '.join(top['names'])}), risk {top['score']}")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    fig.savefig(os.path.join(a.out, "track.png"), dpi=120)
    by_country = {}
    for r in exposure.to_pylist():
        by_country[r["country"]] = by_country.get(r["country"], 0) + r["volume_bbl"]
    fig, ax = plt.subplots(figsize=(7, 4))
    names = sorted(by_country, key=by_country.get, reverse=True)
    ax.bar(names, [by_country[c] / 1e6 for c in names])
    ax.set_ylabel("Russian oil received, million bbl")
    fig.savefig(os.path.join(a.out, "exposure.png"), dpi=120)
    print(f"wrote {a.out}/track.png and {a.out}/exposure.png")


if __name__ == "__main__":
    main()
