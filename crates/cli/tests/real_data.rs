//! The four ways real AIS broke the first version (issue 16), reproduced on data of the same
//! kind: a DMA receiver log with `$PGHP` headers where a second station relays old reports
//! late, a raw log without receive times, a tanker broadcasting from inland, and portal CSV
//! exports (semicolons, epoch milliseconds partly in scientific notation, `dd/mm/yyyy`, `long`,
//! speed in tenths, ship type as text, sampled and shuffled).

use super::*;
use shadowfleet_decode::messages::{PositionReport, StaticAndVoyageData};
use shadowfleet_decode::{encode_nmea, AisMessage, AisText, Body, EncodeOptions, Header};

/// 2013-03-18T09:00:00Z, the day of the DMA `replay_dump.txt` log.
const T0: i64 = 1_363_597_200;
const TANKER: u32 = 273_456_780;
/// East of Bornholm, open sea far from any port.
const START: (f64, f64) = (55.55, 16.3);
/// Drift of the tanker, knots, towards the north-east.
const DRIFT_KN: f64 = 1.5;

/// Where the drifting tanker is `s` seconds after `T0`.
fn drift(s: i64) -> (f64, f64) {
    let nm = DRIFT_KN * s as f64 / 3600.0;
    let d = nm / 60.0 / std::f64::consts::SQRT_2;
    (START.0 + d, START.1 + d / START.0.to_radians().cos())
}

fn position_report(s: i64, at: (f64, f64)) -> AisMessage {
    AisMessage {
        header: Header {
            msg_type: 1,
            repeat: 0,
            mmsi: TANKER,
        },
        body: Body::PositionReport(PositionReport {
            status: 2,
            speed: (DRIFT_KN * 10.0) as u16,
            accuracy: true,
            lon: (at.1 * 600_000.0).round() as i32,
            lat: (at.0 * 600_000.0).round() as i32,
            course: 450,
            heading: 45,
            second: ((T0 + s) % 60) as u8,
            ..Default::default()
        }),
    }
}

fn static_report() -> AisMessage {
    AisMessage {
        header: Header {
            msg_type: 5,
            repeat: 0,
            mmsi: TANKER,
        },
        body: Body::StaticAndVoyageData(StaticAndVoyageData {
            ais_version: 2,
            imo: 9_321_483,
            callsign: AisText::from_str_lossy("UBCD7"),
            shipname: AisText::from_str_lossy("DRIFTER"),
            shiptype: 80,
            to_bow: 200,
            to_stern: 40,
            to_port: 21,
            to_starboard: 21,
            epfd: 1,
            hour: 24,
            minute: 60,
            draught: 140,
            ..Default::default()
        }),
    }
}

/// A Gatehouse header: receive time and the MMSI of the base station that heard the next
/// sentence, with its checksum.
fn pghp(t_ms: i64, station: u32) -> String {
    let (y, mo, d, h, mi, s, ms) = shadowfleet_model::Timestamp(t_ms).to_utc();
    let body = format!("PGHP,1,{y},{mo},{d},{h},{mi},{s},{ms},219,,{station},1,00");
    let cs = body.bytes().fold(0u8, |a, b| a ^ b);
    format!("${body}*{cs:02X}\n")
}

fn nmea(msg: &AisMessage) -> String {
    let mut out = Vec::new();
    encode_nmea(msg, &EncodeOptions::default(), &mut out);
    String::from_utf8(out).unwrap()
}

/// Eight hours of the drifting tanker as a DMA log, every report heard by station 2190048
/// (a report every 10 s, a static report every 6 minutes); when `relays`, station 2190072
/// hears twenty of the reports again 17 min 13 s late and stamps them with its late
/// arrival. `timed: false` leaves out the headers (a raw receiver log).
fn dma_log(relays: bool, timed: bool) -> String {
    let mut lines: Vec<(i64, String)> = Vec::new();
    let mut push = |t_ms: i64, station: u32, msg: &AisMessage| {
        let head = if timed {
            pghp(t_ms, station)
        } else {
            String::new()
        };
        lines.push((t_ms, head + &nmea(msg)));
    };
    for k in 0..2880 {
        let s = 10 * k;
        let t_ms = (T0 + s) * 1000 + 137;
        push(t_ms, 2_190_048, &position_report(s, drift(s)));
        if k % 36 == 0 {
            push(t_ms + 400, 2_190_048, &static_report());
        }
        if relays && k % 120 == 30 && k < 2400 {
            push(t_ms + 1_033_000, 2_190_072, &position_report(s, drift(s)));
        }
    }
    lines.sort_by_key(|(t, _)| *t);
    lines.into_iter().map(|(_, l)| l).collect()
}

#[test]
fn a_dma_log_with_late_relays_through_another_station_accuses_no_one() {
    let dir = scratch("real-relays");
    let log = dir.join("dma.txt");
    std::fs::write(&log, dma_log(true, true)).unwrap();
    let store = dir.join("store");
    let out = succeeds(&[&"analyze", &"--store", &store, &log]);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("20 position reports heard again late through another station"),
        "{summary}"
    );
    let events = events_ndjson(&store, &["--min-confidence", "low"]);
    let accusations: Vec<_> = events
        .iter()
        .filter(|e| {
            e["kind"] == "spoofing"
                || (e["kind"] == "identity_change" && e["details"]["change"] == "shared_mmsi")
        })
        .collect();
    assert!(accusations.is_empty(), "{accusations:?}");
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "loitering" && e["mmsi"] == TANKER),
        "the drift is found: {events:?}"
    );
    // Each position keeps the station that heard it.
    let tracks = dir.join("track.csv");
    succeeds(&[
        &"export",
        &"--store",
        &store,
        &"--what",
        &"tracks",
        &"--format",
        &"csv",
        &"--out",
        &tracks,
    ]);
    let text = std::fs::read_to_string(&tracks).unwrap();
    assert_eq!(text.lines().count(), 1 + 2880, "every fresh report, once");
}

#[test]
fn a_raw_log_without_receive_times_is_refused_until_allowed() {
    let dir = scratch("real-untimed");
    let log = dir.join("raw.nmea");
    std::fs::write(&log, dma_log(false, false)).unwrap();
    let store = dir.join("store");
    let e = fails(&[&"analyze", &"--store", &store, &log]);
    assert!(e.contains("raw.nmea"), "names the input: {e}");
    assert!(e.contains("2880"), "says how many: {e}");
    assert!(e.contains("--allow-untimed"), "gives the way out: {e}");
    let out = succeeds(&[&"analyze", &"--allow-untimed", &"--store", &store, &log]);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("2880 position reports without a receive time"),
        "{summary}"
    );
    assert!(
        summary.contains("static reports without a receive time"),
        "{summary}"
    );
    // A file of which nothing is AIS is an error, not "0 messages".
    let junk = dir.join("junk.txt");
    std::fs::write(
        &junk,
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,,*47\n",
    )
    .unwrap();
    let e = fails(&[&"analyze", &"--store", &dir.join("store2"), &junk]);
    assert!(
        e.contains("junk.txt") && e.contains("no AIS message could be read"),
        "{e}"
    );
}

#[test]
fn a_tanker_broadcasting_from_central_anatolia_is_spoofing_on_land() {
    // Off Samsun, then five hours of positions near Ankara, then off Samsun again.
    let dir = scratch("real-inland");
    let mut text = String::new();
    for k in 0..120 {
        let s = 180 * k;
        let at = if (30..130).contains(&k) {
            (39.9, 32.9)
        } else {
            (41.6 + 0.001 * k as f64, 36.3)
        };
        let t_ms = (T0 + s) * 1000;
        text.push_str(&pghp(t_ms, 2_190_048));
        text.push_str(&nmea(&position_report(s, at)));
    }
    let log = dir.join("inland.txt");
    std::fs::write(&log, text).unwrap();
    let store = dir.join("store");
    succeeds(&[&"analyze", &"-q", &"--store", &store, &log]);
    let events = events_ndjson(&store, &[]);
    let land: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "spoofing" && e["details"]["method"] == "land")
        .collect();
    assert_eq!(land.len(), 1, "{events:?}");
    assert_eq!(
        land[0]["truncated_end"], true,
        "the run on land lasts to the data's end"
    );
}

/// The drifting tanker as a portal export: one report every 3 minutes, rows shuffled.
fn portal_export(header: &str, row: &dyn Fn(i64, (f64, f64)) -> String) -> (String, usize) {
    let mut rows: Vec<String> = (0..160).map(|k| row(180 * k, drift(180 * k))).collect();
    // A fixed shuffle: reversed halves, interleaved.
    let n = rows.len();
    let (a, b) = rows.split_at_mut(n / 2);
    a.reverse();
    let mut mixed = Vec::with_capacity(n);
    for (x, y) in b.iter().zip(a.iter()) {
        mixed.push(y.clone());
        mixed.push(x.clone());
    }
    rows = mixed;
    (format!("{header}\n{}\n", rows.join("\n")), n)
}

#[test]
fn portal_csv_exports_are_read_whatever_their_layout_and_order() {
    let dir = scratch("real-csv");
    let comma = |x: f64| format!("{x:.6}").replace('.', ",");
    // Semicolons, quotes, epoch ms (every tenth row in scientific notation, to the
    // millisecond; one more row rounded to 100 s, which is rejected, not guessed), `long`,
    // speed in tenths, the type as text.
    let (epoch, n) = portal_export(
        "\"MMSI\";\"TIMESTAMP\";\"LAT\";\"LONG\";\"SPEED (0.1 KN)\";\"COURSE\";\"SHIPTYPE\";\"NAME\"",
        &|s, (lat, lon)| {
            let ms = (T0 + s) * 1000;
            let t = if s % 1800 == 0 {
                format!("{:.12E}", ms as f64)
            } else {
                ms.to_string()
            };
            format!(
                "\"{TANKER}\";\"{t}\";\"{}\";\"{}\";\"15\";\"45\";\"Crude Oil Tanker\";\"DRIFTER\"",
                comma(lat),
                comma(lon)
            )
        },
    );
    let epoch = format!(
        "{epoch}\"{TANKER}\";\"1.36361E12\";\"55,6\";\"16,4\";\"15\";\"45\";\"Crude Oil Tanker\";\"DRIFTER\"\n"
    );
    // Commas, `dd/mm/yyyy HH:MM:SS`, unquoted.
    let (dated, _) = portal_export(
        "mmsi,Date Time UTC,Latitude,Longitude,SOG,COG,Vessel Type",
        &|s, (lat, lon)| {
            let (y, mo, d, h, mi, sec, _) = shadowfleet_model::Timestamp((T0 + s) * 1000).to_utc();
            format!("{TANKER},{d:02}/{mo:02}/{y} {h:02}:{mi:02}:{sec:02},{lat:.6},{lon:.6},1.5,45,Tanker")
        },
    );
    // Headers no recognition knows, named with --columns.
    let (named, _) = portal_export("Ship\tWhen\tY\tX", &|s, (lat, lon)| {
        format!("{TANKER}\t{}\t{lat:.6}\t{lon:.6}", T0 + s)
    });
    for (name, text, columns) in [
        ("epoch.csv", &epoch, None),
        ("dated.csv", &dated, None),
        ("named.tsv", &named, Some("mmsi=Ship,time=When,lat=Y,lon=X")),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let store = dir.join(format!("store-{name}"));
        let mut args: Vec<Arg> = vec![&"analyze", &"--store", &store, &file];
        if let Some(c) = &columns {
            args.push(&"--columns");
            args.push(c);
        }
        let out = succeeds(&args);
        let summary = String::from_utf8_lossy(&out.stderr);
        assert!(
            summary.contains(&format!("{n} positions stored")),
            "{name}: {summary}"
        );
        assert!(
            !summary.contains("position reports late"),
            "{name}: shuffled rows are sorted: {summary}"
        );
        if name == "epoch.csv" {
            assert!(
                summary.contains("1 CSV rows rejected")
                    && summary.contains(&format!("line {}, column TIMESTAMP", n + 2)),
                "{summary}"
            );
        }
        // One drift, one track: the shuffled rows put back in order.
        let events = events_ndjson(&store, &["--min-confidence", "low"]);
        let drifts = events.iter().filter(|e| e["kind"] == "loitering").count();
        assert_eq!(drifts, 1, "{name}: {events:?}");
    }
    // Without --columns the last one is an error naming the header and what is missing.
    let e = fails(&[
        &"analyze",
        &"--store",
        &dir.join("store-x"),
        &dir.join("named.tsv"),
    ]);
    assert!(
        e.contains("named.tsv") && e.contains("Ship") && e.contains("mmsi"),
        "{e}"
    );
}

/// Position files in (Geo)Parquet: the store's own, our track export, and a plain Parquet
/// another tool (DuckDB, snappy-compressed, its own column names) writes, read by the
/// same path as CSVs.
#[test]
fn geoparquet_positions_are_read_by_the_csv_path() {
    let dir = scratch("real-parquet");
    let log = dir.join("dma.txt");
    std::fs::write(&log, dma_log(false, true)).unwrap();
    let store = dir.join("store");
    succeeds(&[&"analyze", &"-q", &"--store", &store, &log]);
    let stored = std::fs::read_dir(store.join("positions"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .expect("a position file");
    let export = dir.join("tracks.parquet");
    succeeds(&[
        &"export",
        &"--store",
        &store,
        &"--what",
        &"tracks",
        &"--format",
        &"parquet",
        &"--out",
        &export,
    ]);
    for (name, file) in [("store file", stored), ("track export", export)] {
        let again = dir.join(format!("again-{}", name.replace(' ', "-")));
        let out = succeeds(&[&"analyze", &"--store", &again, &file]);
        let summary = String::from_utf8_lossy(&out.stderr);
        assert!(
            summary.contains("2880 positions stored"),
            "{name}: {summary}"
        );
        assert!(!summary.contains("rejected"), "{name}: {summary}");
    }
    // Another tool's Parquet: DuckDB from the DMA log's positions, with names of its own.
    let python = std::env::var("SHADOWFLEET_PYTHON").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/peer-venv/bin/python"),
        PathBuf::from,
    );
    if !python.exists() {
        shadowfleet_testkit::skip(
            format_args!(
                "a Parquet file written by DuckDB: no {} (sh benches/peer/setup.sh)",
                python.display()
            ),
            "SHADOWFLEET_REQUIRE_DUCKDB",
        );
        return;
    }
    let csv = dir.join("track.csv");
    succeeds(&[
        &"export",
        &"--store",
        &store,
        &"--what",
        &"tracks",
        &"--format",
        &"csv",
        &"--out",
        &csv,
    ]);
    let duck = dir.join("duck.parquet");
    let script = format!(
        r#"
import duckdb
duckdb.sql("""copy (select mmsi as "MMSI", to_timestamp(epoch(cast(time as timestamp))) as "BaseDateTime",
  lat as "LAT", lon as "LON", sog as "SOG" from read_csv_auto('{csv}') order by random())
  to '{duck}' (format parquet, compression snappy)""")
"#,
        csv = csv.display(),
        duck = duck.display()
    );
    let out = std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = dir.join("again-duckdb");
    let out = succeeds(&[&"analyze", &"--store", &again, &duck]);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("2880 positions stored"), "{summary}");
    assert!(
        !summary.contains("position reports late"),
        "shuffled rows sorted: {summary}"
    );
}
