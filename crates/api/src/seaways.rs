//! Map geometry that follows the sea: each cargo flow drawn along its ships' own tracks, leg
//! by leg; the stretches nobody heard, and every dark gap, along the sea-lane network the
//! simulator routes on; never a segment across land (the Natural Earth 1:10m mask the
//! detectors use), except the canal transits the route itself flags.
//!
//! A drawn line is a run of vertices and one [`Seg`] per segment saying how that segment was
//! drawn; [`Line::features`] cuts it into one GeoJSON `LineString` per run of the same kind,
//! so the map can dash the dark stretches and a test can tell a canal from a crossing.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{json, Value};
use shadowfleet_geo::{haversine_m, Land, LatLon, Router, SeaLanes, METRES_PER_NM};
use shadowfleet_model::Timestamp;
use shadowfleet_records::{EventDetails, EventKind};
use shadowfleet_run::Analysis;
use shadowfleet_store::PositionQuery;
use shadowfleet_voyages::{Cargo, Flow, HopKind};

/// A stop or track point on land (a berth inside the 1:10m coastline) is moved to the nearest
/// sea point found on rings of this step, metres ...
const NUDGE_STEP_M: f64 = 250.0;
/// ... up to this distance; further inland, the point is left out and counted.
const NUDGE_MAX_M: f64 = 20_000.0;
/// Consecutive track points further apart than this are not joined straight: the stretch
/// between them goes along the sea lanes (the router keeps it straight when short and clear).
const JOIN_MAX_M: f64 = 50_000.0;
/// A kept position whose straight line from the previous one touches land, closer than this
/// to it, is skipped rather than routed: the jitter of a ship at a berth inside the coastline's
/// generalisation, not a passage (the next clear position continues the line).
const JITTER_M: f64 = 5_000.0;
/// A position further from the last one kept than this speed allows (plus [`REACH_SLACK_M`])
/// belongs to another transmitter on the same MMSI (a clone) or is spoofed: not drawn.
const REACH_KN: f64 = 50.0;
const REACH_SLACK_M: f64 = 2_000.0;
/// A stretch with no position for this long is drawn dashed (the gap detector's threshold).
const DARK_S: i64 = 6 * 3600;

/// How a segment was drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    /// Between two of the ship's own positions.
    Track,
    /// Along the sea lanes where the ship was heard too seldom to join its positions straight.
    SeaLanes,
    /// Along the sea lanes across a silence of 6 h or more (`DARK_S`).
    Dark,
    /// A canal transit of a routed stretch (Suez, Panama): dug through land, so the land mask
    /// covers it.
    Canal,
}

impl Seg {
    fn name(self) -> &'static str {
        match self {
            Seg::Track => "track",
            Seg::SeaLanes => "sea_lanes",
            Seg::Dark => "dark",
            Seg::Canal => "canal",
        }
    }
}

/// The land mask and the lane network, loaded once per process (about a second).
pub struct Seas {
    land: Land,
    lanes: SeaLanes,
}

static SEAS: OnceLock<Result<Seas, String>> = OnceLock::new();

/// The embedded land mask and sea lanes.
pub fn seas() -> Result<&'static Seas, String> {
    SEAS.get_or_init(|| {
        let land = Land::natural_earth_10m().map_err(|e| format!("land mask: {e}"))?;
        let lanes = SeaLanes::searoute(&land).map_err(|e| format!("sea lanes: {e}"))?;
        Ok(Seas { land, lanes })
    })
    .as_ref()
    .map_err(Clone::clone)
}

impl Seas {
    /// The land mask.
    pub fn land(&self) -> &Land {
        &self.land
    }
}

/// A polyline and how each of its segments was drawn.
#[derive(Debug, Default, Clone)]
pub struct Line {
    /// Vertices.
    pub pts: Vec<LatLon>,
    /// One per segment: `pts[i]`–`pts[i + 1]`.
    pub seg: Vec<Seg>,
}

impl Line {
    fn push(&mut self, p: LatLon, how: Seg) {
        match self.pts.last() {
            Some(&q) if q == p => {}
            Some(_) => {
                self.pts.push(p);
                self.seg.push(how);
            }
            None => self.pts.push(p),
        }
    }

    /// One `LineString` feature per run of segments drawn the same way, each with `props`
    /// and `drawn` (`track`, `sea_lanes`, `dark`, `canal`).
    pub fn features(&self, props: &Value, out: &mut Vec<Value>) {
        let mut i = 0;
        while i < self.seg.len() {
            let how = self.seg[i];
            let mut j = i;
            while j < self.seg.len() && self.seg[j] == how {
                j += 1;
            }
            let coords: Vec<[f64; 2]> = self.pts[i..=j]
                .iter()
                .map(|p| [round6(p.lon), round6(p.lat)])
                .collect();
            let mut props = props.clone();
            if let Some(o) = props.as_object_mut() {
                o.insert("drawn".into(), json!(how.name()));
            }
            out.push(json!({
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": props,
            }));
            i = j;
        }
    }

    /// The point halfway along, by length.
    pub fn midpoint(&self) -> Option<LatLon> {
        let total: f64 = self.pts.windows(2).map(|w| haversine_m(w[0], w[1])).sum();
        let mut left = total / 2.0;
        for w in self.pts.windows(2) {
            let d = haversine_m(w[0], w[1]);
            if d >= left && d > 0.0 {
                let f = left / d;
                return Some(LatLon {
                    lat: w[0].lat + (w[1].lat - w[0].lat) * f,
                    lon: w[0].lon + (w[1].lon - w[0].lon) * f,
                });
            }
            left -= d;
        }
        self.pts.first().copied()
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Draws lines at sea, counting what it could not draw by reason.
pub struct Pen<'a> {
    land: &'a Land,
    router: Router<'a>,
    /// What was left out, by reason.
    pub undrawn: BTreeMap<&'static str, usize>,
}

impl<'a> Pen<'a> {
    /// A pen over `seas`.
    pub fn new(seas: &'a Seas) -> Pen<'a> {
        Pen {
            land: &seas.land,
            router: Router::new(&seas.land, &seas.lanes),
            undrawn: BTreeMap::new(),
        }
    }

    fn skip(&mut self, why: &'static str) {
        *self.undrawn.entry(why).or_default() += 1;
    }

    /// `p`, or the nearest sea point when `p` is on land.
    fn at_sea(&mut self, p: LatLon) -> Option<LatLon> {
        if !(p.lat.is_finite() && p.lon.is_finite()) {
            return None;
        }
        self.land.nearest_sea(p, NUDGE_STEP_M, NUDGE_MAX_M)
    }

    /// Appends the sea route from the line's last vertex to `to`, its segments marked `how`
    /// (canal transits as [`Seg::Canal`]). False when there is no sea route.
    fn route_to(&mut self, line: &mut Line, to: LatLon, how: Seg) -> bool {
        let Some(&from) = line.pts.last() else {
            line.push(to, how);
            return true;
        };
        if crosses_antimeridian(from, to) {
            return false;
        }
        // Short stretches round a headland by a local search; longer ones on the network.
        if haversine_m(from, to) < JOIN_MAX_M {
            if let Some(path) = self.router.around(from, to) {
                for p in path.into_iter().skip(1) {
                    line.push(p, how);
                }
                return true;
            }
        }
        match self.router.route(from, to) {
            Ok(r) => {
                for (i, &p) in r.points.iter().enumerate().skip(1) {
                    let canal = r.canal.get(i - 1).copied().unwrap_or(false);
                    line.push(p, if canal { Seg::Canal } else { how });
                }
                true
            }
            Err(_) => false,
        }
    }

    /// The sea route from `a` to `b` (a dark gap), or `None`, counted by reason.
    pub fn gap(&mut self, a: LatLon, b: LatLon) -> Option<Line> {
        let (Some(a), Some(b)) = (self.at_sea(a), self.at_sea(b)) else {
            self.skip("an end on land, no sea within 20 km");
            return None;
        };
        let mut line = Line::default();
        line.push(a, Seg::Dark);
        if a != b && !self.route_to(&mut line, b, Seg::Dark) {
            self.skip("no sea route between its ends");
            return None;
        }
        Some(line)
    }

    /// A leg along the ship's own positions `track` (time, position; time order) from `start`
    /// to `end`, simplified to `tolerance` degrees without letting a segment touch land; the
    /// pieces that cannot be joined straight go along the sea lanes. Returns the drawn lines
    /// (more than one where a stretch had no sea route).
    pub fn leg(
        &mut self,
        start: (i64, LatLon),
        track: &[(i64, LatLon)],
        end: (i64, LatLon),
        tolerance: f64,
    ) -> Vec<Line> {
        let mut pts: Vec<(i64, LatLon)> = Vec::with_capacity(track.len() + 2);
        let mut inland = 0usize;
        for &(t, p) in std::iter::once(&start).chain(track).chain([&end]) {
            match self.at_sea(p) {
                Some(q) => pts.push((t, q)),
                None => inland += 1,
            }
        }
        if inland > 0 {
            *self
                .undrawn
                .entry("track points inland (more than 20 km from the sea)")
                .or_default() += inland;
        }
        pts.dedup_by(|b, a| a.1 == b.1);
        // Keep the positions the ship could have reached from the last one kept: a clone on
        // the same MMSI half a continent away, or a spoofed jump, is not the carrier's track.
        let mut kept: Vec<(i64, LatLon)> = Vec::with_capacity(pts.len());
        let mut unreachable = 0usize;
        for (k, &(t, p)) in pts.iter().enumerate() {
            let ok = kept.last().is_none_or(|&(t0, p0)| {
                let reach = REACH_KN * METRES_PER_NM / 3600.0 * (t - t0).max(0) as f64;
                haversine_m(p0, p) <= reach + REACH_SLACK_M
            });
            // The end stop is where the leg ends, whatever came before it.
            if ok || k + 1 == pts.len() {
                kept.push((t, p));
            } else {
                unreachable += 1;
            }
        }
        if unreachable > 0 {
            *self
                .undrawn
                .entry("track points out of reach of the ship's previous one (a clone on the MMSI, or spoofed)")
                .or_default() += unreachable;
        }
        let pts = kept;
        let mut lines = Vec::new();
        let mut line = Line::default();
        // Runs of positions close enough to join, each simplified; the stretches between runs
        // routed.
        let mut run_start = 0;
        for i in 0..pts.len() {
            let last = i + 1 == pts.len();
            let breaks = !last && {
                let (a, b) = (pts[i], pts[i + 1]);
                haversine_m(a.1, b.1) > JOIN_MAX_M
                    || b.0 - a.0 >= DARK_S
                    || crosses_antimeridian(a.1, b.1)
            };
            if !(breaks || last) {
                continue;
            }
            self.simplified(&pts[run_start..=i], tolerance, &mut line, &mut lines);
            if breaks {
                let (a, b) = (pts[i], pts[i + 1]);
                let how = if b.0 - a.0 >= DARK_S {
                    Seg::Dark
                } else {
                    Seg::SeaLanes
                };
                if !self.route_to(&mut line, b.1, how) {
                    self.skip("a stretch with no sea route");
                    lines.push(std::mem::take(&mut line));
                }
            }
            run_start = i + 1;
        }
        lines.push(line);
        lines.retain(|l| l.pts.len() >= 2);
        lines
    }

    /// Appends `run` (joinable positions) to `line`, Douglas–Peucker at `tolerance` with one
    /// more rule: a kept segment must not touch land. Two consecutive positions whose straight
    /// line touches land (a headland between reports) are joined along the sea route.
    fn simplified(
        &mut self,
        run: &[(i64, LatLon)],
        tolerance: f64,
        line: &mut Line,
        lines: &mut Vec<Line>,
    ) {
        let Some(&(_, first)) = run.first() else {
            return;
        };
        if line.pts.last() != Some(&first) {
            line.push(first, Seg::Track);
        }
        if run.len() < 2 {
            return;
        }
        let xy: Vec<(f64, f64)> = run.iter().map(|(_, p)| (p.lon, p.lat)).collect();
        let land = self.land;
        let kept = crate::tracks::simplify_splitting(&xy, tolerance, &mut |a, b| {
            land.segment_touches(run[a].1, run[b].1)
        });
        let n = run.len();
        let mut keep = vec![false; n];
        for i in kept {
            keep[i] = true;
        }
        let mut prev = run[0].1;
        for (i, &(_, p)) in run.iter().enumerate().skip(1) {
            if !keep[i] {
                continue;
            }
            if self.land.segment_touches(prev, p) {
                if i + 1 < n && haversine_m(prev, p) < JITTER_M {
                    continue;
                }
                if !self.route_to(line, p, Seg::SeaLanes) {
                    self.skip("a stretch with no sea route");
                    lines.push(std::mem::take(line));
                    line.push(p, Seg::Track);
                }
            } else {
                line.push(p, Seg::Track);
            }
            prev = p;
        }
    }
}

fn crosses_antimeridian(a: LatLon, b: LatLon) -> bool {
    (a.lon - b.lon).abs() > 180.0
}

/// The position of each event that has one, by id.
fn event_positions(a: &Analysis) -> HashMap<i64, LatLon> {
    a.events
        .iter()
        .filter(|e| e.event.lat.is_finite() && e.event.lon.is_finite())
        .map(|e| {
            (
                e.id,
                LatLon {
                    lat: e.event.lat,
                    lon: e.event.lon,
                },
            )
        })
        .collect()
}

/// One leg of a flow: the ship that carried the cargo between two stops.
struct Leg {
    flow: usize,
    index: usize,
    mmsi: u32,
    hop: HopKind,
    start: (i64, LatLon),
    end: (i64, LatLon),
    /// The ship's positions between the stops, filled from the store.
    track: Vec<(i64, LatLon)>,
}

/// The flows a map draws: those with a share of the cargo and, when `origin` is given, a cargo
/// of that origin country.
pub fn drawn_flows<'a>(a: &'a Analysis, origin: Option<&str>) -> Vec<(&'a Flow, &'a Cargo)> {
    let t = &a.traced;
    t.flows
        .iter()
        .filter(|f| f.share > 0.0)
        .filter_map(|f| t.cargoes.get(f.cargo).map(|c| (f, c)))
        .filter(|(_, c)| {
            origin.is_none_or(|o| {
                c.origin
                    .as_ref()
                    .is_some_and(|x| x.country.eq_ignore_ascii_case(o))
            })
        })
        .collect()
}

/// The legs of `flows`, and what could not be placed.
fn legs(
    flows: &[(&Flow, &Cargo)],
    at: &HashMap<i64, LatLon>,
    undrawn: &mut BTreeMap<&'static str, usize>,
) -> Vec<Leg> {
    let mut out = Vec::new();
    for (k, (f, c)) in flows.iter().enumerate() {
        // Stops: the load, each hand-off, the discharge; each (time, event).
        let mut stops: Vec<(i64, Option<i64>)> = Vec::new();
        for (i, h) in f.chain.iter().enumerate() {
            let event = if i == 0 {
                c.load_event.or_else(|| h.events.first().copied())
            } else {
                h.events.first().copied()
            };
            let t = if i == 0 { c.loaded } else { h.t };
            stops.push((t, event));
        }
        if let Some(d) = &f.discharge {
            stops.push((d.t, Some(d.event)));
        }
        for (i, w) in stops.windows(2).enumerate() {
            let (Some(a), Some(b)) = (
                w[0].1.and_then(|e| at.get(&e)),
                w[1].1.and_then(|e| at.get(&e)),
            ) else {
                *undrawn
                    .entry("a leg whose stop has no position")
                    .or_default() += 1;
                continue;
            };
            let Some(h) = f.chain.get(i) else { continue };
            out.push(Leg {
                flow: k,
                index: i,
                mmsi: h.mmsi,
                hop: h.kind,
                start: (w[0].0, *a),
                end: (w[1].0, *b),
                track: Vec::new(),
            });
        }
    }
    out
}

fn hop_name(k: HopKind) -> &'static str {
    match k {
        HopKind::Load => "load",
        HopKind::PossibleLoad => "possible_load",
        HopKind::FirstSeenLaden => "first_seen_laden",
        HopKind::Sts => "sts",
        HopKind::DarkSts => "dark_sts",
    }
}

/// The position query for the ships of `flows` over their legs' times.
pub fn flows_query(a: &Analysis, origin: Option<&str>) -> PositionQuery {
    let flows = drawn_flows(a, origin);
    let at = event_positions(a);
    let legs = legs(&flows, &at, &mut BTreeMap::new());
    let mut mmsis: Vec<u32> = legs.iter().map(|l| l.mmsi).collect();
    mmsis.sort_unstable();
    mmsis.dedup();
    PositionQuery {
        mmsis,
        from: legs.iter().map(|l| l.start.0.min(l.end.0)).min(),
        to: legs.iter().map(|l| l.end.0.max(l.start.0)).max(),
    }
}

/// The flows of `origin` (all when `None`) as a GeoJSON FeatureCollection: each leg along the
/// carrying ship's positions in `files` (those the store lists for [`flows_query`]),
/// simplified to `tolerance` degrees, with its flow, volume and how each piece was drawn; each
/// stop (load, STS hand-off, discharge) as a point.
pub fn flows_geojson(
    a: &Analysis,
    origin: Option<&str>,
    files: &[PathBuf],
    tolerance: f64,
) -> anyhow::Result<Value> {
    let seas = seas().map_err(anyhow::Error::msg)?;
    let flows = drawn_flows(a, origin);
    let at = event_positions(a);
    let mut undrawn = BTreeMap::new();
    let mut legs = legs(&flows, &at, &mut undrawn);
    // Each ship's legs by start time, to hand each position to the legs that span it.
    let mut by_mmsi: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, l) in legs.iter().enumerate() {
        by_mmsi.entry(l.mmsi).or_default().push(i);
    }
    let query = flows_query(a, origin);
    let mut take = |p: shadowfleet_store::Position| {
        let (m, t) = (p.position.mmsi, p.position.t);
        if let Some(ix) = by_mmsi.get(&m) {
            for &i in ix {
                let l = &mut legs[i];
                if t > l.start.0 && t < l.end.0 {
                    l.track.push((t, p.position.pos));
                }
            }
        }
    };
    for f in files {
        shadowfleet_store::positions::read_file(f, &query, &mut take)?;
    }
    let mut pen = Pen::new(seas);
    let mut features = Vec::new();
    for l in &mut legs {
        l.track.sort_by_key(|p| p.0);
        l.track.dedup_by_key(|p| p.0);
        let (f, c) = flows[l.flow];
        let v = f.volume(c);
        let props = json!({
            "role": "leg",
            "flow": f.id,
            "cargo": c.id,
            "leg": l.index,
            "mmsi": l.mmsi,
            "hop": hop_name(l.hop),
            "volume_bbl": v.barrels.round(),
            "sts_hops": f.sts_hops(),
            "country": f.discharge.as_ref().map(|d| d.country.clone()),
            "positions": l.track.len(),
        });
        for line in pen.leg(l.start, &l.track, l.end, tolerance) {
            line.features(&props, &mut features);
        }
    }
    // The stops: where each flow was loaded, handed on and discharged.
    for (f, c) in &flows {
        let v = f.volume(c).barrels.round();
        let mut stop = |role: &str, event: Option<i64>, t: i64, mmsi: u32| {
            if let Some(p) = event.and_then(|e| at.get(&e)) {
                features.push(json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [round6(p.lon), round6(p.lat)]},
                    "properties": {"role": role, "flow": f.id, "event": event, "mmsi": mmsi,
                        "time": Timestamp::from_unix_seconds(t).to_string(), "volume_bbl": v},
                }));
            }
        };
        for (i, h) in f.chain.iter().enumerate() {
            if i == 0 {
                stop(
                    hop_name(h.kind),
                    c.load_event.or(h.events.first().copied()),
                    c.loaded,
                    h.mmsi,
                );
            } else {
                stop(hop_name(h.kind), h.events.first().copied(), h.t, h.mmsi);
            }
        }
        if let (Some(d), Some(h)) = (&f.discharge, f.chain.last()) {
            stop("discharge", Some(d.event), d.t, h.mmsi);
        }
    }
    for (k, n) in pen.undrawn {
        *undrawn.entry(k).or_default() += n;
    }
    Ok(json!({
        "type": "FeatureCollection",
        "origin": origin,
        "flows": flows.len(),
        "undrawn": undrawn,
        "features": features,
    }))
}

/// The gaps of `a` as a GeoJSON FeatureCollection: each the sea route from where the ship went
/// silent to where it came back, with its id, MMSI, hours, confidence and a `label` point
/// halfway along.
pub fn gaps_geojson(a: &Analysis) -> Result<Value, String> {
    let seas = seas()?;
    let mut pen = Pen::new(seas);
    let mut features = Vec::new();
    let mut gaps = 0usize;
    for e in &a.events {
        let ev = &e.event;
        if ev.kind() != EventKind::Gap {
            continue;
        }
        let EventDetails::Gap(g) = &ev.details else {
            continue;
        };
        gaps += 1;
        if !(g.on_lat.is_finite() && g.on_lon.is_finite()) {
            pen.skip("no position where it came back");
            continue;
        }
        let off = LatLon {
            lat: ev.lat,
            lon: ev.lon,
        };
        let on = LatLon {
            lat: g.on_lat,
            lon: g.on_lon,
        };
        let Some(line) = pen.gap(off, on) else {
            continue;
        };
        let label = line.midpoint().map(|p| [round6(p.lon), round6(p.lat)]);
        let props = json!({
            "role": "gap",
            "id": e.id,
            "mmsi": ev.mmsi,
            "hours": (g.hours * 10.0).round() / 10.0,
            "likely_dark": g.likely_dark,
            "confidence": ev.confidence.level,
            "start": Timestamp::from_unix_seconds(ev.start).to_string(),
            "end": Timestamp::from_unix_seconds(ev.end).to_string(),
            "label": label,
        });
        line.features(&props, &mut features);
    }
    Ok(json!({
        "type": "FeatureCollection",
        "gaps": gaps,
        "undrawn": pen.undrawn,
        "features": features,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ll(lat: f64, lon: f64) -> LatLon {
        LatLon { lat, lon }
    }

    fn clear(seas: &Seas, line: &Line) -> bool {
        line.pts
            .windows(2)
            .zip(&line.seg)
            .all(|(w, s)| *s == Seg::Canal || !seas.land.segment_touches(w[0], w[1]))
    }

    #[test]
    fn a_gap_across_denmark_goes_round_by_the_skagerrak() {
        let seas = seas().unwrap();
        let mut pen = Pen::new(seas);
        // Kiel Bay to the North Sea off Esbjerg: the straight line crosses Jutland.
        let (a, b) = (ll(54.6, 10.5), ll(55.4, 7.6));
        assert!(seas.land.segment_touches(a, b));
        let line = pen.gap(a, b).unwrap();
        assert!(clear(seas, &line), "{:?}", line.pts);
        assert!(line.pts.iter().any(|p| p.lat > 57.0), "not round the Skaw");
        assert!(line.seg.iter().all(|s| *s == Seg::Dark));
    }

    #[test]
    fn a_leg_keeps_the_ships_positions_and_routes_what_it_cannot_join() {
        let seas = seas().unwrap();
        let mut pen = Pen::new(seas);
        // Positions down the Øresund (heard every 10 min), then silence for 8 h, then heard in
        // the Kattegat off Anholt.
        let track: Vec<(i64, LatLon)> = (0..12)
            .map(|i| {
                (
                    600 * i,
                    ll(55.95 - 0.03 * i as f64, 12.68 - 0.002 * i as f64),
                )
            })
            .collect();
        let end = (600 * 11 + 8 * 3600, ll(56.75, 11.9));
        let lines = pen.leg(track[0], &track[1..11], end, 0.01);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert!(clear(seas, line));
        assert_eq!(line.seg.first(), Some(&Seg::Track));
        assert_eq!(line.seg.last(), Some(&Seg::Dark));
        // The straight run through the Sound is simplified to few vertices.
        let track_vertices = line.seg.iter().filter(|s| **s == Seg::Track).count();
        assert!(track_vertices < 6, "{track_vertices}");
    }

    #[test]
    fn a_stop_on_land_moves_to_the_nearest_sea_and_far_inland_is_counted() {
        let seas = seas().unwrap();
        let mut pen = Pen::new(seas);
        // Madrid is far from any sea: the point is left out and counted.
        let lines = pen.leg((0, ll(40.4, -3.7)), &[], (3600, ll(40.0, 1.5)), 0.01);
        assert!(lines.iter().all(|l| l.pts.len() >= 2 || l.pts.is_empty()));
        assert_eq!(pen.undrawn.values().sum::<usize>(), 1, "{:?}", pen.undrawn);
    }
}
