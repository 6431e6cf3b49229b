"""shadowfleet on Apache Spark: the same Rust stages as ``shadowfleet analyze``, spread over a
cluster, writing a store that ``shadowfleet serve``, ``events`` and ``exposure`` read.

    python -m shadowfleet.spark --master local[2] --store DIR INPUT...
    spark-submit --archives venv.tar.gz#venv -m shadowfleet.spark --store DIR INPUT...

Stages (docs/scale.md), split by each detector's ``Detector::partition()``:

1. **decode** — each input is cut into byte ranges that start a message (never inside a
   multipart message or between a ``$PGHP`` header and its sentence); each range is decoded
   by a task into a Parquet file of decoded messages.
2. **global** — the ``Global`` detectors (interference; gaps, whose reception model every
   vessel feeds) and the identity stage (identity changes link MMSIs by IMO number) over
   every message in arrival order (one task).
3. **cells** — the ``Cell`` detectors (encounters) per space cell, with a margin replicated to
   the neighbours; each cell keeps the meetings it owns.
4. **vessel** — messages partitioned by MMSI and sorted within partitions by arrival (input,
   byte offset); each task streams its vessels one after the other through the ``Vessel``
   detectors, with stages 2-3's encounters and interference areas as side input, so a
   vessel's year never has to fit in memory.
5. **store** — the driver writes the events, identity periods and track points into the
   store as one run (one transaction); flows, risk and exposure are computed from the store
   as for any other run.

Stage outputs are Parquet files under ``--work`` named by stage and partition, so a retried
task rewrites the same files. ``--work`` must be visible to the driver and every executor (a
local directory with ``local[N]``, a shared file system on a cluster).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import time
from typing import Iterator, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import shadowfleet as sf
from shadowfleet import _native

#: Each detector's (configuration section, event kind, partition), from its
#: ``Detector::partition()``: the per-vessel stage runs the ``vessel`` ones, the cell stage
#: the ``cell`` ones (encounters), the global stage the ``global`` ones (interference; gaps,
#: whose reception model every vessel feeds).
_PARTITIONS = _native.detector_partitions()
PER_VESSEL = tuple(s for s, _, p in _PARTITIONS if p == "vessel")
CELL = tuple(s for s, _, p in _PARTITIONS if p == "cell")
GLOBAL = tuple(s for s, _, p in _PARTITIONS if p == "global")
CROSS_VESSEL = CELL + GLOBAL
#: Event kinds stage 3 owns. Identity changes are cross-vessel too (an IMO number moving
#: from one MMSI to another, two IMO numbers on one MMSI): stage 3 runs the identity stage
#: over every vessel's static reports and emits them, but for the shared MMSIs seen from
#: positions alone (one MMSI in two places at once), which the spoofing detector finds in
#: stage 2.
CELL_KINDS = tuple(k for _, k, p in _PARTITIONS if p == "cell")
GLOBAL_KINDS = tuple(k for _, k, p in _PARTITIONS if p == "global") + ("identity_change",)

#: Cells of the encounter stage, degrees; a position within ``CELL_MARGIN_DEG`` of a cell's
#: edge goes to the neighbour too, so that a meeting near an edge is seen whole by the cell
#: that owns it (the one its position lies in). Meetings are slow (under 2 kn), so one that
#: drifts farther than the margin is beyond what the simulator or real STS areas show.
CELL_DEG = 5.0
CELL_MARGIN_DEG = 0.5
#: Cells per degree row, for one integer key per cell.
_ROW = 1000


def _from_positions(events: pa.Table) -> pa.Table:
    """Of stage 2's events, all but the identity changes stage 3 emits: those kept are the
    shared MMSIs seen from positions alone."""
    if events.num_rows == 0:
        return events
    keep = []
    for kind, details in zip(events["kind"].to_pylist(), events["details"].to_pylist()):
        if kind != "identity_change":
            keep.append(True)
            continue
        d = json.loads(details)
        keep.append(d.get("change") == "shared_mmsi" and d.get("from") is None)
    return events.filter(pa.array(keep))

_SPARK_TYPES = {
    pa.uint8(): pa.int16(),
    pa.uint16(): pa.int32(),
    pa.uint32(): pa.int64(),
    pa.uint64(): pa.int64(),
}


def spark_schema(schema: pa.Schema) -> pa.Schema:
    """The schema as Spark can hold it: unsigned integers widened to signed ones, times in
    microseconds."""
    fields = []
    for f in schema:
        t = _SPARK_TYPES.get(f.type, f.type)
        if pa.types.is_timestamp(t):
            t = pa.timestamp("us", tz="UTC")
        fields.append(pa.field(f.name, t, nullable=True))
    return pa.schema(fields)


def spark_ddl(schema: pa.Schema) -> str:
    """A Spark DDL string for an Arrow schema of :func:`spark_schema`'s types."""
    names = {
        pa.int16(): "smallint",
        pa.int32(): "int",
        pa.int64(): "bigint",
        pa.float32(): "float",
        pa.float64(): "double",
        pa.bool_(): "boolean",
        pa.string(): "string",
    }
    cols = []
    for f in spark_schema(schema):
        t = "timestamp" if pa.types.is_timestamp(f.type) else names[f.type]
        cols.append(f"`{f.name}` {t}")
    return ", ".join(cols)


def _to_spark(batch: pa.RecordBatch) -> pa.RecordBatch:
    return batch.cast(spark_schema(batch.schema))


def _from_spark(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch in ``schema``'s types, with those of its columns that are there."""
    fields = [f for f in schema if f.name in batch.schema.names]
    return pa.RecordBatch.from_arrays([batch.column(f.name).cast(f.type) for f in fields], schema=pa.schema(fields))


#: Decoded columns no detector reads, left out before the shuffles (they stay in the decoded
#: Parquet of stage 1).
UNREAD = ("repeat", "channel", "line", "flags", "heading", "turn", "accuracy", "eta")


# --- stage 1 -------------------------------------------------------------------------------


def _decode_ranges(work: str, accept_bad_checksum: bool, config: Optional[str]):
    """Decodes each byte range into a Parquet file of its own under ``work/decoded`` (written
    by pyarrow, not through Spark's rows: the decoded batches never enter the JVM) and yields
    the decoder's counts."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            for r in b.to_pylist():
                out, stats = _native.decode_range(
                    r["path"], r["start"], r["end"], r["line"], r["input"], accept_bad_checksum, config
                )
                name = os.path.join(work, "decoded", f"part-{r['input']:05d}-{r['start']:015d}.parquet")
                tmp = name + f".tmp-{os.getpid()}"
                with pq.ParquetWriter(tmp, spark_schema(sf.decoded_schema())) as w:
                    for x in out:
                        w.write_batch(_to_spark(x))
                os.replace(tmp, name)
                s = json.loads(stats)
                s.update(input=r["input"], start=r["start"])
                yield pa.RecordBatch.from_pydict({"stats": pa.array([json.dumps(s)], pa.string())})

    return run


# --- stage 2 -------------------------------------------------------------------------------

#: Segment ids of a per-vessel run count from 0; made unique across vessels by the MMSI.
SEGMENT_SHIFT = 24


class _Outputs:
    """Parquet writers of one task's events, identities and points, each file written under
    a temporary name and renamed when complete (a retried task replaces it)."""

    def __init__(self, work: str, stage: str, part: int):
        from pyspark import TaskContext

        ctx = TaskContext.get()
        # Two attempts of one task (a retry, a speculative copy) never share a file.
        self.tmp = f".tmp-{ctx.taskAttemptId() if ctx else os.getpid()}"
        self.paths = {}
        self.writers = {}
        self.buffered = {}
        for kind in ("events", "identities", "points"):
            d = os.path.join(work, stage, kind)
            os.makedirs(d, exist_ok=True)
            self.paths[kind] = os.path.join(d, f"part-{part:05d}.parquet")

    def write(self, kind: str, table: pa.Table):
        """Buffers ``table``; writes a row group once 64 Ki rows of a kind are buffered (a
        vessel's few rows each would make a row group apiece)."""
        if table.num_rows == 0:
            return
        buf = self.buffered.setdefault(kind, [])
        buf.append(table)
        if sum(t.num_rows for t in buf) >= 65536:
            self._flush(kind)

    def _flush(self, kind: str):
        buf = self.buffered.pop(kind, [])
        if not buf:
            return
        table = pa.concat_tables(buf)
        w = self.writers.get(kind)
        if w is None:
            w = pq.ParquetWriter(self.paths[kind] + self.tmp, table.schema)
            self.writers[kind] = w
        w.write_table(table)

    def close(self):
        for kind in list(self.buffered):
            self._flush(kind)
        for kind, w in self.writers.items():
            w.close()
            os.replace(self.paths[kind] + self.tmp, self.paths[kind])


def _runs(batches: Iterator[pa.RecordBatch], key: str) -> Iterator[tuple]:
    """(value, rows) for each run of rows with one value of ``key``, batch by batch (a run
    may continue in the next batch: the caller sees the same value again)."""
    for b in batches:
        k = b.column(key)
        change = pc.not_equal(k.slice(1), k.slice(0, len(k) - 1)) if len(k) > 1 else pa.array([], pa.bool_())
        cuts = [0] + [i + 1 for i in pc.indices_nonzero(change).to_pylist()] + [b.num_rows]
        for s, e in zip(cuts, cuts[1:]):
            if s < e:
                yield k[s].as_py(), b.slice(s, e - s)


def _segments_by_vessel(points: pa.Table) -> pa.Table:
    if points.num_rows == 0:
        return points
    seg = pc.add(pc.shift_left(pc.cast(points["mmsi"], pa.int64()), SEGMENT_SHIFT), points["segment"])
    return points.set_column(points.schema.get_field_index("segment"), "segment", seg)


def _side_input(work: str) -> tuple:
    """Stage 3's encounters by MMSI (either side) and its interference events, which the
    per-vessel detectors consult (loitering's partner check, the jammed checks)."""
    files = [f for stage in ("cross", "cell") for f in glob.glob(os.path.join(work, stage, "events", "*.parquet"))]
    events = [b for b in _read(files, _empty().events.schema)]
    if not events:
        return {}, None
    t = pa.Table.from_batches(events)
    interference = t.filter(pc.equal(t["kind"], "interference"))
    enc = t.filter(pc.equal(t["kind"], "encounter"))
    by_mmsi = {}
    for i, (a, b) in enumerate(zip(enc["mmsi"].to_pylist(), enc["other_mmsi"].to_pylist())):
        for m in {a, b} - {None}:
            by_mmsi.setdefault(m, []).append(i)
    return {m: enc.take(ix) for m, ix in by_mmsi.items()}, interference


def _per_vessel(work: str, config: Optional[str]):
    schema = sf.decoded_schema()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        part = TaskContext.get().partitionId()
        encounters, interference = _side_input(work)
        out = _Outputs(work, "vessel", part)
        stats = []
        current, pipeline = None, None

        def emit(o):
            out.write("events", _from_positions(o.events))
            out.write("identities", o.identities)
            out.write("points", _segments_by_vessel(o.points))

        def finish():
            emit(pipeline.finish())
            stats.append(pipeline.stats())

        # Runs of one MMSI (the partition is sorted by MMSI, then arrival).
        for m, rows in _runs((_from_spark(b, schema) for b in batches), "mmsi"):
            if m != current:
                if pipeline is not None:
                    finish()
                current, pipeline = m, sf.Pipeline(config, PER_VESSEL)
                known = [t for t in (encounters.get(m), interference) if t is not None and t.num_rows]
                if known:
                    pipeline.know(pa.concat_tables(known))
            emit(pipeline.push(rows))
        if pipeline is not None:
            finish()
        out.close()
        yield pa.RecordBatch.from_pydict({"part": pa.array([part], pa.int32()), "stats": pa.array([json.dumps(stats)], pa.string())})

    return run


# --- stage 3 -------------------------------------------------------------------------------


def _cell_of(lat: float, lon: float) -> int:
    import math

    return int(math.floor((lat + 90.0) / CELL_DEG)) * _ROW + int(math.floor((lon + 180.0) / CELL_DEG))


def _cells(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Each position with the cells it goes to (its own, and a neighbour's when within the
    margin of the edge): the column ``cell``, one row per cell. Rows without a position
    (static reports) get ``cell`` null; they are joined to their vessel's cells after."""

    def index(x, shift: float):
        return pc.cast(pc.floor(pc.divide(pc.add(x, shift), CELL_DEG)), pa.int64())

    for b in batches:
        has = pc.is_valid(b.column("lat"))
        statics = b.filter(pc.invert(has))
        if statics.num_rows:
            yield pa.RecordBatch.from_arrays(list(statics.columns) + [pa.nulls(statics.num_rows, pa.int64())], names=b.schema.names + ["cell"])
        pos = b.filter(has)
        if pos.num_rows == 0:
            continue
        lat, lon = pos.column("lat"), pos.column("lon")
        r0, r1 = index(lat, 90.0 - CELL_MARGIN_DEG), index(lat, 90.0 + CELL_MARGIN_DEG)
        c0, c1 = index(lon, 180.0 - CELL_MARGIN_DEG), index(lon, 180.0 + CELL_MARGIN_DEG)
        two_rows, two_cols = pc.not_equal(r0, r1), pc.not_equal(c0, c1)
        key = lambda r, c: pc.add(pc.multiply(r, _ROW), c)
        for mask, cell in (
            (None, key(r0, c0)),
            (two_rows, key(r1, c0)),
            (two_cols, key(r0, c1)),
            (pc.and_(two_rows, two_cols), key(r1, c1)),
        ):
            rows, cells = (pos, cell) if mask is None else (pos.filter(mask), cell.filter(mask))
            if rows.num_rows:
                yield pa.RecordBatch.from_arrays(list(rows.columns) + [cells], names=b.schema.names + ["cell"])


def _per_cell(work: str, config: Optional[str]):
    schema = sf.decoded_schema()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        part = TaskContext.get().partitionId()
        out = _Outputs(work, "cell", part)
        current, pipeline, n, cells = None, None, 0, 0

        def finish():
            keep(pipeline.finish())

        def keep(o):
            # Encounters whose position lies in this cell (not in a neighbour's margin).
            e = o.events.filter(pc.is_in(o.events["kind"], pa.array(CELL_KINDS)))
            if e.num_rows:
                own = [_cell_of(la, lo) == current for la, lo in zip(e["lat"].to_pylist(), e["lon"].to_pylist())]
                out.write("events", e.filter(pa.array(own)))

        for c, rows in _runs(batches, "cell"):
            if c != current:
                if pipeline is not None:
                    finish()
                current, pipeline = c, sf.Pipeline(config, CELL)
                cells += 1
            keep(pipeline.push(_from_spark(rows, schema)))
            n += rows.num_rows
        if pipeline is not None:
            finish()
        out.close()
        yield pa.RecordBatch.from_pydict({"part": pa.array([part], pa.int32()), "stats": pa.array([json.dumps([{"messages": n, "cells": cells}])], pa.string())})

    return run


def _cross_vessel(work: str, config: Optional[str]):
    schema = sf.decoded_schema()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        part = TaskContext.get().partitionId()
        out = _Outputs(work, "cross", part)
        p = sf.Pipeline(config, GLOBAL)
        keep = pa.array(GLOBAL_KINDS)
        n = 0
        for b in batches:
            o = p.push(_from_spark(b, schema))
            out.write("events", o.events.filter(pc.is_in(o.events["kind"], keep)))
            n += b.num_rows
        o = p.finish()
        out.write("events", o.events.filter(pc.is_in(o.events["kind"], keep)))
        out.close()
        yield pa.RecordBatch.from_pydict({"part": pa.array([part], pa.int32()), "stats": pa.array([json.dumps([{"messages": n}])], pa.string())})

    return run


# --- the job -------------------------------------------------------------------------------


def _dropped(decode_stats: Sequence[dict], vessel_stats: Sequence[dict]) -> dict:
    """What the run left out, by reason (the fields of a run report's ``dropped``)."""
    d = {
        "not_ais_lines": 0,
        "rejected_sentences": {},
        "csv_rows": 0,
        "duplicates": 0,
        "untimed_positions": 0,
        "untimed_statics": 0,
        "not_vessels": 0,
        "invalid": 0,
        "late": 0,
        "clock_errors": 0,
        "stale_relays": 0,
    }
    for s in decode_stats:
        for code, n in s["rejected"].items():
            if code == "not_ais":
                d["not_ais_lines"] += n
            else:
                d["rejected_sentences"][code] = d["rejected_sentences"].get(code, 0) + n
        d["csv_rows"] += s.get("csv_rejected", 0)
        d["not_ais_lines"] -= s.get("csv_rejected", 0)
        d["duplicates"] += s["repeats"]
    for s in vessel_stats:
        for k in ("untimed_positions", "untimed_statics", "not_vessels"):
            d[k] += s[k]
        t = s["tracks"]
        d["duplicates"] += t["duplicates"]
        for k in ("invalid", "late", "clock_errors", "stale_relays"):
            d[k] += t[k]
    return d


def _shared_quiet_s(config_toml: str) -> int:
    try:
        import tomllib
    except ImportError:  # Python < 3.11: the default
        return 7 * 24 * 3600
    return int(tomllib.loads(config_toml).get("identity", {}).get("shared_quiet_hours", 168.0) * 3600)


def _one_sharing_one_event(events: pa.Table, quiet_s: int) -> pa.Table:
    """Shared-MMSI findings of one MMSI that follow each other within ``quiet_s`` are one
    sharing, one event, whichever stage found them — stage 3 from two IMO numbers, stage 2
    from positions in two places (the identity stage's rule, applied to the union)."""
    if events.num_rows == 0:
        return events
    rows = events.select(["kind", "mmsi", "start", "details"]).to_pylist()
    shared = sorted(
        (int(r["start"].timestamp()), i, r["mmsi"])
        for i, r in enumerate(rows)
        if r["kind"] == "identity_change" and json.loads(r["details"]).get("change") == "shared_mmsi"
    )
    last, drop = {}, set()
    for t, i, m in shared:
        if m in last and t - last[m] < quiet_s:
            drop.add(i)
            last[m] = max(last[m], t)
        else:
            last[m] = t
    return events.filter(pa.array([i not in drop for i in range(len(rows))]))


def _empty() -> "sf.Output":
    return sf.Pipeline._empty()


def _read(paths: Sequence[str], schema: Optional[pa.Schema] = None) -> Iterator[pa.RecordBatch]:
    """The batches of Parquet files, cast to ``schema`` (Parquet keeps times in ms at least)."""
    for p in sorted(paths):
        for b in pq.ParquetFile(p).iter_batches(batch_size=65536):
            yield b if schema is None else _from_spark(b, schema)


def run(
    spark,
    inputs: Sequence[str],
    store: str,
    work: Optional[str] = None,
    config: Optional[str] = None,
    split_bytes: int = 128 << 20,
    vessel_partitions: Optional[int] = None,
    accept_bad_checksum: bool = False,
    n_cells: Optional[int] = None,
) -> dict:
    """Runs the four stages on ``spark`` over ``inputs`` into the store ``store``. ``config``
    is a detector configuration (TOML file or text). Returns the run's report (run id,
    messages, positions, events per kind, what was left out by reason, seconds per stage)."""
    if config is not None and os.path.exists(config):
        with open(config, encoding="utf-8") as f:
            config = f.read()
    config_toml = _native.detector_config_toml(config)
    work = work or os.path.join(store, "spark-work")
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    inputs = [os.path.abspath(p) for p in inputs]
    timing = {}

    # Stage 1: decode byte ranges in parallel.
    t0 = time.time()
    ranges = []
    for i, path in enumerate(inputs):
        for start, end, line in _native.split_file(path, split_bytes):
            ranges.append({"input": i, "path": path, "start": start, "end": end, "line": line})
    splits = spark.createDataFrame(ranges, "input int, path string, start bigint, end bigint, line bigint")
    splits = splits.repartition(max(1, len(ranges)))
    decoded_dir = os.path.join(work, "decoded")
    os.makedirs(decoded_dir)
    decode_stats = [
        json.loads(r["stats"])
        for r in splits.mapInArrow(_decode_ranges(work, accept_bad_checksum, config), "stats string").collect()
    ]
    per_input = {}
    for s in decode_stats:
        per_input[s["input"]] = per_input.get(s["input"], 0) + s["messages"] + s["repeats"]
    for i, path in enumerate(inputs):
        if per_input.get(i, 0) == 0:
            raise ValueError(f"{path}: no AIS message could be read")
    timing["decode_s"] = time.time() - t0
    decoded_bytes = sum(os.path.getsize(p) for p in glob.glob(os.path.join(decoded_dir, "*.parquet")))

    # Stage 3 (before stage 2, which reads its encounters and interference areas): across
    # vessels (encounters, interference, identity changes), in arrival order.
    t0 = time.time()
    decoded = spark.read.parquet(decoded_dir)
    (
        decoded.drop(*UNREAD)
        .repartition(1)
        .sortWithinPartitions("input", "offset")
        .mapInArrow(_cross_vessel(work, config), "part int, stats string")
        .collect()
    )
    timing["cross_vessel_s"] = time.time() - t0

    # Stage 3b: encounters per space cell, each cell's messages in arrival order; static
    # reports go to every cell their vessel has positions in.
    t0 = time.time()
    read = decoded.drop(*UNREAD)
    ddl = spark_ddl(pa.schema([f for f in sf.decoded_schema() if f.name not in UNREAD])) + ", `cell` bigint"
    with_cells = read.mapInArrow(_cells, ddl)
    placed = with_cells.where("cell is not null")
    vessel_cells = placed.select("mmsi", "cell").distinct()
    statics = with_cells.where("cell is null").drop("cell").join(vessel_cells, "mmsi")
    cells = placed.unionByName(statics)
    per_cell = (
        cells.repartition(n_cells or max(2, spark.sparkContext.defaultParallelism * 2), "cell")
        .sortWithinPartitions("cell", "input", "offset")
        .mapInArrow(_per_cell(work, config), "part int, stats string")
        .collect()
    )
    n_space_cells = sum(s["cells"] for r in per_cell for s in json.loads(r["stats"]))
    timing["cells_s"] = time.time() - t0

    # Stage 2: per vessel, in arrival order.
    t0 = time.time()
    n = vessel_partitions or max(2, spark.sparkContext.defaultParallelism * 2)
    per_vessel = (
        decoded.drop(*UNREAD)
        .repartition(n, "mmsi")
        .sortWithinPartitions("mmsi", "input", "offset")
        .mapInArrow(_per_vessel(work, config), "part int, stats string")
        .collect()
    )
    vessel_stats = [s for r in per_vessel for s in json.loads(r["stats"])]
    timing["vessel_s"] = time.time() - t0

    # Stage 4: one run into the store.
    t0 = time.time()
    w = _native.RunWriter(store)
    empty = _empty()
    kinds = {}
    batches = [
        b
        for stage in ("vessel", "cross", "cell")
        for b in _read(glob.glob(os.path.join(work, stage, "events", "*.parquet")), empty.events.schema)
    ]
    events = pa.Table.from_batches(batches, schema=empty.events.schema)
    events = _one_sharing_one_event(events, _shared_quiet_s(config_toml))
    for b in events.to_batches(max_chunksize=65536):
        w.events(b)
    for k in events.column("kind").to_pylist():
        kinds[k] = kinds.get(k, 0) + 1
    for b in _read(glob.glob(os.path.join(work, "vessel", "identities", "*.parquet")), empty.identities.schema):
        w.identities(b)
    for b in _read(glob.glob(os.path.join(work, "vessel", "points", "*.parquet")), empty.points.schema):
        w.points(b)
    stations = sorted(
        set(
            s
            for b in _read(glob.glob(os.path.join(decoded_dir, "*.parquet")))
            for s in pc.unique(b.column("station")).to_pylist()
            if s
        )
    )
    dropped = _dropped(decode_stats, vessel_stats)
    run_id, positions = w.commit(
        [(p, p, per_input.get(i, 0)) for i, p in enumerate(inputs)],
        json.dumps(dropped),
        stations,
        config_toml,
    )
    timing["store_s"] = time.time() - t0
    return {
        "run": run_id,
        "inputs": inputs,
        # As analyze counts them: messages decoded, repeats of one transmission included.
        "messages": sum(s["messages"] + s["repeats"] for s in decode_stats),
        "positions": positions,
        "events": kinds,
        "dropped": dropped,
        "ranges": len(ranges),
        "cells": n_space_cells,
        # What the shuffles move, as the compressed Parquet of stage 1 (Spark's shuffle
        # blocks hold the same rows, LZ4-compressed).
        "decoded_parquet_bytes": decoded_bytes,
        "seconds": timing,
    }


def session(master: Optional[str] = None, app: str = "shadowfleet"):
    """A Spark session with what the job needs (UTC, Arrow batches of 64 Ki rows)."""
    from pyspark.sql import SparkSession

    # The workers run this interpreter (its environment has shadowfleet) unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    b = SparkSession.builder.appName(app)
    if master:
        b = b.master(master)
    return (
        b.config("spark.sql.session.timeZone", "UTC")
        .config("spark.pyspark.python", os.environ["PYSPARK_PYTHON"])
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", 65536)
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m shadowfleet.spark", description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="+", help="AIS files (NMEA, gzip or zstd; CSV exports)")
    ap.add_argument("--store", required=True, help="store directory (created when missing)")
    ap.add_argument("--master", help="Spark master (local[2], spark://host:7077); spark-submit's when omitted")
    ap.add_argument("--work", help="directory for the stages' files, visible to every executor (default STORE/spark-work)")
    ap.add_argument("--config", help="detector configuration (TOML), as analyze --config")
    ap.add_argument("--split-mb", type=int, default=128, help="bytes per decoding task, MiB (default 128)")
    ap.add_argument("--vessel-partitions", type=int, help="partitions of the per-vessel stage (default 2x the cores)")
    ap.add_argument("--accept-bad-checksum", action="store_true")
    a = ap.parse_args(argv)
    spark = session(a.master)
    try:
        report = run(
            spark,
            a.inputs,
            a.store,
            work=a.work,
            config=a.config,
            split_bytes=a.split_mb << 20,
            vessel_partitions=a.vessel_partitions,
            accept_bad_checksum=a.accept_bad_checksum,
        )
    except (ValueError, OSError) as e:
        print(f"shadowfleet.spark: {e}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
