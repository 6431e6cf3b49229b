#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! The detectors, the cargo tracer, the risk score and the exposure scored on simulated
//! scenarios with fixed seeds, through the run layer the product runs: the simulated AIS is
//! analysed into a store (`shadowfleet analyze`), the lists the simulator publishes are
//! loaded (`shadowfleet screen --lists`), and the analysis of the store (`flows`,
//! `exposure`) is scored against the truth.

use std::path::{Path, PathBuf};

use shadowfleet_eval::{evaluate, evaluate_flows, evaluate_risk, Evaluation, MatchRules};
use shadowfleet_records::EventKind;
use shadowfleet_run::{ingest, Analysis, AnalysisConfig, IngestInput, IngestOptions};
use shadowfleet_simulate::truth::{read_truth, TruthRecord};
use shadowfleet_simulate::{simulate, Scenario, SimOptions, World};
use shadowfleet_store::{EventFilter, Store};

/// A simulated scenario analysed into a store.
struct Run {
    truth: Vec<TruthRecord>,
    dir: PathBuf,
    store: PathBuf,
}

impl Drop for Run {
    fn drop(&mut self) {
        if std::env::var_os("SHADOWFLEET_DUMP_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Simulates `days` of `scenario` into a working directory (AIS, truth and the published
/// lists, as `shadowfleet simulate` writes them) and analyses the AIS into a store there.
fn run_pipeline(scenario: &str, seed: u64, days: u32, fleet_scale: f64) -> (Evaluation, Run) {
    run_input(scenario, seed, days, fleet_scale, None)
}

/// [`run_pipeline`]; with `export: Some(minutes)` the store is analysed from the sampled,
/// shuffled portal export of the AIS (`shadowfleet simulate --export-csv MINUTES`) instead.
fn run_input(
    scenario: &str,
    seed: u64,
    days: u32,
    fleet_scale: f64,
    export: Option<u32>,
) -> (Evaluation, Run) {
    let opts = SimOptions {
        seed,
        days: Some(days),
        fleet_scale,
    };
    let dir = std::env::temp_dir().join(format!(
        "sf-eval-{scenario}-{seed}-{days}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sc = Scenario::load(scenario).unwrap();
    let world = World::load(sc.ais.station_spacing_deg).unwrap();
    let ais_path = dir.join("ais.nmea");
    let mut truth_text = Vec::new();
    let report = simulate(
        &sc,
        &world,
        &opts,
        std::io::BufWriter::new(std::fs::File::create(&ais_path).unwrap()),
        &mut truth_text,
    )
    .unwrap();
    let truth = read_truth(std::str::from_utf8(&truth_text).unwrap()).unwrap();
    write_published(&dir, &truth, seed);
    let input = match export {
        None => ais_path.clone(),
        Some(minutes) => {
            let csv = dir.join("positions.csv");
            let mut out = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
            let ais = std::io::BufReader::new(std::fs::File::open(&ais_path).unwrap());
            let r =
                shadowfleet_simulate::export::sampled_export(ais, minutes, seed, &mut out).unwrap();
            std::io::Write::flush(&mut out).unwrap();
            eprintln!("export: {r:?}");
            csv
        }
    };
    let store = dir.join("store");
    ingest(
        &store,
        &[IngestInput::file(&input)],
        &IngestOptions::default(),
    )
    .unwrap();
    let events: Vec<_> = Store::open_existing(&store)
        .unwrap()
        .events(&EventFilter::default())
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    let dropped = Store::open_existing(&store)
        .unwrap()
        .dropped_total()
        .unwrap();
    let eval = evaluate(&truth, &events, MatchRules::default()).with_artefacts(&truth, &dropped);
    eprintln!(
        "{scenario} seed {seed}, {days} days, fleet x{fleet_scale}: {} vessels, {} messages\n{}",
        report.vessels,
        report.ais.messages,
        eval.to_text()
    );
    (eval, Run { truth, dir, store })
}

/// The lists the simulator publishes beside its truth (`sanctions_eu.csv`, `watchlist.csv`,
/// `particulars.csv`).
fn write_published(dir: &Path, truth: &[TruthRecord], seed: u64) {
    let vessels: Vec<_> = truth
        .iter()
        .filter_map(|r| match r {
            TruthRecord::Vessel(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    let p = shadowfleet_simulate::published::published(&vessels, seed);
    for (name, text) in [
        ("sanctions_eu.csv", &p.sanctions_eu),
        ("watchlist.csv", &p.watchlist),
        ("particulars.csv", &p.particulars),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn check(eval: &Evaluation) {
    for (kind, min) in [
        (EventKind::Gap, 0.9),
        (EventKind::Encounter, 0.9),
        (EventKind::PortCall, 0.9),
        (EventKind::Spoofing, 0.8),
        (EventKind::IdentityChange, 0.8),
    ] {
        let k = eval.kind(kind).unwrap();
        assert!(
            k.truth >= 3,
            "{kind}: only {} truth events, too few to measure",
            k.truth
        );
        assert!(k.f1 >= min, "{kind}: F1 {:.3} < {min}", k.f1);
    }
    // Area-wide interference, where an episode displaced enough vessels to tell.
    let i = eval.kind(EventKind::Interference).unwrap();
    if i.truth >= 3 {
        assert!(i.f1 >= 0.8, "interference: F1 {:.3} < 0.8", i.f1);
    }
    // The receiver artefacts the scenarios switch on: untimed reports are all counted (none
    // silently lost), and most late relays are recognised (the rest fit their track: a relay
    // of a ship at anchor lies where it is).
    let a = eval.artefacts.expect("the truth's artefacts record");
    assert!(a.untimed_positions.0 > 0 && a.late_relays.0 > 0, "{a:?}");
    assert!(
        a.untimed_positions.1 as f64 >= 0.99 * a.untimed_positions.0 as f64,
        "{a:?}"
    );
    assert!(
        a.late_relays.1 as f64 >= 0.8 * a.late_relays.0 as f64,
        "{a:?}"
    );
    assert!(
        a.late_relays.1 <= a.late_relays.0 + a.late_relays.0 / 100,
        "{a:?}"
    );
}

#[test]
fn baltic_detectors_meet_their_f1_targets() {
    check(&run_pipeline("baltic", 11, 21, 1.0).0);
}

#[test]
fn global_detectors_meet_their_f1_targets() {
    check(&run_pipeline("global", 12, 14, 0.5).0);
}

/// What analysts hold: a portal's export, one position per vessel every 3 minutes, rows
/// shuffled, read in time order whatever the order. Measured on 2026-12-02 (baltic seed 5,
/// 14 days; the NMEA of the same run in brackets): gap 0.706 (0.889), encounter 0.833
/// (0.833), loitering 0.823, port call 0.998, spoofing 1.000, identity 1.000, interference
/// 1.000. Gaps lose most: a portal keeps one position per MMSI per interval, so of two ships
/// sharing an MMSI one goes unheard for hours. The floors sit below those figures.
#[test]
fn a_sampled_shuffled_export_keeps_its_measured_scores() {
    let (eval, _run) = run_input("baltic", 5, 14, 1.0, Some(3));
    for (kind, min) in [
        (EventKind::Gap, 0.65),
        (EventKind::Encounter, 0.8),
        (EventKind::Loitering, 0.75),
        (EventKind::PortCall, 0.95),
        (EventKind::Spoofing, 0.8),
        (EventKind::IdentityChange, 0.9),
    ] {
        let k = eval.kind(kind).unwrap();
        assert!(
            k.truth >= 3 && k.f1 >= min,
            "{kind}: F1 {:.3} < {min}",
            k.f1
        );
    }
}

/// Loads the published lists into the run's store and scores the product's analysis of it:
/// the exposure of Russian oil, the STS chains and the risk score against the truth.
fn score_flows(run: &Run) -> (shadowfleet_eval::FlowScore, f64) {
    let mut store = Store::open_existing(&run.store).unwrap();
    let lists: Vec<String> = ["sanctions_eu.csv", "watchlist.csv", "particulars.csv"]
        .iter()
        .map(|n| run.dir.join(n).display().to_string())
        .collect();
    shadowfleet_run::lists::load_lists(&mut store, &lists, 0).unwrap();
    let a = Analysis::run(&store, AnalysisConfig::default()).unwrap();
    let risk = evaluate_risk(&run.truth, &a.risks);
    eprintln!(
        "risk: ROC AUC {:.3} over {} tankers ({} shadow)",
        risk.roc_auc, risk.tankers, risk.shadow
    );
    let rows = a.exposure(None, None);
    let score = evaluate_flows(&run.truth, &rows, &a.traced, "RU");
    eprintln!("{}", score.to_text());
    (score, risk.roc_auc)
}

fn check_flows((score, auc): &(shadowfleet_eval::FlowScore, f64), min_sts: usize) {
    assert!(*auc >= 0.95, "risk score ROC AUC {auc:.3} < 0.95");
    assert!(
        score.top_countries.len() >= 3,
        "too few destination countries to measure"
    );
    for c in &score.top_countries {
        assert!(
            c.error.abs() <= 0.10,
            "{}: estimate {:.0} bbl vs truth {:.0} bbl ({:+.1} %)",
            c.country,
            c.estimate_bbl,
            c.truth_bbl,
            c.error * 100.0
        );
    }
    assert!(
        score.coverage() >= 0.9,
        "interval coverage {:.3}",
        score.coverage()
    );
    assert!(
        score.sts_cargoes >= min_sts,
        "only {} STS cargoes",
        score.sts_cargoes
    );
    assert!(
        score.sts_accuracy() >= 0.9,
        "STS chain attribution {:.3}",
        score.sts_accuracy()
    );
}

#[test]
fn baltic_flows_exposure_and_risk_match_truth() {
    let (_, run) = run_pipeline("baltic", 11, 45, 1.0);
    check_flows(&score_flows(&run), 5);
}

#[test]
fn global_flows_exposure_and_risk_match_truth() {
    let (_, run) = run_pipeline("global", 12, 45, 0.5);
    check_flows(&score_flows(&run), 3);
}

/// A seed nothing was tuned on.
#[test]
fn baltic_flows_on_an_untuned_seed() {
    let (_, run) = run_pipeline("baltic", 3, 45, 1.0);
    check_flows(&score_flows(&run), 5);
}

/// The ceasefire monitor on `black_sea` (45 days, the whole fleet), through the analysis the
/// product runs: weekly port calls and departures of the Ukrainian, occupied and Russian
/// ports and the gate transits against truth, the spoofing clusters against the
/// interference episodes, and the port closure (a strike) against the change points.
fn check_ceasefire(seed: u64) {
    let (_, run) = run_pipeline("black_sea", seed, 45, 1.0);
    let store = Store::open_existing(&run.store).unwrap();
    let a = Analysis::run(&store, AnalysisConfig::default()).unwrap();
    let land = shadowfleet_geo::Land::natural_earth_10m().unwrap();
    let places = shadowfleet_places::Places::embedded(&land).unwrap();
    let score = shadowfleet_eval::ceasefire::monitor_and_score(
        &run.truth,
        &store,
        &places,
        &shadowfleet_ceasefire::Inputs {
            events: &a.events,
            identities: &a.identities,
            matches: &a.matches,
            land: &land,
            port_entry_km: shadowfleet_run::config::port_call_entry_km(&store, &a.events).unwrap(),
        },
    )
    .unwrap()
    .expect("black_sea truth has gate transits and a closure");
    eprintln!("black_sea seed {seed}:\n{}", score.to_text());
    let mut bad = Vec::new();
    for s in &score.series {
        // Every port's arrivals and departures, every gate direction and every queue within
        // 5 % over the weeks (the target). Until 2026-12-07 the arrivals were held
        // to 10 %, then to two calls' worth of weekly error: the truth timed a call by its
        // arrival at the anchorage, the monitor by its entry into the port's circle; the
        // truth now records the way in and `eval` times the entry.
        let limit = 5.0;
        if s.truth >= 10 && s.wape_pct > limit {
            bad.push(format!(
                "{} {}: {:.1} % > {limit} %",
                s.metric, s.place, s.wape_pct
            ));
        }
    }
    assert!(bad.is_empty(), "{bad:?}");
    assert!(
        score.spoof_episodes > 0
            && score.spoof_episodes_found as f64 >= 0.9 * score.spoof_episodes as f64,
        "{} of {} episodes",
        score.spoof_episodes_found,
        score.spoof_episodes
    );
    // No cluster of the monitor matches no interference episode (a lone spoofer, a shared
    // MMSI's alternating reports are not interference).
    assert_eq!(score.clusters_unmatched, 0);
    let c = &score.closures[0];
    assert_eq!(c.port, "UA-ODESA");
    // The strike shows as a change point within three days of its onset and of its end.
    // The truth's own departures hold the evidence for it (on seed 2 since the corridor
    // fleet has the 2024 rate; docs/ceasefire.md reports the evidence over seeds).
    assert!(c.detectable, "{c:?}");
    assert!(c.onset_error_days.is_some_and(|d| d.abs() <= 3), "{c:?}");
    assert!(c.end_error_days.is_some_and(|d| d.abs() <= 3), "{c:?}");
}

#[test]
fn the_ceasefire_monitor_matches_black_sea_truth() {
    check_ceasefire(2);
}
