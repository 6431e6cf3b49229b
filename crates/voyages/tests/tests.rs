#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! The tracer on hand-made event sequences: load, STS, discharge; a cargo split between two
//! receivers; a dark STS.

use shadowfleet_geo::Land;
use shadowfleet_places::Places;
use shadowfleet_records::{
    Draughts, EncounterDetails, Event, Operation, PlaceKind, PlaceRef, PortCallDetails,
};
use shadowfleet_voyages::{trace, HopKind, TraceConfig, VesselInfo, VesselKey};

const H: i64 = 3600;

fn port_call(
    mmsi: u32,
    imo: u32,
    place: (&str, PlaceKind),
    t: i64,
    before: f64,
    after: f64,
) -> Event {
    let operation = if after > before {
        Operation::Load
    } else {
        Operation::Discharge
    };
    Event {
        mmsi,
        imo: Some(imo),
        other_mmsi: None,
        start: t,
        end: t + 30 * H,
        lat: 0.0,
        lon: 0.0,
        confidence: Default::default(),
        truncated_start: false,
        truncated_end: false,
        details: PortCallDetails {
            place: PlaceRef {
                id: place.0.into(),
                kind: place.1,
                ..PlaceRef::default()
            },
            draught_before_m: Some(before),
            draught_after_m: Some(after),
            operation,
            stop: true,
            ..PortCallDetails::default()
        }
        .into(),
    }
}

fn sts(giver: (u32, u32), receiver: (u32, u32), t: i64, g: [f64; 2], r: [f64; 2]) -> Event {
    Event {
        mmsi: giver.0,
        imo: Some(giver.1),
        other_mmsi: Some(receiver.0),
        start: t,
        end: t + 24 * H,
        lat: 36.5,
        lon: 22.7,
        confidence: Default::default(),
        truncated_start: false,
        truncated_end: false,
        details: EncounterDetails {
            sts_confirmed: true,
            giver_mmsi: Some(giver.0),
            other_imo: Some(receiver.1),
            draughts: vec![
                Draughts {
                    mmsi: giver.0,
                    before_m: Some(g[0]),
                    after_m: Some(g[1]),
                },
                Draughts {
                    mmsi: receiver.0,
                    before_m: Some(r[0]),
                    after_m: Some(r[1]),
                },
            ],
            ..EncounterDetails::default()
        }
        .into(),
    }
}

fn run(events: &[Event]) -> shadowfleet_voyages::Traced {
    let land = Land::natural_earth_10m().unwrap();
    let places = Places::embedded(&land).unwrap();
    let with_ids: Vec<(i64, &Event)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (i as i64 + 1, e))
        .collect();
    let info = |v: VesselKey| VesselInfo {
        length_m: Some(245.0),
        dwt: match v {
            VesselKey::Imo(9000001) => Some(100_000.0),
            _ => None,
        },
    };
    trace(&with_ids, &[], &places, &TraceConfig::default(), &info)
}

const SHUTTLE: (u32, u32) = (538000001, 9000001);
const MOTHER: (u32, u32) = (538000002, 9000002);
const OTHER: (u32, u32) = (538000003, 9000003);
const PRIMORSK: (&str, PlaceKind) = ("RU-PRIMORSK", PlaceKind::Terminal);
const SIKKA: (&str, PlaceKind) = ("IN-SIKKA", PlaceKind::Port);
const DORTYOL: (&str, PlaceKind) = ("TR-DORTYOL", PlaceKind::Port);

#[test]
fn load_sts_discharge_is_one_chain_with_its_evidence() {
    let t = 1_767_571_200;
    let ev = [
        port_call(SHUTTLE.0, SHUTTLE.1, PRIMORSK, t, 7.5, 14.8),
        sts(SHUTTLE, MOTHER, t + 10 * 24 * H, [14.8, 7.5], [8.5, 12.0]),
        port_call(MOTHER.0, MOTHER.1, SIKKA, t + 30 * 24 * H, 12.0, 8.5),
    ];
    let out = run(&ev);
    assert_eq!(out.cargoes.len(), 1);
    let c = &out.cargoes[0];
    assert_eq!(c.origin.as_ref().unwrap().country, "RU");
    // Full Aframax load of 100 000 dwt at 0.95 fill: 95 000 t, crude/products at Primorsk.
    assert!((c.volume.tonnes - 95_000.0).abs() < 1.0, "{:?}", c.volume);
    assert_eq!(c.capacity_source, "particulars");
    assert_eq!(out.flows.len(), 1);
    let f = &out.flows[0];
    assert_eq!(
        f.chain.iter().map(|h| h.kind).collect::<Vec<_>>(),
        vec![HopKind::Load, HopKind::Sts]
    );
    assert_eq!(f.discharge.as_ref().unwrap().country, "IN");
    assert_eq!(f.evidence(c), vec![1, 2, 3]);
    assert_eq!(f.confidence(c), 1.0);
}

#[test]
fn a_cargo_split_between_two_receivers_keeps_both_shares() {
    let t = 1_767_571_200;
    let ev = [
        port_call(SHUTTLE.0, SHUTTLE.1, PRIMORSK, t, 7.5, 14.8),
        // Half the cargo (by draught above ballast) to the first, the rest to the second.
        sts(SHUTTLE, MOTHER, t + 10 * 24 * H, [14.8, 11.15], [8.5, 10.0]),
        sts(SHUTTLE, OTHER, t + 12 * 24 * H, [11.15, 7.5], [8.5, 10.0]),
        port_call(MOTHER.0, MOTHER.1, SIKKA, t + 30 * 24 * H, 10.0, 8.5),
        port_call(OTHER.0, OTHER.1, DORTYOL, t + 20 * 24 * H, 10.0, 8.5),
    ];
    let out = run(&ev);
    let mut shares: Vec<(String, f64)> = out
        .flows
        .iter()
        .filter(|f| f.share > 0.0)
        .map(|f| {
            (
                f.discharge
                    .as_ref()
                    .map_or("-".into(), |d| d.country.clone()),
                (f.share * 100.0).round() / 100.0,
            )
        })
        .collect();
    shares.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(shares, vec![("IN".into(), 0.5), ("TR".into(), 0.5)]);
}
