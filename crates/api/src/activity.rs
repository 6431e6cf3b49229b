//! The activity layer: where a fleet was, one UTC day at a time, as hexagonal H3 cells
//! (`h3o`) with the distinct vessels, the vessel-hours (distinct vessel and hour pairs) and the
//! positions heard in each, and the encounters (STS candidates) that began there that day.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use h3o::{CellIndex, LatLng, Resolution};
use serde_json::{json, Value};
use shadowfleet_records::EventKind;
use shadowfleet_run::Analysis;
use shadowfleet_store::PositionQuery;

/// Finest and coarsest resolution served (res 3: cells of ~12 000 km², res 7: ~5 km²).
pub const RESOLUTIONS: std::ops::RangeInclusive<u8> = 3..=7;
/// Resolution when none is asked (~250 km² cells, about 9 km across).
pub const DEFAULT_RESOLUTION: u8 = 5;

/// Whose positions are aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fleet {
    /// Every vessel that broadcast a tanker ship type (80–89).
    Tankers,
    /// The vessels whose risk score is at or above the shadow threshold.
    Shadow,
    /// Every vessel.
    All,
}

impl Fleet {
    /// From the query parameter's value.
    pub fn parse(s: &str) -> Option<Fleet> {
        match s {
            "tankers" => Some(Fleet::Tankers),
            "shadow" => Some(Fleet::Shadow),
            "all" => Some(Fleet::All),
            _ => None,
        }
    }

    /// The parameter's value.
    pub fn name(self) -> &'static str {
        match self {
            Fleet::Tankers => "tankers",
            Fleet::Shadow => "shadow",
            Fleet::All => "all",
        }
    }

    /// The MMSIs of the fleet (empty for [`Fleet::All`]: no filter).
    pub fn mmsis(self, a: &Analysis) -> Vec<u32> {
        let mut out: Vec<u32> = match self {
            Fleet::All => return Vec::new(),
            Fleet::Tankers => a
                .identities
                .iter()
                .filter(|i| i.is_tanker())
                .map(|i| i.mmsi)
                .collect(),
            Fleet::Shadow => a
                .risks
                .iter()
                .filter(|r| a.is_shadow(r.vessel))
                .flat_map(|r| r.mmsis.iter().copied())
                .collect(),
        };
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The position query for `fleet` on the day starting at `day` (unix seconds).
pub fn query(a: &Analysis, fleet: Fleet, day: i64) -> PositionQuery {
    PositionQuery {
        mmsis: fleet.mmsis(a),
        from: Some(day),
        to: Some(day + 86_399),
    }
}

/// The day's activity of `fleet` in cells of resolution `res`, read from `files` (those the
/// store lists for [`query`]), as a GeoJSON FeatureCollection of cell polygons.
pub fn activity_geojson(
    a: &Analysis,
    files: &[PathBuf],
    fleet: Fleet,
    day: i64,
    res: u8,
) -> anyhow::Result<Value> {
    let resolution = Resolution::try_from(res)?;
    let query = query(a, fleet, day);
    // A fleet with no members has no activity (the empty MMSI list would mean "all").
    if fleet != Fleet::All && query.mmsis.is_empty() {
        return Ok(collection(fleet, day, res, Vec::new(), 0, 0));
    }
    let wanted: HashSet<u32> = query.mmsis.iter().copied().collect();
    let mut seen: HashSet<(CellIndex, u32, u8)> = HashSet::new();
    let mut positions: HashMap<CellIndex, u64> = HashMap::new();
    let mut invalid = 0u64;
    let mut take = |p: shadowfleet_store::Position| {
        let q = &p.position;
        if !(wanted.is_empty() || wanted.contains(&q.mmsi)) {
            return;
        }
        let Ok(ll) = LatLng::new(q.pos.lat, q.pos.lon) else {
            invalid += 1;
            return;
        };
        let cell = ll.to_cell(resolution);
        let hour = ((q.t - day) / 3600).clamp(0, 23) as u8;
        seen.insert((cell, q.mmsi, hour));
        *positions.entry(cell).or_default() += 1;
    };
    for f in files {
        shadowfleet_store::positions::read_file(f, &query, &mut take)?;
    }
    // Per cell: distinct vessels and vessel-hours.
    let mut cells: BTreeMap<CellIndex, (HashSet<u32>, u64)> = BTreeMap::new();
    for (cell, mmsi, _) in seen {
        let c = cells.entry(cell).or_default();
        c.0.insert(mmsi);
        c.1 += 1;
    }
    // Encounters that began that day, by the cell of their position.
    let members: HashSet<u32> = wanted;
    let mut encounters: HashMap<CellIndex, u64> = HashMap::new();
    for e in &a.events {
        let ev = &e.event;
        if ev.kind() != EventKind::Encounter || ev.start < day || ev.start >= day + 86_400 {
            continue;
        }
        let member = members.is_empty()
            || members.contains(&ev.mmsi)
            || ev.other_mmsi.is_some_and(|m| members.contains(&m));
        if let (true, Ok(ll)) = (member, LatLng::new(ev.lat, ev.lon)) {
            *encounters.entry(ll.to_cell(resolution)).or_default() += 1;
        }
    }
    let mut features = Vec::with_capacity(cells.len());
    let mut vessel_hours_total = 0u64;
    for (cell, (vessels, hours)) in &cells {
        vessel_hours_total += hours;
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring(*cell)]},
            "properties": {
                "cell": cell.to_string(),
                "vessels": vessels.len(),
                "vessel_hours": hours,
                "positions": positions.get(cell).copied().unwrap_or(0),
                "encounters": encounters.get(cell).copied().unwrap_or(0),
            }
        }));
    }
    Ok(collection(
        fleet,
        day,
        res,
        features,
        vessel_hours_total,
        invalid,
    ))
}

fn collection(
    fleet: Fleet,
    day: i64,
    res: u8,
    features: Vec<Value>,
    vessel_hours: u64,
    invalid: u64,
) -> Value {
    json!({
        "type": "FeatureCollection",
        "day": shadowfleet_model::Timestamp::from_unix_seconds(day).to_string()[..10].to_owned(),
        "fleet": fleet.name(),
        "resolution": res,
        "cells": features.len(),
        "vessel_hours": vessel_hours,
        "skipped": {"positions without a valid latitude and longitude": invalid},
        "features": features,
    })
}

/// A cell's boundary as a closed GeoJSON ring; a cell astride the antimeridian keeps its
/// longitudes continuous (some beyond ±180, which map libraries draw across the line).
fn ring(cell: CellIndex) -> Vec<[f64; 2]> {
    let b = cell.boundary();
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(b.len() + 1);
    for v in b.iter() {
        let mut lon = v.lng();
        if let Some(first) = out.first() {
            if lon - first[0] > 180.0 {
                lon -= 360.0;
            } else if first[0] - lon > 180.0 {
                lon += 360.0;
            }
        }
        out.push([(lon * 1e6).round() / 1e6, (v.lat() * 1e6).round() / 1e6]);
    }
    if let Some(&first) = out.first() {
        out.push(first);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_is_closed_and_continuous_across_the_antimeridian() {
        let cell = LatLng::new(65.0, 179.99)
            .unwrap()
            .to_cell(Resolution::try_from(3).unwrap());
        let r = ring(cell);
        assert_eq!(r.first(), r.last());
        assert!(r.len() >= 7);
        for w in r.windows(2) {
            assert!((w[0][0] - w[1][0]).abs() < 10.0, "{r:?}");
        }
    }

    #[test]
    fn fleet_names_round_trip() {
        for f in [Fleet::Tankers, Fleet::Shadow, Fleet::All] {
            assert_eq!(Fleet::parse(f.name()), Some(f));
        }
        assert_eq!(Fleet::parse("cargo"), None);
    }
}
