//! Tracks: from decoded position reports to per-vessel track points, on event time.
//!
//! [`TrackBuilder`] takes position reports in arrival order (as a file or a live feed gives
//! them) and releases them per MMSI in receive-time order once the event-time watermark (the
//! latest receive time seen minus [`TrackConfig::reorder_window_s`]) has passed them.
//! On the way it drops duplicates (the same report heard by several receivers), reports with
//! positions "not available", and reports too late for the window (counted). Each released
//! point is assigned to a *segment*: GFW's segmenter idea of keeping several open segments
//! per MMSI and appending a point to the one it continues plausibly (implied speed at most
//! [`TrackConfig::max_implied_speed_kn`], GFW's 25 kn), so that two ships broadcasting one
//! MMSI, or a spoofed jump, end up in different segments instead of one zig-zag track.
//!
//! State is bounded: per MMSI a reorder buffer of at most
//! [`TrackConfig::max_buffered_per_vessel`] points and at most
//! [`TrackConfig::max_open_segments`] open segments.

use rustc_hash::FxHashMap;
use shadowfleet_model::cache;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use shadowfleet_geo::{haversine_m, within_m, LatLon, METRES_PER_NM};
pub use shadowfleet_records::Position;

/// Thresholds; see `docs/detectors/tracks.md` for their sources.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackConfig {
    /// How late (seconds of receive time) a report may arrive and still be placed in order.
    pub reorder_window_s: i64,
    /// Two reports of one MMSI within this many seconds and [`Self::duplicate_distance_m`]
    /// of each other are one report heard twice.
    pub duplicate_window_s: i64,
    /// See [`Self::duplicate_window_s`].
    pub duplicate_distance_m: f64,
    /// Above this implied speed a point does not continue a segment (GFW: 25 kn).
    pub max_implied_speed_kn: f64,
    /// Below this distance any time difference is plausible (position noise), metres.
    pub jitter_m: f64,
    /// After this much silence a segment is closed.
    pub max_silence_s: i64,
    /// Open segments kept per MMSI (the least recently extended is closed first).
    pub max_open_segments: usize,
    /// Reports buffered per MMSI awaiting the watermark (older ones are released early).
    pub max_buffered_per_vessel: usize,
    /// A report whose receive time runs further ahead of the clock (the latest receive time
    /// accepted) than this is held until [`Self::clock_jump_confirmations`] reports agree
    /// with it (within this of it): one wrong receiver clock must not move the watermark
    /// and make every later report late. Also applies to the first reports of a run.
    pub max_clock_jump_s: i64,
    /// See [`Self::max_clock_jump_s`].
    pub clock_jump_confirmations: usize,
    /// A report identical in content (position, speed, course, status and its own UTC
    /// second) to one of the same MMSI received up to this long before — beyond
    /// [`Self::duplicate_window_s`] — whose UTC second is at odds with its receive time is
    /// the old transmission heard again late through another station (a stale relay):
    /// counted and kept out of the track, seconds.
    pub stale_relay_window_s: i64,
    /// How far a report's UTC second may lie from its receive time's second (modulo a
    /// minute) for it to count as fresh, seconds (receivers stamp within a second or two).
    pub fresh_second_tolerance_s: i64,
}

impl Default for TrackConfig {
    fn default() -> Self {
        TrackConfig {
            reorder_window_s: 2 * 3600,
            duplicate_window_s: 2,
            duplicate_distance_m: 50.0,
            max_implied_speed_kn: 25.0,
            jitter_m: 500.0,
            max_silence_s: 7 * 24 * 3600,
            max_open_segments: 4,
            max_buffered_per_vessel: 4096,
            max_clock_jump_s: 6 * 3600,
            clock_jump_confirmations: 3,
            stale_relay_window_s: 2 * 3600,
            fresh_second_tolerance_s: 2,
        }
    }
}

/// A report placed in a track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    /// The report.
    pub position: Position,
    /// The builder's dense index of the report's MMSI (0, 1, 2, ... in order of first
    /// report), so that later stages can keep per-vessel state in plain vectors.
    pub vessel: u32,
    /// Segment id, unique over the builder's life.
    pub segment: u64,
    /// Time and position of the previous point of the segment (None for the first).
    pub previous: Option<(i64, LatLon)>,
}

/// Counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrackStats {
    /// Reports accepted into a track.
    pub points: u64,
    /// Reports dropped as duplicates of one already seen.
    pub duplicates: u64,
    /// Reports with a position that is not available or out of range, or a receive time
    /// outside [`MIN_TIME`]..=[`MAX_TIME`].
    pub invalid: u64,
    /// Reports that arrived after the watermark had passed their time.
    pub late: u64,
    /// Reports dropped for a receive time ahead of the clock that too few reports agreed
    /// with (see [`TrackConfig::max_clock_jump_s`]).
    pub clock_errors: u64,
    /// Reports dropped as stale relays: the content of an earlier report heard again late
    /// (see [`TrackConfig::stale_relay_window_s`]).
    pub stale_relays: u64,
    /// Segments opened.
    pub segments: u64,
    /// Vessels (MMSIs) tracked.
    pub vessels: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Segment {
    id: u64,
    last: Position,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Vessel {
    /// Reports awaiting the watermark, sorted by receive time (then arrival): reports come
    /// nearly in order, so insertion is at or near the back.
    buffer: VecDeque<Position>,
    /// Receive time of the last report put at the back of `buffer` (it may since have been
    /// released): most reports go at the back and are no duplicate, which this settles
    /// without reading the buffer (a cache miss per report at a large fleet).
    back_t: i64,
    open: Vec<Segment>,
    /// Receive time of the last released point: later reports must not precede it.
    released_until: i64,
    /// (content key, receive time) of the last reports accepted, a ring.
    recent: [(u64, i64); RECENT],
    recent_next: u8,
}

/// Reports remembered per vessel to recognise a stale relay.
const RECENT: usize = 8;

/// A key of a report's content: what a stale relay repeats unchanged.
fn content_key(r: &Position) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    use std::hash::Hasher;
    h.write_u64(r.pos.lat.to_bits());
    h.write_u64(r.pos.lon.to_bits());
    h.write_u32(r.sog_knots.map_or(u32::MAX, f32::to_bits));
    h.write_u32(r.cog_deg.map_or(u32::MAX, f32::to_bits));
    h.write_u16(
        u16::from(r.nav_status.unwrap_or(u8::MAX)) << 8 | u16::from(r.second.unwrap_or(u8::MAX)),
    );
    h.finish() | 1
}

/// Builds tracks from reports in arrival order. Feed with [`TrackBuilder::push`], then
/// [`TrackBuilder::finish`]; points come out through the closure given to each call.
pub struct TrackBuilder {
    config: TrackConfig,
    /// Index into `vessels` by MMSI.
    index: FxHashMap<u32, u32>,
    vessels: Vec<Vessel>,
    /// Vessels (by index) by the earliest receive time in their buffer (to release in
    /// watermark order).
    /// Entries go stale when a vessel's earliest time changes; a stale entry is recognised
    /// on the way out (the vessel's buffer no longer starts at that time) and skipped.
    pending: BinaryHeap<Reverse<u64>>,
    max_seen: i64,
    /// Reports ahead of the clock by more than the allowed jump, awaiting confirmation.
    ahead: Vec<Position>,
    next_segment: u64,
    stats: TrackStats,
}

impl TrackBuilder {
    shadowfleet_records::persist_fields!(pub "tracks"; index, vessels, pending, max_seen, ahead, next_segment);

    /// A hint that a report of `mmsi` comes soon: loads its vessel's state into the cache
    /// ([`shadowfleet_model::cache`]). Changes nothing but timing.
    pub fn prefetch(&self, mmsi: u32) {
        if let Some(&k) = self.index.get(&mmsi) {
            cache::prefetch(&self.vessels, k as usize);
        }
    }

    /// The reports held awaiting the watermark (not yet released as points).
    pub fn held(&self) -> impl Iterator<Item = &Position> + '_ {
        self.vessels
            .iter()
            .flat_map(|v| v.buffer.iter())
            .chain(self.ahead.iter())
    }

    /// A builder with `config`.
    pub fn new(config: TrackConfig) -> Self {
        TrackBuilder {
            config,
            index: FxHashMap::default(),
            vessels: Vec::new(),
            pending: BinaryHeap::new(),
            max_seen: i64::MIN,
            ahead: Vec::new(),
            next_segment: 0,
            stats: TrackStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> TrackStats {
        TrackStats {
            vessels: self.vessels.len() as u64,
            ..self.stats
        }
    }

    /// The current watermark: reports received before it are final.
    pub fn watermark(&self) -> i64 {
        self.max_seen.saturating_sub(self.config.reorder_window_s)
    }

    /// Takes one report; releases every point the watermark has passed.
    pub fn push(&mut self, r: Position, out: &mut dyn FnMut(TrackPoint)) {
        if !(r.pos.lat.abs() <= 90.0 && r.pos.lon.abs() <= 180.0)
            || (r.pos.lat == 0.0 && r.pos.lon == 0.0)
            || !(MIN_TIME..=MAX_TIME).contains(&r.t)
        {
            self.stats.invalid += 1;
            return;
        }
        if r.t > self.max_seen.saturating_add(self.config.max_clock_jump_s) {
            self.hold_ahead(r, out);
            return;
        }
        if !self.ahead.is_empty() {
            // A report on the clock: those ahead of it were a clock error.
            self.stats.clock_errors += self.ahead.len() as u64;
            self.ahead.clear();
        }
        self.accept(r, out);
    }

    /// Holds `r`, ahead of the clock by more than the allowed jump, with the reports that
    /// agree with it; once enough do, the clock jumps and they go in, in arrival order.
    fn hold_ahead(&mut self, r: Position, out: &mut dyn FnMut(TrackPoint)) {
        let jump = self.config.max_clock_jump_s;
        if self
            .ahead
            .first()
            .is_some_and(|first| (r.t - first.t).abs() > jump)
        {
            self.stats.clock_errors += self.ahead.len() as u64;
            self.ahead.clear();
        }
        self.ahead.push(r);
        if self.ahead.len() >= self.config.clock_jump_confirmations {
            self.accept_ahead(out);
        }
    }

    /// Takes the reports held ahead of the clock.
    fn accept_ahead(&mut self, out: &mut dyn FnMut(TrackPoint)) {
        let mut ahead = std::mem::take(&mut self.ahead);
        for r in ahead.drain(..) {
            self.accept(r, out);
        }
        // Keep the allocation.
        self.ahead = ahead;
    }

    /// Takes a valid report on the clock.
    fn accept(&mut self, r: Position, out: &mut dyn FnMut(TrackPoint)) {
        let k = match self.index.entry(r.mmsi) {
            std::collections::hash_map::Entry::Occupied(e) => *e.get(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let k = u32::try_from(self.vessels.len()).unwrap_or(u32::MAX);
                self.vessels.push(Vessel {
                    buffer: VecDeque::new(),
                    back_t: i64::MIN,
                    open: Vec::new(),
                    released_until: i64::MIN,
                    recent: [(0, i64::MIN); RECENT],
                    recent_next: 0,
                });
                *e.insert(k)
            }
        };
        let Some(v) = self.vessels.get_mut(k as usize) else {
            return;
        };
        if r.t < v.released_until
            || r.t < self.max_seen.saturating_sub(self.config.reorder_window_s)
        {
            self.stats.late += 1;
            return;
        }
        // Reports come nearly in order: most go at the back. (`back_t` is the back's time
        // while the buffer holds anything; once emptied it is the last point released, no
        // later than `released_until`, so no later than this report.)
        let at = if v.back_t <= r.t {
            v.buffer.len()
        } else {
            v.buffer.partition_point(|b| b.t <= r.t)
        };
        // A duplicate: the same report from another receiver, within the window.
        let (lo, hi) = (
            r.t - self.config.duplicate_window_s,
            r.t + self.config.duplicate_window_s,
        );
        let dup_m = self.config.duplicate_distance_m;
        // The usual case, a report after all those buffered, scans back only: the general
        // chain with its empty second half costs the track thread 8 % more (callgrind).
        let duplicate = if at == v.buffer.len() {
            // Nothing buffered within the window: no need to look.
            v.back_t >= lo
                && v.buffer
                    .iter()
                    .rev()
                    .take_while(|b| b.t >= lo)
                    .any(|b| haversine_m(b.pos, r.pos) <= dup_m)
        } else {
            v.buffer
                .range(..at)
                .rev()
                .take_while(|b| b.t >= lo)
                .chain(v.buffer.range(at..).take_while(|b| b.t <= hi))
                .any(|b| haversine_m(b.pos, r.pos) <= dup_m)
        };
        if duplicate {
            self.stats.duplicates += 1;
            return;
        }
        // A stale relay: this content was received before, beyond the duplicate window, and
        // the report's own second says it is not from now.
        let key = content_key(&r);
        let stale_from = r.t - self.config.stale_relay_window_s;
        if r.fresh(self.config.fresh_second_tolerance_s) == Some(false) {
            // Either its content was received before (a ship reporting every few minutes),
            // or it lies where the ship cannot be now: behind it, as seen from the report
            // just before (a ship reporting every few seconds has long overwritten the
            // ring by the time a relay arrives). A stale report that fits the track is
            // harmless and kept: a receiver clock a few seconds off loses nothing.
            let seen = v
                .recent
                .iter()
                .any(|&(k, t)| k == key && t < lo && t >= stale_from);
            let before = at
                .checked_sub(1)
                .and_then(|i| v.buffer.get(i))
                .or_else(|| v.open.iter().map(|s| &s.last).max_by_key(|p| p.t));
            let behind = before.is_some_and(|b| {
                let dt = (r.t - b.t).max(1) as f64;
                let reach = self
                    .config
                    .jitter_m
                    .max(self.config.max_implied_speed_kn * METRES_PER_NM * dt / 3600.0);
                !within_m(r.pos, b.pos, 1.0, reach)
            });
            if seen || behind {
                self.stats.stale_relays += 1;
                return;
            }
        }
        v.recent[usize::from(v.recent_next) % RECENT] = (key, r.t);
        v.recent_next = v.recent_next.wrapping_add(1) % RECENT as u8;
        if at == v.buffer.len() {
            v.buffer.push_back(r);
            v.back_t = r.t;
        } else {
            v.buffer.insert(at, r);
        }
        if at == 0 {
            self.pending.push(Reverse(pending_key(r.t, k)));
        }
        if v.buffer.len() > self.config.max_buffered_per_vessel {
            self.release_vessel(k, i64::MAX, 1, out);
        }
        self.max_seen = self.max_seen.max(r.t);
        let wm = self.watermark();
        self.release_until(wm, out);
    }

    /// Moves the clock (the latest receive time) on to `t` without a report: a live feed
    /// that has been quiet for a while still releases what the watermark has passed.
    pub fn advance_clock(&mut self, t: i64, out: &mut dyn FnMut(TrackPoint)) {
        if t > self.max_seen && self.max_seen != i64::MIN {
            self.max_seen = t;
            let wm = self.watermark();
            self.release_until(wm, out);
        }
    }

    /// The latest receive time accepted (`i64::MIN` before any).
    pub fn clock(&self) -> i64 {
        self.max_seen
    }

    /// Releases everything still buffered (end of input).
    pub fn finish(&mut self, out: &mut dyn FnMut(TrackPoint)) {
        // At the end nothing comes after the reports held ahead of the clock for them to
        // spoil: they go in.
        self.accept_ahead(out);
        self.release_until(i64::MAX, out);
    }

    fn release_until(&mut self, wm: i64, out: &mut dyn FnMut(TrackPoint)) {
        while let Some(&Reverse(key)) = self.pending.peek() {
            let (t, k) = ((key >> 32) as i64, key as u32);
            if t > wm {
                break;
            }
            self.pending.pop();
            // The vessel released next, most likely: its state is cold (its report came
            // a reorder window ago); load it while this one is released.
            if let Some(&Reverse(next)) = self.pending.peek() {
                cache::prefetch(&self.vessels, next as u32 as usize);
            }
            let current = self
                .vessels
                .get(k as usize)
                .and_then(|v| v.buffer.front())
                .is_some_and(|r| r.t == t);
            if current {
                self.release_vessel(k, wm, usize::MAX, out);
            }
        }
    }

    /// Releases up to `max` buffered points of vessel `k` at or before `wm`, and re-files
    /// the vessel under its new earliest buffered time.
    fn release_vessel(&mut self, k: u32, wm: i64, max: usize, out: &mut dyn FnMut(TrackPoint)) {
        let Some(v) = self.vessels.get_mut(k as usize) else {
            return;
        };
        let mut n = 0;
        while n < max && v.buffer.front().is_some_and(|r| r.t <= wm) {
            let Some(r) = v.buffer.pop_front() else {
                break;
            };
            v.released_until = r.t;
            let (segment, previous) = assign(
                &self.config,
                &mut v.open,
                &mut self.next_segment,
                &mut self.stats,
                r,
            );
            self.stats.points += 1;
            out(TrackPoint {
                position: r,
                vessel: k,
                segment,
                previous,
            });
            n += 1;
        }
        if n > 0 {
            if let Some(first) = v.buffer.front() {
                self.pending.push(Reverse(pending_key(first.t, k)));
            }
        }
    }
}

/// Knots needed to go from `a` to `b` (at least a second apart).
fn implied_kn(a: &Position, b: &Position) -> f64 {
    implied_speed_kn(a.t, a.pos, b)
}

fn implied_speed_kn(t: i64, pos: LatLon, b: &Position) -> f64 {
    let dt = (b.t - t).max(1) as f64;
    haversine_m(pos, b.pos) / METRES_PER_NM / (dt / 3600.0)
}

impl TrackPoint {
    /// Implied speed from the previous point of the segment, knots (None for the first):
    /// the great-circle distance over the time, at least a second.
    pub fn implied_speed_kn(&self) -> Option<f64> {
        self.previous
            .map(|(t, pos)| implied_speed_kn(t, pos, &self.position))
    }
}

/// Earliest receive time taken, unix seconds (1990-01-01, before AIS).
pub const MIN_TIME: i64 = 631_152_000;
/// Latest receive time taken, unix seconds (2106-02-07: the last second that fits 32 bits).
pub const MAX_TIME: i64 = u32::MAX as i64;

/// The release queue's key of vessel `k`'s earliest buffered time `t` (in
/// [`MIN_TIME`]..=[`MAX_TIME`]): time then vessel, in one integer.
fn pending_key(t: i64, k: u32) -> u64 {
    ((t as u64) << 32) | u64::from(k)
}

/// Puts `r` on the open segment it continues most plausibly, or opens a new one; returns the
/// segment and the previous point on it.
fn assign(
    c: &TrackConfig,
    open: &mut Vec<Segment>,
    next: &mut u64,
    stats: &mut TrackStats,
    r: Position,
) -> (u64, Option<(i64, LatLon)>) {
    open.retain(|s| r.t - s.last.t <= c.max_silence_s);
    // (index, implied speed when computed, last time)
    let mut best: Option<(usize, Option<f64>, i64)> = None;
    for (k, s) in open.iter().enumerate() {
        // Plausible: within the jitter, or reachable at the speed limit. Decided by distance
        // bounds when they settle it (nearly always), so no trigonometry per point.
        let dt = (r.t - s.last.t).max(1) as f64;
        let reach = c
            .jitter_m
            .max(c.max_implied_speed_kn * METRES_PER_NM * dt / 3600.0);
        if !within_m(r.pos, s.last.pos, 1.0, reach) {
            continue;
        }
        // Prefer the most recently extended plausible segment (a stale one, e.g. left
        // behind by a spoofed stretch, is plausible for almost anything after hours);
        // among equally recent ones, the one needing the smallest speed.
        match best {
            Some((_, _, bt)) if s.last.t < bt => {}
            Some((b, kn_b, bt)) if s.last.t == bt => {
                let kn_b = kn_b.unwrap_or_else(|| implied_kn(&open[b].last, &r));
                let kn = implied_kn(&s.last, &r);
                best = Some(if kn < kn_b {
                    (k, Some(kn), bt)
                } else {
                    (b, Some(kn_b), bt)
                });
            }
            _ => best = Some((k, None, s.last.t)),
        }
    }
    match best {
        Some((k, _, _)) => {
            let previous = (open[k].last.t, open[k].last.pos);
            open[k].last = r;
            (open[k].id, Some(previous))
        }
        None => {
            if open.len() >= c.max_open_segments {
                // Close the least recently extended.
                if let Some(k) = open
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, s)| s.last.t)
                    .map(|(k, _)| k)
                {
                    open.swap_remove(k);
                }
            }
            *next += 1;
            stats.segments += 1;
            open.push(Segment { id: *next, last: r });
            (*next, None)
        }
    }
}

/// A [`Position`] from a decoded message with a receive time, when it is a position report.
pub fn position_of(d: &shadowfleet_decode::Decoded) -> Option<Position> {
    position_from(d, &d.message.position()?)
}

/// [`position_of`] with the message's position report `p` already taken out.
pub fn position_from(
    d: &shadowfleet_decode::Decoded,
    p: &shadowfleet_decode::VesselPosition,
) -> Option<Position> {
    let t = d.meta.received?.unix_millis().div_euclid(1000);
    Some(Position {
        mmsi: p.mmsi,
        t,
        pos: LatLon {
            lat: p.lat,
            lon: p.lon,
        },
        sog_knots: p.sog_knots,
        cog_deg: p.cog_deg,
        nav_status: p.nav_status,
        second: p.second,
        station: shadowfleet_records::StationId::of_bytes(d.meta.station.as_bytes()),
        source: shadowfleet_records::Provenance {
            offset: d.meta.offset,
            length: d.meta.length,
            input: d.meta.input,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test times count from this instant (2023-11-14).
    const T0: i64 = 1_700_000_000;

    fn rep(mmsi: u32, t: i64, lat: f64, lon: f64) -> Position {
        Position {
            mmsi,
            t: T0 + t,
            pos: LatLon { lat, lon },
            sog_knots: None,
            cog_deg: None,
            nav_status: None,
            second: None,
            station: None,
            source: Default::default(),
        }
    }

    fn run(config: TrackConfig, input: &[Position]) -> (Vec<TrackPoint>, TrackStats) {
        let mut b = TrackBuilder::new(config);
        let mut out = Vec::new();
        for r in input {
            b.push(*r, &mut |p| out.push(p));
        }
        b.finish(&mut |p| out.push(p));
        (out, b.stats())
    }

    #[test]
    fn out_of_order_reports_come_out_in_time_order() {
        let input = [
            rep(1, 100, 60.0, 20.0),
            rep(1, 40, 60.0, 19.99),
            rep(1, 70, 60.0, 19.995),
            rep(1, 160, 60.0, 20.01),
        ];
        let (out, stats) = run(TrackConfig::default(), &input);
        let times: Vec<i64> = out.iter().map(|p| p.position.t - T0).collect();
        assert_eq!(times, [40, 70, 100, 160]);
        assert_eq!((stats.points, stats.segments, stats.late), (4, 1, 0));
    }

    #[test]
    fn duplicates_from_two_receivers_are_dropped() {
        let input = [
            rep(1, 100, 60.0, 20.0),
            rep(1, 100, 60.0, 20.0),
            rep(1, 101, 60.0, 20.0001),
            rep(1, 160, 60.0, 20.01),
        ];
        let (out, stats) = run(TrackConfig::default(), &input);
        assert_eq!((out.len(), stats.duplicates), (2, 2));
    }

    #[test]
    fn reports_older_than_the_window_are_late() {
        let c = TrackConfig {
            reorder_window_s: 60,
            ..TrackConfig::default()
        };
        let input = [
            rep(1, 1000, 60.0, 20.0),
            rep(2, 2000, 55.0, 12.0),
            rep(1, 900, 60.0, 20.0),
        ];
        let (out, stats) = run(c, &input);
        assert_eq!((out.len(), stats.late), (2, 1));
    }

    /// A vessel steaming east at 10 kn, a report a minute from `from`.
    fn steaming(mmsi: u32, from: i64, n: usize) -> Vec<Position> {
        (0..n as i64)
            .map(|i| rep(mmsi, from + 60 * i, 58.0, 20.0 + 0.0031 * i as f64))
            .collect()
    }

    #[test]
    fn one_report_from_a_wrong_clock_does_not_make_the_rest_late() {
        let mut input = steaming(1, 0, 10);
        // A year ahead, as from a receiver whose clock is wrong.
        input.push(rep(2, 365 * 86_400, 55.0, 12.0));
        input.extend(steaming(1, 600, 10));
        let (out, stats) = run(TrackConfig::default(), &input);
        assert_eq!((out.len(), stats.late, stats.clock_errors), (20, 0, 1));
        assert!(out.iter().all(|p| p.position.mmsi == 1));
    }

    #[test]
    fn a_wrong_first_report_does_not_set_the_clock() {
        let mut input = vec![rep(2, 365 * 86_400, 55.0, 12.0)];
        input.extend(steaming(1, 0, 10));
        let (out, stats) = run(TrackConfig::default(), &input);
        assert_eq!((out.len(), stats.late, stats.clock_errors), (10, 0, 1));
    }

    #[test]
    fn a_real_jump_of_the_clock_loses_nothing() {
        // Two files a few days apart, analysed in one run.
        let mut input = steaming(1, 0, 10);
        input.extend(steaming(1, 3 * 86_400, 10));
        let (out, stats) = run(TrackConfig::default(), &input);
        assert_eq!((out.len(), stats.late, stats.clock_errors), (20, 0, 0));
        assert!(out.windows(2).all(|w| w[0].position.t <= w[1].position.t));
        // So do reports held at the end of the input, too few to confirm a jump.
        let mut input = steaming(1, 0, 10);
        input.extend(steaming(1, 3 * 86_400, 2));
        let (out, stats) = run(TrackConfig::default(), &input);
        assert_eq!((out.len(), stats.clock_errors), (12, 0));
    }

    #[test]
    fn two_ships_sharing_an_mmsi_get_two_segments() {
        // One off Gotland, one off Skagen, reporting alternately every minute.
        let mut input = Vec::new();
        for k in 0..60 {
            let t = 1000 + 60 * k;
            input.push(rep(7, t, 57.0 + 0.003 * k as f64, 18.5));
            input.push(rep(7, t + 30, 57.8, 10.7 - 0.003 * k as f64));
        }
        let (out, stats) = run(TrackConfig::default(), &input);
        assert_eq!(stats.segments, 2);
        for p in &out {
            let east = p.position.pos.lon > 15.0;
            let first = out
                .iter()
                .find(|q| (q.position.pos.lon > 15.0) == east)
                .map(|q| q.segment);
            assert_eq!(Some(p.segment), first);
        }
    }

    #[test]
    fn a_jump_opens_a_segment_and_the_track_continues() {
        let mut input: Vec<Position> = (0..30)
            .map(|k| rep(3, 60 * k, 40.0, 20.0 + 0.002 * k as f64))
            .collect();
        input[15] = rep(3, 60 * 15, 45.0, 30.0);
        let (out, _) = run(TrackConfig::default(), &input);
        let main = out[0].segment;
        assert!(out.iter().filter(|p| p.segment == main).count() == 29);
        assert_ne!(out[15].segment, main);
    }

    #[test]
    fn unavailable_positions_and_impossible_times_are_dropped() {
        let mut before_ais = rep(1, 30, 60.0, 20.0);
        before_ais.t = MIN_TIME - 1;
        let mut beyond = rep(1, 40, 60.0, 20.0);
        beyond.t = MAX_TIME + 1;
        let (out, stats) = run(
            TrackConfig::default(),
            &[
                rep(1, 10, 91.0, 181.0),
                rep(1, 20, 0.0, 0.0),
                before_ais,
                beyond,
            ],
        );
        assert!(out.is_empty());
        assert_eq!(stats.invalid, 4);
    }

    #[test]
    fn a_report_heard_again_late_through_another_station_is_a_stale_relay() {
        // A drifting tanker reporting every 3 minutes; at 17 minutes a station relays the
        // report of minute 0 again, stamped with its late arrival: the content (and the
        // report's own UTC second) is the old one, the receive time's second 20 s later.
        let drift = |k: i64| rep(4, 180 * k + 5, 55.7 + 1e-5 * k as f64, 12.6);
        let mut input: Vec<Position> = (0..10).map(drift).collect();
        for r in &mut input {
            r.second = Some(r.t.rem_euclid(60) as u8);
        }
        let mut relay = input[0];
        relay.t = T0 + 17 * 60 + 25;
        input.insert(6, relay);
        let (out, stats) = run(TrackConfig::default(), &input);
        assert_eq!((out.len(), stats.stale_relays), (10, 1));
        assert!(
            out.iter().all(|p| p.segment == out[0].segment),
            "no jump back"
        );
        // An anchored ship whose fix repeats exactly, each report fresh: nothing is stale.
        let mut anchored: Vec<Position> =
            (0..10).map(|k| rep(5, 180 * k + 5, 55.7, 12.6)).collect();
        for r in &mut anchored {
            r.second = Some(r.t.rem_euclid(60) as u8);
        }
        let (out, stats) = run(TrackConfig::default(), &anchored);
        assert_eq!((out.len(), stats.stale_relays), (10, 0));
    }

    #[test]
    fn a_late_relay_of_a_ship_reporting_every_few_seconds_is_stale_by_where_it_lies() {
        // 2.5 kn, a report every 10 s for 40 minutes: a relay of minute 3 arriving at minute
        // 20 lies 1.3 km behind the ship, its content long gone from the ring.
        let at = |k: i64| {
            let mut r = rep(
                6,
                10 * k,
                55.7 + 2.5 * 1852.0 / 3600.0 * 10.0 * k as f64 / 111_195.0,
                12.6,
            );
            r.second = Some(r.t.rem_euclid(60) as u8);
            r
        };
        let mut input: Vec<Position> = (0..240).map(at).collect();
        let mut relays = 0;
        for k in [120, 150, 180] {
            let mut relay = at(k - 102);
            relay.t = T0 + 10 * k + 7;
            let pos = input.partition_point(|p| p.t <= relay.t);
            input.insert(pos, relay);
            relays += 1;
        }
        let (out, stats) = run(TrackConfig::default(), &input);
        assert_eq!((out.len(), stats.stale_relays), (240, relays));
        assert!(out.iter().all(|p| p.segment == out[0].segment));
        // A receiver clock 20 s off, its reports in place on the track: all kept.
        let skewed: Vec<Position> = (0..240)
            .map(|k| {
                let mut r = at(k);
                r.second = Some((r.t + 20).rem_euclid(60) as u8);
                r
            })
            .collect();
        let (out, stats) = run(TrackConfig::default(), &skewed);
        assert_eq!((out.len(), stats.stale_relays), (240, 0));
    }
}
