//! Zones: visits to configurable areas and crossings of configurable gates. An **area** is a
//! GeoJSON Polygon or MultiPolygon (a strait's approaches, a corridor, a country's waters) or
//! a circle of [`ZoneConfig::place_radius_km`] around a named place of the places table
//! (`RU-NOVOROSSIYSK`); a visit runs from the first report inside to the last before the
//! track leaves, goes silent for more than [`ZoneConfig::max_gap_hours`], or ends. A **gate**
//! is a GeoJSON LineString or MultiLineString (a line across a strait, a corridor's entry
//! line); a crossing is a step of a track from one side to the other, placed where the step
//! meets the line and timed by interpolation. See `docs/detectors/zone.md`.
//!
//! Geometry is planar in longitude/latitude (as GeoJSON draws it, RFC 7946 §3.1.1), the
//! even-odd rule for areas; shapes must not cross the antimeridian. Areas are found through a
//! 1° grid of their bounding boxes, so a report costs one lookup and the tests of the few
//! areas near it; gates are tested against the bounding box of each step first.

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use shadowfleet_geo::LatLon;
use shadowfleet_records::{
    round2, Confidence, Event, EventKind, GateDirection, ReportRef, ZoneDetails, ZoneRef, ZoneShape,
};
use shadowfleet_tracks::{Position, TrackPoint};

use crate::detector::{Context, Detector, DetectorError, Partition, Reference, Register};
use crate::detectors::DetectorConfig;
use crate::slots::Slots;

/// Thresholds and the zones to watch (none by default: the detector then does nothing).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZoneConfig {
    /// GeoJSON files of zones (FeatureCollection, Feature or bare geometry; relative paths
    /// from the configuration file's directory). Each feature's `id` (or `properties.id`)
    /// names it, `properties.name` describes it.
    pub files: Vec<PathBuf>,
    /// Ids of places of the places table (terminals, ports, STS areas) to watch as circles.
    pub places: Vec<String>,
    /// Radius of a place's circle, km (an STS area's own radius when larger).
    pub place_radius_km: f64,
    /// Fewest reports inside for a visit to be reported.
    pub min_reports: u32,
    /// Shortest visit reported, minutes (from the first report inside to the last).
    pub min_dwell_minutes: f64,
    /// A silence longer than this inside an area ends the visit at its last report (the
    /// next report inside begins a new one, not observed entering), hours.
    pub max_gap_hours: f64,
    /// A step longer than this is not tested against gates (the track is not known between
    /// its ends), hours.
    pub max_crossing_step_hours: f64,
    /// Open track segments remembered per MMSI.
    pub segments_per_mmsi: usize,
}

impl Default for ZoneConfig {
    fn default() -> Self {
        ZoneConfig {
            files: Vec::new(),
            places: Vec::new(),
            place_radius_km: 10.0,
            min_reports: 1,
            min_dwell_minutes: 0.0,
            max_gap_hours: 48.0,
            max_crossing_step_hours: 6.0,
            segments_per_mmsi: 4,
        }
    }
}

/// A zone's shape in degrees: rings of an area (even-odd), or the polylines of a gate.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Area(Vec<Vec<LatLon>>),
    Gate(Vec<Vec<LatLon>>),
}

/// One zone to watch.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Id and name, as events carry them.
    pub reference: ZoneRef,
    shape: Shape,
    /// `[west, south, east, north]`.
    bbox: [f64; 4],
}

impl Zone {
    /// An area from its rings (the first the outer boundary; holes by the even-odd rule).
    pub fn area(id: &str, name: &str, rings: Vec<Vec<LatLon>>) -> Zone {
        Zone::new(id, name, Shape::Area(rings))
    }

    /// A gate from its polylines.
    pub fn gate(id: &str, name: &str, lines: Vec<Vec<LatLon>>) -> Zone {
        Zone::new(id, name, Shape::Gate(lines))
    }

    fn new(id: &str, name: &str, shape: Shape) -> Zone {
        let (parts, kind) = match &shape {
            Shape::Area(r) => (r, ZoneShape::Area),
            Shape::Gate(l) => (l, ZoneShape::Gate),
        };
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for p in parts.iter().flatten() {
            bbox = [
                bbox[0].min(p.lon),
                bbox[1].min(p.lat),
                bbox[2].max(p.lon),
                bbox[3].max(p.lat),
            ];
        }
        Zone {
            reference: ZoneRef {
                id: id.to_owned(),
                name: name.to_owned(),
                shape: kind,
            },
            shape,
            bbox,
        }
    }

    /// Whether `p` lies inside (an area; never for a gate).
    pub fn contains(&self, p: LatLon) -> bool {
        let Shape::Area(rings) = &self.shape else {
            return false;
        };
        if p.lon < self.bbox[0]
            || p.lon > self.bbox[2]
            || p.lat < self.bbox[1]
            || p.lat > self.bbox[3]
        {
            return false;
        }
        let mut inside = false;
        for ring in rings {
            let n = ring.len();
            for i in 0..n {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                if (a.lat > p.lat) != (b.lat > p.lat) {
                    let x = a.lon + (p.lat - a.lat) / (b.lat - a.lat) * (b.lon - a.lon);
                    if p.lon < x {
                        inside = !inside;
                    }
                }
            }
        }
        inside
    }

    /// Where the step `a → b` crosses the gate: the fraction of the step, and the direction
    /// relative to the gate's line as drawn. The first crossing along the step.
    fn crossing(&self, a: LatLon, b: LatLon) -> Option<(f64, GateDirection)> {
        let Shape::Gate(lines) = &self.shape else {
            return None;
        };
        if a.lon.max(b.lon) < self.bbox[0]
            || a.lon.min(b.lon) > self.bbox[2]
            || a.lat.max(b.lat) < self.bbox[1]
            || a.lat.min(b.lat) > self.bbox[3]
        {
            return None;
        }
        let mut best: Option<(f64, GateDirection)> = None;
        for line in lines {
            for w in line.windows(2) {
                let (c, d) = (w[0], w[1]);
                let Some((s, side)) = intersect(a, b, c, d) else {
                    continue;
                };
                if best.is_none_or(|(t, _)| s < t) {
                    best = Some((s, side));
                }
            }
        }
        best
    }
}

/// Where segment `a → b` meets segment `c → d`: the fraction along `a → b` and the way it
/// crosses.
fn intersect(a: LatLon, b: LatLon, c: LatLon, d: LatLon) -> Option<(f64, GateDirection)> {
    let (t, from_left) = shadowfleet_geo::segments_cross(a, b, c, d)?;
    let dir = if from_left {
        GateDirection::LeftToRight
    } else {
        GateDirection::RightToLeft
    };
    Some((t, dir))
}

/// Reads the zones of a GeoJSON file; every error names the file and the feature.
pub fn read_zones(path: &Path) -> Result<Vec<Zone>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let features: Vec<&serde_json::Value> = match v.get("type").and_then(|t| t.as_str()) {
        Some("FeatureCollection") => v
            .get("features")
            .and_then(|f| f.as_array())
            .ok_or_else(|| format!("{}: a FeatureCollection without `features`", path.display()))?
            .iter()
            .collect(),
        Some("Feature") => vec![&v],
        Some(_) => vec![&v],
        None => return Err(format!("{}: not GeoJSON (no `type`)", path.display())),
    };
    let mut out = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let at = |what: &str| format!("{}: feature {i}: {what}", path.display());
        let (geometry, props) = if f.get("type").and_then(|t| t.as_str()) == Some("Feature") {
            (
                f.get("geometry")
                    .filter(|g| !g.is_null())
                    .ok_or_else(|| at("no geometry"))?,
                f.get("properties"),
            )
        } else {
            (*f, None)
        };
        let text_of = |v: Option<&serde_json::Value>| {
            v.and_then(|x| match x {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let id = text_of(f.get("id"))
            .or_else(|| text_of(props.and_then(|p| p.get("id"))))
            .ok_or_else(|| at("no `id` (the feature's or `properties.id`)"))?;
        let name = text_of(props.and_then(|p| p.get("name"))).unwrap_or_else(|| id.clone());
        let kind = geometry.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let coords = geometry
            .get("coordinates")
            .ok_or_else(|| at("geometry without `coordinates`"))?;
        let line = |v: &serde_json::Value| -> Result<Vec<LatLon>, String> {
            v.as_array()
                .ok_or_else(|| at("coordinates are not an array"))?
                .iter()
                .map(|p| {
                    let lon = p.get(0).and_then(|x| x.as_f64());
                    let lat = p.get(1).and_then(|x| x.as_f64());
                    match (lon, lat) {
                        (Some(lon), Some(lat)) if lon.abs() <= 180.0 && lat.abs() <= 90.0 => {
                            Ok(LatLon { lat, lon })
                        }
                        _ => Err(at(&format!("{p} is not a position [lon, lat]"))),
                    }
                })
                .collect()
        };
        let lines = |v: &serde_json::Value| -> Result<Vec<Vec<LatLon>>, String> {
            v.as_array()
                .ok_or_else(|| at("coordinates are not an array"))?
                .iter()
                .map(&line)
                .collect()
        };
        let zone = match kind {
            "Polygon" => Zone::area(&id, &name, lines(coords)?),
            "MultiPolygon" => {
                let mut rings = Vec::new();
                for p in coords
                    .as_array()
                    .ok_or_else(|| at("coordinates are not an array"))?
                {
                    rings.extend(lines(p)?);
                }
                Zone::area(&id, &name, rings)
            }
            "LineString" => Zone::gate(&id, &name, vec![line(coords)?]),
            "MultiLineString" => Zone::gate(&id, &name, lines(coords)?),
            other => {
                return Err(at(&format!(
                "geometry {other:?}: expected Polygon, MultiPolygon, LineString or MultiLineString"
            )))
            }
        };
        let parts = match &zone.shape {
            Shape::Area(r) | Shape::Gate(r) => r,
        };
        let min = if matches!(zone.shape, Shape::Area(_)) {
            3
        } else {
            2
        };
        if parts.is_empty() || parts.iter().any(|p| p.len() < min) {
            return Err(at(&format!(
                "a {kind} needs at least {min} positions per part"
            )));
        }
        out.push(zone);
    }
    Ok(out)
}

/// A circle around a place as an area (a 32-gon).
pub fn circle(id: &str, name: &str, centre: LatLon, radius_m: f64) -> Zone {
    let ring = (0..32)
        .map(|k| {
            let bearing = (f64::from(k) * 360.0 / 32.0).to_radians();
            shadowfleet_geo::offset_m(centre, radius_m * bearing.cos(), radius_m * bearing.sin())
        })
        .collect();
    Zone::area(id, name, vec![ring])
}

/// A visit to an area.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Visit {
    /// Index of the area in [`ZoneDetector::zones`].
    pub zone: u32,
    /// First report inside.
    pub first: Position,
    /// Last report inside.
    pub last: Position,
    /// Reports inside.
    pub reports: u32,
    /// Seen outside just before (an observed entry).
    pub entered: bool,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct State {
    last: Option<Position>,
    visits: Vec<Visit>,
}

/// Finds zone visits and gate crossings.
pub struct ZoneDetector {
    config: ZoneConfig,
    zones: Vec<Zone>,
    gates: Vec<u32>,
    /// Areas by 1° cell of their bounding boxes.
    grid: FxHashMap<(i32, i32), Vec<u32>>,
    states: Slots<State>,
    /// Areas a report lies in (reused).
    inside: Vec<u32>,
}

fn cell(p: LatLon) -> (i32, i32) {
    (p.lat.floor() as i32, p.lon.floor() as i32)
}

impl ZoneDetector {
    /// A detector over `zones`.
    pub fn new(config: ZoneConfig, zones: Vec<Zone>) -> ZoneDetector {
        let mut grid: FxHashMap<(i32, i32), Vec<u32>> = FxHashMap::default();
        let mut gates = Vec::new();
        for (i, z) in zones.iter().enumerate() {
            match z.shape {
                Shape::Gate(_) => gates.push(i as u32),
                Shape::Area(_) => {
                    let (s, w) = cell(LatLon {
                        lat: z.bbox[1],
                        lon: z.bbox[0],
                    });
                    let (n, e) = cell(LatLon {
                        lat: z.bbox[3],
                        lon: z.bbox[2],
                    });
                    for la in s..=n {
                        for lo in w..=e {
                            grid.entry((la, lo)).or_default().push(i as u32);
                        }
                    }
                }
            }
        }
        ZoneDetector {
            states: Slots::new(config.segments_per_mmsi),
            config,
            zones,
            gates,
            grid,
            inside: Vec::new(),
        }
    }

    /// The zones watched.
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// Takes the next point; reports the visits it ends and the crossing it makes.
    pub fn push(&mut self, p: &TrackPoint, out: &mut dyn FnMut(Finding)) {
        let r = p.position;
        let cfg = &self.config;
        let zones = &self.zones;
        let state = self
            .states
            .get(p.vessel, r.mmsi, p.segment, r.t, State::default, &mut |s| {
                for v in s.visits {
                    out(Finding::Visit {
                        visit: v,
                        exit: None,
                        zone: &zones[v.zone as usize],
                    });
                }
            });
        // Gates crossed by the step from the last report.
        if let Some(prev) = state.last {
            let step_h = (r.t - prev.t) as f64 / 3600.0;
            if step_h <= cfg.max_crossing_step_hours {
                for &g in &self.gates {
                    let z = &zones[g as usize];
                    if let Some((f, direction)) = z.crossing(prev.pos, r.pos) {
                        let t = prev.t + ((r.t - prev.t) as f64 * f).round() as i64;
                        out(Finding::Crossing {
                            zone: z,
                            before: prev,
                            after: r,
                            t,
                            at: prev.pos.lerp(r.pos, f),
                            direction,
                        });
                    }
                }
            }
        }
        // Areas the report lies in.
        self.inside.clear();
        if let Some(candidates) = self.grid.get(&cell(r.pos)) {
            for &z in candidates {
                if zones[z as usize].contains(r.pos) {
                    self.inside.push(z);
                }
            }
        }
        let max_gap = (cfg.max_gap_hours * 3600.0) as i64;
        let had_last = state.last.is_some();
        let inside = &self.inside;
        // Visits that end: the report is outside (an observed exit), or came after a long
        // silence (the visit ends at its last report).
        let mut k = 0;
        while k < state.visits.len() {
            let v = state.visits[k];
            let still = inside.contains(&v.zone);
            let silent = r.t - v.last.t > max_gap;
            if still && !silent {
                let v = &mut state.visits[k];
                v.last = r;
                v.reports += 1;
                k += 1;
                continue;
            }
            state.visits.swap_remove(k);
            out(Finding::Visit {
                visit: v,
                exit: (!still).then_some(r),
                zone: &zones[v.zone as usize],
            });
        }
        for &z in inside {
            if !state.visits.iter().any(|v| v.zone == z) {
                state.visits.push(Visit {
                    zone: z,
                    first: r,
                    last: r,
                    reports: 1,
                    // Seen outside just before (not after a long silence).
                    entered: had_last && state.last.is_some_and(|l| r.t - l.t <= max_gap),
                });
            }
        }
        state.last = Some(r);
    }

    /// Closes every open visit (no exit observed).
    pub fn finish(&mut self, out: &mut dyn FnMut(Finding)) {
        let zones = &self.zones;
        self.states.drain(&mut |s| {
            for v in s.visits {
                out(Finding::Visit {
                    visit: v,
                    exit: None,
                    zone: &zones[v.zone as usize],
                });
            }
        });
    }
}

/// What the zone detector finds.
pub enum Finding<'z> {
    /// A visit to an area that ended.
    Visit {
        /// The visit.
        visit: Visit,
        /// The first report outside after it, when the track left.
        exit: Option<Position>,
        /// The area.
        zone: &'z Zone,
    },
    /// A gate crossed.
    Crossing {
        /// The gate.
        zone: &'z Zone,
        /// The report before.
        before: Position,
        /// The report after.
        after: Position,
        /// When the step met the line (interpolated), unix seconds.
        t: i64,
        /// Where.
        at: LatLon,
        /// Which way.
        direction: GateDirection,
    },
}

impl Register for ZoneDetector {
    type Config = ZoneConfig;

    fn new(config: &DetectorConfig, reference: &Reference) -> Result<Self, DetectorError> {
        let cfg = config.zones.clone();
        let err = |reason: String| DetectorError {
            section: "zones",
            reason,
        };
        let mut zones = Vec::new();
        for f in &cfg.files {
            let path = if f.is_relative() {
                reference.base_dir.join(f)
            } else {
                f.clone()
            };
            zones.extend(read_zones(&path).map_err(err)?);
        }
        for id in &cfg.places {
            let place = reference
                .places
                .index_of(id)
                .and_then(|i| reference.places.get(i))
                .ok_or_else(|| err(format!("places: no place {id:?} in the places table")))?;
            let radius = (cfg.place_radius_km * 1000.0).max(place.radius_m);
            zones.push(circle(&place.id, &place.name, place.position, radius));
        }
        Ok(ZoneDetector::new(cfg, zones))
    }
}

impl Detector for ZoneDetector {
    shadowfleet_records::persist_fields!("zone"; states);

    fn kind(&self) -> EventKind {
        EventKind::Zone
    }

    fn partition(&self) -> Partition {
        Partition::Vessel
    }

    fn prefetch(&self, vessel: u32) {
        if !self.zones.is_empty() {
            self.states.prefetch(vessel);
        }
    }

    fn point(&mut self, p: &TrackPoint, cx: &mut Context<'_>) {
        if self.zones.is_empty() {
            return;
        }
        let cfg = self.config.clone();
        self.push(p, &mut |f| {
            if let Some(e) = zone_event(&f, &cfg, cx) {
                cx.emit(e);
            }
        });
    }

    fn advance(&mut self, _watermark: i64, _cx: &mut Context<'_>) {}

    fn finish(&mut self, cx: &mut Context<'_>) {
        let cfg = self.config.clone();
        ZoneDetector::finish(self, &mut |f| {
            if let Some(e) = zone_event(&f, &cfg, cx) {
                cx.emit(e);
            }
        });
    }
}

/// The event of a finding, unless a visit is too short or has too few reports.
fn zone_event(f: &Finding<'_>, cfg: &ZoneConfig, cx: &Context<'_>) -> Option<Event> {
    match f {
        Finding::Visit {
            visit: v,
            exit,
            zone,
        } => {
            let minutes = (v.last.t - v.first.t) as f64 / 60.0;
            if v.reports < cfg.min_reports || minutes < cfg.min_dwell_minutes {
                return None;
            }
            let mmsi = v.first.mmsi;
            let mut evidence = vec![
                ReportRef::new(mmsi, v.first.t, v.first.pos),
                ReportRef::new(mmsi, v.last.t, v.last.pos),
            ];
            evidence.dedup();
            if let Some(x) = exit {
                evidence.push(ReportRef::new(mmsi, x.t, x.pos));
            }
            let mut why = vec![format!(
                "{} reports inside over {:.1} h",
                v.reports,
                minutes / 60.0
            )];
            if v.entered {
                why.push("seen entering".into());
            }
            if exit.is_some() {
                why.push("seen leaving".into());
            }
            let confidence = if v.reports < 2 {
                why.push("a single report inside".into());
                Confidence::low(why)
            } else if v.entered && exit.is_some() {
                Confidence::high(why)
            } else {
                Confidence::medium(why)
            };
            Some(Event {
                mmsi,
                imo: cx.imo(mmsi),
                other_mmsi: None,
                start: v.first.t,
                end: v.last.t,
                lat: v.first.pos.lat,
                lon: v.first.pos.lon,
                confidence,
                truncated_start: false,
                truncated_end: false,
                details: ZoneDetails {
                    zone: zone.reference.clone(),
                    entered: v.entered,
                    exited: exit.is_some(),
                    hours: round2(minutes / 60.0),
                    reports: v.reports,
                    direction: None,
                    evidence,
                }
                .into(),
            })
        }
        Finding::Crossing {
            zone,
            before,
            after,
            t,
            at,
            direction,
        } => {
            let mmsi = before.mmsi;
            let step_min = (after.t - before.t) as f64 / 60.0;
            let why = vec![format!(
                "reports {step_min:.0} min apart either side of the line, the crossing interpolated between them"
            )];
            let confidence = if step_min <= 60.0 {
                Confidence::high(why)
            } else {
                Confidence::medium(why)
            };
            Some(Event {
                mmsi,
                imo: cx.imo(mmsi),
                other_mmsi: None,
                start: *t,
                end: *t,
                lat: at.lat,
                lon: at.lon,
                confidence,
                truncated_start: false,
                truncated_end: false,
                details: ZoneDetails {
                    zone: zone.reference.clone(),
                    entered: true,
                    exited: true,
                    hours: 0.0,
                    reports: 0,
                    direction: Some(*direction),
                    evidence: vec![
                        ReportRef::new(mmsi, before.t, before.pos),
                        ReportRef::new(mmsi, after.t, after.pos),
                    ],
                }
                .into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600; // 2026-01-01

    fn p(mmsi: u32, t: i64, lat: f64, lon: f64) -> Position {
        Position {
            mmsi,
            t: T0 + t,
            pos: LatLon { lat, lon },
            sog_knots: Some(10.0),
            cog_deg: None,
            nav_status: None,
            second: None,
            station: None,
            source: Default::default(),
        }
    }

    fn point(r: Position) -> TrackPoint {
        TrackPoint {
            position: r,
            vessel: 0,
            segment: 1,
            previous: None,
        }
    }

    /// A unit square around (0.5, 0.5) off West Africa, and a gate along lon 2 from lat 0 to 1.
    fn zones() -> Vec<Zone> {
        let sq = |a: f64, b: f64| {
            vec![
                LatLon { lat: a, lon: a },
                LatLon { lat: a, lon: b },
                LatLon { lat: b, lon: b },
                LatLon { lat: b, lon: a },
            ]
        };
        vec![
            Zone::area("SQ", "square", vec![sq(0.0, 1.0)]),
            Zone::gate(
                "G",
                "gate",
                vec![vec![
                    LatLon { lat: 0.0, lon: 2.0 },
                    LatLon { lat: 1.0, lon: 2.0 },
                ]],
            ),
        ]
    }

    #[derive(Debug, PartialEq)]
    enum F {
        Visit {
            first: i64,
            last: i64,
            reports: u32,
            entered: bool,
            exited: bool,
        },
        Crossing {
            t: i64,
            direction: GateDirection,
        },
    }

    fn run(config: ZoneConfig, track: &[Position]) -> Vec<F> {
        let mut d = ZoneDetector::new(config, zones());
        let mut out = Vec::new();
        let mut take = |f: Finding<'_>| {
            out.push(match f {
                Finding::Visit { visit, exit, .. } => F::Visit {
                    first: visit.first.t - T0,
                    last: visit.last.t - T0,
                    reports: visit.reports,
                    entered: visit.entered,
                    exited: exit.is_some(),
                },
                Finding::Crossing { t, direction, .. } => F::Crossing {
                    t: t - T0,
                    direction,
                },
            })
        };
        for r in track {
            d.push(&point(*r), &mut take);
        }
        d.finish(&mut take);
        out
    }

    #[test]
    fn a_visit_through_the_square_has_an_entry_and_an_exit() {
        let track = [
            p(1, 0, 0.5, -0.5),
            p(1, 600, 0.5, 0.2),
            p(1, 1200, 0.5, 0.8),
            p(1, 1800, 0.5, 1.5),
        ];
        assert_eq!(
            run(ZoneConfig::default(), &track),
            vec![F::Visit {
                first: 600,
                last: 1200,
                reports: 2,
                entered: true,
                exited: true
            }]
        );
    }

    #[test]
    fn a_track_that_starts_or_ends_inside_is_not_seen_entering_or_leaving() {
        let track = [p(1, 0, 0.5, 0.5), p(1, 600, 0.6, 0.5)];
        assert_eq!(
            run(ZoneConfig::default(), &track),
            vec![F::Visit {
                first: 0,
                last: 600,
                reports: 2,
                entered: false,
                exited: false
            }]
        );
    }

    #[test]
    fn a_long_silence_inside_ends_the_visit_and_the_next_is_not_an_entry() {
        let c = ZoneConfig {
            max_gap_hours: 1.0,
            ..ZoneConfig::default()
        };
        let track = [
            p(1, 0, 0.5, -0.5),
            p(1, 600, 0.5, 0.5),
            p(1, 600 + 3601, 0.5, 0.6),
            p(1, 600 + 4000, 0.5, 1.5),
        ];
        assert_eq!(
            run(c, &track),
            vec![
                F::Visit {
                    first: 600,
                    last: 600,
                    reports: 1,
                    entered: true,
                    exited: false
                },
                F::Visit {
                    first: 4201,
                    last: 4201,
                    reports: 1,
                    entered: false,
                    exited: true
                },
            ]
        );
    }

    #[test]
    fn visits_below_the_thresholds_are_not_events_and_at_them_are() {
        let track = [
            p(1, 0, 0.5, -0.5),
            p(1, 600, 0.5, 0.2),
            p(1, 1200, 0.5, 0.8),
            p(1, 1800, 0.5, 1.5),
        ];
        let land = shadowfleet_geo::Land::natural_earth_10m().expect("land");
        let places = shadowfleet_places::Places::embedded(&land).expect("places");
        let reference = Reference {
            land: std::sync::Arc::new(land),
            places: std::sync::Arc::new(places),
            mids: std::sync::Arc::new(shadowfleet_places::Mids::embedded().expect("mids")),
            searoute_ports: Default::default(),
            base_dir: PathBuf::from("."),
        };
        let ids = shadowfleet_identities::IdentityTracker::new(
            Default::default(),
            reference.mids.clone(),
        );
        let enrich = crate::EnrichConfig::default();
        let recent = crate::detector::RecentEncounters::default();
        let events_for = |c: &ZoneConfig| {
            let mut d = ZoneDetector::new(c.clone(), zones());
            let (mut events, mut two) = (Vec::new(), Vec::new());
            let mut interference = crate::detector::InterferenceAreas::default();
            let mut cx = Context {
                reference: &reference,
                identities: &ids,
                enrich: &enrich,
                recent: &recent,
                interference: &mut interference,
                events: &mut events,
                two_places: &mut two,
            };
            for r in &track {
                Detector::point(&mut d, &point(*r), &mut cx);
            }
            Detector::finish(&mut d, &mut cx);
            events.len()
        };
        // The visit lasts 10 minutes and has 2 reports.
        let at = ZoneConfig {
            min_reports: 2,
            min_dwell_minutes: 10.0,
            ..ZoneConfig::default()
        };
        assert_eq!(events_for(&at), 1);
        let too_few = ZoneConfig {
            min_reports: 3,
            ..at.clone()
        };
        assert_eq!(events_for(&too_few), 0);
        let too_short = ZoneConfig {
            min_dwell_minutes: 10.5,
            ..at
        };
        assert_eq!(events_for(&too_short), 0);
    }

    #[test]
    fn a_gate_crossed_both_ways_gives_two_crossings_with_their_directions() {
        // The gate runs north along lon 2: west of it is its left.
        let track = [
            p(1, 0, 0.5, 1.5),
            p(1, 1000, 0.5, 2.5),
            p(1, 2000, 0.6, 1.5),
        ];
        assert_eq!(
            run(ZoneConfig::default(), &track),
            vec![
                F::Crossing {
                    t: 500,
                    direction: GateDirection::LeftToRight
                },
                F::Crossing {
                    t: 1500,
                    direction: GateDirection::RightToLeft
                },
            ]
        );
    }

    #[test]
    fn a_step_too_long_is_not_a_crossing_nor_one_beside_the_gate() {
        let c = ZoneConfig {
            max_crossing_step_hours: 1.0,
            ..ZoneConfig::default()
        };
        let track = [
            p(1, 0, 0.5, 1.5),
            p(1, 7200, 0.5, 2.5),
            p(1, 7300, 1.5, 2.5),
            p(1, 7400, 1.5, 1.5),
        ];
        assert_eq!(run(c, &track), vec![]);
    }

    #[test]
    fn geojson_zones_read_and_errors_name_the_feature() {
        let dir = std::env::temp_dir().join(format!("sf-zones-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let good = dir.join("z.geojson");
        std::fs::write(&good, r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","id":"A","properties":{"name":"Area"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
            {"type":"Feature","properties":{"id":"G"},"geometry":{"type":"LineString","coordinates":[[2,0],[2,1]]}}]}"#).expect("write");
        let z = read_zones(&good).expect("zones");
        assert_eq!(z.len(), 2);
        assert_eq!(
            (z[0].reference.id.as_str(), z[0].reference.name.as_str()),
            ("A", "Area")
        );
        assert!(z[0].contains(LatLon { lat: 0.5, lon: 0.5 }));
        assert!(!z[0].contains(LatLon { lat: 1.5, lon: 0.5 }));
        assert_eq!(z[1].reference.shape, ZoneShape::Gate);
        let bad = dir.join("bad.geojson");
        std::fs::write(&bad, r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"A","geometry":{"type":"Point","coordinates":[0,0]}}]}"#).expect("write");
        let e = read_zones(&bad).unwrap_err();
        assert!(
            e.contains("bad.geojson: feature 0") && e.contains("\"Point\""),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_named_place_is_a_circle_of_its_radius() {
        let land = shadowfleet_geo::Land::natural_earth_10m().expect("land");
        let places = shadowfleet_places::Places::embedded(&land).expect("places");
        let reference = Reference {
            land: std::sync::Arc::new(land),
            places: std::sync::Arc::new(places),
            mids: std::sync::Arc::new(shadowfleet_places::Mids::embedded().expect("mids")),
            searoute_ports: Default::default(),
            base_dir: PathBuf::from("."),
        };
        let config = DetectorConfig {
            zones: ZoneConfig {
                places: vec!["RU-PRIMORSK".into()],
                ..ZoneConfig::default()
            },
            ..DetectorConfig::default()
        };
        let d = <ZoneDetector as Register>::new(&config, &reference).expect("zones");
        let at = reference
            .places
            .get(reference.places.index_of("RU-PRIMORSK").expect("Primorsk"))
            .expect("place")
            .position;
        let z = &d.zones()[0];
        assert_eq!(z.reference.id, "RU-PRIMORSK");
        assert!(z.contains(at));
        assert!(z.contains(shadowfleet_geo::offset_m(at, 9_500.0, 0.0)));
        assert!(!z.contains(shadowfleet_geo::offset_m(at, 0.0, 10_500.0)));
        let unknown = DetectorConfig {
            zones: ZoneConfig {
                places: vec!["XX-NOWHERE".into()],
                ..ZoneConfig::default()
            },
            ..DetectorConfig::default()
        };
        let e = <ZoneDetector as Register>::new(&unknown, &reference)
            .err()
            .expect("an error");
        assert!(e.to_string().contains("XX-NOWHERE"), "{e}");
    }
}
