//! JSON views shared by the CLI and the HTTP API: a flow, a vessel profile.

use serde_json::{json, Value};
use shadowfleet_model::Timestamp;
use shadowfleet_store::StoredEvent;
use shadowfleet_voyages::{Cargo, Flow, VesselKey};

use shadowfleet_run::analysis::Analysis;

fn time(t: i64) -> String {
    Timestamp::from_unix_seconds(t).to_string()
}

/// The NDJSON object of an event (the public field set).
pub fn event_json(s: &StoredEvent) -> Value {
    let e = &s.event;
    let coord = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
    json!({
        "id": s.id,
        "kind": e.kind().as_str(),
        "mmsi": e.mmsi,
        "imo": e.imo,
        "other_mmsi": e.other_mmsi,
        "start": time(e.start),
        "end": time(e.end),
        "lat": coord(e.lat),
        "lon": coord(e.lon),
        "details": e.details.to_value().unwrap_or(Value::Null),
    })
}

/// Where a flow went: the positions of its load, each hand-off and its discharge (the
/// events it rests on), consecutive repeats dropped. `pos` gives an event's [lon, lat].
pub fn flow_path(f: &Flow, c: &Cargo, pos: &dyn Fn(i64) -> Option<[f64; 2]>) -> Vec<[f64; 2]> {
    let stops = c
        .load_event
        .into_iter()
        .chain(
            f.chain
                .iter()
                .skip(1)
                .filter_map(|h| h.events.first().copied()),
        )
        .chain(f.discharge.as_ref().map(|d| d.event));
    let mut path: Vec<[f64; 2]> = Vec::new();
    for p in stops.filter_map(pos) {
        if path.last() != Some(&p) {
            path.push(p);
        }
    }
    path
}

/// A vessel key as JSON: `{"imo": n}` or `{"mmsi": n}`.
pub fn vessel_json(v: VesselKey) -> Value {
    match v {
        VesselKey::Imo(i) => json!({"imo": i}),
        VesselKey::Mmsi(m) => json!({"mmsi": m}),
    }
}

/// One flow as its JSON record (see docs/cli.md).
pub fn flow_json(f: &Flow, c: &Cargo) -> Value {
    let v = f.volume(c);
    let status = match (&f.discharge, f.lost) {
        (Some(_), _) => "discharged",
        (None, true) => "lost",
        (None, false) => "at_sea",
    };
    json!({
        "id": f.id,
        "cargo": c.id,
        "origin": c.origin,
        "loaded": time(c.loaded),
        "load_event": c.load_event,
        "products": c.products,
        "chain": f.chain.iter().map(|h| json!({
            "vessel": vessel_json(h.vessel), "mmsi": h.mmsi, "kind": h.kind, "time": time(h.t), "events": h.events,
        })).collect::<Vec<_>>(),
        "discharge": f.discharge.as_ref().map(|d| json!({
            "place": d.place, "name": d.name, "country": d.country, "time": time(d.t), "event": d.event, "by_draught": d.by_draught,
        })),
        "status": status,
        "share": (f.share * 1e4).round() / 1e4,
        "sts_hops": f.sts_hops(),
        "volume_t": v.tonnes.round(),
        "volume_bbl": v.barrels.round(),
        "low_bbl": (v.barrels * (1.0 - v.spread)).max(0.0).round(),
        "high_bbl": (v.barrels * (1.0 + v.spread)).round(),
        "capacity_source": c.capacity_source,
        "confidence": (f.confidence(c) * 100.0).round() / 100.0,
        "evidence": f.evidence(c),
    })
}

/// The vessels a query (IMO number, MMSI or name) names, with the MMSIs behind them.
pub fn resolve(a: &Analysis, q: &str) -> Vec<(VesselKey, Vec<u32>)> {
    let q = q.trim();
    let digits = q.bytes().all(|b| b.is_ascii_digit());
    let mut keys: Vec<VesselKey> = Vec::new();
    for r in &a.risks {
        let hit = match (digits, q.len()) {
            (true, 7) => matches!(r.vessel, VesselKey::Imo(i) if i.to_string() == q),
            (true, 9) => r.mmsis.iter().any(|m| m.to_string() == q),
            _ => {
                let n = shadowfleet_risk::normalise_name(q);
                r.names
                    .iter()
                    .any(|x| shadowfleet_risk::normalise_name(x) == n)
            }
        };
        if hit {
            keys.push(r.vessel);
        }
    }
    if keys.is_empty() && digits && q.len() == 9 {
        // A vessel that is not a tanker, or not scored: its MMSI alone.
        if let Ok(m) = q.parse::<u32>() {
            if a.identities.iter().any(|i| i.mmsi == m) {
                keys.push(VesselKey::Mmsi(m));
            }
        }
    }
    keys.into_iter()
        .map(|k| {
            let mmsis = a.risks.iter().find(|r| r.vessel == k).map_or_else(
                || match k {
                    VesselKey::Mmsi(m) => vec![m],
                    VesselKey::Imo(i) => a
                        .identities
                        .iter()
                        .filter(|x| x.imo == Some(i))
                        .map(|x| x.mmsi)
                        .collect(),
                },
                |r| r.mmsis.clone(),
            );
            (k, mmsis)
        })
        .collect()
}

/// A vessel's profile: identity timeline, list matches, risk with evidence, voyages.
pub fn profile(a: &Analysis, key: VesselKey, mmsis: &[u32]) -> Value {
    let imo = match key {
        VesselKey::Imo(i) => Some(i),
        VesselKey::Mmsi(_) => None,
    };
    let timeline: Vec<Value> = a
        .identities
        .iter()
        .filter(|i| mmsis.contains(&i.mmsi) || (imo.is_some() && i.imo == imo))
        .map(|i| json!({"from": time(i.first_seen), "to": time(i.last_seen), "mmsi": i.mmsi, "imo": i.imo, "name": i.name, "callsign": i.callsign, "flag": i.flag, "ship_type": i.ship_type, "length_m": i.length_m, "beam_m": i.beam_m}))
        .collect();
    let matches: Vec<&shadowfleet_risk::ScreenMatch> = a
        .matches
        .iter()
        .filter(|m| mmsis.contains(&m.mmsi) || (imo.is_some() && m.imo == imo))
        .collect();
    let risk = a.risks.iter().find(|r| r.vessel == key);
    let event = |id: i64| {
        a.events.iter().find(|e| e.id == id).map(|e| {
            json!({"id": id, "kind": e.event.kind(), "mmsi": e.event.mmsi, "start": time(e.event.start), "end": time(e.event.end), "lat": e.event.lat, "lon": e.event.lon})
        })
    };
    let indicators: Vec<Value> = risk.map_or_else(Vec::new, |r| {
        r.indicators
            .iter()
            .map(|i| json!({"name": i.name, "weight": i.weight, "strength": (i.strength * 100.0).round() / 100.0, "points": (i.weight * i.strength * 10.0).round() / 10.0, "detail": i.detail, "events": i.events.iter().filter_map(|&id| event(id)).collect::<Vec<_>>()}))
            .collect()
    });
    let voyages: Vec<Value> = a
        .traced
        .flows
        .iter()
        .filter(|f| f.share > 0.0 && f.chain.iter().any(|h| h.vessel == key))
        .filter_map(|f| a.traced.cargoes.get(f.cargo).map(|c| flow_json(f, c)))
        .collect();
    json!({
        "vessel": vessel_json(key),
        "mmsis": mmsis,
        "names": risk.map(|r| r.names.clone()),
        "identities": timeline,
        "matches": matches,
        "risk": {"score": risk.map(|r| r.score), "shadow": a.is_shadow(key), "indicators": indicators},
        "voyages": voyages,
    })
}
