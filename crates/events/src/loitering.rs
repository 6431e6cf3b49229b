//! Loitering: a track segment moving slower than [`LoiteringConfig::max_speed_kn`] for at
//! least [`LoiteringConfig::min_hours`] (Global Fishing Watch's loitering event, adapted to
//! tankers: no distance-from-shore filter; distance from shore and the STS area are reported
//! instead). See `docs/detectors/loitering.md`.

use serde::Deserialize;
use shadowfleet_geo::{haversine_m, LatLon, METRES_PER_NM};
use shadowfleet_tracks::{Report, TrackPoint};

use crate::slots::Slots;

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoiteringConfig {
    /// Speed below which a vessel loiters, knots (GFW: 2 kn).
    pub max_speed_kn: f64,
    /// Shortest loitering reported, hours (GFW: 4 h for carrier loitering events).
    pub min_hours: f64,
    /// Longest silence inside one loitering event, hours; across a longer silence, or one
    /// over which the vessel moved faster than [`Self::max_speed_kn`], the event ends.
    pub max_gap_hours: f64,
    /// Loitering whose centre lies this close to a port or terminal is part of a port call
    /// and not reported, kilometres (the port-call exit radius).
    pub port_radius_km: f64,
    /// Open segments remembered per MMSI.
    pub segments_per_mmsi: usize,
}

impl Default for LoiteringConfig {
    fn default() -> Self {
        LoiteringConfig {
            max_speed_kn: 2.0,
            min_hours: 4.0,
            max_gap_hours: 6.0,
            port_radius_km: 4.0,
            segments_per_mmsi: 4,
        }
    }
}

/// A loitering episode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loitering {
    /// MMSI.
    pub mmsi: u32,
    /// First slow report.
    pub first: Report,
    /// Last slow report.
    pub last: Report,
    /// Mean position.
    pub centre: LatLon,
    /// Mean speed over ground, knots.
    pub mean_speed_kn: f64,
    /// Reports.
    pub points: u32,
}

struct Run {
    first: Report,
    last: Report,
    dlat: f64,
    dlon: f64,
    speed: f64,
    n: u32,
}

/// Finds loitering in a stream of track points.
pub struct LoiteringDetector {
    config: LoiteringConfig,
    runs: Slots<Option<Run>>,
}

fn speed_of(p: &TrackPoint) -> f64 {
    p.report
        .sog_kn
        .map(f64::from)
        .or_else(|| p.implied_speed_kn())
        .unwrap_or(0.0)
}

impl LoiteringDetector {
    /// A detector with `config`.
    pub fn new(config: LoiteringConfig) -> Self {
        LoiteringDetector {
            config,
            runs: Slots::new(config.segments_per_mmsi),
        }
    }

    fn close(config: &LoiteringConfig, run: Run, out: &mut dyn FnMut(Loitering)) {
        if ((run.last.t - run.first.t) as f64) < config.min_hours * 3600.0 {
            return;
        }
        let n = f64::from(run.n);
        out(Loitering {
            mmsi: run.first.mmsi,
            first: run.first,
            last: run.last,
            centre: LatLon::new(
                run.first.pos.lat + run.dlat / n,
                run.first.pos.lon + run.dlon / n,
            ),
            mean_speed_kn: run.speed / n,
            points: run.n,
        });
    }

    /// Takes the next point; reports loitering it ends.
    pub fn push(&mut self, p: &TrackPoint, out: &mut dyn FnMut(Loitering)) {
        let cfg = self.config;
        let r = p.report;
        let speed = speed_of(p);
        let slot = self
            .runs
            .get(p.vessel, r.mmsi, p.segment, r.t, || None, &mut |run| {
                if let Some(run) = run {
                    Self::close(&cfg, run, out)
                }
            });
        let slow = speed < cfg.max_speed_kn;
        if let Some(run) = slot {
            let dt = (r.t - run.last.t) as f64 / 3600.0;
            let moved_kn = || {
                if dt > 0.0 {
                    haversine_m(run.last.pos, r.pos) / METRES_PER_NM / dt
                } else {
                    0.0
                }
            };
            let continues =
                slow && dt <= cfg.max_gap_hours && (dt < 0.25 || moved_kn() < cfg.max_speed_kn);
            if continues {
                run.last = r;
                run.dlat += r.pos.lat - run.first.pos.lat;
                let mut dlon = r.pos.lon - run.first.pos.lon;
                if dlon > 180.0 {
                    dlon -= 360.0;
                } else if dlon < -180.0 {
                    dlon += 360.0;
                }
                run.dlon += dlon;
                run.speed += speed;
                run.n += 1;
                return;
            }
        }
        if let Some(run) = slot.take() {
            Self::close(&cfg, run, out);
        }
        if slow {
            *slot = Some(Run {
                first: r,
                last: r,
                dlat: 0.0,
                dlon: 0.0,
                speed,
                n: 1,
            });
        }
    }

    /// Closes every open episode.
    pub fn finish(&mut self, out: &mut dyn FnMut(Loitering)) {
        let cfg = self.config;
        self.runs.drain(&mut |run| {
            if let Some(run) = run {
                Self::close(&cfg, run, out)
            }
        });
    }
}
