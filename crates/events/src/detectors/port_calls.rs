//! Port calls: Global Fishing Watch's port-visit state machine over terminals and ports.
//! A visit starts when a track comes within [`PortCallConfig::entry_km`] of a place and ends
//! when it is farther than [`PortCallConfig::exit_km`]; inside, a *stop* (speed at most
//! [`PortCallConfig::stop_speed_kn`]) or a *gap* (silence of at least
//! [`PortCallConfig::gap_hours`]) makes it a real call. Confidence 1–4 as GFW grades it.
//! See `docs/detectors/port_calls.md`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use shadowfleet_geo::within_m;
use shadowfleet_places::{PlaceKind, Places};
use shadowfleet_records::{Confidence, Event, EventKind, Operation, PortCallDetails, ReportRef};
use shadowfleet_tracks::{Position, TrackPoint};

use crate::detector::{
    hours, Context, Detector, DetectorError, DueQueue, Partition, Reference, Register,
};
use crate::detectors::DetectorConfig;
use crate::slots::Slots;

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortCallConfig {
    /// Entry radius around the place's point, km (GFW: 3 km).
    pub entry_km: f64,
    /// Exit radius, km (GFW: 4 km; the difference is hysteresis).
    pub exit_km: f64,
    /// Speed at or below which the vessel is stopped, knots (GFW: 0.2 kn).
    pub stop_speed_kn: f64,
    /// Silence inside the port that counts like a stop, hours (GFW: 4 h).
    pub gap_hours: f64,
    /// Lowest confidence reported (1: entry/exit only; 2: stop or gap only; 3: entry or exit
    /// and a stop or gap; 4: entry, exit and a stop or gap).
    pub min_confidence: u8,
    /// Fewest reports inside for a call: one report within the radius is a ship passing
    /// through or a stray fix, not a visit.
    pub min_reports: u32,
    /// Open segments remembered per MMSI.
    pub segments_per_mmsi: usize,
}

impl Default for PortCallConfig {
    fn default() -> Self {
        PortCallConfig {
            entry_km: 3.0,
            exit_km: 4.0,
            stop_speed_kn: 0.2,
            gap_hours: 4.0,
            min_confidence: 2,
            min_reports: 2,
            segments_per_mmsi: 4,
        }
    }
}

/// A port call.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PortCall {
    /// MMSI.
    pub mmsi: u32,
    /// Index of the place in [`Places`].
    pub place: usize,
    /// First report inside.
    pub first: Position,
    /// Last report inside.
    pub last: Position,
    /// The first report outside after the visit, when the track went on.
    pub exit: Option<Position>,
    /// Whether the track was seen outside before it came in (an observed entry).
    pub entered: bool,
    /// A stop was seen.
    pub stopped: bool,
    /// The last report inside at or below the stop speed (when the vessel left its berth or
    /// anchorage), unix seconds.
    pub last_stop: Option<i64>,
    /// A gap was seen inside.
    pub gap: bool,
    /// GFW confidence, 1–4.
    pub confidence: u8,
    /// Reports inside.
    pub reports: u32,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Visit {
    place: usize,
    /// Cosine of the place's latitude (for [`within_m`]).
    cos_lat: f64,
    first: Position,
    last: Position,
    entered: bool,
    stopped: bool,
    last_stop: Option<i64>,
    gap: bool,
    reports: u32,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct State {
    visit: Option<Visit>,
    seen_outside: bool,
}

/// Finds port calls in a stream of track points.
pub struct PortCallDetector {
    config: PortCallConfig,
    places: Arc<Places>,
    states: Slots<State>,
    /// Calls found, waiting for the draught after them.
    pending: DueQueue<PortCall>,
}

impl PortCallDetector {
    /// A detector over the terminals and ports of `places`.
    pub fn new(config: PortCallConfig, places: Arc<Places>) -> Self {
        PortCallDetector {
            config,
            places,
            states: Slots::new(config.segments_per_mmsi),
            pending: DueQueue::default(),
        }
    }

    fn close(
        cfg: &PortCallConfig,
        v: Visit,
        exit: Option<Position>,
        out: &mut dyn FnMut(PortCall),
    ) {
        let edges = u8::from(v.entered) + u8::from(exit.is_some());
        let stop = v.stopped || v.gap;
        let confidence = match (edges, stop) {
            (2, true) => 4,
            (1, true) => 3,
            (0, true) => 2,
            _ => 1,
        };
        if confidence < cfg.min_confidence || v.reports < cfg.min_reports {
            return;
        }
        out(PortCall {
            mmsi: v.first.mmsi,
            place: v.place,
            first: v.first,
            last: v.last,
            exit,
            entered: v.entered,
            stopped: v.stopped,
            last_stop: v.last_stop,
            gap: v.gap,
            confidence,
            reports: v.reports,
        });
    }

    /// Takes the next point; reports the call it ends.
    pub fn push(&mut self, p: &TrackPoint, out: &mut dyn FnMut(PortCall)) {
        let cfg = self.config;
        let r = p.position;
        let state = self
            .states
            .get(p.vessel, r.mmsi, p.segment, r.t, State::default, &mut |s| {
                if let Some(v) = s.visit {
                    Self::close(&cfg, v, None, out)
                }
            });
        if let Some(v) = &mut state.visit {
            let place = &self.places.all()[v.place];
            if !within_m(r.pos, place.position, v.cos_lat, cfg.exit_km * 1000.0) {
                if let Some(v) = state.visit.take() {
                    Self::close(&cfg, v, Some(r), out);
                }
                state.seen_outside = true;
            } else {
                v.gap |= (r.t - v.last.t) as f64 >= cfg.gap_hours * 3600.0;
                if r.sog_knots
                    .is_some_and(|s| f64::from(s) <= cfg.stop_speed_kn)
                {
                    v.stopped = true;
                    v.last_stop = Some(r.t);
                }
                v.last = r;
                v.reports += 1;
                return;
            }
        }
        match self.places.nearest(r.pos, cfg.entry_km * 1000.0, |k| {
            matches!(k, PlaceKind::Terminal | PlaceKind::Port)
        }) {
            Some((place, d)) if d <= cfg.entry_km * 1000.0 => {
                let stopped = r
                    .sog_knots
                    .is_some_and(|s| f64::from(s) <= cfg.stop_speed_kn);
                state.visit = Some(Visit {
                    place,
                    cos_lat: self.places.all()[place].position.lat.to_radians().cos(),
                    first: r,
                    last: r,
                    entered: state.seen_outside,
                    stopped,
                    last_stop: stopped.then_some(r.t),
                    gap: false,
                    reports: 1,
                });
            }
            _ => state.seen_outside = true,
        }
    }

    /// Closes every open visit (no exit observed).
    pub fn finish(&mut self, out: &mut dyn FnMut(PortCall)) {
        let cfg = self.config;
        self.states.drain(&mut |s| {
            if let Some(v) = s.visit {
                Self::close(&cfg, v, None, out)
            }
        });
    }
}

impl Register for PortCallDetector {
    type Config = PortCallConfig;

    fn new(config: &DetectorConfig, reference: &Reference) -> Result<Self, DetectorError> {
        Ok(PortCallDetector::new(
            config.port_calls,
            Arc::clone(&reference.places),
        ))
    }
}

impl PortCallDetector {
    fn found(&mut self, c: PortCall, cx: &Context<'_>) {
        let end = c.exit.map_or(c.last.t, |x| x.t);
        self.pending
            .push(end + hours(cx.enrich.draught_wait_hours), c);
    }

    fn flush(&mut self, watermark: i64, cx: &mut Context<'_>) {
        while let Some(c) = self.pending.pop_due(watermark) {
            let e = port_call_event(&c, &self.places, cx);
            cx.emit(e);
        }
    }
}

impl Detector for PortCallDetector {
    shadowfleet_records::persist_fields!("port_calls"; states, pending);

    fn kind(&self) -> EventKind {
        EventKind::PortCall
    }

    fn partition(&self) -> Partition {
        Partition::Vessel
    }

    fn prefetch(&self, vessel: u32) {
        self.states.prefetch(vessel);
    }

    fn point(&mut self, p: &TrackPoint, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        self.push(p, &mut |c| found.push(c));
        for c in found {
            self.found(c, cx);
        }
    }

    fn advance(&mut self, watermark: i64, cx: &mut Context<'_>) {
        self.flush(watermark, cx);
    }

    fn finish(&mut self, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        PortCallDetector::finish(self, &mut |c| found.push(c));
        for c in found {
            self.found(c, cx);
        }
        self.flush(i64::MAX, cx);
    }
}

/// The event of a port call: the place, the draughts before and after and what they say.
fn port_call_event(c: &PortCall, places: &Places, cx: &Context<'_>) -> Event {
    let wait = hours(cx.enrich.draught_wait_hours);
    let end = c.exit.map_or(c.last.t, |x| x.t);
    let (before, after) = cx.draughts(c.mmsi, c.first.t, end + wait);
    let min = cx.enrich.draught_change_m;
    let operation = match (before, after) {
        (Some(b), Some(a)) if a - b >= min => Operation::Load,
        (Some(b), Some(a)) if b - a >= min => Operation::Discharge,
        (Some(_), Some(_)) => Operation::None,
        _ => Operation::Unknown,
    };
    let place = places.get(c.place);
    let pos = place.map_or(c.first.pos, |p| p.position);
    let mut why = Vec::new();
    if c.entered {
        why.push("seen entering".to_owned());
    }
    if c.exit.is_some() {
        why.push("seen leaving".into());
    }
    if c.stopped {
        why.push("stopped inside".into());
    }
    if c.gap {
        why.push("a silence inside, as at a berth".into());
    }
    why.push(format!("{} reports inside", c.reports));
    let confidence = match c.confidence {
        4 => Confidence::high(why),
        3 => Confidence::medium(why),
        _ => {
            why.push("neither entry nor exit seen: the track starts or ends inside".into());
            Confidence::low(why)
        }
    };
    let mut evidence = vec![ReportRef::new(c.mmsi, c.first.t, c.first.pos)];
    if let Some(x) = c.exit {
        evidence.push(ReportRef::new(c.mmsi, x.t, x.pos));
    }
    Event {
        mmsi: c.mmsi,
        imo: cx.imo(c.mmsi),
        other_mmsi: None,
        start: c.first.t,
        end,
        lat: pos.lat,
        lon: pos.lon,
        confidence,
        truncated_start: false,
        truncated_end: false,
        details: PortCallDetails {
            place: place.map(|p| p.to_ref()).unwrap_or_default(),
            locode: place.map(|p| p.locode.clone()),
            confidence: c.confidence,
            entry: c.entered,
            exit: c.exit.is_some(),
            stop: c.stopped,
            gap: c.gap,
            draught_before_m: before,
            draught_after_m: after,
            operation,
            destination: cx.destination(c.mmsi, c.first.t, end),
            last_stop: c.last_stop,
            evidence,
        }
        .into(),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use crate::testing::point;
    use shadowfleet_geo::LatLon;

    const H: i64 = 3600;

    /// The embedded places and Primorsk's berth point.
    fn places() -> (Arc<Places>, LatLon) {
        let land = shadowfleet_geo::Land::natural_earth_10m().expect("land");
        let places = Places::embedded(&land).expect("places");
        let i = places.index_of("RU-PRIMORSK").expect("Primorsk");
        let at = places.get(i).expect("place").position;
        (Arc::new(places), at)
    }

    /// `km` kilometres south of `p`.
    fn south(p: LatLon, km: f64) -> LatLon {
        shadowfleet_geo::offset_m(p, -km * 1000.0, 0.0)
    }

    fn calls(points: &[TrackPoint], config: PortCallConfig) -> Vec<PortCall> {
        let (places, _) = places();
        let mut d = PortCallDetector::new(config, places);
        let mut out = Vec::new();
        for p in points {
            d.push(p, &mut |c| out.push(c));
        }
        PortCallDetector::finish(&mut d, &mut |c| out.push(c));
        out
    }

    #[test]
    fn a_call_seen_entering_stopping_and_leaving_has_confidence_four() {
        let (_, berth) = places();
        let pts = [
            point(1, 0, south(berth, 10.0), 10.0),
            point(1, H, south(berth, 1.0), 3.0),
            point(1, 2 * H, berth, 0.0),
            point(1, 30 * H, berth, 0.0),
            point(1, 31 * H, south(berth, 10.0), 10.0),
        ];
        let c = calls(&pts, PortCallConfig::default());
        assert_eq!(c.len(), 1);
        assert!(c[0].entered && c[0].stopped && c[0].exit.is_some());
        assert_eq!(c[0].confidence, 4);
    }

    #[test]
    fn a_call_at_the_end_of_the_data_has_no_exit() {
        let (_, berth) = places();
        let pts = [
            point(1, 0, south(berth, 10.0), 10.0),
            point(1, H, berth, 0.0),
            point(1, 2 * H, berth, 0.0),
        ];
        let c = calls(&pts, PortCallConfig::default());
        assert_eq!(c.len(), 1);
        assert!(c[0].exit.is_none() && c[0].entered);
        assert_eq!(c[0].confidence, 3);
    }

    #[test]
    fn passing_by_without_a_stop_or_gap_is_below_the_minimum_confidence() {
        let (_, berth) = places();
        let pts = [
            point(1, 0, south(berth, 10.0), 10.0),
            point(1, H, south(berth, 2.0), 8.0),
            point(1, H + 600, south(berth, 2.5), 8.0),
            point(1, 2 * H, south(berth, 10.0), 10.0),
        ];
        assert!(calls(&pts, PortCallConfig::default()).is_empty());
        let all = PortCallConfig {
            min_confidence: 1,
            ..PortCallConfig::default()
        };
        assert_eq!(calls(&pts, all)[0].confidence, 1);
    }

    #[test]
    fn the_exit_radius_is_wider_than_the_entry_radius() {
        let (_, berth) = places();
        let c = PortCallConfig::default();
        // In at 2.5 km, stopped; out to 3.5 km (inside the 4 km exit radius), back in: one
        // call; then out at 4.5 km: the exit.
        let pts = [
            point(1, 0, south(berth, 10.0), 10.0),
            point(1, H, south(berth, 2.5), 0.0),
            point(1, 2 * H, south(berth, 3.5), 1.0),
            point(1, 3 * H, south(berth, 2.5), 0.0),
            point(1, 4 * H, south(berth, 4.5), 5.0),
        ];
        let found = calls(&pts, c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].exit.map(|x| x.t - crate::testing::T0), Some(4 * H));
        // Entry needs 3 km: a track that stays at 3.5 km never calls.
        let outside = [
            point(1, 0, south(berth, 10.0), 10.0),
            point(1, H, south(berth, 3.5), 0.0),
            point(1, 5 * H, south(berth, 3.5), 0.0),
        ];
        assert!(calls(&outside, c).is_empty());
    }

    #[test]
    fn one_report_inside_is_not_a_call() {
        let (_, berth) = places();
        let pts = [
            point(1, 0, south(berth, 10.0), 10.0),
            point(1, H, berth, 0.0),
            point(1, 2 * H, south(berth, 10.0), 10.0),
        ];
        assert!(calls(&pts, PortCallConfig::default()).is_empty());
        let one = PortCallConfig {
            min_reports: 1,
            ..PortCallConfig::default()
        };
        assert_eq!(calls(&pts, one).len(), 1);
    }

    #[test]
    fn a_silence_inside_counts_like_a_stop() {
        let (_, berth) = places();
        let c = PortCallConfig::default();
        let gap = (c.gap_hours * 3600.0) as i64;
        let pts = [
            point(1, 0, south(berth, 10.0), 10.0),
            point(1, H, south(berth, 1.0), 2.0),
            point(1, H + gap, south(berth, 1.0), 2.0),
            point(1, 2 * H + gap, south(berth, 10.0), 10.0),
        ];
        let found = calls(&pts, c);
        assert_eq!(found.len(), 1);
        assert!(found[0].gap && !found[0].stopped);
    }
}
