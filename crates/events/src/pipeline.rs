//! Decoded AIS → tracks and identities → every detector → [`Event`]s.
//!
//! One [`Pipeline`] serves a file of a month and a live feed alike: it keys all state by
//! vessel, runs on event time (the receive time of each message) behind the track builder's
//! watermark, and emits each event once the watermark has passed the instants its evidence
//! needs (e.g. the draught a crew enters some hours after a transfer).
//!
//! Two stages: the [`TrackStage`] (static and position reports → the track builder's points
//! and the watermark) and the [`DetectStage`] (the identity stage, then every registered
//! [`Detector`] in turn on each step). The identity stage is not a detector: every detector
//! reads it (IMO, draughts, ship type) through its [`Context`], and it emits the identity
//! changes itself, including those the spoofing detector finds evidence for (one MMSI in two
//! places).

use rustc_hash::FxHashMap;

use shadowfleet_decode::{Decoded, ReportClass};
use shadowfleet_geo::LatLon;
use shadowfleet_identities::{
    IdentityChange, IdentityOutput, IdentityPeriod, IdentityTracker, StaticReport,
};
use shadowfleet_records::state::{self, Frames, StateError};
use shadowfleet_records::{
    ChangeKind, Confidence, Event, EventDetails, EventKind, IdentityChangeDetails, IdentityRef,
    StationId,
};
use shadowfleet_tracks::{
    position_from, Position, TrackBuilder, TrackConfig, TrackPoint, TrackStats,
};

use crate::detector::{
    Context, Detector, DetectorError, InterferenceAreas, RecentEncounters, Reference, TwoPlaces,
};
use crate::detectors::{build, DetectorConfig};

/// What the pipeline produces.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineOutput {
    /// An event (boxed: events are few, positions many, and this enum moves per point).
    Event(Box<Event>),
    /// A closed identity period for the timeline.
    Identity(IdentityPeriod),
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
    /// Position reports without a receive time (left out: they cannot be placed in time).
    pub untimed_positions: u64,
    /// Static reports without a receive time (left out).
    pub untimed_statics: u64,
    /// Positions of base stations, aids to navigation and SAR aircraft (not tracked).
    pub not_vessels: u64,
    /// Track counters.
    pub tracks: TrackStats,
    /// Events emitted, by [`EventKind::ALL`] order.
    pub events: [u64; EventKind::COUNT],
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
    Position(Position),
    /// A report without a receive time: a position report when `position`, else a static
    /// report. Counted and left out.
    Untimed {
        /// A position report (else a static one).
        position: bool,
    },
    /// The position of a base station, an aid to navigation or a SAR aircraft: not a
    /// vessel's, so not tracked (counted).
    NotVessel,
}

impl Input {
    /// The inputs a decoded message carries, static before position.
    pub fn of(d: &Decoded, out: &mut dyn FnMut(Input)) {
        if d.meta.received.is_none() {
            if d.message.static_data().is_some() {
                out(Input::Untimed { position: false });
            }
            if d.message.position().is_some() {
                out(Input::Untimed { position: true });
            }
            return;
        }
        if let Some(s) = StaticReport::of(d) {
            out(Input::Static(s));
        }
        let Some(p) = d.message.position() else {
            return;
        };
        if matches!(
            p.class,
            ReportClass::BaseStation | ReportClass::AidToNavigation | ReportClass::SarAircraft
        ) {
            out(Input::NotVessel);
        } else if let Some(r) = position_from(d, &p) {
            out(Input::Position(r));
        }
    }
}

/// Event time between two [`Step::Advance`]s, seconds.
const ADVANCE_EVERY_S: i64 = 600;

/// The first stage: decoded messages → static reports and track points ([`TrackBuilder`]),
/// keyed by vessel. `shadowfleet_run::threaded` runs it on a thread of its own.
pub struct TrackStage {
    tracks: TrackBuilder,
    last_advance: i64,
    messages: u64,
    positions: u64,
    statics: u64,
    untimed_positions: u64,
    untimed_statics: u64,
    not_vessels: u64,
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
            untimed_positions: 0,
            untimed_statics: 0,
            not_vessels: 0,
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
            Input::Untimed { position: true } => self.untimed_positions += 1,
            Input::Untimed { position: false } => self.untimed_statics += 1,
            Input::NotVessel => self.not_vessels += 1,
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

    /// A hint that `input` comes soon: loads its vessel's track state into the cache
    /// ([`TrackBuilder::prefetch`]). Changes nothing but timing.
    pub fn prefetch(&self, input: &Input) {
        if let Input::Position(r) = input {
            self.tracks.prefetch(r.mmsi);
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
            untimed_positions: self.untimed_positions,
            untimed_statics: self.untimed_statics,
            not_vessels: self.not_vessels,
            tracks: self.tracks.stats(),
            events: [0; EventKind::COUNT],
        }
    }
}

/// The whole detection pipeline: [`TrackStage`] then [`DetectStage`]. Feed decoded messages
/// in arrival order with [`Pipeline::push`], then call [`Pipeline::finish`].
pub struct Pipeline {
    track: TrackStage,
    detect: DetectStage,
    stations: std::collections::BTreeMap<StationId, String>,
}

impl Pipeline {
    /// A pipeline with `config` over the given reference data.
    pub fn new(config: &DetectorConfig, reference: &Reference) -> Result<Self, DetectorError> {
        Pipeline::with_detectors(config, reference, crate::detectors::SECTIONS)
    }

    /// A pipeline running only the detectors of the configuration sections `only` (see
    /// [`DetectStage::with_detectors`]); the track and identity stages always run.
    pub fn with_detectors(
        config: &DetectorConfig,
        reference: &Reference,
        only: &[&str],
    ) -> Result<Self, DetectorError> {
        Ok(Pipeline {
            track: TrackStage::new(config.tracks),
            detect: DetectStage::with_detectors(config, reference, only)?,
            stations: Default::default(),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> PipelineStats {
        let mut s = self.track.stats();
        s.events = self.detect.events;
        s
    }

    /// The event-time watermark: reports received before it are final.
    pub fn watermark(&self) -> i64 {
        self.track.tracks.watermark()
    }

    /// Each MMSI's latest track point the detectors have seen: (MMSI, unix seconds, position).
    pub fn latest_positions(&self) -> impl Iterator<Item = (u32, i64, LatLon)> + '_ {
        let d = &self.detect;
        d.vessel_of.iter().filter_map(|(&mmsi, &v)| {
            d.last_position
                .get(v as usize)
                .copied()
                .flatten()
                .map(|(t, p)| (mmsi, t, p))
        })
    }

    /// The identity each MMSI broadcast last (periods still open included).
    pub fn current_identities(&self) -> impl Iterator<Item = &IdentityPeriod> + '_ {
        self.detect.identities.current_all()
    }

    /// The latest receive time accepted (`i64::MIN` before any).
    pub fn clock(&self) -> i64 {
        self.track.tracks.clock()
    }

    /// Moves event time on to `t` without a report (a quiet live feed): releases what the
    /// watermark passes and lets the detectors close what is due.
    pub fn advance_clock(&mut self, t: i64, out: &mut dyn FnMut(PipelineOutput)) {
        let detect = &mut self.detect;
        let track = &mut self.track;
        track
            .tracks
            .advance_clock(t, &mut |p| detect.step(&Step::Point(p), out));
        let wm = track.tracks.watermark();
        if wm > track.last_advance {
            track.last_advance = wm;
            detect.step(&Step::Advance(wm), out);
        }
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

    /// Records the names of receiving stations the positions refer to by id.
    pub fn note_stations(&mut self, stations: impl IntoIterator<Item = (StationId, String)>) {
        self.stations.extend(stations);
    }

    /// The receiving stations named so far.
    pub fn stations(&self) -> &std::collections::BTreeMap<StationId, String> {
        &self.stations
    }

    /// The working state of every stage, as bytes ([`shadowfleet_records::state`]): the
    /// track builder's buffers and open segments, the identity timelines, each detector's
    /// open segments, visits, meetings and findings waiting for evidence. Taken between
    /// inputs (not after [`Pipeline::finish`]), it lets [`Pipeline::load_state`] continue the
    /// same stream in another process: a later run over the next day's file then finds the
    /// same events as one run over both. Counters are not state (each run counts its own).
    ///
    /// `then_finish`: the caller finishes the pipeline next (the end of a run), which releases
    /// and stores the reports the track builder holds; the state then lists them so that the
    /// next run does not store them again. A checkpoint of a live run that goes on passes
    /// `false`.
    pub fn save_state(&self, then_finish: bool) -> Result<Vec<u8>, StateError> {
        let mut frames = Frames::new();
        let mut frame = |name: &str, f: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), StateError>| {
            let mut b = Vec::new();
            f(&mut b)?;
            frames.frames.push((name.to_owned(), b));
            Ok::<(), StateError>(())
        };
        frame("tracks", &mut |b| self.track.tracks.save_state(b))?;
        frame("track_stage", &mut |b| {
            state::save("track_stage", &self.track.last_advance, b)
        })?;
        frame("identities", &mut |b| self.detect.identities.save_state(b))?;
        let d = &self.detect;
        frame("detect", &mut |b| {
            state::save(
                "detect",
                &(
                    &d.recent,
                    &d.interference,
                    &d.last_position,
                    &d.first_seen,
                    &d.vessel_of,
                ),
                b,
            )
        })?;
        let held: Vec<HeldKey> = if then_finish {
            self.track.tracks.held().map(held_key).collect()
        } else {
            Vec::new()
        };
        frame("held", &mut |b| state::save("held", &held, b))?;
        for (section, detector) in d.sections.iter().zip(&d.detectors) {
            frame(section, &mut |b| detector.save_state(b))?;
        }
        frames.to_bytes()
    }

    /// Continues from a state written by [`Pipeline::save_state`] of a pipeline built from
    /// the same configuration. The reports that state held were released and stored at the
    /// end of its run: the detectors see them again here, the position output does not.
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<(), StateError> {
        let frames = Frames::from_bytes(bytes)?;
        self.track.tracks.load_state(frames.get("tracks")?)?;
        self.track.last_advance = state::load("track_stage", frames.get("track_stage")?)?;
        self.detect
            .identities
            .load_state(frames.get("identities")?)?;
        let d = &mut self.detect;
        (
            d.recent,
            d.interference,
            d.last_position,
            d.first_seen,
            d.vessel_of,
        ) = state::load("detect", frames.get("detect")?)?;
        let held: Vec<HeldKey> = state::load("held", frames.get("held")?)?;
        d.already_stored_until = held.iter().map(|k| k.1).max().unwrap_or(i64::MIN);
        d.already_stored = held.into_iter().collect();
        for (section, detector) in d.sections.iter().zip(&mut d.detectors) {
            detector.load_state(frames.get(section)?)?;
        }
        Ok(())
    }

    /// Takes cross-vessel findings made by another run over the same data — a distributed
    /// run's encounter and interference stage — for this pipeline's detectors to consult as
    /// they consult those emitted here: encounters (loitering's "no partner seen" check) and
    /// interference areas (loitering's and spoofing's "jammed" checks). Other kinds are
    /// ignored. Call it before the first input; what it takes is side input, not state.
    pub fn know(&mut self, events: &[Event]) {
        let d = &mut self.detect;
        let radius_km = d.config.interference.cluster_km;
        for (k, e) in events.iter().enumerate() {
            match &e.details {
                EventDetails::Encounter(_) => d.recent.know(e),
                EventDetails::Interference(i) => d.interference.upsert(
                    u64::MAX - k as u64,
                    LatLon {
                        lat: i.broadcast_lat,
                        lon: i.broadcast_lon,
                    },
                    radius_km * 1000.0,
                    (e.start, e.end),
                    i.vessel_count,
                ),
                _ => {}
            }
        }
    }

    /// The two stages apart, to run them on two threads.
    pub fn stages(&mut self) -> (&mut TrackStage, &mut DetectStage) {
        (&mut self.track, &mut self.detect)
    }
}

/// The second stage: the identity stage and every registered detector, over the [`Step`]s
/// of the track stage.
pub struct DetectStage {
    config: DetectorConfig,
    reference: Reference,
    identities: IdentityTracker,
    detectors: Vec<Box<dyn Detector>>,
    /// The configuration section of each detector, in the same order.
    sections: Vec<&'static str>,
    recent: RecentEncounters,
    interference: InterferenceAreas,
    /// What the detector being called emitted (handed on after the call).
    emitted: Vec<Event>,
    two_places: Vec<TwoPlaces>,
    /// Last position per vessel (the track builder's index), and the vessel of each MMSI,
    /// to place identity changes and to tell events the data cut.
    last_position: Vec<Option<(i64, LatLon)>>,
    /// First report time per vessel.
    first_seen: Vec<i64>,
    vessel_of: FxHashMap<u32, u32>,
    events: [u64; EventKind::COUNT],
    /// Time spent per detector and in the identity stage, when asked for.
    profile: Option<StageProfile>,
    /// Reports the previous run's end already stored (held by the track builder when its
    /// state was saved, released at that run's end): the detectors see them again, the
    /// position store does not.
    already_stored: rustc_hash::FxHashSet<HeldKey>,
    /// The latest time in `already_stored`.
    already_stored_until: i64,
}

/// A held report by MMSI, time and position bits.
type HeldKey = (u32, i64, u64, u64);

fn held_key(p: &Position) -> HeldKey {
    (p.mmsi, p.t, p.pos.lat.to_bits(), p.pos.lon.to_bits())
}

/// Every how many track points the per-detector time is sampled (a power of two): timing
/// each call would cost as much as the cheapest detectors themselves.
const PROFILE_EVERY: u64 = 16;

/// Where the detection stage's time goes: per detector (in pipeline order) and in the
/// identity stage, seconds. Calls on track points are timed on one point in
/// 16 and scaled up (an estimate); watermark and end-of-input calls are all
/// timed. Enabled with [`DetectStage::profile`]; costs about 1 % when on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageProfile {
    /// Seconds per detector, by configuration section name, in pipeline order.
    pub detectors: Vec<(&'static str, f64)>,
    /// Seconds in the identity stage (static reports, watermark, end of input).
    pub identities_s: f64,
    points: u64,
}

/// Runs `f` (work of the identity stage), adding its time to `profile` when there is one.
fn timing_identities<R>(profile: &mut Option<StageProfile>, f: impl FnOnce() -> R) -> R {
    let t0 = profile.is_some().then(std::time::Instant::now);
    let r = f();
    if let (Some(t0), Some(p)) = (t0, profile.as_mut()) {
        p.identities_s += t0.elapsed().as_secs_f64();
    }
    r
}

/// How much an identity change says: data-quality findings (a bad IMO check digit, an
/// unallocated MID) are graded by what the vessel is — a tanker with a bad IMO is a red flag,
/// a tug's is noise (local craft fill the field with junk); a shared MMSI seen from
/// positions alone weighs less than one seen from two IMO numbers.
fn identity_confidence(c: &IdentityChange) -> Confidence {
    let mut why = vec![c.evidence.clone()];
    let tanker = c.to.ship_type.map(|_| c.to.is_tanker());
    match c.kind {
        ChangeKind::InvalidImo | ChangeKind::InvalidMid => match tanker {
            Some(true) => {
                why.push("broadcast by a tanker (AIS ship type 80-89)".into());
                Confidence::high(why)
            }
            Some(false) => {
                why.push(format!(
                    "broadcast by a vessel of AIS ship type {} (not a tanker): such fields are often junk",
                    c.to.ship_type.unwrap_or(0)
                ));
                Confidence::low(why)
            }
            None => {
                why.push("the vessel's type is unknown".into());
                let seven_digits =
                    c.to.imo
                        .is_some_and(|i| (1_000_000..=9_999_999).contains(&i));
                if c.kind == ChangeKind::InvalidImo && !seven_digits {
                    why.push("not a seven-digit number: a filler, not a forged IMO number".into());
                    Confidence::low(why)
                } else {
                    Confidence::medium(why)
                }
            }
        },
        ChangeKind::SharedMmsi if c.from.is_none() => {
            why.push(
                "seen from positions alone (two places at once), not from two IMO numbers".into(),
            );
            Confidence::medium(why)
        }
        _ => Confidence::high(why),
    }
}

/// Which detector call a [`DetectStage::each`] makes.
#[derive(Clone, Copy)]
enum Call<'p> {
    Point(&'p TrackPoint),
    Advance(i64),
    Finish,
}

impl DetectStage {
    /// A detection stage with `config` over the given reference data.
    pub fn new(config: &DetectorConfig, reference: &Reference) -> Result<Self, DetectorError> {
        DetectStage::with_detectors(config, reference, crate::detectors::SECTIONS)
    }

    /// A detection stage running only the detectors of the configuration sections `only`
    /// (in pipeline order, whatever the order given): a distributed run's encounter stage
    /// runs `encounters` alone on each space-time cell. An unknown section is an error.
    pub fn with_detectors(
        config: &DetectorConfig,
        reference: &Reference,
        only: &[&str],
    ) -> Result<Self, DetectorError> {
        if let Some(unknown) = only
            .iter()
            .find(|s| !crate::detectors::SECTIONS.contains(s))
        {
            return Err(DetectorError {
                section: "pipeline",
                reason: format!(
                    "{unknown:?} is not a detector (one of {})",
                    crate::detectors::SECTIONS.join(", ")
                ),
            });
        }
        let mut detectors = Vec::new();
        let mut sections = Vec::new();
        for (section, d) in crate::detectors::SECTIONS
            .iter()
            .zip(build(config, reference)?)
        {
            if only.contains(section) {
                detectors.push(d);
                sections.push(*section);
            }
        }
        Ok(DetectStage {
            config: config.clone(),
            reference: reference.clone(),
            identities: IdentityTracker::new(config.identity, reference.mids.clone()),
            detectors,
            sections,
            recent: RecentEncounters::default(),
            interference: InterferenceAreas::default(),
            emitted: Vec::new(),
            two_places: Vec::new(),
            last_position: Vec::new(),
            first_seen: Vec::new(),
            vessel_of: FxHashMap::default(),
            events: [0; EventKind::COUNT],
            profile: None,
            already_stored: Default::default(),
            already_stored_until: i64::MIN,
        })
    }

    /// Starts measuring where the stage's time goes (see [`StageProfile`]).
    pub fn profile(&mut self) {
        self.profile = Some(StageProfile {
            detectors: self.sections.iter().map(|s| (*s, 0.0)).collect(),
            ..StageProfile::default()
        });
    }

    /// Where the stage's time went so far, when [`DetectStage::profile`] was called.
    pub fn profiled(&self) -> Option<&StageProfile> {
        self.profile.as_ref()
    }

    /// The detectors, in pipeline order.
    pub fn detectors(&self) -> impl Iterator<Item = &dyn Detector> {
        self.detectors.iter().map(|d| d.as_ref())
    }

    /// A hint that `step` comes soon (a few steps ahead of the one being taken): loads the
    /// state its vessel has in each detector into the cache ([`Detector::prefetch`]). Changes
    /// nothing but timing.
    pub fn prefetch(&self, step: &Step) {
        match step {
            Step::Point(p) => {
                crate::slots::prefetch(&self.last_position, p.vessel);
                for d in &self.detectors {
                    d.prefetch(p.vessel);
                }
            }
            Step::Static(s) => self.identities.prefetch_behind(s.mmsi),
            Step::Advance(_) => {}
        }
    }

    /// A first hint, given before [`DetectStage::prefetch`] for the same step: loads the
    /// identity stage's entry of a static report's MMSI, which the second hint then reads
    /// to load what lies behind it.
    pub fn prefetch_early(&self, step: &Step) {
        if let Step::Static(s) = step {
            self.identities.prefetch(s.mmsi);
        }
    }

    /// Takes the next step of the track stage.
    pub fn step(&mut self, step: &Step, out: &mut dyn FnMut(PipelineOutput)) {
        match step {
            Step::Static(s) => {
                let changes = timing_identities(&mut self.profile, || {
                    let mut changes = Vec::new();
                    self.identities.push(s, &mut |o| changes.push(o));
                    changes
                });
                for o in changes {
                    self.identity_output(o, out);
                }
            }
            Step::Point(p) => {
                if self.already_stored.is_empty()
                    || !self.already_stored.remove(&held_key(&p.position))
                {
                    out(PipelineOutput::Position(*p));
                }
                let r = p.position;
                let last = crate::slots::per_vessel(&mut self.last_position, p.vessel, || None);
                if last.is_none() {
                    self.vessel_of.insert(r.mmsi, p.vessel);
                    *crate::slots::per_vessel(&mut self.first_seen, p.vessel, || i64::MAX) = r.t;
                }
                *last = Some((r.t, r.pos));
                self.each(Call::Point(p), out);
            }
            Step::Advance(wm) => {
                if *wm > self.already_stored_until.saturating_add(ADVANCE_EVERY_S) {
                    // What is left was dropped on its way out this time (a duplicate of a
                    // report that arrived since): it stays stored, as the one run would not
                    // have it, but it cannot be released any more.
                    self.already_stored.clear();
                }
                let changes = timing_identities(&mut self.profile, || {
                    let mut changes = Vec::new();
                    self.identities.advance(*wm, &mut |o| changes.push(o));
                    changes
                });
                for o in changes {
                    self.identity_output(o, out);
                }
                self.each(Call::Advance(*wm), out);
            }
        }
    }

    /// Flushes every detector (after the track stage's last points), then the identity
    /// stage; emits what is still open.
    pub fn finish(&mut self, out: &mut dyn FnMut(PipelineOutput)) {
        self.each(Call::Finish, out);
        let mut changes = Vec::new();
        self.identities.finish(&mut |o| changes.push(o));
        for o in changes {
            self.identity_output(o, out);
        }
    }

    /// Makes `call` on every detector in turn, handing on what each emitted before the next
    /// is called (loitering reads the encounters emitted before it).
    fn each(&mut self, call: Call<'_>, out: &mut dyn FnMut(PipelineOutput)) {
        // Whether to time this call, and by how much to scale it (see `StageProfile`).
        let timed = self.profile.as_mut().and_then(|p| match call {
            Call::Point(_) => {
                p.points += 1;
                (p.points % PROFILE_EVERY == 0).then_some(PROFILE_EVERY as f64)
            }
            _ => Some(1.0),
        });
        for k in 0..self.detectors.len() {
            let t0 = timed.map(|_| std::time::Instant::now());
            let mut cx = Context {
                reference: &self.reference,
                identities: &self.identities,
                enrich: &self.config.enrich,
                recent: &self.recent,
                interference: &mut self.interference,
                events: &mut self.emitted,
                two_places: &mut self.two_places,
            };
            let d = &mut self.detectors[k];
            match call {
                Call::Point(p) => d.point(p, &mut cx),
                Call::Advance(wm) => d.advance(wm, &mut cx),
                Call::Finish => d.finish(&mut cx),
            }
            if let (Some(t0), Some(scale), Some(p)) = (t0, timed, self.profile.as_mut()) {
                if let Some(slot) = p.detectors.get_mut(k) {
                    slot.1 += t0.elapsed().as_secs_f64() * scale;
                }
            }
            if !self.emitted.is_empty() {
                let cut = self.detectors[k].cut_by_data();
                let emitted = std::mem::take(&mut self.emitted);
                for mut e in emitted {
                    if cut {
                        self.mark_truncated(&mut e, matches!(call, Call::Finish));
                    }
                    self.recent.record(&e);
                    self.emit(e, out);
                }
            }
            if !self.two_places.is_empty() {
                let found = std::mem::take(&mut self.two_places);
                for x in found {
                    let mut changes = Vec::new();
                    self.identities
                        .two_places(x.mmsi, x.t, x.why, &mut |o| changes.push(o));
                    for o in changes {
                        self.identity_output(o, out);
                    }
                }
            }
        }
    }

    /// Marks an event that begins at its vessel's first report (`truncated_start`) or, at
    /// the end of input, ends at its last (`truncated_end`): the data may have cut it.
    fn mark_truncated(&self, e: &mut Event, at_end: bool) {
        let vessels: Vec<u32> = [Some(e.mmsi), e.other_mmsi]
            .into_iter()
            .flatten()
            .filter_map(|m| self.vessel_of.get(&m).copied())
            .collect();
        let first = |v: u32| self.first_seen.get(v as usize).copied().unwrap_or(i64::MAX);
        let last = |v: u32| {
            self.last_position
                .get(v as usize)
                .copied()
                .flatten()
                .map_or(i64::MIN, |x| x.0)
        };
        // Seen entering or leaving: not cut, whatever the reports around.
        let (entered, exited) = match &e.details {
            EventDetails::PortCall(c) => (c.entry, c.exit),
            EventDetails::Zone(z) => (z.entered, z.exited),
            _ => (false, false),
        };
        if !entered && vessels.iter().any(|&v| e.start <= first(v)) {
            e.truncated_start = true;
            e.confidence.reasons.push(
                "begins at the vessel's first report in the data: it may have begun earlier".into(),
            );
        }
        if at_end && !exited && vessels.iter().any(|&v| e.end >= last(v)) {
            e.truncated_end = true;
            e.confidence
                .reasons
                .push("still open at the vessel's last report in the data: it may go on".into());
        }
    }

    fn emit(&mut self, e: Event, out: &mut dyn FnMut(PipelineOutput)) {
        self.events[e.kind().index()] += 1;
        out(PipelineOutput::Event(Box::new(e)));
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

    /// The event of an identity change, placed where the vessel (or the other MMSI) was
    /// last seen.
    fn identity_event(&self, c: &IdentityChange) -> Event {
        let last = |m: u32| {
            let v = *self.vessel_of.get(&m)?;
            self.last_position.get(v as usize).copied().flatten()
        };
        let pos = last(c.mmsi)
            .or_else(|| c.other_mmsi.and_then(last))
            .map(|x| x.1);
        Event {
            confidence: identity_confidence(c),
            truncated_start: false,
            truncated_end: false,
            mmsi: c.mmsi,
            imo: c.to.imo,
            other_mmsi: c.other_mmsi,
            start: c.t,
            end: c.t,
            lat: pos.map_or(f64::NAN, |p| p.lat),
            lon: pos.map_or(f64::NAN, |p| p.lon),
            details: IdentityChangeDetails {
                change: c.kind,
                from: c.from.as_ref().map(IdentityRef::from),
                to: IdentityRef::from(&c.to),
                evidence: c.evidence.clone(),
            }
            .into(),
        }
    }
}
