//! Decoded AIS → tracks and identities → every detector → [`Event`]s.
//!
//! One [`Pipeline`] serves a file of a month and a live feed alike: it keys all state by
//! vessel, runs on event time (the receive time of each message) behind the track builder's
//! watermark, and emits each event once the watermark has passed the instants its evidence
//! needs (e.g. the draught a crew enters some hours after a transfer).

use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;
use serde_json::{json, Value};
use shadowfleet_decode::{Decoded, DecoderConfig};
use shadowfleet_geo::{Land, LatLon, METRES_PER_NM};
use shadowfleet_identities::{
    Identity, IdentityChange, IdentityConfig, IdentityOutput, IdentityTracker, StaticReport,
};
use shadowfleet_places::{Mids, PlaceKind, Places};
use shadowfleet_tracks::{report_of, Report, TrackBuilder, TrackConfig, TrackPoint, TrackStats};

use crate::encounters::{Encounter, EncounterConfig, EncounterDetector};
use crate::event::{evidence, round2, round6, Event, EventKind};
use crate::gaps::{Gap, GapConfig, GapDetector};
use crate::loitering::{Loitering, LoiteringConfig, LoiteringDetector};
use crate::port_calls::{PortCall, PortCallConfig, PortCallDetector};
use crate::spoofing::{SpoofOutput, Spoofing, SpoofingConfig, SpoofingDetector};

/// How findings are enriched before they become events.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrichConfig {
    /// How long after an event the draught the crew enters is still attributed to it, hours.
    pub draught_wait_hours: f64,
    /// Smallest draught change that counts as loading or discharging, metres.
    pub draught_change_m: f64,
    /// A gap or loitering is "near" a terminal or STS area within this distance, nautical
    /// miles.
    pub near_place_nm: f64,
    /// Spoofing findings of one MMSI this close in time are one event, hours.
    pub spoofing_merge_hours: f64,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        EnrichConfig {
            draught_wait_hours: 6.0,
            draught_change_m: 0.5,
            near_place_nm: 20.0,
            spoofing_merge_hours: 1.0,
        }
    }
}

/// Every threshold of every stage; `Default` gives the published defaults. Deserialises from
/// TOML with one table per stage (`[tracks]`, `[gaps]`, `[encounters]`, ...), every key
/// optional.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Track building.
    pub tracks: TrackConfig,
    /// Identity timelines.
    pub identity: IdentityConfig,
    /// AIS gaps.
    pub gaps: GapConfig,
    /// Loitering.
    pub loitering: LoiteringConfig,
    /// Port calls.
    pub port_calls: PortCallConfig,
    /// Encounters.
    pub encounters: EncounterConfig,
    /// Spoofing.
    pub spoofing: SpoofingConfig,
    /// Enrichment.
    pub enrich: EnrichConfig,
}

impl DetectorConfig {
    /// The decoder settings detection runs with: the same transmission heard by several
    /// receivers within the track stage's duplicate window
    /// ([`TrackConfig::duplicate_window_s`]) is dropped by the decoder, before its fields are
    /// decoded — the track builder would drop it as a duplicate anyway (same MMSI, same
    /// position, within the window), so the events are the same, only found sooner.
    pub fn decoder_config(&self) -> DecoderConfig {
        let ms = self
            .tracks
            .duplicate_window_s
            .clamp(0, i64::from(u32::MAX) / 1000)
            * 1000;
        DecoderConfig {
            drop_repeats_within_ms: u32::try_from(ms).ok(),
            ..DecoderConfig::default()
        }
    }
}

/// What the pipeline produces.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineOutput {
    /// An event.
    Event(Event),
    /// A closed identity period for the timeline.
    Identity(Identity),
    /// A point of a track as the detectors see it (after de-duplication, reordering and
    /// segmentation), for the position store.
    Position(TrackPoint),
}

/// Counters.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct PipelineStats {
    /// Messages seen.
    pub messages: u64,
    /// Position reports.
    pub positions: u64,
    /// Static reports.
    pub statics: u64,
    /// Track counters.
    pub tracks: TrackStats,
    /// Events emitted, by [`EventKind::ALL`] order.
    pub events: [u64; 6],
}

/// What the track stage hands the detection stage, in the order the detection stage takes
/// it: static reports as they arrive, track points as the watermark releases them, and the
/// watermark itself every few minutes of event time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// A static report.
    Static(StaticReport),
    /// A track point.
    Point(TrackPoint),
    /// The watermark moved to this time (unix seconds).
    Advance(i64),
}

/// What the track stage takes from a decoded message: its static report, its position
/// report, or both (a class B extended report carries both).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input {
    /// A static report.
    Static(StaticReport),
    /// A position report.
    Position(Report),
}

impl Input {
    /// The inputs a decoded message carries, static before position.
    pub fn of(d: &Decoded, out: &mut dyn FnMut(Input)) {
        if let Some(s) = StaticReport::of(d) {
            out(Input::Static(s));
        }
        if let Some(r) = report_of(d) {
            out(Input::Position(r));
        }
    }
}

/// Event time between two [`Step::Advance`]s, seconds.
const ADVANCE_EVERY_S: i64 = 600;

/// The first stage: decoded messages → static reports and track points ([`TrackBuilder`]),
/// keyed by vessel. [`crate::threaded`] runs it on a thread of its own.
pub struct TrackStage {
    tracks: TrackBuilder,
    last_advance: i64,
    messages: u64,
    positions: u64,
    statics: u64,
}

impl TrackStage {
    /// A track stage with `config`.
    pub fn new(config: TrackConfig) -> Self {
        TrackStage {
            tracks: TrackBuilder::new(config),
            last_advance: i64::MIN,
            messages: 0,
            positions: 0,
            statics: 0,
        }
    }

    /// Takes the next decoded message; hands on what the detection stage must take now.
    pub fn push(&mut self, d: &Decoded, out: &mut dyn FnMut(Step)) {
        self.messages += 1;
        Input::of(d, &mut |i| self.take(i, out));
    }

    /// Takes the next input picked out of a decoded message by [`Input::of`] (the messages
    /// themselves are then counted with [`Pipeline::count_messages`]).
    pub fn take(&mut self, input: Input, out: &mut dyn FnMut(Step)) {
        match input {
            Input::Static(s) => {
                self.statics += 1;
                out(Step::Static(s));
            }
            Input::Position(r) => {
                self.positions += 1;
                self.tracks.push(r, &mut |p| out(Step::Point(p)));
                let wm = self.tracks.watermark();
                if wm >= self.last_advance.saturating_add(ADVANCE_EVERY_S) {
                    self.last_advance = wm;
                    out(Step::Advance(wm));
                }
            }
        }
    }

    /// Releases every point still held (end of input).
    pub fn finish(&mut self, out: &mut dyn FnMut(Step)) {
        self.tracks.finish(&mut |p| out(Step::Point(p)));
    }

    fn stats(&self) -> PipelineStats {
        PipelineStats {
            messages: self.messages,
            positions: self.positions,
            statics: self.statics,
            tracks: self.tracks.stats(),
            events: [0; 6],
        }
    }
}

enum Deferred {
    Encounter(Encounter),
    PortCall(PortCall),
    Loitering(Loitering),
}

/// The whole detection pipeline: [`TrackStage`] then [`DetectStage`]. Feed decoded messages
/// in arrival order with [`Pipeline::push`], then call [`Pipeline::finish`].
pub struct Pipeline<'a> {
    track: TrackStage,
    detect: DetectStage<'a>,
}

impl<'a> Pipeline<'a> {
    /// A pipeline with `config` over the given reference data.
    pub fn new(config: DetectorConfig, land: &'a Land, places: &'a Places, mids: &'a Mids) -> Self {
        Pipeline {
            track: TrackStage::new(config.tracks),
            detect: DetectStage::new(config, land, places, mids),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> PipelineStats {
        let mut s = self.track.stats();
        s.events = self.detect.events;
        s
    }

    /// Takes the next decoded message.
    pub fn push(&mut self, d: &Decoded, out: &mut dyn FnMut(PipelineOutput)) {
        let detect = &mut self.detect;
        self.track.push(d, &mut |step| detect.step(&step, out));
    }

    /// Flushes every stage; emits what is still open.
    pub fn finish(&mut self, out: &mut dyn FnMut(PipelineOutput)) {
        let detect = &mut self.detect;
        self.track.finish(&mut |step| detect.step(&step, out));
        self.detect.finish(out);
    }

    /// Counts messages whose inputs were handed to the track stage with [`TrackStage::take`].
    pub fn count_messages(&mut self, n: u64) {
        self.track.messages += n;
    }

    /// The two stages apart, to run them on two threads.
    pub fn stages(&mut self) -> (&mut TrackStage, &mut DetectStage<'a>) {
        (&mut self.track, &mut self.detect)
    }
}

/// The second stage: identities, every detector and the enrichment of their findings into
/// [`Event`]s, over the [`Step`]s of the track stage.
pub struct DetectStage<'a> {
    config: DetectorConfig,
    places: &'a Places,
    identities: IdentityTracker<'a>,
    gaps: GapDetector<'a>,
    loitering: LoiteringDetector,
    port_calls: PortCallDetector<'a>,
    encounters: EncounterDetector,
    spoofing: SpoofingDetector<'a>,
    deferred: BTreeMap<(i64, u64), Deferred>,
    spoofs: FxHashMap<u32, Vec<Spoofing>>,
    seq: u64,
    /// Last position per vessel (the track builder's index), and the vessel of each MMSI.
    last_position: Vec<Option<(i64, LatLon)>>,
    vessel_of: FxHashMap<u32, u32>,
    recent_encounters: FxHashMap<u32, VecDeque<(i64, i64)>>,
    events: [u64; 6],
}

/// Encounters remembered per MMSI to tell a dark STS from a visible one.
const RECENT_ENCOUNTERS: usize = 8;

impl<'a> DetectStage<'a> {
    /// A detection stage with `config` over the given reference data.
    pub fn new(config: DetectorConfig, land: &'a Land, places: &'a Places, mids: &'a Mids) -> Self {
        DetectStage {
            config,
            places,
            identities: IdentityTracker::new(config.identity, mids),
            gaps: GapDetector::new(config.gaps, land),
            loitering: LoiteringDetector::new(config.loitering),
            port_calls: PortCallDetector::new(config.port_calls, places),
            encounters: EncounterDetector::new(config.encounters),
            spoofing: SpoofingDetector::new(config.spoofing, land),
            deferred: BTreeMap::new(),
            spoofs: FxHashMap::default(),
            seq: 0,
            last_position: Vec::new(),
            vessel_of: FxHashMap::default(),
            recent_encounters: FxHashMap::default(),
            events: [0; 6],
        }
    }

    /// Takes the next step of the track stage.
    pub fn step(&mut self, step: &Step, out: &mut dyn FnMut(PipelineOutput)) {
        match step {
            Step::Static(s) => {
                let mut changes = Vec::new();
                self.identities.push(s, &mut |o| changes.push(o));
                for o in changes {
                    self.identity_output(o, out);
                }
            }
            Step::Point(p) => self.point(p, out),
            Step::Advance(wm) => self.advance(*wm, out),
        }
    }

    /// Flushes every detector (after the track stage's last points); emits what is still
    /// open.
    pub fn finish(&mut self, out: &mut dyn FnMut(PipelineOutput)) {
        let mut found = Vec::new();
        self.loitering
            .finish(&mut |l| found.push(Deferred::Loitering(l)));
        self.port_calls
            .finish(&mut |c| found.push(Deferred::PortCall(c)));
        let ids = &self.identities;
        self.encounters
            .finish(&|m| ids.is_tanker(m) != Some(false), &mut |e| {
                found.push(Deferred::Encounter(e))
            });
        for f in found {
            self.defer(f, i64::MIN);
        }
        let mut spoofs = Vec::new();
        self.spoofing.finish(&mut |s| spoofs.push(s));
        for s in spoofs {
            self.spoof_output(s, out);
        }
        let mut changes = Vec::new();
        self.identities.finish(&mut |o| changes.push(o));
        for o in changes {
            self.identity_output(o, out);
        }
        self.flush_deferred(i64::MAX, out);
        self.flush_spoofs(i64::MAX, out);
    }

    fn point(&mut self, p: &TrackPoint, out: &mut dyn FnMut(PipelineOutput)) {
        out(PipelineOutput::Position(*p));
        let r = p.report;
        let last = crate::slots::per_vessel(&mut self.last_position, p.vessel, || None);
        if last.is_none() {
            self.vessel_of.insert(r.mmsi, p.vessel);
        }
        *last = Some((r.t, r.pos));
        let mut gaps = Vec::new();
        self.gaps.push(p, &mut |g| gaps.push(g));
        for g in gaps {
            let e = self.gap_event(&g);
            self.emit(e, out);
        }
        let mut found = Vec::new();
        self.loitering
            .push(p, &mut |l| found.push(Deferred::Loitering(l)));
        self.port_calls
            .push(p, &mut |c| found.push(Deferred::PortCall(c)));
        for f in found {
            self.defer(f, r.t);
        }
        self.encounters.push(p);
        let mut spoofs = Vec::new();
        self.spoofing.push(p, &mut |s| spoofs.push(s));
        for s in spoofs {
            self.spoof_output(s, out);
        }
    }

    fn advance(&mut self, wm: i64, out: &mut dyn FnMut(PipelineOutput)) {
        let mut changes = Vec::new();
        self.identities.advance(wm, &mut |o| changes.push(o));
        for o in changes {
            self.identity_output(o, out);
        }
        let mut found = Vec::new();
        let ids = &self.identities;
        self.encounters
            .advance(wm, &|m| ids.is_tanker(m) != Some(false), &mut |e| {
                found.push(Deferred::Encounter(e))
            });
        for f in found {
            self.defer(f, wm);
        }
        let mut spoofs = Vec::new();
        self.spoofing.advance(wm, &mut |s| spoofs.push(s));
        for s in spoofs {
            self.spoof_output(s, out);
        }
        self.flush_deferred(wm, out);
        self.flush_spoofs(wm, out);
    }

    fn hours(h: f64) -> i64 {
        (h * 3600.0) as i64
    }

    fn defer(&mut self, f: Deferred, _now: i64) {
        let e = &self.config.enrich;
        let wait = Self::hours(e.draught_wait_hours);
        let due = match &f {
            Deferred::Encounter(x) => {
                // Outside known STS areas, meetings near ports are port traffic (GFW).
                // Inside them, only berths (within the port-call exit radius) are port traffic.
                let in_area = self.sts_area_at(x.centre).is_some();
                let keep_off_km = if in_area {
                    self.config.port_calls.exit_km
                } else {
                    self.config.encounters.min_port_distance_km
                };
                let near_port = self
                    .places
                    .nearest(x.centre, keep_off_km * 1000.0, |k| {
                        matches!(k, PlaceKind::Terminal | PlaceKind::Port)
                    })
                    .is_some();
                if near_port {
                    return;
                }
                x.end + wait
            }
            Deferred::PortCall(c) => c.exit.map_or(c.last.t, |x| x.t) + wait,
            Deferred::Loitering(l) => {
                let in_port = self
                    .places
                    .nearest(
                        l.centre,
                        self.config.loitering.port_radius_km * 1000.0,
                        |k| matches!(k, PlaceKind::Terminal | PlaceKind::Port),
                    )
                    .is_some();
                if in_port {
                    return;
                }
                // After the encounters of the same hours are known.
                l.last.t
                    + wait
                    + Self::hours(self.config.encounters.merge_hours)
                    + 2 * Self::hours(self.config.encounters.max_interpolation_hours)
                    + 3600
            }
        };
        self.seq += 1;
        self.deferred.insert((due, self.seq), f);
    }

    fn flush_deferred(&mut self, wm: i64, out: &mut dyn FnMut(PipelineOutput)) {
        while let Some(entry) = self.deferred.first_entry() {
            if entry.key().0 > wm {
                break;
            }
            let f = entry.remove();
            let e = match f {
                Deferred::Encounter(x) => self.encounter_event(&x),
                Deferred::PortCall(c) => self.port_call_event(&c),
                Deferred::Loitering(l) => self.loitering_event(&l),
            };
            self.emit(e, out);
        }
    }

    fn emit(&mut self, e: Event, out: &mut dyn FnMut(PipelineOutput)) {
        if let Some(k) = EventKind::ALL.iter().position(|&k| k == e.kind) {
            self.events[k] += 1;
        }
        out(PipelineOutput::Event(e));
    }

    fn imo(&self, mmsi: u32) -> Option<u32> {
        self.identities.current(mmsi).and_then(|i| i.imo)
    }

    fn sts_area_at(&self, p: LatLon) -> Option<usize> {
        let mut found = None;
        self.places.near(p, 0.0, |i, place, _| {
            if place.kind == PlaceKind::StsArea {
                found = Some(i);
            }
        });
        found
    }

    /// The terminal or STS area nearest to `p` within the "near" distance.
    fn near_place(&self, p: LatLon) -> Option<usize> {
        self.places
            .nearest(p, self.config.enrich.near_place_nm * METRES_PER_NM, |k| {
                matches!(k, PlaceKind::Terminal | PlaceKind::StsArea)
            })
            .map(|x| x.0)
    }

    fn place_json(&self, i: Option<usize>) -> Value {
        match i.and_then(|i| self.places.get(i)) {
            Some(p) => {
                json!({"id": p.id, "kind": p.kind.as_str(), "name": p.name, "country": p.country})
            }
            None => Value::Null,
        }
    }

    /// Draught at `from` (last reported at or before it, else the first after) and at `to`.
    fn draughts(&self, mmsi: u32, from: i64, to: i64) -> (Option<f64>, Option<f64>) {
        // AIS carries draught in decimetres.
        let dm = |d: f32| (f64::from(d) * 10.0).round() / 10.0;
        (
            self.identities.draught_at(mmsi, from).map(dm),
            self.identities.draught_at(mmsi, to).map(dm),
        )
    }

    fn gap_event(&self, g: &Gap) -> Event {
        let near = self
            .near_place(g.off.pos)
            .or_else(|| self.near_place(g.on.pos));
        Event {
            kind: EventKind::Gap,
            mmsi: g.mmsi,
            imo: self.imo(g.mmsi),
            other_mmsi: None,
            start: g.off.t,
            end: g.on.t,
            lat: g.off.pos.lat,
            lon: g.off.pos.lon,
            details: json!({
                "hours": round2(g.hours),
                "distance_nm": round2(g.distance_nm),
                "implied_speed_kn": round2(g.implied_speed_kn),
                "off_shore_nm": round2(g.off_shore_nm),
                "intentional": g.intentional,
                "likely_dark": g.likely_dark,
                "unheard_probability": g.unheard_probability,
                "reception_off": g.reception.0.map(round2),
                "reception_on": g.reception.1.map(round2),
                "near": self.place_json(near),
                "on_lat": round6(g.on.pos.lat),
                "on_lon": round6(g.on.pos.lon),
                "evidence": [
                    evidence(g.mmsi, g.off.t, g.off.pos.lat, g.off.pos.lon),
                    evidence(g.mmsi, g.on.t, g.on.pos.lat, g.on.pos.lon),
                ],
            }),
        }
    }

    fn encounter_event(&mut self, x: &Encounter) -> Event {
        let wait = Self::hours(self.config.enrich.draught_wait_hours);
        let min = self.config.enrich.draught_change_m - 1e-9;
        let (a0, a1) = self.draughts(x.a, x.start, x.end + wait);
        let (b0, b1) = self.draughts(x.b, x.start, x.end + wait);
        let change = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        let (da, db) = (change(a0, a1), change(b0, b1));
        let giver = match (da, db) {
            (Some(da), Some(db)) if da <= -min && db >= min => Some(x.a),
            (Some(da), Some(db)) if db <= -min && da >= min => Some(x.b),
            _ => None,
        };
        let (mmsi, other) = if giver == Some(x.b) {
            (x.b, x.a)
        } else {
            (x.a, x.b)
        };
        for m in [x.a, x.b] {
            let v = self.recent_encounters.entry(m).or_default();
            if v.len() >= RECENT_ENCOUNTERS {
                v.pop_front();
            }
            v.push_back((x.start, x.end));
        }
        let area = self.sts_area_at(x.centre);
        let draught = |m: u32, before: Option<f64>, after: Option<f64>| json!({"mmsi": m, "before_m": before, "after_m": after});
        Event {
            kind: EventKind::Encounter,
            mmsi,
            imo: self.imo(mmsi),
            other_mmsi: Some(other),
            start: x.start,
            end: x.end,
            lat: x.centre.lat,
            lon: x.centre.lon,
            details: json!({
                "hours": round2((x.end - x.start) as f64 / 3600.0),
                "median_speed_kn": round2(x.median_speed_kn),
                "min_distance_m": x.min_distance_m.round(),
                "median_distance_m": x.median_distance_m.round(),
                "samples": x.samples,
                "sts_area": self.place_json(area),
                "sts_confirmed": giver.is_some(),
                "giver_mmsi": giver,
                "draughts": [draught(x.a, a0, a1), draught(x.b, b0, b1)],
                "other_imo": self.imo(other),
            }),
        }
    }

    fn port_call_event(&self, c: &PortCall) -> Event {
        let wait = Self::hours(self.config.enrich.draught_wait_hours);
        let end = c.exit.map_or(c.last.t, |x| x.t);
        let (before, after) = self.draughts(c.mmsi, c.first.t, end + wait);
        let min = self.config.enrich.draught_change_m;
        let operation = match (before, after) {
            (Some(b), Some(a)) if a - b >= min => "load",
            (Some(b), Some(a)) if b - a >= min => "discharge",
            (Some(_), Some(_)) => "none",
            _ => "unknown",
        };
        let place = self.places.get(c.place);
        let pos = place.map_or(c.first.pos, |p| p.position);
        let mut ev = vec![evidence(
            c.mmsi,
            c.first.t,
            c.first.pos.lat,
            c.first.pos.lon,
        )];
        if let Some(x) = c.exit {
            ev.push(evidence(c.mmsi, x.t, x.pos.lat, x.pos.lon));
        }
        Event {
            kind: EventKind::PortCall,
            mmsi: c.mmsi,
            imo: self.imo(c.mmsi),
            other_mmsi: None,
            start: c.first.t,
            end,
            lat: pos.lat,
            lon: pos.lon,
            details: json!({
                "place": self.place_json(Some(c.place)),
                "locode": place.map(|p| p.locode.as_str()),
                "confidence": c.confidence,
                "entry": c.entered,
                "exit": c.exit.is_some(),
                "stop": c.stopped,
                "gap": c.gap,
                "draught_before_m": before,
                "draught_after_m": after,
                "operation": operation,
                "evidence": ev,
            }),
        }
    }

    fn loitering_event(&self, l: &Loitering) -> Event {
        let wait = Self::hours(self.config.enrich.draught_wait_hours);
        let area = self.sts_area_at(l.centre);
        let (before, after) = self.draughts(l.mmsi, l.first.t, l.last.t + wait);
        let change = match (before, after) {
            (Some(b), Some(a)) => a - b,
            _ => 0.0,
        };
        let overlapping = self
            .recent_encounters
            .get(&l.mmsi)
            .is_some_and(|v| v.iter().any(|&(s, e)| s <= l.last.t && e >= l.first.t));
        let possible_dark_sts =
            area.is_some() && !overlapping && change.abs() >= self.config.enrich.draught_change_m;
        Event {
            kind: EventKind::Loitering,
            mmsi: l.mmsi,
            imo: self.imo(l.mmsi),
            other_mmsi: None,
            start: l.first.t,
            end: l.last.t,
            lat: l.centre.lat,
            lon: l.centre.lon,
            details: json!({
                "hours": round2((l.last.t - l.first.t) as f64 / 3600.0),
                "mean_speed_kn": round2(l.mean_speed_kn),
                "sts_area": self.place_json(area),
                "near": self.place_json(self.near_place(l.centre)),
                "draught_before_m": before,
                "draught_after_m": after,
                "possible_dark_sts": possible_dark_sts,
                "evidence": [
                    evidence(l.mmsi, l.first.t, l.first.pos.lat, l.first.pos.lon),
                    evidence(l.mmsi, l.last.t, l.last.pos.lat, l.last.pos.lon),
                ],
            }),
        }
    }

    fn spoof_output(&mut self, s: SpoofOutput, out: &mut dyn FnMut(PipelineOutput)) {
        match s {
            SpoofOutput::Spoofing(sp) => self.spoofs.entry(sp.mmsi).or_default().push(sp),
            SpoofOutput::TwoPlaces { mmsi, a, b } => {
                let km = shadowfleet_geo::haversine_m(a.pos, b.pos) / 1000.0;
                let why = format!(
                    "positions {km:.0} km apart {} s apart on one MMSI, back and forth",
                    (b.t - a.t).abs()
                );
                let mut changes = Vec::new();
                self.identities
                    .two_places(mmsi, a.t.min(b.t), why, &mut |o| changes.push(o));
                for o in changes {
                    self.identity_output(o, out);
                }
            }
        }
    }

    /// Emits spoofing episodes that ended before `wm` minus the merge window, one event per
    /// group of overlapping episodes of an MMSI.
    fn flush_spoofs(&mut self, wm: i64, out: &mut dyn FnMut(PipelineOutput)) {
        let merge = Self::hours(self.config.enrich.spoofing_merge_hours);
        let ready: Vec<u32> = self
            .spoofs
            .iter()
            .filter(|(_, v)| v.iter().all(|s| s.last.t.saturating_add(merge) < wm))
            .map(|(m, _)| *m)
            .collect();
        let mut ready = ready;
        ready.sort_unstable();
        for m in ready {
            let Some(mut v) = self.spoofs.remove(&m) else {
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
                let e = self.spoofing_event(&g);
                self.emit(e, out);
            }
        }
    }

    fn spoofing_event(&self, g: &[Spoofing]) -> Event {
        let first = g
            .iter()
            .map(|s| s.first)
            .min_by_key(|r| r.t)
            .unwrap_or(g[0].first);
        let last = g
            .iter()
            .map(|s| s.last)
            .max_by_key(|r| r.t)
            .unwrap_or(g[0].last);
        let mut methods: Vec<&str> = g.iter().map(|s| s.method.as_str()).collect();
        methods.sort_unstable();
        methods.dedup();
        let findings: Vec<Value> = g
            .iter()
            .map(|s| {
                json!({
                    "method": s.method.as_str(),
                    "start": s.first.t, "end": s.last.t,
                    "size_km": round2(s.size_km),
                    "before": s.before.map(|b| evidence(b.mmsi, b.t, b.pos.lat, b.pos.lon)),
                })
            })
            .collect();
        Event {
            kind: EventKind::Spoofing,
            mmsi: first.mmsi,
            imo: self.imo(first.mmsi),
            other_mmsi: None,
            start: first.t,
            end: last.t,
            lat: first.pos.lat,
            lon: first.pos.lon,
            details: json!({
                "method": methods.join("+"),
                "findings": findings,
                "evidence": [
                    evidence(first.mmsi, first.t, first.pos.lat, first.pos.lon),
                    evidence(last.mmsi, last.t, last.pos.lat, last.pos.lon),
                ],
            }),
        }
    }

    fn identity_output(&mut self, o: IdentityOutput, out: &mut dyn FnMut(PipelineOutput)) {
        match o {
            IdentityOutput::Period(p) => out(PipelineOutput::Identity(p)),
            IdentityOutput::Change(c) => {
                let e = self.identity_event(&c);
                self.emit(e, out);
            }
        }
    }

    fn identity_event(&self, c: &IdentityChange) -> Event {
        let ident = |i: &Identity| json!({"mmsi": i.mmsi, "imo": i.imo, "name": i.name, "callsign": i.callsign, "flag": i.flag, "ship_type": i.ship_type});
        let last = |m: u32| {
            let v = *self.vessel_of.get(&m)?;
            self.last_position.get(v as usize).copied().flatten()
        };
        let pos = last(c.mmsi)
            .or_else(|| c.other_mmsi.and_then(last))
            .map(|x| x.1);
        Event {
            kind: EventKind::IdentityChange,
            mmsi: c.mmsi,
            imo: c.to.imo,
            other_mmsi: c.other_mmsi,
            start: c.t,
            end: c.t,
            lat: pos.map_or(f64::NAN, |p| p.lat),
            lon: pos.map_or(f64::NAN, |p| p.lon),
            details: json!({
                "change": c.kind.as_str(),
                "from": c.from.as_ref().map(ident),
                "to": ident(&c.to),
                "evidence": c.evidence,
            }),
        }
    }
}
