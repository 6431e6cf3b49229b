#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! Gap detection on simulated AIS, scored against the simulator's dark periods.

use shadowfleet_decode::{Decoded, Decoder, DecoderConfig};
use shadowfleet_events::gaps::{Gap, GapConfig, GapDetector};
use shadowfleet_model::Timestamp;
use shadowfleet_simulate::truth::TruthRecord;
use shadowfleet_simulate::{simulate_in_memory, SimOptions};
use shadowfleet_tracks::{position_of, TrackBuilder, TrackConfig};

fn t(s: &str) -> i64 {
    Timestamp::parse_rfc3339(s).unwrap().unix_millis() / 1000
}

#[test]
fn every_simulated_dark_period_is_found_as_a_gap() {
    let opts = SimOptions {
        seed: 3,
        days: Some(14),
        fleet_scale: 0.5,
    };
    let (ais, truth, _) = simulate_in_memory("baltic", &opts).unwrap();
    let land = shadowfleet_geo::Land::natural_earth_10m().unwrap();
    let mut msgs: Vec<Decoded> = Vec::new();
    let mut dec = Decoder::new(DecoderConfig::default());
    dec.push(&ais, &mut msgs);
    dec.finish(&mut msgs);

    let mut tracks = TrackBuilder::new(TrackConfig::default());
    let mut gaps: Vec<Gap> = Vec::new();
    let mut detector = GapDetector::new(GapConfig::default(), std::sync::Arc::new(land));
    let mut points = Vec::new();
    for d in &msgs {
        if let Some(r) = position_of(d) {
            tracks.push(r, &mut |p| points.push(p));
        }
        for p in points.drain(..) {
            detector.push(&p, &mut |g| gaps.push(g));
        }
    }
    tracks.finish(&mut |p| points.push(p));
    for p in points.drain(..) {
        detector.push(&p, &mut |g| gaps.push(g));
    }

    // Truth dark periods of at least 6 h that ended inside the period.
    let dark: Vec<_> = truth
        .iter()
        .filter_map(|r| match r {
            TruthRecord::Event(e) if e.kind == "dark" && e.details.get("clipped").is_none() => {
                Some(e)
            }
            _ => None,
        })
        .filter(|e| t(&e.end) - t(&e.start) >= 6 * 3600)
        .collect();
    let found = dark
        .iter()
        .filter(|e| {
            let (s, en) = (t(&e.start), t(&e.end));
            gaps.iter().any(|g| {
                g.off.t <= s + 1800
                    && g.on.t >= en - 1800
                    && g.on.t <= en + 6 * 3600
                    && (g.mmsi == e.mmsi)
            })
        })
        .count();
    let intentional = gaps.iter().filter(|g| g.intentional).count();
    // Gaps that no dark period explains (coverage holes): false positives for this scoring.
    let explained = gaps
        .iter()
        .filter(|g| {
            dark.iter().any(|e| {
                g.mmsi == e.mmsi && g.off.t <= t(&e.start) + 1800 && g.on.t >= t(&e.end) - 1800
            })
        })
        .count();
    eprintln!(
        "{} truth dark periods >= 6 h, {found} found; {} gaps detected, {explained} explained by a dark period ({intentional} intentional by GFW's rule)",
        dark.len(),
        gaps.len()
    );
    assert!(
        explained as f64 >= 0.8 * gaps.len() as f64,
        "precision {explained}/{}",
        gaps.len()
    );
    assert!(dark.len() >= 5, "too few dark periods to measure");
    assert!(
        found as f64 >= 0.9 * dark.len() as f64,
        "recall {found}/{}",
        dark.len()
    );
}
