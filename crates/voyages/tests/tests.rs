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

/// A port call of `hours` at `place` with the given draughts and the operation they make.
fn call(v: (u32, u32), place: (&str, PlaceKind), t: i64, hours: i64, d: [f64; 2]) -> Event {
    let mut e = port_call(v.0, v.1, place, t, d[0], d[1]);
    e.end = t + hours * H;
    if let shadowfleet_records::EventDetails::PortCall(p) = &mut e.details {
        if (d[0] - d[1]).abs() < 0.5 {
            p.operation = Operation::None;
        }
    }
    e
}

#[test]
fn a_discharge_call_split_by_an_mmsi_change_alongside_is_one_discharge() {
    // Laden at Primorsk; at Dörtyol the call under the old MMSI ends still laden (16.2 m),
    // the new MMSI (same IMO) reports the ballast draught an hour later at the same berth.
    let t = 1_767_571_200;
    let new_mmsi = (538000009, SHUTTLE.1);
    let ev = [
        call(SHUTTLE, PRIMORSK, t, 30, [8.5, 16.2]),
        call(SHUTTLE, DORTYOL, t + 20 * 24 * H, 38, [16.2, 16.2]),
        call(new_mmsi, DORTYOL, t + 20 * 24 * H + 39 * H, 1, [8.5, 8.5]),
    ];
    let out = run(&ev);
    assert_eq!(out.cargoes.len(), 1, "{:?}", out.cargoes);
    let f = &out.flows[0];
    assert_eq!(f.discharge.as_ref().map(|d| d.country.as_str()), Some("TR"));
}

#[test]
fn a_second_discharge_call_at_the_same_berth_is_not_a_second_cargo() {
    let t = 1_767_571_200;
    let ev = [
        call(SHUTTLE, PRIMORSK, t, 30, [8.5, 16.2]),
        call(SHUTTLE, DORTYOL, t + 20 * 24 * H, 30, [16.2, 8.5]),
        // Heard again at the berth two hours later, discharging (the draught typed again).
        call(SHUTTLE, DORTYOL, t + 20 * 24 * H + 32 * H, 5, [16.2, 8.5]),
    ];
    let out = run(&ev);
    assert_eq!(out.cargoes.len(), 1, "{:?}", out.cargoes);
    assert_eq!(out.flows.len(), 1);
}

#[test]
fn origins_of_unseen_loads_follow_the_vessels_trade_and_the_route() {
    use shadowfleet_voyages::{infer_origins, RouteEvidence, Sighting};
    let land = Land::natural_earth_10m().unwrap();
    let lanes = shadowfleet_geo::SeaLanes::searoute(&land).unwrap();
    let places = Places::embedded(&land).unwrap();
    let t = 1_767_571_200;
    let day = 24 * H;
    // Four seen Russian loads to Dörtyol by the shuttle's risk bin, one Kazakh (CPC); then
    // a ship of the same bin first seen laden in the Gulf of Finland bound for Dörtyol.
    let cpc = ("KZ-CPC-YUZHNAYA-OZEREYEVKA", PlaceKind::Terminal);
    let mut ev = Vec::new();
    for i in 0..4 {
        let v = (538000100 + i, 9000100 + i);
        ev.push(call(v, PRIMORSK, t + i64::from(i) * day, 30, [8.5, 16.2]));
        ev.push(call(
            v,
            DORTYOL,
            t + (i64::from(i) + 15) * day,
            30,
            [16.2, 8.5],
        ));
    }
    let k = (538000200, 9000200);
    ev.push(call(k, cpc, t, 30, [8.5, 16.2]));
    ev.push(call(k, DORTYOL, t + 5 * day, 30, [16.2, 8.5]));
    let unseen = (538000300, 9000300);
    ev.push(call(unseen, DORTYOL, t + 20 * day, 30, [16.2, 8.5]));
    let mut out = run(&ev);
    let cfg = TraceConfig::default();
    let cargo = out
        .cargoes
        .iter()
        .position(|c| c.origin.is_none())
        .expect("the unseen load");
    let dortyol = places.index_of("TR-DORTYOL").unwrap();
    // Without a sighting: Russian more likely than not, Kazakh possible.
    let mut without = out.clone();
    infer_origins(&mut without, &places, &cfg, &|_| 0, &mut |_| None, None);
    let o = without.cargoes[cargo].origin.clone().unwrap();
    assert!(o.inferred);
    assert_eq!(o.country, "RU");
    assert!(o.probability > 0.5 && o.probability < 0.95, "{o:?}");
    assert!(o.probability_of("KZ") > 0.05, "{o:?}");
    // First seen in the Gulf of Finland: CPC's route to Dörtyol does not pass there.
    let mut routes = RouteEvidence::new(
        shadowfleet_geo::Router::new(&land, &lanes),
        &places,
        &out,
        &cfg,
    );
    let gulf = shadowfleet_geo::LatLon {
        lat: 59.9,
        lon: 26.0,
    };
    infer_origins(
        &mut out,
        &places,
        &cfg,
        &|_| 0,
        &mut |c| {
            (c == cargo).then_some(Sighting {
                at: gulf,
                discharge: dortyol,
            })
        },
        Some(&mut routes),
    );
    let o = out.cargoes[cargo].origin.clone().unwrap();
    assert_eq!(o.country, "RU");
    assert!(o.probability > 0.95, "{o:?}");
}
