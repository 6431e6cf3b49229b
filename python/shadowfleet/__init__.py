"""shadowfleet from Python: AIS decoding, the detectors, cargo flows and country exposure.

The work is done by the same Rust code as the ``shadowfleet`` command; Arrow data crosses
between Rust and Python through the Arrow C data interface, without copies.

* :func:`decode` / :func:`decode_lines` — AIS files or lines to a ``pyarrow.Table`` with
  gpsd's field names (scaled units, "not available" as null);
* :class:`Pipeline` / :func:`detect` — the per-vessel stages (tracks, identities, every
  detector) on decoded messages, e.g. one vessel's, sorted; ``detectors=["encounters"]``
  runs the encounter stage alone on one space-time cell's messages;
* :func:`analyze` — files into a store, as ``shadowfleet analyze`` does;
* :class:`Store` — a store opened read-only: events, identities, flows, exposure, risks and
  positions as Arrow tables (``.to_pandas()``; :func:`to_geopandas` when GeoPandas is
  installed).

``python -m shadowfleet.spark`` runs the same stages on Apache Spark (see docs/scale.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Sequence, Union

import pyarrow as pa

from . import _native

__all__ = [
    "DETECTORS",
    "Output",
    "Pipeline",
    "Store",
    "analyze",
    "decode",
    "decode_lines",
    "decoded_schema",
    "detect",
    "to_geopandas",
]

__version__: str = _native.__version__

#: The detectors' configuration sections, in pipeline order.
DETECTORS: list[str] = list(_native.DETECTORS)

PathLike = Union[str, "os.PathLike[str]"]

#: Schema metadata key under which decoding records the decoder's counts (JSON).
DECODE_STATS_KEY = b"shadowfleet.decode"


def _table(batches: Sequence[pa.RecordBatch], schema: pa.Schema, stats: Optional[str] = None) -> pa.Table:
    if stats is not None:
        schema = schema.with_metadata({DECODE_STATS_KEY: stats.encode()})
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches, schema=schema)


def decoded_schema() -> pa.Schema:
    """The schema of decoded messages: gpsd's field names (``type``, ``mmsi``, ``lat``,
    ``lon``, ``speed``, ``course``, ``heading``, ``status``, ``shipname``, ``draught``,
    ``destination``, ...) plus ``received`` (``timestamp[ms, UTC]``), ``station``, ``line``
    and where the message lies in its input (``offset``, ``bytes``, ``input``)."""
    return _native.decoded_schema().schema


def decode(paths: Union[PathLike, Iterable[PathLike]], *, accept_bad_checksum: bool = False) -> pa.Table:
    """Decodes AIS files into one table, one row per message, files numbered in the order given
    (column ``input``).

    Inputs may be plain, gzip or zstd NMEA (tag blocks, ``$PGHP`` headers or trailing times
    give the receive time) or DMA/NOAA CSV exports. What the decoder left out is counted by
    reason in the schema metadata (:func:`decode_stats`); a file of which nothing could be
    read raises ``ValueError`` naming it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    batches, stats = _native.decode_files([os.fspath(p) for p in paths], accept_bad_checksum)
    return _table(batches, decoded_schema(), stats)


def decode_lines(lines: Union[str, bytes, Iterable[Union[str, bytes]]], *, accept_bad_checksum: bool = False) -> pa.Table:
    """Decodes NMEA lines given in memory (a string or bytes with newlines, or an iterable of
    lines). Raises ``ValueError`` when no message could be read."""
    if isinstance(lines, str):
        data = lines.encode()
    elif isinstance(lines, bytes):
        data = lines
    else:
        data = b"\n".join(l.encode() if isinstance(l, str) else l for l in lines) + b"\n"
    batches, stats = _native.decode_bytes(data, accept_bad_checksum)
    return _table(batches, decoded_schema(), stats)


def decode_stats(table: pa.Table) -> list:
    """The decoder's counts recorded by :func:`decode` (one dict per file) or
    :func:`decode_lines` (one dict): lines, messages, repeats, rejected by reason."""
    meta = table.schema.metadata or {}
    raw = meta.get(DECODE_STATS_KEY)
    if raw is None:
        return []
    v = json.loads(raw)
    return v if isinstance(v, list) else [v]


@dataclass
class Output:
    """What a pipeline released: events (``details`` holds each kind's own facts as JSON),
    closed identity periods, and track points (the positions the detectors saw, with their
    segment ids)."""

    events: pa.Table
    identities: pa.Table
    points: pa.Table

    @staticmethod
    def _of(parts) -> "Output":
        e, i, p = parts
        return Output(pa.Table.from_batches([e]), pa.Table.from_batches([i]), pa.Table.from_batches([p]))

    @staticmethod
    def concat(outputs: Sequence["Output"]) -> "Output":
        """The outputs one after the other."""
        return Output(
            pa.concat_tables([o.events for o in outputs]),
            pa.concat_tables([o.identities for o in outputs]),
            pa.concat_tables([o.points for o in outputs]),
        )


def _batches(data) -> Iterator[pa.RecordBatch]:
    if isinstance(data, pa.RecordBatch):
        yield data
    elif isinstance(data, pa.Table):
        yield from data.to_batches()
    elif isinstance(data, pa.RecordBatchReader):
        yield from data
    else:
        for b in data:
            yield from _batches(b)


class Pipeline:
    """The detection pipeline — tracks, identities and the detectors — over decoded messages
    in arrival order (the schema of :func:`decode`).

    ``config`` is a detector configuration (TOML text or a path to a ``.toml`` file, as
    ``shadowfleet analyze --config`` takes); ``detectors`` names the detectors to run (all of
    :data:`DETECTORS` when None). Feed it with :meth:`push` as often as needed (a vessel's
    year need not fit in memory), then call :meth:`finish`.
    """

    def __init__(self, config: Optional[str] = None, detectors: Optional[Sequence[str]] = None):
        if config is not None and not config.lstrip().startswith("[") and os.path.exists(config):
            with open(config, encoding="utf-8") as f:
                config = f.read()
        self._inner = _native.Pipeline(config, list(detectors) if detectors is not None else None)

    def push(self, data) -> Output:
        """Takes decoded messages (a Table, RecordBatch, RecordBatchReader or an iterable of
        them); returns what they released."""
        return Output.concat([Output._of(self._inner.push(b)) for b in _batches(data)] or [self._empty()])

    def know(self, events: pa.Table) -> None:
        """Takes events found by another run over the same data (the schema of
        :meth:`Store.events`) as side input: encounters and interference areas, which the
        per-vessel detectors consult (loitering's partner check; loitering's and spoofing's
        "jammed" checks). Call it before the first :meth:`push`."""
        for b in events.to_batches():
            self._inner.know(b)

    def finish(self) -> Output:
        """Ends the input: releases every point held and closes every open event."""
        return Output._of(self._inner.finish())

    def stats(self) -> dict:
        """Counters: messages, positions, statics, reports left out by reason (untimed, not a
        vessel, the track builder's drops), events per kind."""
        return json.loads(self._inner.stats())

    @staticmethod
    def _empty() -> Output:
        e = _native.Pipeline(None, [])
        return Output._of(e.finish())


def detect(data, config: Optional[str] = None, detectors: Optional[Sequence[str]] = None) -> Output:
    """Runs a :class:`Pipeline` over all of ``data`` and finishes it."""
    p = Pipeline(config, detectors)
    return Output.concat([p.push(data), p.finish()])


def analyze(
    paths: Union[PathLike, Iterable[PathLike]],
    store: PathLike,
    *,
    config: Optional[PathLike] = None,
    fresh: bool = False,
    allow_untimed: bool = False,
) -> dict:
    """Analyses AIS files into the store in ``store`` (created when missing) as one run, like
    ``shadowfleet analyze --store STORE PATHS...``. Returns the run's report: messages,
    positions, events per kind, and what was left out by reason (``dropped``)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return json.loads(
        _native.analyze(
            [os.fspath(p) for p in paths],
            os.fspath(store),
            os.fspath(config) if config is not None else None,
            fresh,
            allow_untimed,
        )
    )


class Store:
    """A shadowfleet store opened read-only (``shadowfleet analyze --store DIR`` writes one).

    ``config`` is the analysis configuration file (``--config`` of ``flows``/``exposure``).
    The analysis behind :meth:`flows`, :meth:`exposure`, :meth:`risks` and :meth:`matches`
    runs once, on first use.
    """

    def __init__(self, path: PathLike, config: Optional[PathLike] = None):
        self.path = os.fspath(path)
        self._inner = _native.Store(self.path, os.fspath(config) if config is not None else None)

    def events(self, kind: Optional[str] = None, mmsi: Optional[int] = None) -> pa.Table:
        """Events with their store ids; ``kind`` as in ``shadowfleet events --kind``."""
        return pa.Table.from_batches([self._inner.events(kind, mmsi)])

    def identities(self) -> pa.Table:
        """Identity periods: what each MMSI broadcast (IMO, name, call sign, flag, type) and
        when."""
        return pa.Table.from_batches([self._inner.identities()])

    def flows(self) -> pa.Table:
        """Cargo flows (origin, chain of custody, discharge, volumes with their interval), as
        ``shadowfleet flows --format ndjson``."""
        return pa.Table.from_batches([self._inner.flows()])

    def exposure(self, from_: Optional[str] = None, to: Optional[str] = None) -> pa.Table:
        """Russian-origin oil by destination country and month (``YYYY-MM`` bounds), as
        ``shadowfleet exposure``."""
        return pa.Table.from_batches([self._inner.exposure(from_, to)])

    def risks(self) -> pa.Table:
        """Risk per vessel, highest first, with its indicators."""
        return pa.Table.from_batches([self._inner.risks()])

    def matches(self) -> pa.Table:
        """Screening matches of the store's identities against its lists."""
        return pa.Table.from_batches([self._inner.matches()])

    def positions(self, mmsi: Optional[int] = None, start: Optional[int] = None, end: Optional[int] = None) -> pa.Table:
        """Stored positions (the GeoParquet day files), of one MMSI and between unix seconds
        ``start`` and ``end`` when given."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        files = [os.fspath(f) for f in self._inner.position_files(mmsi, start, end)]
        if not files:
            return pa.table({})
        t = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
        secs = pc.cast(pc.cast(t["time"], pa.timestamp("s", tz="UTC"), safe=False), pa.int64())
        mask = None
        for cond in (
            pc.equal(t["mmsi"], mmsi) if mmsi is not None else None,
            pc.greater_equal(secs, start) if start is not None else None,
            pc.less_equal(secs, end) if end is not None else None,
        ):
            if cond is not None:
                mask = cond if mask is None else pc.and_(mask, cond)
        return t if mask is None else t.filter(mask)


def to_geopandas(table: pa.Table, lat: str = "lat", lon: str = "lon"):
    """A table with ``lat``/``lon`` columns as a GeoDataFrame of points (WGS84); needs
    GeoPandas."""
    try:
        import geopandas as gpd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("to_geopandas needs GeoPandas: pip install geopandas") from e
    df = table.to_pandas()
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[lon], df[lat]), crs="EPSG:4326")
