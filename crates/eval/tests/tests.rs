#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! The detectors scored on simulated scenarios with fixed seeds.

use shadowfleet_decode::{Decoded, Decoder, DecoderConfig};
use shadowfleet_eval::{evaluate, Evaluation, MatchRules};
use shadowfleet_events::{DetectorConfig, Event, EventKind, Pipeline, PipelineOutput};
use shadowfleet_geo::Land;
use shadowfleet_places::{Mids, Places};
use shadowfleet_simulate::{simulate_in_memory, SimOptions};

fn run(scenario: &str, seed: u64, days: u32, fleet_scale: f64) -> Evaluation {
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
    let mut out = |o: PipelineOutput| {
        if let PipelineOutput::Event(e) = o {
            events.push(e)
        }
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
    eval
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
