//! Encounters: two vessels within [`EncounterConfig::max_distance_m`] of each other for at
//! least [`EncounterConfig::min_hours`] at a median speed below
//! [`EncounterConfig::max_median_speed_kn`] (Global Fishing Watch's encounter definition).
//! Following GFW, each track is resampled to a fixed grid of instants
//! ([`EncounterConfig::resample_minutes`]), interpolating only across silences shorter than
//! [`EncounterConfig::max_interpolation_hours`], and meetings of one pair less than
//! [`EncounterConfig::merge_hours`] apart are merged. See `docs/detectors/encounters.md`.
//!
//! Work is keyed by space-time cell: each resampled instant is closed once the event-time
//! watermark has passed it by the interpolation limit, and its samples are put in a grid of
//! cells wider than the distance threshold, so each sample is compared only with the samples
//! of its own and the eight neighbouring cells (cost grows with the samples, not their square).

use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use shadowfleet_geo::{haversine_m, LatLon, METRES_PER_NM};
use shadowfleet_places::{PlaceKind, Places};
use shadowfleet_records::{round2, Confidence, Draughts, EncounterDetails, Event, EventKind};
use shadowfleet_tracks::{Position, TrackPoint};

use crate::detector::{
    hours, Context, Detector, DetectorError, DueQueue, Partition, Reference, Register,
};
use crate::detectors::DetectorConfig;
use crate::slots::Slots;

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncounterConfig {
    /// Largest distance between the two vessels, metres (GFW: 500 m).
    pub max_distance_m: f64,
    /// Shortest encounter, hours (GFW: 2 h).
    pub min_hours: f64,
    /// Largest median speed of the two during the encounter, knots (GFW: 2 kn).
    pub max_median_speed_kn: f64,
    /// Resampling interval, minutes (GFW: 10 min).
    pub resample_minutes: i64,
    /// No interpolation across silences this long or longer, hours (GFW: 1 h).
    pub max_interpolation_hours: f64,
    /// Meetings of one pair closer together than this are one encounter, hours (GFW: 4 h).
    pub merge_hours: f64,
    /// Outside known STS areas, encounters this close to a port or terminal are dropped, km
    /// (GFW: 10 km; for tankers STS-area membership replaces it inside the areas).
    pub min_port_distance_km: f64,
    /// Open segments remembered per MMSI.
    pub segments_per_mmsi: usize,
}

impl Default for EncounterConfig {
    fn default() -> Self {
        EncounterConfig {
            max_distance_m: 500.0,
            min_hours: 2.0,
            max_median_speed_kn: 2.0,
            resample_minutes: 10,
            max_interpolation_hours: 1.0,
            merge_hours: 4.0,
            min_port_distance_km: 10.0,
            segments_per_mmsi: 4,
        }
    }
}

/// A sample of a track at a resampled instant.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
struct Sample {
    mmsi: u32,
    pos: LatLon,
    speed_kn: f32,
}

/// An encounter between two MMSIs (`a < b`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Encounter {
    /// Lower MMSI.
    pub a: u32,
    /// Higher MMSI.
    pub b: u32,
    /// First resampled instant the two were close, unix seconds.
    pub start: i64,
    /// Last such instant, unix seconds.
    pub end: i64,
    /// Mean position of the two over the encounter.
    pub centre: LatLon,
    /// Median speed of the two, knots.
    pub median_speed_kn: f64,
    /// Smallest and median distance between them, metres.
    pub min_distance_m: f64,
    /// Median distance, metres.
    pub median_distance_m: f64,
    /// Resampled instants at which they were close.
    pub samples: u32,
}

/// Speed histogram bins (0.1 kn up to 25.5 kn), so that medians need bounded memory.
const BINS: usize = 256;

#[derive(serde::Serialize, serde::Deserialize)]
struct Meeting {
    start: i64,
    last: i64,
    dlat: f64,
    dlon: f64,
    origin: LatLon,
    n: u32,
    min_d: f64,
    #[serde(with = "shadowfleet_records::state::boxed_array")]
    speed_hist: Box<[u32; BINS]>,
    #[serde(with = "shadowfleet_records::state::boxed_array")]
    dist_hist: Box<[u32; BINS]>,
}

fn bin(x: f64, width: f64) -> usize {
    ((x / width) as usize).min(BINS - 1)
}

fn median_of(hist: &[u32; BINS], width: f64) -> f64 {
    let total: u32 = hist.iter().sum();
    let mut acc = 0;
    for (i, &c) in hist.iter().enumerate() {
        acc += c;
        if acc * 2 >= total {
            return (i as f64 + 0.5) * width;
        }
    }
    (BINS as f64) * width
}

/// Finds encounters. Feed track points with [`EncounterDetector::push`]; call
/// [`EncounterDetector::advance`] with the track watermark, and [`EncounterDetector::finish`].
pub struct EncounterDetector {
    config: EncounterConfig,
    last: Slots<Option<Position>>,
    ticks: BTreeMap<i64, Vec<Sample>>,
    spare: Vec<Vec<Sample>>,
    grid: FxHashMap<(i32, i32), Vec<u32>>,
    meetings: FxHashMap<(u32, u32), Meeting>,
    step: i64,
    /// Encounters found, waiting for the draughts after them.
    pending: DueQueue<Encounter>,
    /// Inside known STS areas, encounters this close to a port or terminal are port
    /// traffic, km (the port-call exit radius).
    berth_km: f64,
    /// Where encounters would be port traffic (see [`PortZones`]); none in unit tests.
    port_zones: Option<PortZones>,
    /// Whether each sample of the instant being closed takes part (reused).
    takes_part: Vec<bool>,
    /// Samples left out because their vessel lay deep inside a port zone.
    in_port: u64,
}

/// How far inside a port zone a sample must lie to be left out, metres: more than the
/// 250 m between a sample and the midpoint of any pair it could form, with room for a
/// moored ship's drift. Near the zone's edge every sample is kept, so an encounter whose
/// centre lies outside the zone is found as before.
const PORT_ZONE_MARGIN_M: f64 = 1_000.0;

/// Grid of the port-zone memo, degrees (about 1.1 km of latitude).
const ZONE_CELL_DEG: f64 = 0.01;

/// Cells remembered by the port-zone memo before it starts afresh (bounds its memory; a
/// global day touches a few thousand).
const ZONE_CELLS: usize = 1 << 16;

/// Port zones: where an encounter is port traffic and dropped — within
/// [`EncounterConfig::min_port_distance_km`] of a port or terminal outside known STS areas,
/// within the port-call exit radius inside them (GFW's rule, see
/// [`EncounterDetector::found`]). Ships moored in a port meet every neighbour at their
/// berths for days; comparing their samples costs the square of a port's ships and finds
/// nothing that is kept. So a sample that lies at least [`PORT_ZONE_MARGIN_M`] inside a
/// zone is not indexed. The test is memoised per grid cell of [`ZONE_CELL_DEG`]: a cell is
/// "deep" only when every point of it is.
struct PortZones {
    places: Arc<Places>,
    /// Exclusion radius outside and inside STS areas, metres, less the margin.
    open_sea_m: f64,
    sts_area_m: f64,
    deep: FxHashMap<(i32, i32), bool>,
}

impl PortZones {
    fn new(places: Arc<Places>, config: &EncounterConfig, berth_km: f64) -> PortZones {
        PortZones {
            places,
            open_sea_m: config.min_port_distance_km * 1000.0 - PORT_ZONE_MARGIN_M,
            sts_area_m: berth_km.min(config.min_port_distance_km) * 1000.0 - PORT_ZONE_MARGIN_M,
            deep: FxHashMap::default(),
        }
    }

    /// Whether `p` lies deep inside a port zone.
    fn deep_inside(&mut self, p: LatLon) -> bool {
        let key = (
            (p.lat / ZONE_CELL_DEG).floor() as i32,
            (p.lon / ZONE_CELL_DEG).floor() as i32,
        );
        if let Some(&deep) = self.deep.get(&key) {
            return deep;
        }
        if self.deep.len() >= ZONE_CELLS {
            self.deep.clear();
        }
        let deep = self.cell_is_deep(key);
        self.deep.insert(key, deep);
        deep
    }

    /// Whether every point of grid cell `key` lies deep inside a port zone: the cell's
    /// centre is within the exclusion radius less the cell's half-diagonal of a port, and
    /// (for the wider open-sea radius) no STS area comes within that half-diagonal.
    fn cell_is_deep(&self, (row, col): (i32, i32)) -> bool {
        let centre = LatLon::new(
            (f64::from(row) + 0.5) * ZONE_CELL_DEG,
            (f64::from(col) + 0.5) * ZONE_CELL_DEG,
        );
        let corner = LatLon::new(
            f64::from(row) * ZONE_CELL_DEG,
            f64::from(col) * ZONE_CELL_DEG,
        );
        // The corner nearest the equator is the farthest from the centre.
        let corner = if centre.lat < 0.0 {
            LatLon::new(corner.lat + ZONE_CELL_DEG, corner.lon)
        } else {
            corner
        };
        let half_diagonal = haversine_m(centre, corner) + 1.0;
        let port_within = |m: f64| {
            m > 0.0
                && self
                    .places
                    .nearest(centre, m, |k| {
                        matches!(k, PlaceKind::Terminal | PlaceKind::Port)
                    })
                    .is_some()
        };
        if port_within(self.sts_area_m - half_diagonal) {
            return true;
        }
        let mut sts_near = false;
        self.places.near(centre, half_diagonal, |_, place, _| {
            sts_near |= place.kind == PlaceKind::StsArea;
        });
        !sts_near && port_within(self.open_sea_m - half_diagonal)
    }
}

/// Grid rows are 0.005° of latitude (556 m); columns are at least as wide in metres at every
/// latitude of their one-degree band.
const ROW_DEG: f64 = 0.005;

fn row_of(lat: f64) -> i32 {
    (lat / ROW_DEG).floor() as i32
}

fn col_of(row: i32, lon: f64) -> i32 {
    let band = (f64::from(row) * ROW_DEG).floor();
    let worst = band.abs().max((band + 1.0).abs()).min(89.0);
    let width = ROW_DEG / worst.to_radians().cos();
    (lon / width).floor() as i32
}

impl EncounterDetector {
    /// A detector with `config`.
    pub fn new(config: EncounterConfig) -> Self {
        EncounterDetector {
            config,
            last: Slots::new(config.segments_per_mmsi),
            ticks: BTreeMap::new(),
            spare: Vec::new(),
            grid: FxHashMap::default(),
            meetings: FxHashMap::default(),
            step: config.resample_minutes.max(1) * 60,
            pending: DueQueue::default(),
            berth_km: 0.0,
            port_zones: None,
            takes_part: Vec::new(),
            in_port: 0,
        }
    }

    /// Leaves out samples lying at least 1 km inside a port zone over `places` (where an
    /// encounter would be dropped as port traffic: within
    /// [`EncounterConfig::min_port_distance_km`] of a port or terminal outside STS areas,
    /// within `berth_km` inside them). See `docs/detectors/encounters.md`.
    pub fn with_port_zones(mut self, places: Arc<Places>, berth_km: f64) -> Self {
        self.berth_km = berth_km;
        self.port_zones = Some(PortZones::new(places, &self.config, berth_km));
        self
    }

    /// Samples left out so far because their vessel lay deep inside a port zone.
    pub fn samples_in_port(&self) -> u64 {
        self.in_port
    }

    /// Takes the next point: resamples the segment between it and the previous point.
    pub fn push(&mut self, p: &TrackPoint) {
        let r = p.position;
        let step = self.step;
        let max_gap = (self.config.max_interpolation_hours * 3600.0) as i64;
        let slot = self
            .last
            .get(p.vessel, r.mmsi, p.segment, r.t, || None, &mut |_| {});
        let prev = slot.replace(r);
        let Some(q) = prev else { return };
        let dt = r.t - q.t;
        if dt <= 0 || dt >= max_gap {
            return;
        }
        // Only needed where a reported speed is missing; computed once then.
        let mut implied_kn = None;
        let mut implied = || {
            *implied_kn.get_or_insert_with(|| {
                haversine_m(q.pos, r.pos) / METRES_PER_NM / (dt as f64 / 3600.0)
            })
        };
        let mut tau = (q.t.div_euclid(step) + 1) * step;
        while tau <= r.t {
            let f = (tau - q.t) as f64 / dt as f64;
            let pos = q.pos.lerp(r.pos, f);
            if let Some(zones) = self.port_zones.as_mut() {
                if zones.deep_inside(pos) {
                    self.in_port += 1;
                    tau += step;
                    continue;
                }
            }
            let speed = match (q.sog_knots, r.sog_knots) {
                (Some(a), Some(b)) => f64::from(a) + (f64::from(b) - f64::from(a)) * f,
                _ => implied(),
            };
            let spare = &mut self.spare;
            self.ticks
                .entry(tau)
                .or_insert_with(|| spare.pop().unwrap_or_default())
                .push(Sample {
                    mmsi: r.mmsi,
                    pos,
                    speed_kn: speed as f32,
                });
            tau += step;
        }
    }

    /// Closes every resampled instant before `watermark` minus the interpolation limit (no
    /// later sample can arrive for it) and reports encounters that ended more than
    /// [`EncounterConfig::merge_hours`] before it. `candidate(mmsi)` says whether a vessel
    /// takes part (e.g. tankers only).
    pub fn advance(
        &mut self,
        watermark: i64,
        candidate: &dyn Fn(u32) -> bool,
        out: &mut dyn FnMut(Encounter),
    ) {
        let max_gap = (self.config.max_interpolation_hours * 3600.0) as i64;
        let close_before = watermark.saturating_sub(max_gap);
        while let Some(entry) = self.ticks.first_entry() {
            if *entry.key() >= close_before {
                break;
            }
            let tau = *entry.key();
            let mut samples = entry.remove();
            self.close_tick(tau, &samples, candidate);
            samples.clear();
            self.spare.push(samples);
        }
        self.flush_meetings(close_before, out);
    }

    fn close_tick(&mut self, tau: i64, samples: &[Sample], candidate: &dyn Fn(u32) -> bool) {
        for v in self.grid.values_mut() {
            v.clear();
        }
        if self.grid.len() > 4 * samples.len() + 1024 {
            self.grid.clear();
        }
        // Asked once per sample (it is a lookup in the identity stage).
        self.takes_part.clear();
        self.takes_part
            .extend(samples.iter().map(|s| candidate(s.mmsi)));
        for (i, s) in samples.iter().enumerate() {
            if !self.takes_part[i] {
                continue;
            }
            let row = row_of(s.pos.lat);
            self.grid
                .entry((row, col_of(row, s.pos.lon)))
                .or_default()
                .push(i as u32);
        }
        let max_d = self.config.max_distance_m;
        for (i, s) in samples.iter().enumerate() {
            if !self.takes_part[i] {
                continue;
            }
            let row = row_of(s.pos.lat);
            for r in row - 1..=row + 1 {
                let c0 = col_of(r, s.pos.lon);
                for c in c0 - 1..=c0 + 1 {
                    let Some(ids) = self.grid.get(&(r, c)) else {
                        continue;
                    };
                    for &j in ids {
                        let o = &samples[j as usize];
                        if (j as usize) <= i || o.mmsi == s.mmsi {
                            continue;
                        }
                        let d = haversine_m(s.pos, o.pos);
                        if d > max_d {
                            continue;
                        }
                        let (a, b) = if s.mmsi < o.mmsi {
                            (s.mmsi, o.mmsi)
                        } else {
                            (o.mmsi, s.mmsi)
                        };
                        let m = self.meetings.entry((a, b)).or_insert_with(|| Meeting {
                            start: tau,
                            last: tau,
                            dlat: 0.0,
                            dlon: 0.0,
                            origin: s.pos,
                            n: 0,
                            min_d: f64::INFINITY,
                            speed_hist: Box::new([0; BINS]),
                            dist_hist: Box::new([0; BINS]),
                        });
                        if m.last == tau && m.n > 0 {
                            // The same pair twice at one instant (two segments): once is enough.
                            continue;
                        }
                        m.last = tau;
                        let c = s.pos.lerp(o.pos, 0.5);
                        m.dlat += c.lat - m.origin.lat;
                        m.dlon += c.lon - m.origin.lon;
                        m.n += 1;
                        m.min_d = m.min_d.min(d);
                        m.speed_hist[bin(f64::from(s.speed_kn), 0.1)] += 1;
                        m.speed_hist[bin(f64::from(o.speed_kn), 0.1)] += 1;
                        m.dist_hist[bin(d, max_d / BINS as f64)] += 1;
                    }
                }
            }
        }
    }

    fn flush_meetings(&mut self, before: i64, out: &mut dyn FnMut(Encounter)) {
        let merge = (self.config.merge_hours * 3600.0) as i64;
        let done: Vec<(u32, u32)> = self
            .meetings
            .iter()
            .filter(|(_, m)| m.last + merge < before)
            .map(|(k, _)| *k)
            .collect();
        let mut ended = Vec::with_capacity(done.len());
        for k in done {
            if let Some(m) = self.meetings.remove(&k) {
                ended.push((k, m));
            }
        }
        ended.sort_by_key(|(k, m)| (m.start, *k));
        for (k, m) in ended {
            self.emit(k, m, out);
        }
    }

    fn emit(&self, (a, b): (u32, u32), m: Meeting, out: &mut dyn FnMut(Encounter)) {
        let duration = (m.last - m.start + self.step) as f64 / 3600.0;
        let median_speed = median_of(&m.speed_hist, 0.1);
        if duration < self.config.min_hours || median_speed >= self.config.max_median_speed_kn {
            return;
        }
        let n = f64::from(m.n);
        out(Encounter {
            a,
            b,
            start: m.start,
            end: m.last,
            centre: LatLon::new(m.origin.lat + m.dlat / n, m.origin.lon + m.dlon / n),
            median_speed_kn: median_speed,
            min_distance_m: m.min_d,
            median_distance_m: median_of(&m.dist_hist, self.config.max_distance_m / BINS as f64),
            samples: m.n,
        });
    }

    /// Closes everything.
    pub fn finish(&mut self, candidate: &dyn Fn(u32) -> bool, out: &mut dyn FnMut(Encounter)) {
        self.advance(i64::MAX, candidate, out);
        let all: Vec<(u32, u32)> = self.meetings.keys().copied().collect();
        let mut ended: Vec<_> = all
            .into_iter()
            .filter_map(|k| self.meetings.remove(&k).map(|m| (k, m)))
            .collect();
        ended.sort_by_key(|(k, m)| (m.start, *k));
        for (k, m) in ended {
            self.emit(k, m, out);
        }
    }

    /// Resampled instants waiting to be closed, and open meetings (for memory accounting).
    pub fn pending(&self) -> (usize, usize) {
        (self.ticks.len(), self.meetings.len())
    }
}

impl Register for EncounterDetector {
    type Config = EncounterConfig;

    fn new(config: &DetectorConfig, reference: &Reference) -> Result<Self, DetectorError> {
        Ok(EncounterDetector::new(config.encounters)
            .with_port_zones(reference.places.clone(), config.port_calls.exit_km))
    }
}

impl EncounterDetector {
    /// Keeps an encounter until the draughts after it are known, unless it is port traffic:
    /// outside known STS areas, meetings near ports are port traffic (GFW); inside them, only
    /// meetings at berths (within the port-call exit radius).
    fn found(&mut self, x: Encounter, cx: &Context<'_>) {
        let keep_off_km = if cx.sts_area_at(x.centre).is_some() {
            self.berth_km
        } else {
            self.config.min_port_distance_km
        };
        if !cx.near_port(x.centre, keep_off_km) {
            self.pending
                .push(x.end + hours(cx.enrich.draught_wait_hours), x);
        }
    }

    fn flush(&mut self, watermark: i64, cx: &mut Context<'_>) {
        while let Some(x) = self.pending.pop_due(watermark) {
            let e = encounter_event(&x, cx);
            cx.emit(e);
        }
    }
}

impl Detector for EncounterDetector {
    shadowfleet_records::persist_fields!("encounters"; last, ticks, meetings, step, pending, in_port);

    fn kind(&self) -> EventKind {
        EventKind::Encounter
    }

    fn partition(&self) -> Partition {
        Partition::Cell
    }

    fn prefetch(&self, vessel: u32) {
        self.last.prefetch(vessel);
    }

    fn point(&mut self, p: &TrackPoint, _cx: &mut Context<'_>) {
        self.push(p);
    }

    fn advance(&mut self, watermark: i64, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        EncounterDetector::advance(self, watermark, &|m| cx.may_be_tanker(m), &mut |e| {
            found.push(e)
        });
        for x in found {
            self.found(x, cx);
        }
        self.flush(watermark, cx);
    }

    fn finish(&mut self, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        EncounterDetector::finish(self, &|m| cx.may_be_tanker(m), &mut |e| found.push(e));
        for x in found {
            self.found(x, cx);
        }
        self.flush(i64::MAX, cx);
    }
}

/// The event of an encounter: both draughts before and after, and the giver when one fell
/// and the other rose (a ship-to-ship transfer confirmed by draught).
fn encounter_event(x: &Encounter, cx: &Context<'_>) -> Event {
    let wait = hours(cx.enrich.draught_wait_hours);
    let min = cx.enrich.draught_change_m - 1e-9;
    let (a0, a1) = cx.draughts(x.a, x.start, x.end + wait);
    let (b0, b1) = cx.draughts(x.b, x.start, x.end + wait);
    let change = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let giver = match (change(a0, a1), change(b0, b1)) {
        (Some(da), Some(db)) if da <= -min && db >= min => Some(x.a),
        (Some(da), Some(db)) if db <= -min && da >= min => Some(x.b),
        _ => None,
    };
    let (mmsi, other) = if giver == Some(x.b) {
        (x.b, x.a)
    } else {
        (x.a, x.b)
    };
    let area = cx.sts_area_at(x.centre);
    let hours = (x.end - x.start) as f64 / 3600.0;
    let mut why = vec![format!(
        "{} resampled instants within {:.0} m (median {:.0} m) at a median {:.1} kn",
        x.samples, x.min_distance_m, x.median_distance_m, x.median_speed_kn
    )];
    let confidence = if let Some(g) = giver {
        let (given, taken) = if g == x.a {
            (change(a0, a1), change(b0, b1))
        } else {
            (change(b0, b1), change(a0, a1))
        };
        why.insert(
            0,
            format!(
                "draughts confirm a transfer: the giver's fell {:.1} m, the receiver's rose {:.1} m",
                -given.unwrap_or(0.0),
                taken.unwrap_or(0.0)
            ),
        );
        Confidence::high(why)
    } else if area.is_some() || hours >= 4.0 {
        if area.is_some() {
            why.push("in a known ship-to-ship transfer area".into());
        }
        why.push("no draught change confirms a transfer".into());
        Confidence::medium(why)
    } else {
        why.push(format!(
            "{hours:.1} h, outside known STS areas, no draught change: may be two ships waiting"
        ));
        Confidence::low(why)
    };
    Event {
        mmsi,
        imo: cx.imo(mmsi),
        other_mmsi: Some(other),
        start: x.start,
        end: x.end,
        lat: x.centre.lat,
        lon: x.centre.lon,
        confidence,
        truncated_start: false,
        truncated_end: false,
        details: EncounterDetails {
            hours: round2((x.end - x.start) as f64 / 3600.0),
            median_speed_kn: round2(x.median_speed_kn),
            min_distance_m: x.min_distance_m.round(),
            median_distance_m: x.median_distance_m.round(),
            samples: x.samples,
            sts_area: area.and_then(|i| cx.place_ref(i)),
            sts_confirmed: giver.is_some(),
            giver_mmsi: giver,
            draughts: vec![
                Draughts {
                    mmsi: x.a,
                    before_m: a0,
                    after_m: a1,
                },
                Draughts {
                    mmsi: x.b,
                    before_m: b0,
                    after_m: b1,
                },
            ],
            other_imo: cx.imo(other),
        }
        .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{east, every, merged, T0};

    const H: i64 = 3600;
    /// The Laconian Gulf, an STS area off Greece.
    const SEA: LatLon = LatLon {
        lat: 36.5,
        lon: 22.7,
    };

    /// Two tankers side by side, `apart_m` apart at 1 kn, reporting every 5 minutes over the
    /// given spans (seconds from the start).
    fn pair(apart_m: f64, spans: &[(i64, i64)]) -> Vec<TrackPoint> {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for &(from, to) in spans {
            let n = ((to - from) / 300 + 1) as usize;
            a.extend(every(1, from, 300, n, 1.0, |_| SEA));
            b.extend(every(2, from + 1, 300, n, 1.0, |_| east(SEA, apart_m)));
        }
        merged(&[a, b])
    }

    /// The encounters found, the watermark following the points as the pipeline's does.
    fn encounters(points: &[TrackPoint], config: EncounterConfig) -> Vec<(i64, i64)> {
        let mut d = EncounterDetector::new(config);
        let mut out = Vec::new();
        for p in points {
            d.push(p);
            EncounterDetector::advance(&mut d, p.position.t, &|_| true, &mut |e| {
                out.push((e.start - T0, e.end - T0))
            });
        }
        d.finish(&|_| true, &mut |e| out.push((e.start - T0, e.end - T0)));
        out
    }

    #[test]
    fn two_hours_side_by_side_is_an_encounter_and_less_is_not() {
        let c = EncounterConfig::default();
        // Resampled every 10 minutes; an encounter lasts as many 10-minute steps as it has
        // resampled instants: 12 instants (600 s to 7200 s) are 2 h.
        assert_eq!(
            encounters(&pair(300.0, &[(0, 2 * H)]), c),
            vec![(600, 2 * H)]
        );
        assert!(encounters(&pair(300.0, &[(0, 2 * H - 600)]), c).is_empty());
    }

    #[test]
    fn the_distance_threshold_holds_at_its_edge() {
        let c = EncounterConfig::default();
        assert_eq!(
            encounters(&pair(c.max_distance_m - 5.0, &[(0, 3 * H)]), c).len(),
            1
        );
        assert!(encounters(&pair(c.max_distance_m + 5.0, &[(0, 3 * H)]), c).is_empty());
    }

    #[test]
    fn a_meeting_split_by_a_short_gap_is_one_encounter_and_by_a_long_one_two() {
        let c = EncounterConfig::default();
        let merge = (c.merge_hours * 3600.0) as i64;
        let short = pair(300.0, &[(0, 3 * H), (3 * H + merge - H, 6 * H + merge)]);
        assert_eq!(encounters(&short, c).len(), 1);
        let long = pair(
            300.0,
            &[(0, 3 * H), (3 * H + merge + H, 6 * H + merge + 2 * H)],
        );
        assert_eq!(encounters(&long, c).len(), 2);
    }

    #[test]
    fn no_interpolation_across_a_long_silence() {
        let c = EncounterConfig::default();
        // Reports every 70 minutes: nothing is resampled between them.
        let step = (c.max_interpolation_hours * 3600.0) as i64 + 600;
        let a = every(1, 0, step, 6, 1.0, |_| SEA);
        let b = every(2, 1, step, 6, 1.0, |_| east(SEA, 200.0));
        assert!(encounters(&merged(&[a, b]), c).is_empty());
    }

    /// Two tankers alongside each other for 6 h at `at`, through the detector as the
    /// pipeline builds it (port zones over the embedded places).
    fn moored_pair(at: LatLon) -> (usize, u64) {
        let mut h = crate::testing::Harness::new();
        let config = DetectorConfig::default();
        let mut d = <EncounterDetector as Register>::new(&config, h.reference()).unwrap();
        let a = every(1, 0, 300, 73, 0.1, |_| at);
        let b = every(2, 1, 300, 73, 0.1, |_| east(at, 150.0));
        let events = h.run(&mut d, &merged(&[a, b]));
        (events.len(), d.samples_in_port())
    }

    #[test]
    fn ships_at_a_berth_are_not_compared_and_the_same_pair_at_sea_still_meets() {
        let rotterdam = LatLon::new(51.965, 4.02);
        // 3 km north-west of the Europoort approach point: deep inside its 10 km zone.
        let berth = LatLon::new(51.985, 3.99);
        assert!(haversine_m(rotterdam, berth) < 4_000.0);
        let (events, left_out) = moored_pair(berth);
        assert_eq!(events, 0);
        // Every sample of both ships: 6 h at 10-minute instants.
        assert_eq!(left_out, 2 * 36);
        // In the Laconian Gulf STS area, far from any berth: compared, and they meet.
        let (events, left_out) = moored_pair(SEA);
        assert_eq!((events, left_out), (1, 0));
    }

    #[test]
    fn the_port_zone_memo_counts_a_cell_only_when_all_of_it_is_deep_inside() {
        let h = crate::testing::Harness::new();
        let c = EncounterConfig::default();
        let mut z = PortZones::new(h.reference().places.clone(), &c, 4.0);
        let rotterdam = LatLon::new(51.965, 4.02);
        assert!(z.deep_inside(rotterdam));
        // Just inside the 10 km zone but within the 1 km margin: kept.
        let edge = LatLon::new(rotterdam.lat + 9_500.0 / 111_195.0, rotterdam.lon);
        assert!(!z.deep_inside(edge));
        // Out at sea.
        assert!(!z.deep_inside(LatLon::new(52.4, 3.0)));
        // Every answer agrees with the exact rule at the point (never deep when the point
        // is not at least the margin inside).
        for i in 0..400 {
            let p = LatLon::new(
                51.9 + f64::from(i % 20) * 0.007,
                3.9 + f64::from(i / 20) * 0.011,
            );
            if z.deep_inside(p) {
                let d = h
                    .reference()
                    .places
                    .nearest(p, 20_000.0, |k| {
                        matches!(k, PlaceKind::Terminal | PlaceKind::Port)
                    })
                    .map_or(f64::INFINITY, |x| x.1);
                assert!(
                    d <= c.min_port_distance_km * 1000.0 - PORT_ZONE_MARGIN_M,
                    "{p:?} at {d} m"
                );
            }
        }
    }

    #[test]
    fn only_candidates_meet() {
        let c = EncounterConfig::default();
        let mut d = EncounterDetector::new(c);
        for p in pair(300.0, &[(0, 3 * H)]) {
            d.push(&p);
        }
        let mut n = 0;
        d.finish(&|m| m != 273_000_002, &mut |_| n += 1);
        assert_eq!(n, 0);
    }
}
