//! Loitering: a track segment moving slower than [`LoiteringConfig::max_speed_kn`] for at
//! least [`LoiteringConfig::min_hours`] (Global Fishing Watch's loitering event, adapted to
//! tankers: no distance-from-shore filter; distance from shore and the STS area are reported
//! instead). See `docs/detectors/loitering.md`.

use serde::{Deserialize, Serialize};
use shadowfleet_geo::{haversine_m, LatLon, METRES_PER_NM};
use shadowfleet_records::{round2, Confidence, Event, EventKind, LoiteringDetails, ReportRef};
use shadowfleet_tracks::{Position, TrackPoint};

use crate::detector::{
    hours, Context, Detector, DetectorError, DueQueue, Partition, Reference, Register,
};
use crate::detectors::DetectorConfig;
use crate::slots::Slots;

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Loitering {
    /// MMSI.
    pub mmsi: u32,
    /// First slow report.
    pub first: Position,
    /// Last slow report.
    pub last: Position,
    /// Mean position.
    pub centre: LatLon,
    /// Mean speed over ground, knots.
    pub mean_speed_kn: f64,
    /// Reports.
    pub points: u32,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Run {
    first: Position,
    last: Position,
    dlat: f64,
    dlon: f64,
    speed: f64,
    n: u32,
}

/// Finds loitering in a stream of track points.
pub struct LoiteringDetector {
    config: LoiteringConfig,
    runs: Slots<Option<Run>>,
    /// Episodes found, waiting for the draught after them and the encounters of the same
    /// hours.
    pending: DueQueue<Loitering>,
    /// How long after its last report an episode is due.
    wait_s: i64,
    /// Positions this far inland are false (the spoofing detector's margin), metres.
    land_margin_m: f64,
}

fn speed_of(p: &TrackPoint) -> f64 {
    p.position
        .sog_knots
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
            pending: DueQueue::default(),
            wait_s: 0,
            land_margin_m: 5_000.0,
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
        let r = p.position;
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

impl Register for LoiteringDetector {
    type Config = LoiteringConfig;

    fn new(config: &DetectorConfig, _reference: &Reference) -> Result<Self, DetectorError> {
        let mut d = LoiteringDetector::new(config.loitering);
        // After the draught wait, and after the encounters of the same hours are known (an
        // encounter is found once its meeting can no longer be extended).
        d.wait_s = hours(config.enrich.draught_wait_hours)
            + hours(config.encounters.merge_hours)
            + 2 * hours(config.encounters.max_interpolation_hours)
            + 3600;
        d.land_margin_m = config.spoofing.land_margin_m;
        Ok(d)
    }
}

impl LoiteringDetector {
    /// Keeps an episode until it is due, unless it lies in a port (part of a port call).
    fn found(&mut self, l: Loitering, cx: &Context<'_>) {
        if !cx.near_port(l.centre, self.config.port_radius_km) {
            self.pending.push(l.last.t + self.wait_s, l);
        }
    }

    fn flush(&mut self, watermark: i64, cx: &mut Context<'_>) {
        while let Some(l) = self.pending.pop_due(watermark) {
            // Slow at false positions is not loitering: inland beyond the coastline's
            // error, or where an interference put several vessels (the spoofing and
            // interference detectors report those positions).
            let land = &cx.reference.land;
            let inland = land.contains(l.centre)
                && land.distance_to_coastline_m(l.centre, self.land_margin_m) >= self.land_margin_m;
            let jammed = [l.first.t, l.last.t]
                .into_iter()
                .any(|t| cx.interference_at(l.centre, t, 0).is_some());
            if inland || jammed {
                continue;
            }
            let e = loitering_event(&l, cx);
            cx.emit(e);
        }
    }
}

impl Detector for LoiteringDetector {
    shadowfleet_records::persist_fields!("loitering"; runs, pending);

    fn kind(&self) -> EventKind {
        EventKind::Loitering
    }

    fn partition(&self) -> Partition {
        Partition::Vessel
    }

    fn prefetch(&self, vessel: u32) {
        self.runs.prefetch(vessel);
    }

    fn point(&mut self, p: &TrackPoint, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        self.push(p, &mut |l| found.push(l));
        for l in found {
            self.found(l, cx);
        }
    }

    fn advance(&mut self, watermark: i64, cx: &mut Context<'_>) {
        self.flush(watermark, cx);
    }

    fn finish(&mut self, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        LoiteringDetector::finish(self, &mut |l| found.push(l));
        for l in found {
            self.found(l, cx);
        }
        self.flush(i64::MAX, cx);
    }
}

/// The event of a loitering episode: where, how slow, the draught before and after, and
/// whether it looks like a transfer with a partner that had its AIS off.
fn loitering_event(l: &Loitering, cx: &Context<'_>) -> Event {
    let wait = hours(cx.enrich.draught_wait_hours);
    let area = cx.sts_area_at(l.centre);
    let (before, after) = cx.draughts(l.mmsi, l.first.t, l.last.t + wait);
    let change = match (before, after) {
        (Some(b), Some(a)) => a - b,
        _ => 0.0,
    };
    let overlapping = cx.encounter_overlaps(l.mmsi, l.first.t, l.last.t);
    let possible_dark_sts =
        area.is_some() && !overlapping && change.abs() >= cx.enrich.draught_change_m;
    let hours = (l.last.t - l.first.t) as f64 / 3600.0;
    let near = cx.near_place(l.centre);
    let mut why = vec![format!(
        "{} reports over {hours:.1} h at a mean {:.1} kn",
        l.points, l.mean_speed_kn
    )];
    let confidence = if possible_dark_sts {
        why.insert(
            0,
            format!(
                "in an STS area with no partner seen and the draught changed {change:+.1} m: a possible transfer with a ship whose AIS was off"
            ),
        );
        Confidence::high(why)
    } else if area.is_some() || near.is_some() || hours >= 12.0 {
        if area.is_some() {
            why.push("in a known ship-to-ship transfer area".into());
        } else if near.is_some() {
            why.push("near a terminal or STS area".into());
        }
        Confidence::medium(why)
    } else {
        why.push("away from terminals and STS areas: waiting at sea is common".into());
        Confidence::low(why)
    };
    Event {
        mmsi: l.mmsi,
        imo: cx.imo(l.mmsi),
        other_mmsi: None,
        start: l.first.t,
        end: l.last.t,
        lat: l.centre.lat,
        lon: l.centre.lon,
        confidence,
        truncated_start: false,
        truncated_end: false,
        details: LoiteringDetails {
            hours: round2(hours),
            mean_speed_kn: round2(l.mean_speed_kn),
            sts_area: area.and_then(|i| cx.place_ref(i)),
            near: near.and_then(|i| cx.place_ref(i)),
            draught_before_m: before,
            draught_after_m: after,
            possible_dark_sts,
            evidence: vec![
                ReportRef::new(l.mmsi, l.first.t, l.first.pos),
                ReportRef::new(l.mmsi, l.last.t, l.last.pos),
            ],
        }
        .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{every, T0};

    const SEA: LatLon = LatLon {
        lat: 36.3,
        lon: 22.9,
    };

    fn episodes(points: &[TrackPoint], config: LoiteringConfig) -> Vec<(i64, i64)> {
        let mut d = LoiteringDetector::new(config);
        let mut out = Vec::new();
        for p in points {
            d.push(p, &mut |l| out.push((l.first.t - T0, l.last.t - T0)));
        }
        LoiteringDetector::finish(&mut d, &mut |l| out.push((l.first.t - T0, l.last.t - T0)));
        out
    }

    #[test]
    fn slow_for_exactly_the_minimum_is_loitering_and_a_report_less_is_not() {
        let c = LoiteringConfig::default();
        // A report every 10 minutes: 4 h is 25 reports.
        let n = (c.min_hours * 6.0) as usize + 1;
        assert_eq!(
            episodes(&every(1, 0, 600, n, 0.5, |_| SEA), c),
            vec![(0, 4 * 3600)]
        );
        assert!(episodes(&every(1, 0, 600, n - 1, 0.5, |_| SEA), c).is_empty());
    }

    #[test]
    fn the_speed_limit_is_strict() {
        let c = LoiteringConfig::default();
        let at = c.max_speed_kn as f32;
        assert!(episodes(&every(1, 0, 600, 40, at, |_| SEA), c).is_empty());
        assert_eq!(
            episodes(&every(1, 0, 600, 40, at - 0.1, |_| SEA), c).len(),
            1
        );
    }

    #[test]
    fn a_long_silence_ends_the_episode() {
        let c = LoiteringConfig::default();
        let gap = (c.max_gap_hours * 3600.0) as i64 + 1;
        let mut pts = every(1, 0, 600, 30, 0.5, |_| SEA);
        pts.extend(every(1, 29 * 600 + gap, 600, 30, 0.5, |_| SEA));
        assert_eq!(episodes(&pts, c).len(), 2);
        // Within the limit: one episode across the silence.
        let mut pts = every(1, 0, 600, 30, 0.5, |_| SEA);
        pts.extend(every(1, 29 * 600 + gap - 2, 600, 30, 0.5, |_| SEA));
        assert_eq!(episodes(&pts, c).len(), 1);
    }
}
