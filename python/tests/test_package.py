"""The Python package against the command line: the same decoding, the same events, the same
store answers."""

from __future__ import annotations

import json
import shutil
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import shadowfleet as sf

from conftest import REPO, run

REAL = REPO / "testdata" / "ais-real"


@pytest.mark.parametrize(
    "sample",
    ["gpsd/sample.aivdm", "gfw-ais-tools/multi-part.nmea", "dma-aislib/stream_example.txt", "pyais"],
)
def test_decode_matches_the_command_line(shadowfleet_bin, sample):
    path = REAL / sample
    if path.is_dir():
        path = sorted(p for p in path.iterdir() if p.suffix in (".nmea", ".txt", ".ais"))[0]
    t = sf.decode(path)
    cli = [json.loads(l) for l in run(shadowfleet_bin, "decode", "-q", str(path)).splitlines()]
    assert t.num_rows == len(cli) > 0
    rows = t.select(["type", "mmsi", "lat", "lon", "shipname", "line"]).to_pylist()
    for r, c in zip(rows, cli):
        assert (r["type"], r["mmsi"], r["line"]) == (c["type"], c["mmsi"], c["line"])
        if "lat" in c and r["lat"] is not None:
            assert r["lat"] == pytest.approx(c["lat"], abs=1e-6)
            assert r["lon"] == pytest.approx(c["lon"], abs=1e-6)
    stats = sf.decode_stats(t)
    assert stats[0]["messages"] == t.num_rows


def test_decode_counts_what_it_left_out():
    t = sf.decode_lines(
        [
            "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
            "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B",  # bad checksum
            "$GPGGA,junk",
        ]
    )
    assert t.num_rows == 1
    s = sf.decode_stats(t)[0]
    assert s["rejected"] == {"bad_checksum": 1, "not_ais": 1}
    assert t.column("lat")[0].as_py() == pytest.approx(48.381633)
    assert t.schema.field("received").type == pa.timestamp("ms", tz="UTC")


def test_nothing_readable_is_an_error_naming_the_file(tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nworld\n")
    with pytest.raises(ValueError, match="junk.txt: no AIS message could be read"):
        sf.decode(junk)
    with pytest.raises(ValueError, match="no AIS message"):
        sf.decode_lines(["not ais"])
    with pytest.raises(OSError, match="missing.nmea"):
        sf.decode(tmp_path / "missing.nmea")


def test_splits_decode_to_the_whole_file(baltic3):
    whole = sf.decode(baltic3)
    from shadowfleet import _native

    ranges = _native.split_file(str(baltic3), 8 << 20)
    assert len(ranges) > 3
    assert ranges[0][0] == 0 and ranges[-1][1] == baltic3.stat().st_size
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    parts = []
    for start, end, line in ranges:
        batches, _ = _native.decode_range(str(baltic3), start, end, line, 0)
        parts.extend(batches)
    split = pa.Table.from_batches(parts, schema=sf.decoded_schema())
    cols = ["mmsi", "type", "received", "line", "offset", "bytes", "lat", "lon", "shipname"]
    # Repeats of one transmission heard by two receivers across a cut are kept by the later
    # range (its decoder did not see the first); the track builder drops them as duplicates.
    assert split.num_rows >= whole.num_rows
    assert split.num_rows - whole.num_rows <= len(ranges) * 20
    key = lambda t: set(map(tuple, (r.values() for r in t.select(cols).to_pylist())))
    assert key(whole) <= key(split)


def test_pipeline_on_arrow_finds_what_analyze_finds(baltic3, tmp_path):
    store = tmp_path / "store"
    report = sf.analyze(baltic3, store)
    assert report["messages"] > 100_000 and report["run"] is not None
    assert report["dropped"], "the report says what was left out"
    out = sf.detect(sf.decode(baltic3))
    stored = sf.Store(store).events()
    cols = ["kind", "mmsi", "other_mmsi", "start", "end", "lat", "lon", "confidence", "details"]

    def key(t):
        return sorted(json.dumps(r, default=str, sort_keys=True) for r in t.select(cols).to_pylist())

    assert out.events.num_rows == stored.num_rows > 50
    assert key(out.events) == key(stored)
    # Points and identities are what the store holds.
    positions = sf.Store(store).positions()
    assert out.points.num_rows == positions.num_rows
    assert out.identities.num_rows > 0


def test_the_encounter_stage_alone(baltic3):
    t = sf.decode(baltic3)
    out = sf.detect(t, detectors=["encounters"])
    kinds = set(out.events.column("kind").to_pylist())
    assert kinds <= {"encounter", "identity_change"}
    assert "encounter" in kinds
    with pytest.raises(ValueError, match="not a detector"):
        sf.Pipeline(detectors=["nonsense"])


def test_pipeline_streams_in_batches(baltic3):
    t = sf.decode(baltic3)
    p = sf.Pipeline()
    outs = [p.push(b) for b in t.to_batches(max_chunksize=50_000)]
    outs.append(p.finish())
    whole = sf.detect(t)
    assert sum(o.events.num_rows for o in outs) == whole.events.num_rows
    assert p.stats()["messages"] == t.num_rows
    with pytest.raises(RuntimeError, match="finished"):
        p.push(t.slice(0, 10))


def test_store_answers_as_the_command_line(shadowfleet_bin, baltic3, tmp_path):
    store = tmp_path / "store"
    run(shadowfleet_bin, "analyze", "--store", str(store), str(baltic3))
    lists = [str(baltic3.parent / f) for f in ("sanctions_eu.csv", "watchlist.csv", "particulars.csv")]
    run(shadowfleet_bin, "screen", "--store", str(store), "--lists", *lists)
    s = sf.Store(store)
    cli = json.loads(run(shadowfleet_bin, "exposure", "--store", str(store), "--format", "json"))
    ex = s.exposure()
    assert ex.num_rows == len(cli["rows"]) > 0
    mine = sorted((r["country"], r["month"], round(r["volume_bbl"])) for r in ex.to_pylist())
    theirs = sorted((r["country"], r["month"], round(r["volume_bbl"])) for r in cli["rows"])
    assert mine == theirs
    flows = s.flows()
    cli_flows = run(shadowfleet_bin, "flows", "--store", str(store), "--format", "ndjson").splitlines()
    assert flows.num_rows == len(cli_flows) > 0
    assert s.risks().num_rows > 0 and s.matches().num_rows > 0
    ids = s.identities()
    assert ids.num_rows > 0 and ids.schema.field("first_seen").type == pa.timestamp("s", tz="UTC")
    one = s.events().column("mmsi")[0].as_py()
    mine = s.positions(mmsi=one)
    assert mine.num_rows > 0 and pc.all(pc.equal(mine["mmsi"], one)).as_py()
    with pytest.raises(ValueError, match="not an event kind"):
        s.events(kind="nonsense")
    with pytest.raises(OSError):
        sf.Store(tmp_path / "nowhere")
    shutil.rmtree(store)


def test_the_example_runs(shadowfleet_bin, scratch):
    out = scratch / "example-month"
    text = run(sys.executable, str(REPO / "python" / "examples" / "month.py"), "--bin", shadowfleet_bin, "--out", str(out), "--days", "3")
    assert "highest risk" in text
    assert (out / "exposure.csv").exists()
