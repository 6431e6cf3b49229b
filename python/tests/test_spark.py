"""The Spark job against `shadowfleet analyze` on the same input: the same events, identities,
positions and drop counts, and the same flows and exposure but for the differences listed in
docs/scale.md (each with its reason)."""

from __future__ import annotations

import collections
import json
import os

import pytest

import shadowfleet as sf

from conftest import run, simulate

pyspark = pytest.importorskip("pyspark") if not os.environ.get("SHADOWFLEET_REQUIRE_SPARK") else __import__("pyspark")

from shadowfleet import spark as sfspark  # noqa: E402

WORLDS = {
    "baltic-3d": ("baltic", 3, 5, 1),
    "global-3d-x2": ("global", 3, 11, 2),
}


@pytest.fixture(scope="module")
def session():
    s = sfspark.session("local[2]", "shadowfleet-tests")
    yield s
    s.stop()


def _shared(r) -> bool:
    return r["kind"] == "identity_change" and json.loads(r["details"])["change"] == "shared_mmsi"


def _events(store):
    """Events but shared-MMSI findings, and the MMSIs of those (see below)."""
    cols = ["kind", "mmsi", "other_mmsi", "start", "end", "lat", "lon", "confidence", "confidence_reasons", "details"]
    rows = sf.Store(store).events().select(cols).to_pylist()
    others = collections.Counter(json.dumps(r, default=str, sort_keys=True) for r in rows if not _shared(r))
    shared = collections.Counter(r["mmsi"] for r in rows if _shared(r))
    return others, shared


@pytest.mark.parametrize("world", sorted(WORLDS))
def test_spark_finds_what_analyze_finds(session, shadowfleet_bin, scratch, world):
    scenario, days, seed, scale = WORLDS[world]
    nmea = simulate(shadowfleet_bin, scratch / world, scenario, days, seed, scale)
    native = scratch / f"{world}-native"
    spark = scratch / f"{world}-spark"
    for d in (native, spark):
        if d.exists():
            import shutil

            shutil.rmtree(d)
    report = sf.analyze(nmea, native)
    # Small byte ranges, so that the input is cut into several decoding tasks.
    sr = sfspark.run(session, [str(nmea)], str(spark), split_bytes=16 << 20, vessel_partitions=3)
    assert sr["ranges"] > 2
    assert sr["cells"] > (3 if scenario == "global" else 1)

    # Events: every field but the IMO number (see below). A shared MMSI is reported once per
    # sharing from whichever evidence the identity stage took first — two IMO numbers on the
    # MMSI (stage 3) or positions in two places (stage 2's spoofing detector) — and which
    # comes first follows processing order, not event time: the same MMSIs, the same number of
    # events, the form may differ (docs/scale.md).
    (a, sa), (b, sb) = _events(spark), _events(native)
    assert sum(a.values()) == sum(b.values()) > 100
    assert a == b, f"only Spark: {list((a - b).elements())[:3]}\nonly native: {list((b - a).elements())[:3]}"
    assert sa == sb
    kinds = {json.loads(k)["kind"] for k in a}
    assert {"port_call", "gap", "encounter"} <= kinds or scenario != "global", kinds

    # The IMO an event carries is the vessel's identity when the event was emitted, which
    # follows the watermark (over all vessels natively, over the vessel in Spark): it may
    # differ only for an MMSI that two ships share (docs/scale.md).
    shared = {
        r["mmsi"]
        for r in sf.Store(native).events(kind="identity_change").to_pylist()
        if json.loads(r["details"])["change"] == "shared_mmsi"
    }
    key = ["kind", "mmsi", "start", "end", "details"]
    imo = lambda s: {json.dumps([r[k] for k in key], default=str): r["imo"] for r in sf.Store(s).events().to_pylist()}
    ia, ib = imo(spark), imo(native)
    differ = {json.loads(k)[1] for k in ia if ia[k] != ib.get(k)}
    assert differ <= shared, f"IMO differs for MMSIs that no two ships share: {differ - shared}"

    # Identity periods and positions.
    ids = lambda s: collections.Counter(json.dumps(r, default=str) for r in sf.Store(s).identities().to_pylist())
    assert ids(spark) == ids(native)
    pos = lambda s: collections.Counter(
        json.dumps(r, default=str) for r in sf.Store(s).positions().select(["mmsi", "time", "lat", "lon", "sog", "cog", "station"]).to_pylist()
    )
    assert pos(spark) == pos(native)

    # What was left out, by reason; messages decoded.
    # A repeat of one transmission whose two copies fall on either side of a cut between
    # decoding tasks is not dropped by the decoder; a repeated position is then dropped by
    # the track builder as a duplicate (counted the same), a repeated static report is not
    # (the identity stage takes it twice, to no effect): at most a few per cut.
    da, db = dict(sr["dropped"]), dict(report["dropped"])
    assert 0 <= db.pop("duplicates") - da.pop("duplicates") <= 4 * sr["ranges"]
    assert da == db
    assert sr["messages"] == report["messages"]

    # Exposure: the same rows, but where a flow of a shared MMSI is attributed otherwise.
    ex = lambda s: {(r["country"], r["month"]): round(r["volume_bbl"]) for r in sf.Store(s).exposure().to_pylist()}
    ea, eb = ex(spark), ex(native)
    flows = lambda s: sf.Store(s).flows().to_pylist()
    touched = {
        ((f.get("discharge") or {}).get("country"), (f.get("loaded") or "")[:7])
        for s in (spark, native)
        for f in flows(s)
        if any(h["mmsi"] in differ for h in f["chain"])
    }
    for k in set(ea) | set(eb):
        if ea.get(k, 0) != eb.get(k, 0):
            assert k in touched, f"exposure {k}: Spark {ea.get(k)} vs native {eb.get(k)}"

    # The store serves the command line like any other.
    out = run(shadowfleet_bin, "exposure", "--store", str(spark), "--format", "json")
    assert json.loads(out)["rows"] is not None
    run(shadowfleet_bin, "events", "--store", str(spark), "--kind", "port_call")


def test_a_file_of_nothing_is_an_error(session, tmp_path):
    junk = tmp_path / "junk.nmea"
    junk.write_text("hello\n" * 10)
    with pytest.raises(ValueError, match="junk.nmea: no AIS message"):
        sfspark.run(session, [str(junk)], str(tmp_path / "store"))
