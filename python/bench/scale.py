"""The Spark job against native `shadowfleet analyze` on one simulated world, measured in
the same run: messages/s, messages/s per core, and the peak memory of each process kind.

    python python/bench/scale.py --bin target/release/shadowfleet --scenario global \\
        --days 3 --fleet-scale 3 --modes native,local1,local2,cluster

`cluster` starts a standalone cluster on loopback (python/spark-cluster.sh: a master and
two workers, one core each) and stops it after. Peak memory is sampled every 0.2 s from
/proc: the native process; Spark's JVMs (the driver, which is the executor in local mode,
and the cluster's executors) and its Python workers, each the largest one seen.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def rss_by_kind(stop: threading.Event, peaks: dict) -> None:
    """Samples every process's RSS, keeping the largest per kind."""
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                rss = 0
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) * 1024
            except OSError:
                continue
            if "shadowfleet analyze" in cmd or cmd.startswith(str(REPO / "target")) and " analyze " in cmd:
                kind = "native"
            elif "CoarseGrainedExecutorBackend" in cmd:
                kind = "executor_jvm"
            elif "java" in cmd and "SparkSubmit" in cmd:
                kind = "driver_jvm"
            elif "pyspark.daemon" in cmd or "pyspark/daemon" in cmd or "pyspark.worker" in cmd:
                kind = "python_worker"
            else:
                continue
            peaks[kind] = max(peaks.get(kind, 0), rss)
        stop.wait(0.2)


def measured(cmd: list, env=None) -> tuple:
    peaks: dict = {}
    stop = threading.Event()
    t = threading.Thread(target=rss_by_kind, args=(stop, peaks))
    t.start()
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.time() - t0
    stop.set()
    t.join()
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return wall, peaks, r.stdout + r.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / "target" / "release" / "shadowfleet"))
    ap.add_argument("--scenario", default="global")
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--fleet-scale", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--work", default=str(REPO / "target" / "bench-scale"))
    ap.add_argument("--modes", default="native,local1,local2,cluster")
    a = ap.parse_args()
    work = Path(a.work)
    world = work / f"{a.scenario}-{a.days}d-x{a.fleet_scale}-s{a.seed}"
    if not (world / "ais.nmea").exists():
        subprocess.run([a.bin, "simulate", "--scenario", a.scenario, "--days", str(a.days), "--fleet-scale", str(a.fleet_scale), "--seed", str(a.seed), "--out", str(world), "-q"], check=True)
    nmea = world / "ais.nmea"
    rows = []
    messages = None
    for mode in a.modes.split(","):
        store = work / f"store-{mode}"
        shutil.rmtree(store, ignore_errors=True)
        if mode == "native":
            wall, peaks, out = measured([a.bin, "analyze", "--store", str(store), str(nmea)])
            cores = os.cpu_count() or 1
        else:
            master, cores = {"local1": ("local[1]", 1), "local2": ("local[2]", 2), "cluster": (None, 2)}[mode]
            if mode == "cluster":
                master = subprocess.run(["sh", str(REPO / "python" / "spark-cluster.sh"), "start", sys.prefix, "2"], check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            try:
                wall, peaks, out = measured([sys.executable, "-m", "shadowfleet.spark", "--master", master, "--store", str(store), "--split-mb", "64", str(nmea)])
            finally:
                if mode == "cluster":
                    subprocess.run(["sh", str(REPO / "python" / "spark-cluster.sh"), "stop"], check=False)
            report = json.loads(out[out.index("{"): out.rindex("}") + 1])
            messages = messages or report["messages"]
        if mode == "native":
            import re

            messages = int(re.search(r"(\d+) messages", out).group(1))
        rows.append((mode, wall, cores, peaks))
    # Messages as analyze counts them (the Spark report counts the same).
    n = messages
    native = next((r for r in rows if r[0] == "native"), None)
    print(f"world: {world.name}, {nmea.stat().st_size / 1e6:.0f} MB, {n:,} messages")
    print("| mode | seconds | M msg/s | cores | M msg/s per core | per core vs native | peak RSS (largest process of each kind) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for mode, wall, cores, peaks in rows:
        rate = n / wall / 1e6
        per_core = rate / cores
        vs = f"{per_core / (n / native[1] / 1e6 / native[2]):.2f}x" if native else "-"
        mem = ", ".join(f"{k} {v / 2**20:.0f} MB" for k, v in sorted(peaks.items()))
        print(f"| {mode} | {wall:.1f} | {rate:.3f} | {cores} | {per_core:.3f} | {vs} | {mem} |")


if __name__ == "__main__":
    main()
