//! Spoofing: broadcast positions that cannot be true. Three signatures, each on its own:
//!
//! - **on land**: reports inside the Natural Earth land polygons and more than
//!   [`SpoofingConfig::land_margin_m`] from the coastline (the margin absorbs the 1:10m
//!   coastline's error and docks cut into the land);
//! - **excursion** (`jump`, `offset`): the track builder opens a new segment because the
//!   position moved impossibly fast (more than [`SpoofingConfig::jump_min_km`] at more than
//!   the segmenter's speed limit), and later the MMSI comes back to the segment it left and
//!   never uses the other again; up to [`SpoofingConfig::jump_max_hours`] it is a `jump`,
//!   longer an `offset` (a displaced track);
//! - **circle**: over [`SpoofingConfig::circle_window_hours`] the MMSI reports a speed it
//!   cannot be making good: the positions stay within
//!   [`SpoofingConfig::circle_max_diameter_km`] for at least
//!   [`SpoofingConfig::circle_min_span_hours`] while the reported speeds add up to at least
//!   [`SpoofingConfig::circle_min_distance_ratio`] times that extent, and the reported
//!   course keeps turning one way ([`SpoofingConfig::circle_min_turn_rate_deg_min`]). It is
//!   the "crop circle" of GNSS manipulation reported around oil terminals and in the
//!   Baltic, and the test needs no full circle in view: a few satellite passes that each
//!   see an arc of it suffice.
//!
//! An MMSI that goes back and forth between two segments at least
//! [`SpoofingConfig::two_places_alternations`] times is one MMSI in two places at once:
//! reported as [`SpoofOutput::TwoPlaces`] for the identity stage (two ships, one MMSI).
//! See `docs/detectors/spoofing.md`.

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use shadowfleet_geo::{haversine_m, within_m, Land, LatLon, UniformBox, METRES_PER_NM};
pub use shadowfleet_records::SpoofMethod;
use shadowfleet_records::{
    round2, Confidence, Event, EventKind, ReportRef, SpoofFinding, SpoofingDetails,
};
use shadowfleet_tracks::{Position, TrackPoint};

use crate::detector::{hours, Context, Detector, DetectorError, Partition, Reference, Register};
use crate::detectors::DetectorConfig;
use crate::slots::Slots;

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpoofingConfig {
    /// A position on land counts only this far inside the coastline, metres.
    pub land_margin_m: f64,
    /// Fewest consecutive reports on land for an event.
    pub land_min_points: u32,
    /// Smallest displacement that opens an excursion, kilometres.
    pub jump_min_km: f64,
    /// Excursions up to this long are `jump`, longer ones `offset`, hours.
    pub jump_max_hours: f64,
    /// Excursions longer than this are not reported (the other segment is the real one),
    /// hours.
    pub excursion_max_hours: f64,
    /// An excursion is confirmed when its segment is not used again for this long, hours.
    pub confirm_hours: f64,
    /// Back-and-forth switches between two segments within [`Self::confirm_hours`] that make
    /// an MMSI "in two places at once".
    pub two_places_alternations: u32,
    /// Window over which the circle test looks back, hours.
    pub circle_window_hours: f64,
    /// Shortest time between the first and last report of the window, hours.
    pub circle_min_span_hours: f64,
    /// Largest extent of the positions (diagonal of their bounding box), kilometres.
    pub circle_max_diameter_km: f64,
    /// Smallest mean reported speed, knots.
    pub circle_min_speed_kn: f64,
    /// Smallest ratio of the distance the reported speeds cover to the extent.
    pub circle_min_distance_ratio: f64,
    /// Smallest mean rate of turn of the reported course, degrees per minute.
    pub circle_min_turn_rate_deg_min: f64,
    /// Turning is measured between reports this far apart at least (course noise averages
    /// out), and at most [`Self::circle_max_turn_step_min`], minutes.
    pub circle_min_turn_step_min: f64,
    /// See [`Self::circle_min_turn_step_min`], minutes.
    pub circle_max_turn_step_min: f64,
    /// Fewest minutes of observed turning in the window.
    pub circle_min_turning_minutes: f64,
    /// Fewest turning steps (course changes measured) in the window.
    pub circle_min_turn_steps: u32,
    /// Largest share of the observed time in which the course holds steady (slower than
    /// the minimum rate), and smallest share of the turning that goes one way (1 − this).
    pub circle_max_straight_share: f64,
    /// Open segments remembered per MMSI.
    pub segments_per_mmsi: usize,
    /// A report counts towards "two places at once" only when its UTC second lies within
    /// this of its receive time's (a late relay is not the other place), seconds.
    pub fresh_second_tolerance_s: i64,
    /// A finding whose false positions lie in an interference area (see
    /// `docs/detectors/interference.md`) up to this long before or after it was reported is
    /// the area's interference, hours.
    pub interference_slack_hours: f64,
    /// A run on land that begins after the vessel was last heard at sea or on a waterway,
    /// no farther inland than the margin's double plus what it could have sailed since at
    /// this speed (at most [`Self::waterway_max_silence_hours`] of it), and no faster, is a
    /// river the land polygons do not cut out, knots.
    pub waterway_speed_kn: f64,
    /// See [`Self::waterway_speed_kn`], hours.
    pub waterway_max_silence_hours: f64,
    /// A run on land beginning this close to an inland port (a port of the embedded
    /// searoute list lying more than the margin inside Natural Earth's land: Izmail,
    /// Hamburg, Rouen) is a ship at that port, kilometres.
    pub inland_port_km: f64,
}

impl Default for SpoofingConfig {
    fn default() -> Self {
        SpoofingConfig {
            land_margin_m: 5_000.0,
            land_min_points: 3,
            jump_min_km: 50.0,
            jump_max_hours: 1.0,
            excursion_max_hours: 48.0,
            confirm_hours: 6.0,
            two_places_alternations: 3,
            circle_window_hours: 2.0,
            circle_min_span_hours: 1.5,
            circle_max_diameter_km: 10.0,
            circle_min_speed_kn: 4.0,
            circle_min_distance_ratio: 3.0,
            circle_min_turn_rate_deg_min: 1.5,
            circle_min_turn_step_min: 3.0,
            circle_max_turn_step_min: 10.0,
            circle_min_turning_minutes: 8.0,
            circle_min_turn_steps: 3,
            circle_max_straight_share: 0.25,
            segments_per_mmsi: 4,
            fresh_second_tolerance_s: 2,
            interference_slack_hours: 1.0,
            waterway_speed_kn: 20.0,
            waterway_max_silence_hours: 12.0,
            inland_port_km: 10.0,
        }
    }
}

/// A spoofing episode.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spoofing {
    /// MMSI.
    pub mmsi: u32,
    /// Signature.
    pub method: SpoofMethod,
    /// First false report.
    pub first: Position,
    /// Last false report.
    pub last: Position,
    /// The last plausible report before, when known.
    pub before: Option<Position>,
    /// Size of the anomaly: displacement (excursions), circle radius, or distance inland, km.
    pub size_km: f64,
}

/// What the spoofing detector reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpoofOutput {
    /// A spoofing episode.
    Spoofing(Spoofing),
    /// One MMSI reported in two places at once.
    TwoPlaces {
        /// MMSI.
        mmsi: u32,
        /// A report of one place.
        a: Position,
        /// A report of the other, at about the same time.
        b: Position,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Sequence {
    seg: u64,
    first: Position,
    last: Position,
    /// The run began by opening a new segment this far from the previous run, km.
    jump_km: f64,
    began_new: bool,
    prev: Option<(u64, Position)>,
    candidate: Option<(u64, Spoofing)>,
    alternations: u32,
    last_alternation: i64,
    land: Option<LandRun>,
    /// The last report at sea or on a waterway run, in any segment.
    #[serde(default)]
    afloat: Option<Position>,
    /// The last box known to be all land or all sea around the vessel.
    uniform: Option<UniformBox>,
    /// The last position on land found within the margin of the coast (a ship moored in a
    /// harbour the land polygons fill): positions this close to it are so too.
    near_coast: Option<LatLon>,
}

/// A position within this distance of one found on land less than the margin minus it
/// from the coast is itself within the margin: the coastline search is not repeated for a
/// moored ship reporting every few seconds.
const NEAR_COAST_REUSE_M: f64 = 50.0;

/// Circle-test state of one segment: the window as a few time buckets of aggregates, so
/// that it is bounded whatever the reporting rate.
///
/// Only the newest bucket changes with each report, so it is kept inline and the older
/// ones' aggregates are folded once, when a bucket opens or leaves the window: a report then
/// reads this struct alone, not the whole window (which, with every vessel's reports
/// interleaved, was a dozen cache misses per report at a large fleet).
#[derive(serde::Serialize, serde::Deserialize)]
struct Circle {
    /// The buckets before the newest, oldest first.
    older: VecDeque<Bucket>,
    /// The newest bucket.
    newest: Option<Bucket>,
    /// `older` folded in order (see [`Fold`]).
    folded: Fold,
    /// Previous report (reported distance) and the report turning is measured from.
    prev: Option<Position>,
    turn_from: Option<Position>,
    active: Option<ActiveCircle>,
}

/// Aggregates of the reports in one time bucket.
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Bucket {
    index: i64,
    first: Position,
    last: Position,
    lat: (f64, f64),
    lon: (f64, f64),
    reported_m: f64,
    elapsed_s: f64,
    sog_sum: f64,
    sog_n: u32,
    turn_signed: f64,
    turn_abs: f64,
    turn_s: f64,
    turn_steps: u32,
    straight_s: f64,
    last_turning: Option<Position>,
}

impl Bucket {
    fn new(index: i64, r: Position) -> Self {
        Bucket {
            index,
            first: r,
            last: r,
            lat: (r.pos.lat, r.pos.lat),
            lon: (r.pos.lon, r.pos.lon),
            reported_m: 0.0,
            elapsed_s: 0.0,
            sog_sum: 0.0,
            sog_n: 0,
            turn_signed: 0.0,
            turn_abs: 0.0,
            turn_s: 0.0,
            turn_steps: 0,
            straight_s: 0.0,
            last_turning: None,
        }
    }
}

/// Buckets per circle window.
const CIRCLE_BUCKETS: i64 = 12;
const KN_M_PER_S: f64 = METRES_PER_NM / 3600.0;

/// A run of reports on land: first, last, count, deepest distance inland (m).
/// A run of reports on land: first, last, count, deepest distance inland (m), and whether
/// the track walked onto land from the sea within its segment (an inland waterway).
type LandRun = (Position, Position, u32, f64, bool);

/// An active circle: first and last report, centre, radius (m).
type ActiveCircle = (Position, Position, LatLon, f64);

/// Reports a closed run on land when it has enough reports.
fn close_land(cfg: &SpoofingConfig, run: LandRun, out: &mut dyn FnMut(SpoofOutput)) {
    let (first, last, n, d, waterway) = run;
    if n >= cfg.land_min_points && !waterway {
        out(SpoofOutput::Spoofing(Spoofing {
            mmsi: first.mmsi,
            method: SpoofMethod::Land,
            first,
            last,
            before: None,
            size_km: d / 1000.0,
        }));
    }
}

/// Reports a circle that ended.
fn close_circle(c: ActiveCircle, out: &mut dyn FnMut(SpoofOutput)) {
    let (first, last, _, radius) = c;
    out(SpoofOutput::Spoofing(Spoofing {
        mmsi: first.mmsi,
        method: SpoofMethod::Circle,
        first,
        last,
        before: None,
        size_km: radius / 1000.0,
    }));
}

/// The window's aggregates folded bucket by bucket, oldest first: the circle test's sums,
/// extents and counts. Folding the older buckets once and the newest last gives the same
/// numbers, to the last bit, as folding all of them each time.
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Fold {
    /// Buckets folded.
    n: usize,
    lat: (f64, f64),
    lon: (f64, f64),
    reported: f64,
    elapsed: f64,
    sog: f64,
    sog_n: u32,
    signed: f64,
    abs: f64,
    turn_s: f64,
    straight_s: f64,
    steps: u32,
}

impl Default for Fold {
    fn default() -> Self {
        Fold {
            n: 0,
            lat: (f64::MAX, f64::MIN),
            lon: (f64::MAX, f64::MIN),
            reported: 0.0,
            elapsed: 0.0,
            sog: 0.0,
            sog_n: 0,
            signed: 0.0,
            abs: 0.0,
            turn_s: 0.0,
            straight_s: 0.0,
            steps: 0,
        }
    }
}

impl Fold {
    /// This fold with bucket `b` (the next, later one) added.
    fn with(mut self, b: &Bucket) -> Fold {
        self.lat = (self.lat.0.min(b.lat.0), self.lat.1.max(b.lat.1));
        self.lon = (self.lon.0.min(b.lon.0), self.lon.1.max(b.lon.1));
        self.sog += b.sog_sum;
        self.sog_n += b.sog_n;
        self.signed += b.turn_signed;
        self.abs += b.turn_abs;
        self.turn_s += b.turn_s;
        self.straight_s += b.straight_s;
        self.steps += b.turn_steps;
        // The first bucket's first pair may reach back across a long silence.
        if self.n > 0 {
            self.reported += b.reported_m;
            self.elapsed += b.elapsed_s;
        }
        self.n += 1;
        self
    }

    fn of<'a>(buckets: impl IntoIterator<Item = &'a Bucket>) -> Fold {
        buckets.into_iter().fold(Fold::default(), |f, b| f.with(b))
    }
}

/// The circle test over a window (the older buckets folded, the first of the window, and the
/// newest bucket): its centre and extent (m) when it holds.
fn circle_test(
    cfg: &SpoofingConfig,
    folded: Fold,
    first: &Bucket,
    newest: &Bucket,
) -> Option<(LatLon, f64)> {
    let Fold {
        lat,
        lon,
        reported,
        elapsed,
        sog,
        sog_n,
        signed,
        abs,
        turn_s,
        straight_s,
        steps,
        ..
    } = folded.with(newest);
    // The turning and speed conditions first: they need no trigonometry.
    let share = cfg.circle_max_straight_share;
    let turning = sog_n > 0
        && sog / f64::from(sog_n) >= cfg.circle_min_speed_kn
        && elapsed > 0.0
        && turn_s >= cfg.circle_min_turning_minutes * 60.0
        && steps >= cfg.circle_min_turn_steps
        && straight_s <= share * turn_s
        && signed.abs() >= (1.0 - share) * abs
        && signed.abs() / (turn_s / 60.0) >= cfg.circle_min_turn_rate_deg_min;
    // The window's span last: its first bucket is on the heap (a cache miss at a large
    // fleet), and most windows fail the turning test before.
    if !turning || ((newest.last.t - first.first.t) as f64) < cfg.circle_min_span_hours * 3600.0 {
        return None;
    }
    // The longer side of the bounding box: a circle's diameter, an arc's chord.
    let mid_lat = (lat.0 + lat.1) / 2.0;
    let diameter = haversine_m(LatLon::new(lat.0, lon.0), LatLon::new(lat.1, lon.0)).max(
        haversine_m(LatLon::new(mid_lat, lon.0), LatLon::new(mid_lat, lon.1)),
    );
    let holds = diameter <= cfg.circle_max_diameter_km * 1000.0
        && reported >= cfg.circle_min_distance_ratio * diameter.max(500.0);
    holds.then(|| {
        (
            LatLon::new((lat.0 + lat.1) / 2.0, (lon.0 + lon.1) / 2.0),
            diameter,
        )
    })
}

/// Finds spoofing.
pub struct SpoofingDetector {
    config: SpoofingConfig,
    land: Arc<Land>,
    /// Per vessel (the track builder's index).
    seqs: Vec<Option<Sequence>>,
    /// Vessels with a candidate excursion awaiting confirmation.
    pending: Vec<u32>,
    circles: Slots<Circle>,
    /// Episodes found per MMSI, merged into one event when close in time.
    episodes: FxHashMap<u32, Vec<Spoofing>>,
    /// Episodes of one MMSI this close in time are one event, seconds.
    merge_s: i64,
    /// How long a finding waits for an interference to show, seconds.
    interference_wait_s: i64,
    /// Inland ports by 1° cell (see [`SpoofingConfig::inland_port_km`]).
    inland_ports: FxHashMap<(i32, i32), Vec<LatLon>>,
}

/// The `ports` lying more than `margin_m` inside `land`, by 1° cell.
fn inland_ports(
    land: &Land,
    ports: &[LatLon],
    margin_m: f64,
) -> FxHashMap<(i32, i32), Vec<LatLon>> {
    let mut grid: FxHashMap<(i32, i32), Vec<LatLon>> = FxHashMap::default();
    for &p in ports {
        if land.contains(p) && land.distance_to_coastline_m(p, margin_m * 2.0) > margin_m {
            let cell = (p.lat.floor() as i32, p.lon.floor() as i32);
            grid.entry(cell).or_default().push(p);
        }
    }
    grid
}

impl SpoofingDetector {
    /// A detector testing positions against `land`; of `ports` (the searoute port points,
    /// [`Reference::searoute_ports`]) those inland are river ports.
    pub fn new(config: SpoofingConfig, land: Arc<Land>, ports: &[LatLon]) -> Self {
        SpoofingDetector {
            inland_ports: inland_ports(&land, ports, config.land_margin_m),
            config,
            land,
            seqs: Vec::new(),
            pending: Vec::new(),
            circles: Slots::new(config.segments_per_mmsi),
            episodes: FxHashMap::default(),
            merge_s: 0,
            interference_wait_s: 0,
        }
    }

    /// Takes the next point.
    pub fn push(&mut self, p: &TrackPoint, out: &mut dyn FnMut(SpoofOutput)) {
        self.land_and_excursions(p, out);
        self.circle(p, out);
    }

    fn land_and_excursions(&mut self, p: &TrackPoint, out: &mut dyn FnMut(SpoofOutput)) {
        let cfg = self.config;
        let r = p.position;
        let land: &Land = &self.land;
        // Inland by more than the margin: the test is skipped while the vessel stays in a box
        // no coastline crosses.
        let inland = |uniform: &mut Option<UniformBox>, near_coast: &mut Option<LatLon>| {
            let on_land = match uniform.filter(|b| b.holds(r.pos)) {
                Some(b) => b.land,
                None => {
                    let (on_land, b) = land.classify(r.pos);
                    *uniform = b;
                    on_land
                }
            };
            if !on_land {
                return None;
            }
            if near_coast.is_some_and(|c| within_m(r.pos, c, 1.0, NEAR_COAST_REUSE_M)) {
                return None;
            }
            let d = land.distance_to_coastline_m(r.pos, cfg.land_margin_m * 2.0);
            *near_coast = (d + NEAR_COAST_REUSE_M <= cfg.land_margin_m).then_some(r.pos);
            (d > cfg.land_margin_m).then_some(d)
        };
        let ports = &self.inland_ports;
        let reach_m = cfg.inland_port_km * 1000.0;
        let at_inland_port = |q: LatLon| {
            let (r0, c0) = (q.lat.floor() as i32, q.lon.floor() as i32);
            (r0 - 1..=r0 + 1)
                .flat_map(|r| (c0 - 1..=c0 + 1).map(move |c| (r, c)))
                .filter_map(|k| ports.get(&k))
                .flatten()
                .any(|&x| haversine_m(x, q) <= reach_m)
        };
        let seq = crate::slots::per_vessel(&mut self.seqs, p.vessel, || None);
        let Some(s) = seq else {
            let (mut uniform, mut near_coast) = (None, None);
            let inland_m = inland(&mut uniform, &mut near_coast);
            *seq = Some(Sequence {
                seg: p.segment,
                first: r,
                last: r,
                jump_km: 0.0,
                began_new: false,
                prev: None,
                candidate: None,
                alternations: 0,
                last_alternation: i64::MIN,
                land: inland_m.map(|d| (r, r, 1, d, at_inland_port(r.pos))),
                afloat: inland_m.is_none().then_some(r),
                uniform,
                near_coast,
            });
            return;
        };
        let inland_m = inland(&mut s.uniform, &mut s.near_coast);

        // On land.
        match (inland_m, &mut s.land) {
            (Some(d), Some(run)) => {
                run.1 = r;
                run.2 += 1;
                run.3 = run.3.max(d);
            }
            (Some(d), None) => {
                // Onto land from the sea, one plausible step from the last report of the
                // segment and close to the coast: a river or canal the land polygons do not
                // cut out (the Danube to Izmail, the Volga-Don), not a spoofed position.
                // Or after a silence (a new segment) from where it was last heard afloat,
                // at a river's pace; or at an inland port (first heard there).
                let walked = p.segment == s.seg && d < 2.0 * cfg.land_margin_m;
                let sailed_in = s.afloat.is_some_and(|q| {
                    let dt = (r.t - q.t).max(0) as f64;
                    let reach = 2.0 * cfg.land_margin_m
                        + dt.min(cfg.waterway_max_silence_hours * 3600.0)
                            * cfg.waterway_speed_kn
                            * KN_M_PER_S;
                    d <= reach && haversine_m(q.pos, r.pos) <= reach
                });
                let waterway = walked || sailed_in || at_inland_port(r.pos);
                s.land = Some((r, r, 1, d, waterway));
            }
            (None, run) => {
                if let Some(run) = run.take() {
                    close_land(&cfg, run, out);
                }
            }
        }
        if inland_m.is_none() || s.land.is_some_and(|run| run.4) {
            s.afloat = Some(r);
        }

        // Excursions and two places.
        if p.segment == s.seg {
            s.last = r;
            return;
        }
        let confirm = (cfg.confirm_hours * 3600.0) as i64;
        let back = s.prev.is_some_and(|(seg, _)| seg == p.segment);
        let reused = s.candidate.is_some_and(|(seg, _)| seg == p.segment);
        // Only fresh reports (their UTC second agrees with the receive time) count as the
        // other place: a report heard again late explains itself.
        let fresh = r.fresh(cfg.fresh_second_tolerance_s) != Some(false);
        if (back || reused) && fresh {
            if r.t - s.last_alternation > confirm {
                s.alternations = 0;
            }
            s.alternations += 1;
            s.last_alternation = r.t;
        }
        if reused {
            s.candidate = None;
        }
        if back && s.began_new && s.jump_km >= cfg.jump_min_km && s.alternations <= 1 {
            let hours = (s.last.t - s.first.t) as f64 / 3600.0;
            if hours <= cfg.excursion_max_hours {
                s.candidate = Some((
                    s.seg,
                    Spoofing {
                        mmsi: r.mmsi,
                        method: if hours <= cfg.jump_max_hours {
                            SpoofMethod::Jump
                        } else {
                            SpoofMethod::Offset
                        },
                        first: s.first,
                        last: s.last,
                        before: s.prev.map(|x| x.1),
                        size_km: s.jump_km,
                    },
                ));
                self.pending.push(p.vessel);
            }
        }
        if s.alternations >= cfg.two_places_alternations {
            s.candidate = None;
            s.alternations = 0;
            out(SpoofOutput::TwoPlaces {
                mmsi: r.mmsi,
                a: s.last,
                b: r,
            });
        }
        let left = s.last;
        s.prev = Some((s.seg, left));
        s.seg = p.segment;
        s.first = r;
        s.last = r;
        s.jump_km = haversine_m(left.pos, r.pos) / 1000.0;
        s.began_new = p.previous.is_none();
    }

    fn circle(&mut self, p: &TrackPoint, out: &mut dyn FnMut(SpoofOutput)) {
        let cfg = self.config;
        let r = p.position;
        let c = self.circles.get(
            p.vessel,
            r.mmsi,
            p.segment,
            r.t,
            || Circle {
                older: VecDeque::with_capacity(CIRCLE_BUCKETS as usize),
                newest: None,
                folded: Fold::default(),
                prev: None,
                turn_from: None,
                active: None,
            },
            &mut |c| {
                if let Some(active) = c.active {
                    close_circle(active, out);
                }
            },
        );
        let bucket_s = ((cfg.circle_window_hours * 3600.0) as i64 / CIRCLE_BUCKETS).max(1);
        let index = r.t.div_euclid(bucket_s);
        let mut changed = false;
        if c.newest.is_none_or(|b| b.index < index) {
            if let Some(old) = c.newest.replace(Bucket::new(index, r)) {
                c.older.push_back(old);
            }
            changed = true;
            // Buckets leave the window only when a newer one opens: with the newest
            // bucket's index unchanged, this ran with the same index when it opened (and the
            // window's buffer, on the heap, is not read for every report).
            while c
                .older
                .front()
                .is_some_and(|b| b.index <= index - CIRCLE_BUCKETS)
            {
                c.older.pop_front();
            }
        }
        if changed {
            c.folded = Fold::of(&c.older);
        }
        let Some(b) = c.newest.as_mut() else {
            return;
        };
        b.last = r;
        b.lat = (b.lat.0.min(r.pos.lat), b.lat.1.max(r.pos.lat));
        b.lon = (b.lon.0.min(r.pos.lon), b.lon.1.max(r.pos.lon));
        if let Some(v) = r.sog_knots {
            b.sog_sum += f64::from(v);
            b.sog_n += 1;
        }
        if let Some(prev) = c.prev {
            let dt = (r.t - prev.t) as f64;
            if let (Some(a), Some(v)) = (prev.sog_knots, r.sog_knots) {
                b.reported_m += f64::from(a + v) / 2.0 * KN_M_PER_S * dt;
                b.elapsed_s += dt;
            }
        }
        c.prev = Some(r);
        // Turning of the reported course, measured over steps of a few minutes.
        let mut stepped = false;
        match (c.turn_from, r.cog_deg) {
            (Some(from), Some(cog)) => {
                let dt = (r.t - from.t) as f64;
                if dt > cfg.circle_max_turn_step_min * 60.0 {
                    c.turn_from = Some(r);
                } else if dt >= cfg.circle_min_turn_step_min * 60.0 {
                    let from_cog = f64::from(from.cog_deg.unwrap_or(cog));
                    let d = (f64::from(cog) - from_cog + 540.0).rem_euclid(360.0) - 180.0;
                    b.turn_signed += d;
                    b.turn_abs += d.abs();
                    b.turn_s += dt;
                    b.turn_steps += 1;
                    stepped = true;
                    if d.abs() / (dt / 60.0) < cfg.circle_min_turn_rate_deg_min {
                        b.straight_s += dt;
                    } else {
                        b.last_turning = Some(r);
                    }
                    c.turn_from = Some(r);
                }
            }
            (None, Some(_)) => c.turn_from = Some(r),
            _ => {}
        }
        // The test can only start to hold, or keep holding, with a new turning step.
        // (Without one, an active circle is only checked for its end.)
        let found = match (stepped, c.active.is_some()) {
            (true, _) => c.newest.as_ref().and_then(|newest| {
                let first = c.older.front().unwrap_or(newest);
                circle_test(&cfg, c.folded, first, newest)
            }),
            (false, true) => None,
            (false, false) => return,
        };
        match (found, &mut c.active) {
            (Some(_), Some(active)) => {
                let last_turning = c.newest.as_ref().and_then(|b| b.last_turning);
                if let Some(t) =
                    last_turning.or_else(|| c.older.iter().rev().find_map(|b| b.last_turning))
                {
                    active.1 = t;
                }
            }
            (Some((centre, diameter)), None) => {
                let first = c.older.front().or(c.newest.as_ref()).map_or(r, |b| b.first);
                c.active = Some((first, r, centre, diameter / 2.0));
            }
            (None, Some(active)) => {
                // A circle seen in passes fails the test now and then (a straight-looking
                // step, a pass too short); it ends when the positions leave it or it stops
                // turning for a whole window.
                let (_, last, centre, radius) = *active;
                let window = (cfg.circle_window_hours * 3600.0) as i64;
                if haversine_m(centre, r.pos) > radius + cfg.circle_max_diameter_km * 500.0
                    || r.t - last.t > window
                {
                    close_circle(*active, out);
                    c.active = None;
                }
            }
            (None, None) => {}
        }
    }

    /// Confirms excursions whose segment stayed unused until `watermark` minus
    /// [`SpoofingConfig::confirm_hours`].
    pub fn advance(&mut self, watermark: i64, out: &mut dyn FnMut(SpoofOutput)) {
        let confirm = (self.config.confirm_hours * 3600.0) as i64;
        let mut k = 0;
        while k < self.pending.len() {
            let m = self.pending[k];
            let due = self
                .seqs
                .get(m as usize)
                .and_then(|s| s.as_ref()?.candidate.as_ref())
                .map(|c| c.1.last.t + confirm <= watermark);
            match due {
                Some(false) => k += 1,
                Some(true) => {
                    self.pending.swap_remove(k);
                    let seq = self.seqs.get_mut(m as usize).and_then(Option::as_mut);
                    if let Some((_, sp)) = seq.and_then(|s| s.candidate.take()) {
                        out(SpoofOutput::Spoofing(sp));
                    }
                }
                None => {
                    self.pending.swap_remove(k);
                }
            }
        }
    }

    /// Reports everything still open.
    pub fn finish(&mut self, out: &mut dyn FnMut(SpoofOutput)) {
        self.advance(i64::MAX, out);
        let cfg = self.config;
        let mut seqs: Vec<Sequence> = std::mem::take(&mut self.seqs)
            .into_iter()
            .flatten()
            .collect();
        seqs.sort_by_key(|s| s.first.mmsi);
        for s in seqs {
            if let Some(run) = s.land {
                close_land(&cfg, run, out);
            }
        }
        self.circles.drain(&mut |c| {
            if let Some(active) = c.active {
                close_circle(active, out);
            }
        });
    }
}

impl Register for SpoofingDetector {
    type Config = SpoofingConfig;

    fn new(config: &DetectorConfig, reference: &Reference) -> Result<Self, DetectorError> {
        let mut d = SpoofingDetector::new(
            config.spoofing,
            Arc::clone(&reference.land),
            &reference.searoute_ports,
        );
        d.merge_s = hours(config.enrich.spoofing_merge_hours);
        d.interference_wait_s = hours(config.interference.window_hours);
        Ok(d)
    }
}

impl SpoofingDetector {
    fn output(&mut self, s: SpoofOutput, cx: &mut Context<'_>) {
        match s {
            SpoofOutput::Spoofing(sp) => self.episodes.entry(sp.mmsi).or_default().push(sp),
            SpoofOutput::TwoPlaces { mmsi, a, b } => {
                let km = haversine_m(a.pos, b.pos) / 1000.0;
                let why = format!(
                    "positions {km:.0} km apart {} s apart on one MMSI, back and forth",
                    (b.t - a.t).abs()
                );
                cx.two_places(mmsi, a.t.min(b.t), why);
            }
        }
    }

    /// Emits the episodes of every MMSI whose last one ended before `watermark` minus the
    /// merge window, one event per group of episodes close in time, by MMSI.
    fn flush(&mut self, watermark: i64, cx: &mut Context<'_>) {
        // Wait as long as an interference takes to show (its vessels jump within its
        // window): the first vessel displaced must not be called a spoofer before the
        // others are seen.
        let merge = self.merge_s;
        // Also as long as an excursion takes to be confirmed, so that a land run and the
        // excursion it belongs to are one event.
        let confirm = hours(self.config.confirm_hours);
        let wait = merge.max(self.interference_wait_s).max(confirm);
        let mut ready: Vec<u32> = self
            .episodes
            .iter()
            .filter(|(_, v)| v.iter().all(|s| s.last.t.saturating_add(wait) < watermark))
            .map(|(m, _)| *m)
            .collect();
        ready.sort_unstable();
        for m in ready {
            let Some(mut v) = self.episodes.remove(&m) else {
                continue;
            };
            v.sort_by_key(|s| s.first.t);
            let mut groups: Vec<Vec<Spoofing>> = Vec::new();
            for s in v {
                match groups.last_mut() {
                    Some(g)
                        if g.iter().map(|x| x.last.t).max().unwrap_or(i64::MIN) + merge
                            >= s.first.t =>
                    {
                        g.push(s)
                    }
                    _ => groups.push(vec![s]),
                }
            }
            for g in groups {
                if let Some(e) = spoofing_event(&g, &self.config, cx) {
                    cx.emit(e);
                }
            }
        }
    }
}

impl Detector for SpoofingDetector {
    shadowfleet_records::persist_fields!("spoofing"; seqs, pending, circles, episodes);

    fn kind(&self) -> EventKind {
        EventKind::Spoofing
    }

    fn partition(&self) -> Partition {
        Partition::Vessel
    }

    fn prefetch(&self, vessel: u32) {
        crate::slots::prefetch(&self.seqs, vessel);
        self.circles.prefetch(vessel);
    }

    fn point(&mut self, p: &TrackPoint, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        self.push(p, &mut |s| found.push(s));
        for s in found {
            self.output(s, cx);
        }
    }

    fn advance(&mut self, watermark: i64, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        SpoofingDetector::advance(self, watermark, &mut |s| found.push(s));
        for s in found {
            self.output(s, cx);
        }
        self.flush(watermark, cx);
    }

    fn finish(&mut self, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        SpoofingDetector::finish(self, &mut |s| found.push(s));
        for s in found {
            self.output(s, cx);
        }
        self.flush(i64::MAX, cx);
    }
}

/// The event of a group of episodes of one MMSI: from the first false report to the last,
/// each finding with its method and size.
fn spoofing_event(g: &[Spoofing], config: &SpoofingConfig, cx: &Context<'_>) -> Option<Event> {
    let first = g.iter().map(|s| s.first).min_by_key(|r| r.t)?;
    let last = g.iter().map(|s| s.last).max_by_key(|r| r.t)?;
    let mut methods: Vec<&str> = g.iter().map(|s| s.method.as_str()).collect();
    methods.sort_unstable();
    methods.dedup();
    let findings = g
        .iter()
        .map(|s| SpoofFinding {
            method: s.method,
            start: s.first.t,
            end: s.last.t,
            size_km: round2(s.size_km),
            before: s.before.map(|b| ReportRef::new(b.mmsi, b.t, b.pos)),
        })
        .collect();
    let mut why: Vec<String> = g
        .iter()
        .map(|s| match s.method {
            SpoofMethod::Land => format!("positions at least {:.1} km inland", s.size_km),
            SpoofMethod::Jump => {
                format!("a {:.0} km excursion and back within the hour", s.size_km)
            }
            SpoofMethod::Offset => {
                format!("a track displaced {:.0} km for hours, then back", s.size_km)
            }
            SpoofMethod::Circle => format!(
                "a circle of {:.1} km sailed at a speed it does not make good",
                s.size_km
            ),
        })
        .collect();
    why.dedup();
    let strong = g.iter().any(|s| {
        // Deeper than the depth search reaches: far inland.
        let deep_km = 2.0 * config.land_margin_m / 1000.0 - 1e-9;
        s.method == SpoofMethod::Circle || (s.method == SpoofMethod::Land && s.size_km >= deep_km)
    });
    // False positions where an area-wide interference put several vessels at the time: the
    // area's jamming, not this vessel's act.
    let slack = hours(config.interference_slack_hours);
    let jammed = g
        .iter()
        .flat_map(|s| [s.first, s.last])
        .filter_map(|r| cx.interference_at(r.pos, r.t, slack))
        .max();
    // Or where one was seen before: interference returns to the same places (the Baltic's
    // airports), and a vessel displaced there alone is more likely jammed than deceiving.
    let seen = g
        .iter()
        .filter(|s| s.method != SpoofMethod::Circle)
        .find_map(|s| cx.interference_seen_at(s.first.pos, s.first.t));
    let confidence = if let Some(n) = jammed {
        why.push(format!(
            "its false positions lie where an area-wide interference displaced {n} vessels at the same time: the area's jamming, not this vessel's act"
        ));
        Confidence::low(why)
    } else if let Some((n, since)) = seen {
        why.push(format!(
            "its false positions lie where an area-wide interference displaced {n} vessels before (from {}): likely the area's jamming, not this vessel's act",
            shadowfleet_model::Timestamp::from_unix_seconds(since)
        ));
        Confidence::low(why)
    } else if strong || g.len() > 1 {
        Confidence::high(why)
    } else {
        Confidence::medium(why)
    };
    Some(Event {
        mmsi: first.mmsi,
        imo: cx.imo(first.mmsi),
        other_mmsi: None,
        start: first.t,
        end: last.t,
        lat: first.pos.lat,
        lon: first.pos.lon,
        confidence,
        truncated_start: false,
        truncated_end: false,
        details: SpoofingDetails {
            method: methods.join("+"),
            findings,
            evidence: vec![
                ReportRef::new(first.mmsi, first.t, first.pos),
                ReportRef::new(last.mmsi, last.t, last.pos),
            ],
            interference: jammed.is_some() || seen.is_some(),
        }
        .into(),
    })
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600; // 2026-01-01

    fn land() -> Arc<Land> {
        Arc::new(Land::natural_earth_10m().expect("land"))
    }

    fn ports() -> Vec<LatLon> {
        shadowfleet_geo::searoute_ports()
            .expect("searoute ports")
            .into_iter()
            .map(|p| p.position)
            .collect()
    }

    /// Reports of one MMSI every 10 minutes at the given positions, in one segment (as the
    /// track builder would give a spoofer whose every position is plausible from the last).
    fn track(positions: &[(f64, f64)]) -> Vec<TrackPoint> {
        positions
            .iter()
            .enumerate()
            .map(|(i, &(lat, lon))| TrackPoint {
                position: Position {
                    mmsi: 271_000_001,
                    t: T0 + 600 * i as i64,
                    pos: LatLon { lat, lon },
                    sog_knots: Some(11.0),
                    cog_deg: Some(90.0),
                    nav_status: Some(0),
                    second: None,
                    station: None,
                    source: Default::default(),
                },
                vessel: 0,
                segment: 1,
                previous: None,
            })
            .collect()
    }

    fn found(points: &[TrackPoint], config: SpoofingConfig) -> Vec<(SpoofMethod, i64, i64)> {
        let mut d = SpoofingDetector::new(config, land(), &ports());
        let mut out = Vec::new();
        let mut take = |s: SpoofOutput| {
            if let SpoofOutput::Spoofing(s) = s {
                out.push((s.method, s.first.t - T0, s.last.t - T0));
            }
        };
        for p in points {
            d.push(p, &mut take);
        }
        d.finish(&mut take);
        out
    }

    /// Off Samsun in the Black Sea, and deep in central Anatolia (39.9 N, 32.9 E).
    const SEA: (f64, f64) = (41.6, 36.3);
    const INLAND: (f64, f64) = (39.9, 32.9);

    fn run(before: usize, inland: usize, after: usize) -> Vec<TrackPoint> {
        let mut v = vec![SEA; before];
        v.extend(std::iter::repeat_n(INLAND, inland));
        v.extend(std::iter::repeat_n(SEA, after));
        track(&v)
    }

    #[test]
    fn a_run_on_land_in_the_middle_of_a_track_is_found() {
        let got = found(&run(6, 30, 6), SpoofingConfig::default());
        assert_eq!(got, vec![(SpoofMethod::Land, 3600, 3600 + 29 * 600)]);
    }

    /// The berth at Izmail on the Danube (Natural Earth draws it 37 km inland), and a point
    /// off the Sulina jetties and one up the Sulina channel (about 20 km inland).
    const IZMAIL: (f64, f64) = (45.335, 28.835);
    const OFF_SULINA: (f64, f64) = (45.16, 29.75);
    const SULINA_CHANNEL: (f64, f64) = (45.172, 29.385);

    #[test]
    fn a_ship_first_heard_at_a_river_port_is_not_spoofing() {
        let got = found(&track(&[IZMAIL; 30]), SpoofingConfig::default());
        assert_eq!(got, vec![]);
    }

    /// Heard at sea, silent for `silence_s`, then heard at `then` on a new segment.
    fn after_silence(then: (f64, f64), silence_s: i64) -> Vec<TrackPoint> {
        let mut pts = track(&[OFF_SULINA; 4]);
        for (i, mut p) in track(&[then; 20]).into_iter().enumerate() {
            p.position.t = T0 + 3 * 600 + silence_s + 600 * i as i64;
            p.segment = 2;
            pts.push(p);
        }
        pts
    }

    #[test]
    fn a_ship_heard_again_up_a_river_after_a_silence_is_not_spoofing() {
        let got = found(
            &after_silence(SULINA_CHANNEL, 4 * 3600),
            SpoofingConfig::default(),
        );
        assert_eq!(got, vec![]);
        // Heard there the moment it left the sea (no time to sail 28 km): the test stands.
        let got = found(&after_silence(SULINA_CHANNEL, 0), SpoofingConfig::default());
        assert_eq!(got.len(), 1, "{got:?}");
        // Far inland, beyond what it could have sailed in the silence: spoofing.
        let got = found(&after_silence(INLAND, 4 * 3600), SpoofingConfig::default());
        assert_eq!(got.len(), 1, "{got:?}");
    }

    #[test]
    fn a_run_on_land_at_the_start_of_a_track_is_found() {
        let got = found(&run(0, 30, 6), SpoofingConfig::default());
        assert_eq!(got, vec![(SpoofMethod::Land, 0, 29 * 600)]);
    }

    #[test]
    fn a_run_on_land_at_the_end_of_a_track_is_found() {
        let got = found(&run(6, 30, 0), SpoofingConfig::default());
        assert_eq!(got, vec![(SpoofMethod::Land, 3600, 3600 + 29 * 600)]);
    }

    #[test]
    fn a_land_run_needs_its_fewest_reports() {
        let c = SpoofingConfig::default();
        let n = c.land_min_points as usize;
        assert_eq!(found(&run(6, n, 6), c).len(), 1);
        assert!(found(&run(6, n - 1, 6), c).is_empty());
    }

    /// A point on land within `margin_m` of the coast: walking inland from the Black Sea off
    /// Samsun in 50 m steps, the first step on land.
    fn just_ashore(land: &Land, margin_m: f64) -> (f64, f64) {
        let (mut lat, mut lon) = SEA;
        let (dlat, dlon) = ((INLAND.0 - SEA.0) / 20_000.0, (INLAND.1 - SEA.1) / 20_000.0);
        for _ in 0..20_000 {
            lat += dlat;
            lon += dlon;
            let p = LatLon { lat, lon };
            if land.contains(p) {
                assert!(land.distance_to_coastline_m(p, margin_m) < margin_m);
                return (lat, lon);
            }
        }
        panic!("no coast between SEA and INLAND");
    }

    #[test]
    fn reports_just_inside_the_coastline_are_not_land_spoofing() {
        // Within the margin of the shore: a berth cut into the land, the coastline's error.
        let c = SpoofingConfig::default();
        let ashore = just_ashore(&land(), c.land_margin_m);
        let mut v = vec![SEA; 3];
        v.extend(std::iter::repeat_n(ashore, 10));
        v.extend(std::iter::repeat_n(SEA, 3));
        let got = found(&track(&v), c);
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn a_run_just_beyond_the_margin_near_the_coast_is_found() {
        // A few kilometres past the margin, walking in from the Black Sea off Samsun: near
        // the coast, yet where no berth or harbour of the coastline's error lies.
        let c = SpoofingConfig::default();
        let land = land();
        let (mut lat, mut lon) = SEA;
        let (dlat, dlon) = ((INLAND.0 - SEA.0) / 20_000.0, (INLAND.1 - SEA.1) / 20_000.0);
        let near = loop {
            lat += dlat;
            lon += dlon;
            let p = LatLon { lat, lon };
            if land.contains(p)
                && land.distance_to_coastline_m(p, 4.0 * c.land_margin_m) > 1.5 * c.land_margin_m
            {
                break (lat, lon);
            }
        };
        let mut v = vec![SEA; 6];
        v.extend(std::iter::repeat_n(near, 10));
        v.extend(std::iter::repeat_n(SEA, 6));
        // The jump ashore is implausible from the sea: the track builder opens a segment.
        let mut points = track(&v);
        for p in &mut points[6..16] {
            p.segment = 2;
        }
        let got = found(&points, c);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, SpoofMethod::Land);
    }

    #[test]
    fn short_and_long_runs_far_inland_are_found_with_their_depth() {
        let c = SpoofingConfig::default();
        let n = c.land_min_points as usize;
        for inland in [n, 30] {
            let points = run(6, inland, 6);
            let mut d = SpoofingDetector::new(c, land(), &ports());
            let mut sizes = Vec::new();
            let mut take = |s: SpoofOutput| {
                if let SpoofOutput::Spoofing(s) = s {
                    sizes.push(s.size_km);
                }
            };
            for p in &points {
                d.push(p, &mut take);
            }
            d.finish(&mut take);
            // Deep inland the search for the coast stops at twice the margin.
            assert_eq!(
                sizes,
                vec![2.0 * c.land_margin_m / 1000.0],
                "{inland} reports"
            );
        }
    }

    #[test]
    fn a_track_that_walks_from_the_sea_up_a_waterway_is_not_spoofing() {
        // From the Black Sea inland in 1 km steps every ten minutes (6 kn), as up a river
        // the land polygons do not cut out: every report on land after the first is reached
        // plausibly from the last.
        let steps = 340;
        let v: Vec<(f64, f64)> = (0..=steps)
            .map(|k| {
                let f = f64::from(k) / f64::from(steps);
                (
                    SEA.0 + (INLAND.0 - SEA.0) * f,
                    SEA.1 + (INLAND.1 - SEA.1) * f,
                )
            })
            .collect();
        let got = found(&track(&v), SpoofingConfig::default());
        assert!(got.is_empty(), "{got:?}");
        // The same positions reached by a jump from the sea are spoofing.
        let mut jumped = vec![SEA; 6];
        jumped.extend_from_slice(&v[200..]);
        let mut points = track(&jumped);
        for p in &mut points[6..] {
            p.segment = 2;
        }
        assert_eq!(found(&points, SpoofingConfig::default()).len(), 1);
    }
}
