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
//! - **circle**: the track turns through at least [`SpoofingConfig::circle_min_turn_deg`]
//!   within [`SpoofingConfig::circle_window_hours`] on a near-perfect circle (radial
//!   spread below [`SpoofingConfig::circle_max_radial_cv`] of a radius below
//!   [`SpoofingConfig::circle_max_radius_km`]), the pattern of GNSS manipulation reported
//!   around oil terminals.
//!
//! An MMSI that goes back and forth between two segments at least
//! [`SpoofingConfig::two_places_alternations`] times is one MMSI in two places at once:
//! reported as [`SpoofOutput::TwoPlaces`] for the identity stage (two ships, one MMSI).
//! See `docs/detectors/spoofing.md`.

use std::collections::{HashMap, VecDeque};

use serde::Deserialize;
use shadowfleet_geo::{bearing_deg, haversine_m, Land, LatLon};
use shadowfleet_tracks::{Report, TrackPoint};

use crate::slots::Slots;

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
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
    /// Window over which turning is summed, hours.
    pub circle_window_hours: f64,
    /// Total turn (net, one direction) within the window, degrees.
    pub circle_min_turn_deg: f64,
    /// Largest circle radius, kilometres.
    pub circle_max_radius_km: f64,
    /// Largest spread of distances from the centre, as a share of the mean radius.
    pub circle_max_radial_cv: f64,
    /// Positions closer than this to the last one kept are skipped for the circle test,
    /// metres.
    pub circle_step_m: f64,
    /// Open segments remembered per MMSI.
    pub segments_per_mmsi: usize,
}

impl Default for SpoofingConfig {
    fn default() -> Self {
        SpoofingConfig {
            land_margin_m: 1_000.0,
            land_min_points: 3,
            jump_min_km: 50.0,
            jump_max_hours: 1.0,
            excursion_max_hours: 48.0,
            confirm_hours: 6.0,
            two_places_alternations: 3,
            circle_window_hours: 4.0,
            circle_min_turn_deg: 540.0,
            circle_max_radius_km: 10.0,
            circle_max_radial_cv: 0.25,
            circle_step_m: 250.0,
            segments_per_mmsi: 4,
        }
    }
}

/// How the positions are false.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpoofMethod {
    /// Positions well inland.
    Land,
    /// A short excursion far away.
    Jump,
    /// A displaced track for hours.
    Offset,
    /// A perfect circle.
    Circle,
}

impl SpoofMethod {
    /// `land`, `jump`, `offset`, `circle`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpoofMethod::Land => "land",
            SpoofMethod::Jump => "jump",
            SpoofMethod::Offset => "offset",
            SpoofMethod::Circle => "circle",
        }
    }
}

/// A spoofing episode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spoofing {
    /// MMSI.
    pub mmsi: u32,
    /// Signature.
    pub method: SpoofMethod,
    /// First false report.
    pub first: Report,
    /// Last false report.
    pub last: Report,
    /// The last plausible report before, when known.
    pub before: Option<Report>,
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
        a: Report,
        /// A report of the other, at about the same time.
        b: Report,
    },
}

struct Sequence {
    seg: u64,
    first: Report,
    last: Report,
    /// The run began by opening a new segment this far from the previous run, km.
    jump_km: f64,
    began_new: bool,
    prev: Option<(u64, Report)>,
    candidate: Option<(u64, Spoofing)>,
    alternations: u32,
    last_alternation: i64,
    land: Option<LandRun>,
}

struct Circle {
    pts: VecDeque<(i64, LatLon, f64)>,
    last_heading: Option<f64>,
    active: Option<ActiveCircle>,
    first_of_window: Option<Report>,
}

/// A run of reports on land: first, last, count, deepest distance inland (m).
type LandRun = (Report, Report, u32, f64);

/// An active circle: first and last report, centre, radius (m).
type ActiveCircle = (Report, Report, LatLon, f64);

/// Reports a closed run on land when it has enough reports.
fn close_land(cfg: &SpoofingConfig, run: LandRun, out: &mut dyn FnMut(SpoofOutput)) {
    let (first, last, n, d) = run;
    if n >= cfg.land_min_points {
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

/// Finds spoofing.
pub struct SpoofingDetector<'l> {
    config: SpoofingConfig,
    land: &'l Land,
    seqs: HashMap<u32, Sequence>,
    pending: Vec<u32>,
    circles: Slots<Circle>,
}

const CIRCLE_CAP: usize = 256;

impl<'l> SpoofingDetector<'l> {
    /// A detector testing positions against `land`.
    pub fn new(config: SpoofingConfig, land: &'l Land) -> Self {
        SpoofingDetector {
            config,
            land,
            seqs: HashMap::new(),
            pending: Vec::new(),
            circles: Slots::new(config.segments_per_mmsi),
        }
    }

    /// Takes the next point.
    pub fn push(&mut self, p: &TrackPoint, out: &mut dyn FnMut(SpoofOutput)) {
        self.land_and_excursions(p, out);
        self.circle(p, out);
    }

    fn land_and_excursions(&mut self, p: &TrackPoint, out: &mut dyn FnMut(SpoofOutput)) {
        let cfg = self.config;
        let r = p.report;
        let inland_m = if self.land.contains(r.pos) {
            let d = self
                .land
                .distance_to_shore_m(r.pos, cfg.land_margin_m * 2.0);
            (d > cfg.land_margin_m).then_some(d)
        } else {
            None
        };
        let Some(s) = self.seqs.get_mut(&r.mmsi) else {
            self.seqs.insert(
                r.mmsi,
                Sequence {
                    seg: p.segment,
                    first: r,
                    last: r,
                    jump_km: 0.0,
                    began_new: false,
                    prev: None,
                    candidate: None,
                    alternations: 0,
                    last_alternation: i64::MIN,
                    land: inland_m.map(|d| (r, r, 1, d)),
                },
            );
            return;
        };

        // On land.
        match (inland_m, &mut s.land) {
            (Some(d), Some(run)) => {
                run.1 = r;
                run.2 += 1;
                run.3 = run.3.max(d);
            }
            (Some(d), None) => s.land = Some((r, r, 1, d)),
            (None, run) => {
                if let Some(run) = run.take() {
                    close_land(&cfg, run, out);
                }
            }
        }

        // Excursions and two places.
        if p.segment == s.seg {
            s.last = r;
            return;
        }
        let confirm = (cfg.confirm_hours * 3600.0) as i64;
        let back = s.prev.is_some_and(|(seg, _)| seg == p.segment);
        let reused = s.candidate.is_some_and(|(seg, _)| seg == p.segment);
        if back || reused {
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
                self.pending.push(r.mmsi);
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
        s.began_new = p.implied_speed_kn.is_none();
    }

    fn circle(&mut self, p: &TrackPoint, out: &mut dyn FnMut(SpoofOutput)) {
        let cfg = self.config;
        let r = p.report;
        let c = self.circles.get(
            r.mmsi,
            p.segment,
            r.t,
            || Circle {
                pts: VecDeque::new(),
                last_heading: None,
                active: None,
                first_of_window: None,
            },
            &mut |c| {
                if let Some(active) = c.active {
                    close_circle(active, out);
                }
            },
        );
        if let Some(active) = &mut c.active {
            let d = haversine_m(active.2, r.pos);
            if d > 0.5 * active.3 && d < 1.5 * active.3 {
                active.1 = r;
                return;
            }
            close_circle(*active, out);
            c.active = None;
            c.pts.clear();
            c.last_heading = None;
        }
        let Some(&(_, last_pos, _)) = c.pts.back() else {
            c.pts.push_back((r.t, r.pos, 0.0));
            c.first_of_window = Some(r);
            return;
        };
        if haversine_m(last_pos, r.pos) < cfg.circle_step_m {
            return;
        }
        let heading = bearing_deg(last_pos, r.pos);
        let turn = match c.last_heading {
            Some(h) => (heading - h + 540.0).rem_euclid(360.0) - 180.0,
            None => 0.0,
        };
        c.last_heading = Some(heading);
        c.pts.push_back((r.t, r.pos, turn));
        let window = (cfg.circle_window_hours * 3600.0) as i64;
        while c.pts.len() > CIRCLE_CAP || c.pts.front().is_some_and(|x| r.t - x.0 > window) {
            c.pts.pop_front();
            c.first_of_window = None;
        }
        let net: f64 = c.pts.iter().skip(1).map(|x| x.2).sum();
        if net.abs() < cfg.circle_min_turn_deg {
            return;
        }
        let n = c.pts.len() as f64;
        let origin = c.pts[0].1;
        let (mut sl, mut so) = (0.0, 0.0);
        for x in &c.pts {
            sl += x.1.lat - origin.lat;
            so += x.1.lon - origin.lon;
        }
        let centre = LatLon::new(origin.lat + sl / n, origin.lon + so / n);
        let radii: Vec<f64> = c.pts.iter().map(|x| haversine_m(centre, x.1)).collect();
        let mean = radii.iter().sum::<f64>() / n;
        let var = radii.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n;
        if mean <= cfg.circle_max_radius_km * 1000.0
            && mean > 0.0
            && var.sqrt() / mean <= cfg.circle_max_radial_cv
        {
            let first = c.first_of_window.unwrap_or(Report {
                t: c.pts[0].0,
                pos: c.pts[0].1,
                ..r
            });
            c.active = Some((first, r, centre, mean));
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
                .get(&m)
                .and_then(|s| s.candidate.as_ref())
                .map(|c| c.1.last.t + confirm <= watermark);
            match due {
                Some(false) => k += 1,
                Some(true) => {
                    self.pending.swap_remove(k);
                    if let Some((_, sp)) = self.seqs.get_mut(&m).and_then(|s| s.candidate.take()) {
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
        let mut keys: Vec<u32> = self.seqs.keys().copied().collect();
        keys.sort_unstable();
        for m in keys {
            if let Some(run) = self.seqs.get_mut(&m).and_then(|s| s.land.take()) {
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
