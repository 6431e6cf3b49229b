#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! The run layer end to end on a short fixed scenario, against golden files: every event the
//! product finds, and the analysis's flows and exposure, so that a change in any of them
//! shows in review. Regenerate with `SHADOWFLEET_BLESS=1 cargo test -p shadowfleet-run`
//! (in the spirit of DataFusion's `--complete`), and read the diff before committing it.

use std::path::{Path, PathBuf};

use shadowfleet_run::{ingest, Analysis, AnalysisConfig, IngestInput, IngestOptions};
use shadowfleet_simulate::{simulate, Scenario, SimOptions, World};
use shadowfleet_store::{EventFilter, Store};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `text` with the golden file `name`, or rewrites it when blessing.
fn check_golden(name: &str, text: &str) {
    let path = golden(name);
    if std::env::var_os("SHADOWFLEET_BLESS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with SHADOWFLEET_BLESS=1 to write it",
            path.display()
        )
    });
    if want != text {
        let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), text.lines().collect());
        let first = w
            .iter()
            .zip(&g)
            .position(|(a, b)| a != b)
            .unwrap_or(w.len().min(g.len()));
        panic!(
            "{} differs from the run ({} lines golden, {} now); first difference at line {}:\n- {}\n+ {}\n\
             If the change is meant, regenerate with SHADOWFLEET_BLESS=1 and review the diff.",
            path.display(),
            w.len(),
            g.len(),
            first + 1,
            w.get(first).unwrap_or(&""),
            g.get(first).unwrap_or(&"")
        );
    }
}

/// `scenario` simulated into a fresh `dir` (`ais.nmea`), the lists the simulator publishes
/// written beside it (their paths), and the truth's vessels.
fn simulated(
    dir: &Path,
    scenario: &str,
    opts: &SimOptions,
) -> (
    PathBuf,
    Vec<String>,
    Vec<shadowfleet_simulate::truth::Vessel>,
) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let sc = Scenario::load(scenario).unwrap();
    let world = World::load(sc.ais.station_spacing_deg).unwrap();
    let ais = dir.join("ais.nmea");
    let mut truth = Vec::new();
    simulate(
        &sc,
        &world,
        opts,
        std::io::BufWriter::new(std::fs::File::create(&ais).unwrap()),
        &mut truth,
    )
    .unwrap();
    let records =
        shadowfleet_simulate::truth::read_truth(std::str::from_utf8(&truth).unwrap()).unwrap();
    let vessels: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            shadowfleet_simulate::truth::TruthRecord::Vessel(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    let p = shadowfleet_simulate::published::published(&vessels, opts.seed);
    let mut lists = Vec::new();
    for (name, text) in [
        ("sanctions_eu.csv", &p.sanctions_eu),
        ("watchlist.csv", &p.watchlist),
        ("particulars.csv", &p.particulars),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
        lists.push(dir.join(name).display().to_string());
    }
    (ais, lists, vessels)
}

/// `baltic`, seed 21, 3 days, half the fleet: simulated into `dir`, analysed into a store,
/// with the lists the simulator publishes loaded.
fn short_run(dir: &Path) -> PathBuf {
    let opts = SimOptions {
        seed: 21,
        days: Some(3),
        fleet_scale: 0.5,
    };
    let (ais, lists, _) = simulated(dir, "baltic", &opts);
    let store = dir.join("store");
    // Profiled: the golden events below also show that profiling changes nothing.
    let report = ingest(
        &store,
        &[IngestInput::file(&ais)],
        &IngestOptions {
            profile: true,
            ..IngestOptions::default()
        },
    )
    .unwrap();
    let cpu = &report.cpu;
    let names: Vec<&str> = cpu.detectors.iter().map(|d| d.0).collect();
    assert_eq!(names, shadowfleet_events::detectors::SECTIONS);
    assert!(cpu.detectors.iter().all(|d| d.1.is_finite() && d.1 >= 0.0));
    assert!(report.vessels > 0 && cpu.commit_s > 0.0, "{report:?}");
    if shadowfleet_run::cpu::thread_cpu_s().is_some() {
        // The stages' threads said how much CPU they used (not how fast: no timing here).
        assert!(cpu.decode_s + cpu.tracks_s + cpu.detect_s > 0.0, "{cpu:?}");
    }
    let mut s = Store::open_existing(&store).unwrap();
    shadowfleet_run::lists::load_lists(&mut s, &lists, 0).unwrap();
    store
}

#[test]
fn a_short_scenario_gives_the_golden_events_flows_and_exposure() {
    let dir = std::env::temp_dir().join(format!("sf-golden-{}", std::process::id()));
    let store = short_run(&dir);
    let s = Store::open_existing(&store).unwrap();
    // Events as the store holds them (ids by time order), one JSON object per line.
    let events: String = s
        .events(&EventFilter::default())
        .unwrap()
        .iter()
        .map(|e| serde_json::to_string(&e.event).unwrap() + "\n")
        .collect();
    check_golden("baltic-21-3d-events.ndjson", &events);
    let a = Analysis::run(&s, AnalysisConfig::default()).unwrap();
    let flows: String = a
        .traced
        .flows
        .iter()
        .map(|f| serde_json::to_string(f).unwrap() + "\n")
        .collect();
    check_golden("baltic-21-3d-flows.ndjson", &flows);
    let exposure: String = a
        .exposure(None, None)
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    check_golden("baltic-21-3d-exposure.ndjson", &exposure);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The layering `docs/architecture.md` promises: the later stages depend on the records,
/// not on the stages that make them; the API on the run layer, not on decoding.
#[test]
fn dependencies_point_one_way() {
    let crates = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let deps = |krate: &str| -> Vec<String> {
        let text = std::fs::read_to_string(crates.join(krate).join("Cargo.toml")).unwrap();
        let manifest: toml::Table = toml::from_str(&text).unwrap();
        manifest
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default()
    };
    for krate in ["store", "voyages", "risk", "eval"] {
        for forbidden in [
            "shadowfleet-events",
            "shadowfleet-tracks",
            "shadowfleet-identities",
        ] {
            assert!(
                !deps(krate).iter().any(|d| d == forbidden),
                "{krate} depends on {forbidden}"
            );
        }
    }
    for forbidden in [
        "shadowfleet-decode",
        "shadowfleet-ingest",
        "shadowfleet-tracks",
    ] {
        assert!(
            !deps("api").iter().any(|d| d == forbidden),
            "api depends on {forbidden}"
        );
    }
    assert!(deps("records")
        .iter()
        .all(|d| !d.starts_with("shadowfleet-") || d == "shadowfleet-model"));
}

/// Every real corpus in `testdata/ais-real` and `../shared/data/ais-real`, analysed as
/// `shadowfleet analyze` does, with stated expectations: no panic; an input mostly without
/// receive times refused unless allowed, one of which nothing can be read refused; what
/// each leaves out counted by reason (the table in `tests/golden/real-corpora.tsv`, checked
/// line by line); and no spoofing or shared-MMSI finding on logs that hold none (none of
/// them does: they are receivers' and providers' ordinary traffic).
#[test]
fn real_corpora_behave_as_stated() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut roots = vec![("testdata", repo.join("testdata/ais-real"))];
    if let Some(shared) =
        shadowfleet_testkit::shared("ais-real", "real AIS corpora (AGPL and others)")
    {
        roots.push(("shared", shared));
    }
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (tag, root) in &roots {
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if p.is_dir() {
                    stack.push(p);
                } else if !name.ends_with(".md")
                    && !name.ends_with(".json")
                    && !name.ends_with(".chk")
                    && !name.ends_with(".tsv")
                    && !["COPYING", "LICENSE", "NOTICE.txt", "LICENSE-APACHE-2.0.txt"]
                        .contains(&name.as_str())
                {
                    let rel = p.strip_prefix(root).unwrap().display().to_string();
                    files.push((format!("{tag}/{rel}"), p));
                }
            }
        }
    }
    files.sort();
    let dir = std::env::temp_dir().join(format!("sf-real-{}", std::process::id()));
    let mut table = String::from("# file\toutcome\tmessages\tpositions\tevents\tleft out\n");
    let mut accused = Vec::new();
    for (i, (name, path)) in files.iter().enumerate() {
        let store = dir.join(format!("s{i}"));
        let mut options = IngestOptions::default();
        let (outcome, report) = match ingest(&store, &[IngestInput::file(path)], &options) {
            Ok(r) => ("analysed", Some(r)),
            Err(e) if format!("{e:#}").contains("have no receive time") => {
                // Refused as it should be; analysed when allowed.
                options.allow_untimed = true;
                let _ = std::fs::remove_dir_all(&store);
                let r = ingest(&store, &[IngestInput::file(path)], &options).unwrap();
                ("untimed", Some(r))
            }
            Err(e) if format!("{e:#}").contains("no AIS message could be read") => {
                ("unreadable", None)
            }
            Err(e) => panic!("{name}: {e:#}"),
        };
        let Some(r) = report else {
            table.push_str(&format!("{name}\t{outcome}\t0\t0\t-\t-\n"));
            continue;
        };
        let events: Vec<String> = r
            .events
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k}:{n}"))
            .collect();
        table.push_str(&format!(
            "{name}\t{outcome}\t{}\t{}\t{}\t{}\n",
            r.messages,
            r.positions,
            events.join(","),
            serde_json::to_string(&r.dropped).unwrap()
        ));
        let s = Store::open_existing(&store).unwrap();
        for e in s.events(&EventFilter::default()).unwrap() {
            let shared = matches!(&e.event.details, shadowfleet_records::EventDetails::IdentityChange(c) if c.change == shadowfleet_records::ChangeKind::SharedMmsi);
            if e.event.kind() == shadowfleet_records::EventKind::Spoofing || shared {
                accused.push(format!("{name}: {} {}", e.event.kind(), e.event.mmsi));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        accused.is_empty(),
        "findings on logs that hold none: {accused:?}"
    );
    // The table of what each file gave, line by line; without the shared folder only the
    // repository's files are compared.
    if roots.len() == 2 {
        check_golden("real-corpora.tsv", &table);
    } else {
        let want = std::fs::read_to_string(golden("real-corpora.tsv")).unwrap_or_default();
        for line in table.lines().filter(|l| l.starts_with("testdata/")) {
            assert!(want.lines().any(|w| w == line), "not as stated: {line}");
        }
    }
}

/// `baltic` simulated with `opts` into a fresh directory named by `tag`, analysed into a
/// store with the lists the simulator publishes loaded: the store, the AIS file, the lists
/// and the truth's vessels.
fn listed_store(
    tag: &str,
    opts: &SimOptions,
) -> (
    PathBuf,
    PathBuf,
    Vec<String>,
    Vec<shadowfleet_simulate::truth::Vessel>,
) {
    // Under the target's scratch directory with a fixed name: a later run replaces it
    // (stores under the system's temporary directory, named by process, piled up).
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("listed-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    let (ais, lists, vessels) = simulated(&dir, "baltic", opts);
    let store = dir.join("store");
    ingest(
        &store,
        &[IngestInput::file(&ais)],
        &IngestOptions::default(),
    )
    .unwrap();
    let mut s = Store::open_existing(&store).unwrap();
    shadowfleet_run::lists::load_lists(&mut s, &lists, 0).unwrap();
    (store, ais, lists, vessels)
}

/// A store of 30 days of `baltic` (seed 33) with the published lists: designations spread
/// before, during and after the data.
fn backtest_store(
    tag: &str,
) -> (
    PathBuf,
    Vec<String>,
    Vec<shadowfleet_simulate::truth::Vessel>,
) {
    let opts = SimOptions {
        seed: 33,
        days: Some(30),
        fleet_scale: 0.6,
    };
    let (store, _, lists, vessels) = listed_store(&format!("backtest-{tag}"), &opts);
    (store, lists, vessels)
}

#[test]
fn backtest_ranks_later_designated_tankers_from_the_past_only() {
    let (store, lists, vessels) = backtest_store("rank");
    let s = Store::open_existing(&store).unwrap();
    let config = shadowfleet_run::AnalysisConfig::default();
    let b = shadowfleet_run::backtest::backtest(&s, &config, 20).unwrap();
    // The truth's designations that fall in the data or after it are what is ranked.
    let later: usize = vessels
        .iter()
        .filter(|v| {
            v.designated_on
                .as_deref()
                .is_some_and(|d| d >= b.data.0.as_str())
        })
        .count();
    assert!(later > 5, "{later} designations during or after the data");
    assert!(!b.months.is_empty(), "{b:?}");
    for m in &b.months {
        assert!(
            m.hits <= m.later_designated && m.later_designated <= m.ranked,
            "{m:?}"
        );
        assert!(m.top.len() <= 20);
        // No vessel designated before the month is ranked in it.
        for r in &m.top {
            if let Some(d) = &r.designated_on {
                assert!(d.as_str() >= format!("{}-01", m.month).as_str(), "{r:?}");
            }
        }
    }
    // Better than a random ranking over all months together.
    let hits: usize = b.months.iter().map(|m| m.hits).sum();
    let flagged: usize = b.months.iter().map(|m| m.top.len()).sum();
    let base: f64 = b
        .months
        .iter()
        .map(|m| m.base_rate * m.top.len() as f64)
        .sum();
    assert!(
        hits as f64 > base,
        "{hits} hits of {flagged} flagged; a random ranking expects {base:.1}"
    );
    assert_eq!(b.lead_weeks.len(), b.designated_in_top_k);
    assert!(b.lead_weeks.iter().all(|w| *w >= 0.0), "{:?}", b.lead_weeks);
    drop(lists);
}

/// A score that reads the future is caught: with every designation date moved past the end
/// of the data, the ranking at a month inside the data must be the ranking with no sanctions
/// list at all (a leaky ranking would still see the listings); with the true dates, the
/// listings made before the month do change it.
#[test]
fn backtest_ranking_does_not_read_designations_from_the_future() {
    let (store, lists, _) = backtest_store("leak");
    let config = shadowfleet_run::AnalysisConfig::default();
    let s = Store::open_existing(&store).unwrap();
    let ids = s.identities().unwrap();
    let start = ids.iter().map(|i| i.first_seen).min().unwrap();
    let cutoff = start + 20 * 86_400;
    let ranking = |s: &Store| {
        shadowfleet_run::backtest::ranking_before(s, &config, cutoff)
            .unwrap()
            .into_iter()
            .map(|(k, score, _)| (k, (score * 1e6).round()))
            .collect::<Vec<_>>()
    };
    let true_dates = ranking(&s);
    // The exposure says whether the oil was delivered by a vessel sanctioned then or only
    // later: (then, later, undated) barrels over every row.
    let sanctioned = |s: &Store| {
        let rows = Analysis::run(s, config.clone())
            .unwrap()
            .exposure(None, None);
        rows.iter().fold([0.0f64; 3], |acc, r| {
            let shares = [
                r.sanctioned_then_share,
                r.sanctioned_later_share,
                r.sanctioned_undated_share,
            ];
            assert!(shares.iter().sum::<f64>() <= 1.0 + 1e-9, "{r:?}");
            std::array::from_fn(|i| acc[i] + shares[i] * r.volume_bbl)
        })
    };
    let with_true_dates = sanctioned(&s);
    assert!(with_true_dates[0] > 0.0, "{with_true_dates:?}");
    assert_eq!(
        with_true_dates[2], 0.0,
        "the simulator's list dates every entry"
    );
    drop(s);
    // The sanctions list with every date of application in 2030.
    let eu = lists
        .iter()
        .find(|l| l.ends_with("sanctions_eu.csv"))
        .unwrap();
    let text = std::fs::read_to_string(eu).unwrap();
    let shifted: String = text
        .lines()
        .map(|l| match l.rsplit_once(';') {
            Some((head, d)) if d.len() == 10 && d.as_bytes()[2] == b'.' => {
                format!("{head};{}2030\r\n", &d[..6])
            }
            _ => format!("{l}\r\n"),
        })
        .collect();
    std::fs::write(eu, shifted).unwrap();
    let mut s = Store::open_existing(&store).unwrap();
    shadowfleet_run::lists::load_lists(&mut s, std::slice::from_ref(eu), 0).unwrap();
    let future_dates = ranking(&s);
    // Listed in 2030: every sanctioned delivery was made before the listing.
    let with_future_dates = sanctioned(&s);
    assert_eq!(with_future_dates[0], 0.0, "{with_future_dates:?}");
    assert!(
        (with_future_dates[1] - with_true_dates[0] - with_true_dates[1]).abs() < 1.0,
        "{with_true_dates:?} then {with_future_dates:?}"
    );
    // And with no listing of any vessel of the data (one entry for a ship it never saw; watch
    // list entries carry no dates: left out in both).
    let dir = store.parent().unwrap().join("nolist");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let none = dir.join("sanctions_eu.csv");
    std::fs::write(
        &none,
        "Vessel name;IMO number ;Date of application\r\nNOBODY;1234567;01.01.2020\r\n",
    )
    .unwrap();
    shadowfleet_run::lists::load_lists(&mut s, &[none.display().to_string()], 0).unwrap();
    let no_list = ranking(&s);
    assert_eq!(
        future_dates, no_list,
        "the ranking read designations made after the cutoff"
    );
    assert_ne!(
        true_dates, no_list,
        "designations before the cutoff should count"
    );
}

/// `baltic`, seed 7, 15 days, 0.3 of the fleet (two gaps and three encounters), analysed
/// into a store with the published lists; the AIS file's path.
fn evidence_store() -> (PathBuf, PathBuf) {
    let opts = SimOptions {
        seed: 7,
        days: Some(15),
        fleet_scale: 0.3,
    };
    let (store, ais, _, _) = listed_store("evidence", &opts);
    (store, ais)
}

/// `pack` with one member replaced and the manifest's hashes rewritten, as a forger would.
fn forged(
    pack: &shadowfleet_run::evidence::Pack,
    name: &str,
    bytes: Vec<u8>,
) -> shadowfleet_run::evidence::Pack {
    let mut p = pack.clone();
    p.set_member(name, bytes);
    p.reseal().unwrap();
    p
}

/// Fails unless `verify` named a difference that `says`.
fn assert_differs(v: &shadowfleet_run::evidence::Verification, says: impl Fn(&str) -> bool) {
    assert!(v.problems.iter().any(|p| says(p)), "{:?}", v.problems);
}

fn member_json(pack: &shadowfleet_run::evidence::Pack, name: &str) -> serde_json::Value {
    serde_json::from_slice(pack.member(name).unwrap()).unwrap()
}

#[test]
fn evidence_packs_verify_and_catch_an_altered_line_threshold_or_event() {
    use shadowfleet_records::EventKind;
    use shadowfleet_run::evidence::{Pack, PackOptions, Target};
    let (store_dir, ais) = evidence_store();
    let store = Store::open_existing(&store_dir).unwrap();
    let analysis = Analysis::run(&store, AnalysisConfig::default()).unwrap();
    let events = store.events(&EventFilter::default()).unwrap();
    let first = |k: EventKind| events.iter().find(|e| e.event.kind() == k).unwrap().clone();
    let (gap, sts) = (first(EventKind::Gap), first(EventKind::Encounter));

    // Provenance: each stored position says where its bytes are in the input; those bytes
    // decode to the same report.
    let input = std::fs::read(&ais).unwrap();
    let mut checked = 0;
    store
        .read_positions(
            &shadowfleet_store::PositionQuery {
                mmsis: vec![gap.event.mmsi, sts.event.mmsi],
                from: None,
                to: None,
            },
            &mut |p| {
                let src = p.position.source;
                assert!(src.is_known() && src.input == 0, "{p:?}");
                let at = src.offset as usize;
                let bytes = &input[at..at + src.length as usize];
                assert!(
                    at == 0 || input[at - 1] == b'\n',
                    "{p:?} does not start a line"
                );
                let mut got: Vec<shadowfleet_decode::Decoded> = Vec::new();
                let mut d = shadowfleet_decode::Decoder::default();
                d.push(bytes, &mut got);
                d.finish(&mut got);
                let same = got.iter().any(|m| {
                    m.message.header.mmsi == p.position.mmsi
                        && m.meta.received.map(|t| t.unix_millis() / 1000) == Some(p.position.t)
                        && m.message.position().is_some_and(|q| {
                            (q.lat - p.position.pos.lat).abs() < 1e-6
                                && (q.lon - p.position.pos.lon).abs() < 1e-6
                        })
                });
                assert!(same, "{p:?}: {:?}", String::from_utf8_lossy(bytes));
                checked += 1;
            },
        )
        .unwrap();
    assert!(checked > 100, "{checked} positions checked");

    for e in [&gap, &sts] {
        let pack = Pack::build(
            &store,
            &analysis,
            &Target::Event(e.id),
            &PackOptions::default(),
        )
        .unwrap();
        let manifest = pack.manifest().unwrap();
        let status = manifest["reproduction"][0]["status"].as_str().unwrap();
        assert!(
            status == "exact" || status == "core",
            "{} {}: {manifest:#}",
            e.event.kind(),
            e.id
        );
        // Through the zip and back, checked against the original input.
        let pack = Pack::read_zip(std::io::Cursor::new(pack.to_zip_bytes().unwrap())).unwrap();
        let v = pack.verify(std::slice::from_ref(&ais)).unwrap();
        assert!(v.ok(), "{} {}: {:?}", e.event.kind(), e.id, v.problems);
        assert!(
            v.passed
                .iter()
                .any(|p| p.contains("bytes at their offsets")),
            "{:?}",
            v.passed
        );
        // What a reader needs is there.
        for name in [
            "README.txt",
            "raw/1.nmea",
            "raw/1.index.csv",
            "decoded.ndjson",
            "events.json",
            "config.toml",
            "vessels.json",
            "track.geojson",
            "map.svg",
            "imagery.json",
            "LICENSES.txt",
        ] {
            assert!(
                pack.member(name).is_some_and(|b| !b.is_empty()),
                "{name} missing"
            );
        }
        let readme = String::from_utf8(pack.member("README.txt").unwrap().to_vec()).unwrap();
        assert!(readme.contains("not a legal determination"), "{readme}");
        let imagery = member_json(&pack, "imagery.json");
        assert!(
            imagery[0]["sentinel_1"]
                .as_str()
                .unwrap()
                .starts_with("https://browser.dataspace.copernicus.eu/"),
            "{imagery}"
        );
    }

    let pack = Pack::build(
        &store,
        &analysis,
        &Target::Event(gap.id),
        &PackOptions::default(),
    )
    .unwrap();

    // One raw line altered: the report that ended the gap (its checksum no longer holds, so
    // the decoder rejects it). Caught by the hashes, and, resealed as a forger would, by
    // re-running the detector.
    let decoded = String::from_utf8(pack.member("decoded.ndjson").unwrap().to_vec()).unwrap();
    let end = shadowfleet_model::Timestamp::from_unix_seconds(gap.event.end).to_string();
    let line_no = decoded
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|d| d["mmsi"] == gap.event.mmsi && d["received"] == end.as_str())
        .map(|d| d["pack_line"].as_u64().unwrap() as usize)
        .unwrap();
    let raw = pack.member("raw/1.nmea").unwrap();
    let mut lines: Vec<Vec<u8>> = raw
        .split_inclusive(|&c| c == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    let line = &mut lines[line_no - 1];
    let comma = line.iter().rposition(|&c| c == b',').unwrap();
    let payload = line[..comma].iter().rposition(|&c| c == b',').unwrap() - 2;
    line[payload] = if line[payload] == b'0' { b'1' } else { b'0' };
    let raw_altered = lines.concat();
    let mut altered = pack.clone();
    altered.set_member("raw/1.nmea", raw_altered.clone());
    let v = altered.verify(&[]).unwrap();
    assert_differs(&v, |p| p.starts_with("raw/1.nmea: changed"));
    assert_differs(&v, |p| p.contains(&format!("raw/1.nmea line {line_no} ")));
    let v = forged(&pack, "raw/1.nmea", raw_altered)
        .verify(std::slice::from_ref(&ais))
        .unwrap();
    assert_differs(&v, |p| p.contains(&format!("event {}", gap.id)));
    assert_differs(&v, |p| {
        p.contains(&format!("line {line_no} is not the bytes"))
    });

    // One threshold altered: gaps shorter than this one are all that is reported.
    let hours = (gap.event.end - gap.event.start) as f64 / 3600.0;
    let config = String::from_utf8(pack.member("config.toml").unwrap().to_vec()).unwrap();
    let mut table: toml::Table = toml::from_str(&config).unwrap();
    table["gaps"]["min_hours"] = toml::Value::Float(hours + 1.0);
    let v = forged(
        &pack,
        "config.toml",
        toml::to_string(&table).unwrap().into_bytes(),
    )
    .verify(&[])
    .unwrap();
    assert_differs(&v, |p| p.contains("threshold gaps.min_hours"));
    assert_differs(&v, |p| {
        p.contains(&format!("event {}", gap.id)) && p.contains("does not come out")
    });

    // The event's end time altered.
    let mut events_json = member_json(&pack, "events.json");
    events_json[0]["event"]["end"] = serde_json::json!(gap.event.end + 600);
    let v = forged(
        &pack,
        "events.json",
        serde_json::to_vec(&events_json).unwrap(),
    )
    .verify(&[])
    .unwrap();
    assert_differs(&v, |p| {
        p.contains(&format!("event {}", gap.id)) && p.contains("end:")
    });

    // A pack for the vessel: every event of its hull in the run.
    let mmsis =
        shadowfleet_run::evidence::vessel_mmsis(&analysis, &sts.event.mmsi.to_string()).unwrap();
    let pack = Pack::build(
        &store,
        &analysis,
        &Target::Vessel(mmsis),
        &PackOptions::default(),
    )
    .unwrap();
    let ids = pack.manifest().unwrap()["events"].as_array().unwrap().len();
    let of_vessel = events
        .iter()
        .filter(|e| e.event.mmsi == sts.event.mmsi || e.event.other_mmsi == Some(sts.event.mmsi))
        .count();
    assert!(
        ids >= of_vessel,
        "{ids} events in the pack, {of_vessel} of the vessel"
    );

    // An input that changed after the run cannot back a finding.
    let copy = store_dir.parent().unwrap().join("moved");
    std::fs::create_dir_all(&copy).unwrap();
    let mut bytes = std::fs::read(&ais).unwrap();
    bytes.extend_from_slice(b"# appended\n");
    std::fs::write(copy.join("ais.nmea"), bytes).unwrap();
    std::fs::rename(&ais, copy.join("original.nmea")).unwrap();
    let err = Pack::build(
        &store,
        &analysis,
        &Target::Event(gap.id),
        &PackOptions {
            input_dirs: vec![copy.clone()],
            ..PackOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("the files found differ"), "{err}");
    let _ = std::fs::remove_dir_all(store_dir.parent().unwrap());
}

/// Whether `line` begins an AIS message: a single sentence or the first of several (a file
/// is never cut between the sentences of one message).
fn begins_message(line: &str) -> bool {
    let Some(at) = line.find("VDM,").or_else(|| line.find("VDO,")) else {
        return true;
    };
    let mut fields = line[at + 4..].split(',');
    let _count = fields.next();
    fields.next() == Some("1")
}

/// `ais` cut into files in `dir` before the lines at `cuts` (indices of lines that begin a
/// message), in order.
fn cut_into(ais: &Path, dir: &Path, cuts: &[usize]) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(ais).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::create_dir_all(dir).unwrap();
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(lines.len());
    bounds
        .windows(2)
        .enumerate()
        .map(|(k, w)| {
            let path = dir.join(format!("{k:02}.nmea"));
            let mut body = lines[w[0]..w[1]].join("\n");
            body.push('\n');
            std::fs::write(&path, body).unwrap();
            path
        })
        .collect()
}

/// Everything a store says was found, in a canonical order: the events (without their
/// ids), the identity periods, and how many positions it holds.
fn findings(store: &Path) -> (Vec<String>, Vec<String>, u64) {
    let s = Store::open_existing(store).unwrap();
    let mut events: Vec<String> = s
        .events(&EventFilter::default())
        .unwrap()
        .into_iter()
        .map(|e| serde_json::to_string(&e.event).unwrap())
        .collect();
    events.sort();
    let mut ids: Vec<String> = s
        .identities()
        .unwrap()
        .iter()
        .map(|i| serde_json::to_string(i).unwrap())
        .collect();
    ids.sort();
    (events, ids, s.position_count().unwrap())
}

fn ingest_each(store: &Path, files: &[PathBuf]) -> Vec<shadowfleet_run::IngestReport> {
    files
        .iter()
        .map(|f| ingest(store, &[IngestInput::file(f)], &IngestOptions::default()).unwrap())
        .collect()
}

#[test]
fn runs_continue_day_after_day_as_one_run_over_all() {
    let dir = std::env::temp_dir().join(format!("sf-continue-{}", std::process::id()));
    // The case: 14 days of `baltic` (half the fleet, to keep CI short).
    let opts = SimOptions {
        seed: 33,
        days: Some(14),
        fleet_scale: 0.5,
    };
    let (ais, _, _) = simulated(&dir, "baltic", &opts);
    let whole = findings(&{
        let store = dir.join("whole");
        ingest(
            &store,
            &[IngestInput::file(&ais)],
            &IngestOptions::default(),
        )
        .unwrap();
        store
    });
    assert!(whole.0.len() > 100, "{} events", whole.0.len());
    let text = std::fs::read_to_string(&ais).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // Daily files, cut where the receive times first reach each midnight.
    let mut midnights = Vec::new();
    let mut day = None;
    for (k, line) in lines.iter().enumerate() {
        let Some(t) = shadowfleet_testkit::tag_time(line) else {
            continue;
        };
        let d = t.div_euclid(86_400);
        match day {
            None => day = Some(d),
            Some(cur) if d == cur + 1 && begins_message(line) => {
                midnights.push(k);
                day = Some(d);
            }
            _ => {}
        }
    }
    // Fourteen days: thirteen midnights, and one more when the last lines arrive after it.
    assert!((13..=14).contains(&midnights.len()), "{midnights:?}");
    // And the same at random points.
    let mut rng = shadowfleet_testkit::Xorshift::new(0x5eed_1234);
    let mut random: Vec<usize> = (0..6)
        .map(|_| {
            let mut k = 1 + rng.below(lines.len() - 2);
            while !begins_message(lines[k]) {
                k += 1;
            }
            k
        })
        .collect();
    random.sort_unstable();
    random.dedup();
    for (name, cuts) in [("daily", midnights), ("random", random)] {
        let files = cut_into(&ais, &dir.join(name), &cuts);
        let store = dir.join(format!("{name}-store"));
        let reports = ingest_each(&store, &files);
        for (k, r) in reports.iter().enumerate().skip(1) {
            assert_eq!(
                r.continued_from,
                Some(k as i64),
                "{name} run {}: {r:?}",
                k + 1
            );
            assert!(r.state_note.is_none(), "{:?}", r.state_note);
        }
        let split = findings(&store);
        let only_whole: Vec<&String> = whole.0.iter().filter(|e| !split.0.contains(e)).collect();
        let only_split: Vec<&String> = split.0.iter().filter(|e| !whole.0.contains(e)).collect();
        assert!(
            only_whole.is_empty() && only_split.is_empty(),
            "{name}: {} events only in the one run, {} only in the split runs:\n{}\n---\n{}",
            only_whole.len(),
            only_split.len(),
            only_whole
                .iter()
                .take(5)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            only_split
                .iter()
                .take(5)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert_eq!(split.1, whole.1, "{name}: identity periods");
        assert_eq!(split.2, whole.2, "{name}: positions stored");

        // A file already ingested changes nothing.
        let again = ingest(
            &store,
            &[IngestInput::file(&files[1])],
            &IngestOptions::default(),
        )
        .unwrap();
        assert_eq!(again.run, None);
        assert_eq!(again.skipped.len(), 1);
        assert_eq!(
            findings(&store),
            split,
            "{name}: re-ingesting changed the store"
        );
    }

    // Older data after newer is analysed on its own, none of it counted late, and the
    // state stays with the newer run.
    let files = cut_into(&ais, &dir.join("backfill"), &[lines.len() / 2]);
    let store = dir.join("backfill-store");
    ingest_each(&store, &[files[1].clone()]);
    let older = ingest(
        &store,
        &[IngestInput::file(&files[0])],
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(older.continued_from, None);
    assert!(
        older
            .state_note
            .as_deref()
            .is_some_and(|n| n.contains("older data")),
        "{:?}",
        older.state_note
    );
    assert!(older.late < 100, "{} late", older.late);
    let s = Store::open_existing(&store).unwrap();
    assert_eq!(s.saved_state().unwrap().unwrap().run, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
