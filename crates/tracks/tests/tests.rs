#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! Track building on simulated AIS, checked against the simulator's truth.

use std::collections::{BTreeSet, HashMap};

use shadowfleet_decode::{Decoded, Decoder, DecoderConfig};
use shadowfleet_model::Timestamp;
use shadowfleet_simulate::truth::TruthRecord;
use shadowfleet_simulate::{simulate_in_memory, SimOptions};
use shadowfleet_tracks::{position_of, TrackBuilder, TrackConfig, TrackPoint};

fn t(s: &str) -> i64 {
    Timestamp::parse_rfc3339(s).unwrap().unix_millis() / 1000
}

#[test]
fn simulated_baltic_tracks_are_ordered_deduplicated_and_split_where_they_should() {
    let opts = SimOptions {
        seed: 21,
        days: Some(6),
        fleet_scale: 0.4,
    };
    let (ais, truth, _) = simulate_in_memory("baltic", &opts).unwrap();
    let mut msgs: Vec<Decoded> = Vec::new();
    let mut dec = Decoder::new(DecoderConfig::default());
    dec.push(&ais, &mut msgs);
    dec.finish(&mut msgs);

    let mut builder = TrackBuilder::new(TrackConfig::default());
    let mut points: Vec<TrackPoint> = Vec::new();
    let mut positions = 0;
    for d in &msgs {
        if let Some(r) = position_of(d) {
            positions += 1;
            builder.push(r, &mut |p| points.push(p));
        }
    }
    builder.finish(&mut |p| points.push(p));
    let stats = builder.stats();
    eprintln!("{positions} position reports -> {stats:?}");
    assert_eq!(
        stats.late, 0,
        "satellite latency (at most 90 min) fits the 2 h window"
    );
    assert!(
        stats.duplicates > positions / 10,
        "duplicates from overlapping stations"
    );
    // The scenario's late relays (docs/simulator.md) are recognised and kept out.
    assert!(stats.stale_relays > 0, "{stats:?}");
    assert_eq!(
        stats.points + stats.duplicates + stats.invalid + stats.stale_relays,
        positions
    );

    // Per MMSI, points come out in receive-time order.
    let mut last: HashMap<u32, i64> = HashMap::new();
    for p in &points {
        let prev = last
            .insert(p.position.mmsi, p.position.t)
            .unwrap_or(i64::MIN);
        assert!(
            p.position.t >= prev,
            "MMSI {} out of order",
            p.position.mmsi
        );
    }

    // A shared MMSI shows as two segments running at the same time.
    let shared: Vec<(u32, i64)> = truth
        .iter()
        .filter_map(|r| match r {
            TruthRecord::Event(e) if e.details["change"] == "shared_mmsi" => {
                Some((e.mmsi, t(&e.start)))
            }
            _ => None,
        })
        .collect();
    assert!(!shared.is_empty());
    for (mmsi, from) in shared {
        let segs: BTreeSet<u64> = points
            .iter()
            .filter(|p| p.position.mmsi == mmsi && p.position.t > from + 3600)
            .map(|p| p.segment)
            .collect();
        let busy: Vec<u64> = segs
            .iter()
            .copied()
            .filter(|s| points.iter().filter(|p| p.segment == *s).count() >= 10)
            .collect();
        assert!(
            busy.len() >= 2,
            "MMSI {mmsi} shared from {from}: segments {segs:?}"
        );
    }
}
