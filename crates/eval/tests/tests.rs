#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! The detectors scored on simulated scenarios with fixed seeds.

use shadowfleet_decode::{Decoded, Decoder, DecoderConfig};
use shadowfleet_eval::{evaluate, Evaluation, MatchRules};
use shadowfleet_events::{DetectorConfig, Event, EventKind, Pipeline, PipelineOutput};
use shadowfleet_geo::Land;
use shadowfleet_identities::Identity;
use shadowfleet_places::{Mids, Places};
use shadowfleet_simulate::truth::TruthRecord;
use shadowfleet_simulate::{simulate_in_memory, SimOptions};

/// What a simulated scenario and the detectors produced.
struct Run {
    truth: Vec<TruthRecord>,
    events: Vec<Event>,
    identities: Vec<Identity>,
    places: Places,
}

fn run(scenario: &str, seed: u64, days: u32, fleet_scale: f64) -> Evaluation {
    run_pipeline(scenario, seed, days, fleet_scale).0
}

fn run_pipeline(scenario: &str, seed: u64, days: u32, fleet_scale: f64) -> (Evaluation, Run) {
    let opts = SimOptions {
        seed,
        days: Some(days),
        fleet_scale,
    };
    let (ais, truth, report) = simulate_in_memory(scenario, &opts).unwrap();
    let land = Land::natural_earth_10m().unwrap();
    let places = Places::embedded(&land).unwrap();
    let mids = Mids::embedded().unwrap();
    let mut pipeline = Pipeline::new(DetectorConfig::default(), &land, &places, &mids);
    let mut events: Vec<Event> = Vec::new();
    let mut identities: Vec<Identity> = Vec::new();
    let mut out = |o: PipelineOutput| match o {
        PipelineOutput::Event(e) => events.push(e),
        PipelineOutput::Identity(i) => identities.push(i),
        PipelineOutput::Position(_) => {}
    };
    let mut decoder = Decoder::new(DecoderConfig::default());
    let mut batch: Vec<Decoded> = Vec::new();
    for chunk in ais.chunks(1 << 20) {
        decoder.push(chunk, &mut batch);
        for d in batch.drain(..) {
            pipeline.push(&d, &mut out);
        }
    }
    decoder.finish(&mut batch);
    for d in batch.drain(..) {
        pipeline.push(&d, &mut out);
    }
    pipeline.finish(&mut out);
    let eval = evaluate(&truth, &events, MatchRules::default());
    eprintln!(
        "{scenario} seed {seed}, {days} days, fleet x{fleet_scale}: {} vessels, {} messages\n{}",
        report.vessels,
        report.ais.messages,
        eval.to_text()
    );
    if let Some(dir) = std::env::var_os("SHADOWFLEET_DUMP_DIR") {
        let dir = std::path::Path::new(&dir);
        let lines = |v: Vec<String>| v.join("\n") + "\n";
        std::fs::write(
            dir.join(format!("{scenario}-events.ndjson")),
            lines(
                events
                    .iter()
                    .map(|e| serde_json::to_string(e).unwrap())
                    .collect(),
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{scenario}-truth.ndjson")),
            lines(
                truth
                    .iter()
                    .map(|e| serde_json::to_string(e).unwrap())
                    .collect(),
            ),
        )
        .unwrap();
    }
    drop(pipeline);
    let run = Run {
        truth,
        events,
        identities,
        places,
    };
    (eval, run)
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
}

#[test]
fn baltic_detectors_meet_their_f1_targets() {
    check(&run("baltic", 11, 21, 1.0));
}

#[test]
fn global_detectors_meet_their_f1_targets() {
    check(&run("global", 12, 14, 0.5));
}

/// Traces cargoes through a run's events, with the particulars the simulator publishes, and
/// scores the exposure of Russian oil against the truth.
fn score_flows(run: &Run, seed: u64) -> (shadowfleet_eval::FlowScore, f64) {
    use shadowfleet_voyages::{trace, TraceConfig, VesselInfo, VesselKey};
    use std::collections::HashMap;
    let vessels: Vec<_> = run
        .truth
        .iter()
        .filter_map(|r| match r {
            TruthRecord::Vessel(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    let published = shadowfleet_simulate::published::published(&vessels, seed);
    let particulars = shadowfleet_refdata::parse(
        std::path::Path::new("particulars.csv"),
        published.particulars.as_bytes(),
        None,
        None,
    )
    .unwrap();
    let dwt: HashMap<u32, f64> = particulars
        .entries
        .iter()
        .filter_map(|e| Some((e.imo?, e.dwt?)))
        .collect();
    let mut length: HashMap<VesselKey, f64> = HashMap::new();
    for i in &run.identities {
        if let Some(l) = i.length_m {
            length.insert(VesselKey::Mmsi(i.mmsi), f64::from(l));
            if let Some(imo) = i.imo {
                length.insert(VesselKey::Imo(imo), f64::from(l));
            }
        }
    }
    let info = |v: VesselKey| VesselInfo {
        length_m: length.get(&v).copied(),
        dwt: match v {
            VesselKey::Imo(i) => dwt.get(&i).copied(),
            VesselKey::Mmsi(_) => None,
        },
    };
    let events: Vec<(i64, &Event)> = run
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| (i as i64 + 1, e))
        .collect();
    let mut traced = trace(
        &events,
        &run.identities,
        &run.places,
        &TraceConfig::default(),
        &info,
    );
    // Screening against the published lists, risk, and origins inferred for likely-shadow
    // vessels.
    let lists: Vec<_> = [
        ("sanctions_eu.csv", &published.sanctions_eu),
        ("watchlist.csv", &published.watchlist),
    ]
    .iter()
    .map(|(n, t)| {
        shadowfleet_refdata::parse(std::path::Path::new(n), t.as_bytes(), None, None).unwrap()
    })
    .collect();
    let matches = shadowfleet_risk::screen(
        &run.identities,
        &lists,
        &shadowfleet_risk::ScreenConfig::default(),
    );
    let built: HashMap<u32, u32> = particulars
        .entries
        .iter()
        .filter_map(|e| Some((e.imo?, e.build_year?)))
        .collect();
    let risk_config = shadowfleet_risk::RiskConfig::default();
    let inputs = shadowfleet_risk::RiskInputs {
        identities: &run.identities,
        events: &events,
        traced: &traced,
        matches: &matches,
        build_year: &|imo| built.get(&imo).copied(),
        ownership: &|_| (None, None),
        year: 2026,
    };
    let risks = shadowfleet_risk::score(&inputs, &risk_config);
    let by_key: HashMap<VesselKey, f64> = risks.iter().map(|r| (r.vessel, r.score)).collect();
    shadowfleet_voyages::infer_origins(&mut traced, &|v| {
        by_key
            .get(&v)
            .is_some_and(|s| *s >= risk_config.infer_origin_threshold)
            .then(|| "RU".to_owned())
    });
    // A truth vessel's score: the highest of the keys it was seen under.
    let vessel_score = |v: &shadowfleet_simulate::truth::Vessel| -> f64 {
        v.identities
            .iter()
            .flat_map(|i| {
                [
                    by_key.get(&VesselKey::Imo(i.imo)),
                    by_key.get(&VesselKey::Mmsi(i.mmsi)),
                ]
            })
            .flatten()
            .fold(0.0, |a: f64, b| a.max(*b))
    };
    // ROC AUC of the score against the truth, over every tanker.
    let scored: Vec<(f64, bool)> = vessels
        .iter()
        .filter(|v| v.dwt > 0.0)
        .map(|v| (vessel_score(v), v.shadow))
        .collect();
    let auc = shadowfleet_risk::roc_auc(&scored);
    eprintln!(
        "risk: ROC AUC {auc:.3} over {} tankers ({} shadow)",
        scored.len(),
        scored.iter().filter(|x| x.1).count()
    );
    if std::env::var_os("SHADOWFLEET_DUMP_DIR").is_some() {
        for v in &vessels {
            if v.dwt <= 0.0 {
                continue;
            }
            let s = vessel_score(v);
            let ind: Vec<String> = v
                .identities
                .iter()
                .flat_map(|i| [VesselKey::Imo(i.imo), VesselKey::Mmsi(i.mmsi)])
                .flat_map(|k| risks.iter().filter(move |r| r.vessel == k))
                .flat_map(|r| {
                    r.indicators
                        .iter()
                        .map(|i| format!("{}:{:.2}", i.name, i.strength))
                })
                .collect();
            eprintln!(
                "  vessel {} {} shadow={} score {s} {} {:?}",
                v.vessel, v.role, v.shadow, v.build_year, ind
            );
        }
    }
    let config = shadowfleet_risk::ExposureConfig::default();
    let rows = shadowfleet_risk::exposure(&traced, &config, None, None, &|v| {
        let s = by_key.get(&v).copied().unwrap_or(0.0);
        shadowfleet_risk::VesselView {
            shadow: s >= risk_config.shadow_threshold,
            may_carry: s >= risk_config.possible_origin_threshold,
        }
    });
    let score = shadowfleet_eval::evaluate_flows(&run.truth, &rows, &traced, "RU");
    if let Some(dir) = std::env::var_os("SHADOWFLEET_DUMP_DIR") {
        let dir = std::path::Path::new(&dir);
        std::fs::write(
            dir.join("traced.json"),
            serde_json::to_string(&traced).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join("events.ndjson"),
            run.events
                .iter()
                .map(|e| serde_json::to_string(e).unwrap() + "\n")
                .collect::<String>(),
        )
        .unwrap();
        std::fs::write(
            dir.join("truth.ndjson"),
            run.truth
                .iter()
                .map(|e| serde_json::to_string(e).unwrap() + "\n")
                .collect::<String>(),
        )
        .unwrap();
    }
    eprintln!("{}", score.to_text());
    (score, auc)
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
    check_flows(&score_flows(&run, 11), 5);
}

#[test]
fn global_flows_exposure_and_risk_match_truth() {
    let (_, run) = run_pipeline("global", 12, 45, 0.5);
    check_flows(&score_flows(&run, 12), 3);
}

/// A seed nothing was tuned on.
#[test]
fn baltic_flows_on_an_untuned_seed() {
    let (_, run) = run_pipeline("baltic", 3, 45, 1.0);
    check_flows(&score_flows(&run, 3), 5);
}
