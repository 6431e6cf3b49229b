//! The one trait every detector implements, what a detector sees while it runs
//! ([`Context`]), and the reference data it is built over ([`Reference`]).
//!
//! A detector is a state machine over track points in event-time order. The pipeline calls
//! [`Detector::point`] for every point the track builder releases, [`Detector::advance`]
//! when the watermark moves (every few minutes of event time) and [`Detector::finish`] at
//! the end of the input. A detector emits its events through the [`Context`], which also
//! answers what it may ask of the rest of the pipeline: the identity stage (IMO, draught
//! history, ship type), the places, the land, and the encounters already emitted. A
//! finding that waits for later evidence (the draught a crew enters hours after a
//! transfer) is kept in the detector's own [`DueQueue`] and emitted when the watermark
//! passes it.
//!
//! Detectors are registered, with their configuration section, in
//! [`crate::detectors`]; `docs/architecture.md` says how to add one.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use shadowfleet_geo::{Land, LatLon, METRES_PER_NM};
use shadowfleet_identities::IdentityTracker;
use shadowfleet_places::{Mids, Place, PlaceKind, PlaceRef, Places};
use shadowfleet_records::state::StateError;
use shadowfleet_records::{Event, EventKind};
use shadowfleet_tracks::TrackPoint;

use crate::detectors::DetectorConfig;
use crate::detectors::EnrichConfig;

/// How a detector's state is keyed, so that its work can be split across workers: by
/// vessel (every point of one vessel to one worker), by space-time cell (the points near
/// each other at the same time), or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// State per vessel (track segment); vessels are independent.
    Vessel,
    /// State per space-time cell; vessels interact with those near them.
    Cell,
    /// One state over everything.
    Global,
}

/// A detector: track points in, events out. See the module documentation.
pub trait Detector: Send {
    /// The kind of event it emits.
    fn kind(&self) -> EventKind;
    /// How its state is keyed.
    fn partition(&self) -> Partition;
    /// Takes the next track point (points of each vessel come in time order).
    fn point(&mut self, p: &TrackPoint, cx: &mut Context<'_>);
    /// The watermark moved to `watermark` (unix seconds): no point received before it will
    /// come; emit what is due.
    fn advance(&mut self, watermark: i64, cx: &mut Context<'_>);
    /// End of input: emit everything still open or waiting.
    fn finish(&mut self, cx: &mut Context<'_>);
    /// Whether the data's start or end can cut its events (a visit, an episode, a meeting
    /// inferred from a run of reports), so that the pipeline marks those that touch either
    /// `truncated_start` / `truncated_end`. An event between two reports (a gap) cannot be.
    fn cut_by_data(&self) -> bool {
        true
    }
    /// A hint that a point of `vessel` (the track builder's dense index) comes soon: load
    /// that vessel's state into the cache now (`slots::prefetch`), so that the call to
    /// [`Detector::point`] does not wait for memory. With tens of thousands of vessels
    /// interleaved, each vessel's state is a cache miss otherwise (docs/benchmarks.md,
    /// fleet-size sweep). It must change nothing but timing; by default it does nothing.
    fn prefetch(&self, _vessel: u32) {}
    /// Appends its working state to `out`: all it keeps between points (open segments,
    /// visits, meetings, findings waiting for evidence), not its configuration. Written with
    /// [`shadowfleet_records::persist_fields!`], naming the fields; the next run on the same
    /// store continues from it ([`crate::Pipeline::save_state`]).
    fn save_state(&self, out: &mut Vec<u8>) -> Result<(), StateError>;
    /// Replaces its working state with one written by [`Detector::save_state`] of a detector
    /// built from the same configuration.
    fn load_state(&mut self, bytes: &[u8]) -> Result<(), StateError>;
}

/// How a detector is made: the type of its configuration section and its constructor. The
/// registration line in [`crate::detectors`] names the section.
pub trait Register: Detector + Sized + 'static {
    /// Its thresholds (a table of the detector configuration file, every key optional).
    type Config: Clone + Default + PartialEq + Debug + Serialize + DeserializeOwned;
    /// Builds the detector from the whole configuration (a detector may read a neighbour's
    /// thresholds, e.g. loitering waits for the encounters of the same hours).
    fn new(config: &DetectorConfig, reference: &Reference) -> Result<Self, DetectorError>;
}

/// A detector that cannot be built from its configuration.
#[derive(Debug, thiserror::Error)]
#[error("[{section}]: {reason}")]
pub struct DetectorError {
    /// The configuration section.
    pub section: &'static str,
    /// What is wrong, naming the file and the field where there is one.
    pub reason: String,
}

/// The reference data detectors are built over, shared by reference count so that a
/// pipeline can live in a long-running service or a Python object.
#[derive(Clone)]
pub struct Reference {
    /// Land polygons.
    pub land: Arc<Land>,
    /// Terminals, ports and STS areas.
    pub places: Arc<Places>,
    /// The MID table.
    pub mids: Arc<Mids>,
    /// The port points of the searoute network (Apache-2.0), river ports among them: where
    /// a track on land may be a ship in port up a river.
    pub searoute_ports: Arc<Vec<LatLon>>,
    /// Where relative paths in the configuration are read from (the configuration file's
    /// directory; the current directory by default).
    pub base_dir: PathBuf,
}

/// Reference data that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// The embedded land polygons.
    #[error("loading the embedded land polygons: {0}")]
    Land(#[from] shadowfleet_geo::GeoDataError),
    /// The embedded places or MID table.
    #[error("loading the embedded places: {0}")]
    Places(#[from] shadowfleet_places::TableError),
    /// The embedded searoute port points.
    #[error("loading the embedded searoute ports: {0}")]
    Ports(shadowfleet_geo::GeoDataError),
}

impl Reference {
    /// The embedded land, places and MID table.
    pub fn embedded() -> Result<Reference, ReferenceError> {
        let land = Land::natural_earth_10m()?;
        let places = Places::embedded(&land)?;
        Ok(Reference {
            places: Arc::new(places),
            land: Arc::new(land),
            mids: Arc::new(Mids::embedded()?),
            searoute_ports: Arc::new(
                shadowfleet_geo::searoute_ports()
                    .map_err(ReferenceError::Ports)?
                    .into_iter()
                    .map(|p| p.position)
                    .collect(),
            ),
            base_dir: PathBuf::from("."),
        })
    }

    /// The same with `ports` added (those on land or within `merge_m` of a known place are
    /// left out); returns how many were added.
    pub fn with_ports(mut self, ports: Vec<Place>, merge_m: f64) -> (Reference, usize) {
        let (places, added) = self
            .places
            .as_ref()
            .clone()
            .with_ports(&self.land, ports, merge_m);
        self.places = Arc::new(places);
        (self, added)
    }
}

/// Findings that wait for the watermark, in the order they fall due.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DueQueue<T> {
    items: BTreeMap<(i64, u64), T>,
    seq: u64,
}

impl<T> Default for DueQueue<T> {
    fn default() -> Self {
        DueQueue {
            items: BTreeMap::new(),
            seq: 0,
        }
    }
}

impl<T> DueQueue<T> {
    /// Keeps `item` until the watermark reaches `due`.
    pub fn push(&mut self, due: i64, item: T) {
        self.seq += 1;
        self.items.insert((due, self.seq), item);
    }

    /// The next item due at or before `watermark`, earliest first.
    pub fn pop_due(&mut self, watermark: i64) -> Option<T> {
        let entry = self.items.first_entry()?;
        (entry.key().0 <= watermark).then(|| entry.remove())
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Encounters remembered per MMSI to tell a dark STS from a visible one.
const RECENT_ENCOUNTERS: usize = 8;

/// The encounters emitted lately, per MMSI (a bounded ring each).
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct RecentEncounters {
    by_mmsi: FxHashMap<u32, VecDeque<(i64, i64)>>,
    /// Encounters found by another run over the same data ([`crate::Pipeline::know`]): side
    /// input, not state (never saved).
    #[serde(skip)]
    known: FxHashMap<u32, Vec<(i64, i64)>>,
}

impl RecentEncounters {
    pub(crate) fn record(&mut self, e: &Event) {
        if e.kind() != EventKind::Encounter {
            return;
        }
        for m in [Some(e.mmsi), e.other_mmsi].into_iter().flatten() {
            let v = self.by_mmsi.entry(m).or_default();
            if v.len() >= RECENT_ENCOUNTERS {
                v.pop_front();
            }
            v.push_back((e.start, e.end));
        }
    }

    /// Takes an encounter found by another run as known (unbounded: side input).
    pub(crate) fn know(&mut self, e: &Event) {
        for m in [Some(e.mmsi), e.other_mmsi].into_iter().flatten() {
            self.known.entry(m).or_default().push((e.start, e.end));
        }
    }

    fn overlaps(&self, mmsi: u32, from: i64, to: i64) -> bool {
        let hit = |&(s, e): &(i64, i64)| s <= to && e >= from;
        self.by_mmsi.get(&mmsi).is_some_and(|v| v.iter().any(hit))
            || self.known.get(&mmsi).is_some_and(|v| v.iter().any(hit))
    }
}

/// Areas where an area-wide interference has displaced several vessels lately, as the
/// interference detector reports them (a bounded list), so that the spoofing detector does
/// not call a jammed ship's false positions its own deceit.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct InterferenceAreas {
    /// (key, centre of the false positions, radius m, first and last time, vessels).
    areas: VecDeque<(u64, LatLon, f64, i64, i64, u32)>,
}

/// Interference areas remembered.
const INTERFERENCE_AREAS: usize = 256;

impl InterferenceAreas {
    pub(crate) fn upsert(
        &mut self,
        key: u64,
        centre: LatLon,
        radius_m: f64,
        span: (i64, i64),
        vessels: u32,
    ) {
        let entry = (key, centre, radius_m, span.0, span.1, vessels);
        if let Some(a) = self.areas.iter_mut().find(|a| a.0 == key) {
            *a = entry;
            return;
        }
        if self.areas.len() >= INTERFERENCE_AREAS {
            self.areas.pop_front();
        }
        self.areas.push_back(entry);
    }

    /// The most recent area near `p` that began before `t`, whatever its time: a place
    /// where an interference was seen.
    fn seen_at(&self, p: LatLon, t: i64) -> Option<(u32, i64)> {
        self.areas
            .iter()
            .rev()
            .filter(|a| a.3 <= t)
            .find(|a| shadowfleet_geo::haversine_m(a.1, p) <= a.2)
            .map(|a| (a.5, a.3))
    }

    fn at(&self, p: LatLon, t: i64, slack_s: i64) -> Option<u32> {
        self.areas
            .iter()
            .filter(|a| a.3 - slack_s <= t && t <= a.4 + slack_s)
            .filter(|a| shadowfleet_geo::haversine_m(a.1, p) <= a.2)
            .map(|a| a.5)
            .max()
    }
}

/// Evidence from positions that two ships broadcast one MMSI, for the identity stage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TwoPlaces {
    pub(crate) mmsi: u32,
    pub(crate) t: i64,
    pub(crate) why: String,
}

/// What a detector sees while it runs: the reference data, the identity stage, the shared
/// enrichment thresholds, and where its events go.
pub struct Context<'a> {
    /// Land, places and MIDs.
    pub reference: &'a Reference,
    /// The identity stage: each MMSI's identity, draught history and ship type so far.
    pub identities: &'a IdentityTracker,
    /// Thresholds shared by the detectors' enrichment (draught wait and change, "near").
    pub enrich: &'a EnrichConfig,
    pub(crate) recent: &'a RecentEncounters,
    pub(crate) interference: &'a mut InterferenceAreas,
    pub(crate) events: &'a mut Vec<Event>,
    pub(crate) two_places: &'a mut Vec<TwoPlaces>,
}

impl Context<'_> {
    /// Emits an event.
    pub fn emit(&mut self, e: Event) {
        self.events.push(e);
    }

    /// Hands the identity stage evidence from positions that two ships broadcast `mmsi`
    /// (it reports a shared MMSI unless it did so recently).
    pub fn two_places(&mut self, mmsi: u32, t: i64, why: String) {
        self.two_places.push(TwoPlaces { mmsi, t, why });
    }

    /// Tells the other detectors that several vessels' false positions lie within
    /// `radius_km` of `centre` between `from` and `to` (an interference, by its `key`;
    /// reported again as it grows).
    pub fn interference_area(
        &mut self,
        key: u64,
        centre: LatLon,
        radius_km: f64,
        (from, to): (i64, i64),
        vessels: u32,
    ) {
        self.interference
            .upsert(key, centre, radius_km * 1000.0, (from, to), vessels);
    }

    /// How many vessels an interference reported near `p` at `t` (give or take `slack_s`)
    /// displaced, if one was.
    pub fn interference_at(&self, p: LatLon, t: i64, slack_s: i64) -> Option<u32> {
        self.interference.at(p, t, slack_s)
    }

    /// Whether an interference was seen before `t` with its false positions near `p`: how
    /// many vessels it displaced and when it began.
    pub fn interference_seen_at(&self, p: LatLon, t: i64) -> Option<(u32, i64)> {
        self.interference.seen_at(p, t)
    }

    /// The IMO number `mmsi` broadcast last.
    pub fn imo(&self, mmsi: u32) -> Option<u32> {
        self.identities.current(mmsi).and_then(|i| i.imo)
    }

    /// Whether `mmsi` may be a tanker (a tanker by its ship type, or of unknown type).
    pub fn may_be_tanker(&self, mmsi: u32) -> bool {
        self.identities.is_tanker(mmsi) != Some(false)
    }

    /// Draught of `mmsi` at `from` (the last reported at or before it) and at `to`, metres,
    /// to the decimetre AIS carries.
    pub fn draughts(&self, mmsi: u32, from: i64, to: i64) -> (Option<f64>, Option<f64>) {
        let dm = |d: f32| (f64::from(d) * 10.0).round() / 10.0;
        (
            self.identities.draught_at(mmsi, from).map(dm),
            self.identities.draught_at(mmsi, to).map(dm),
        )
    }

    /// The AIS destination `mmsi` had set at `t` (or, first heard later, the first one it
    /// sent up to `until`); empty text is a blank destination.
    pub fn destination(&self, mmsi: u32, t: i64, until: i64) -> Option<String> {
        self.identities
            .destination_at(mmsi, t, until)
            .map(|d| d.as_str().to_owned())
    }

    /// Whether an encounter of `mmsi` overlapping `[from, to]` was emitted lately.
    pub fn encounter_overlaps(&self, mmsi: u32, from: i64, to: i64) -> bool {
        self.recent.overlaps(mmsi, from, to)
    }

    /// The reference of place `i`.
    pub fn place_ref(&self, i: usize) -> Option<PlaceRef> {
        self.reference.places.get(i).map(Place::to_ref)
    }

    /// The STS area `p` lies in.
    pub fn sts_area_at(&self, p: LatLon) -> Option<usize> {
        let mut found = None;
        self.reference.places.near(p, 0.0, |i, place, _| {
            if place.kind == PlaceKind::StsArea {
                found = Some(i);
            }
        });
        found
    }

    /// The terminal or STS area nearest to `p` within [`EnrichConfig::near_place_nm`].
    pub fn near_place(&self, p: LatLon) -> Option<usize> {
        self.reference
            .places
            .nearest(p, self.enrich.near_place_nm * METRES_PER_NM, |k| {
                matches!(k, PlaceKind::Terminal | PlaceKind::StsArea)
            })
            .map(|x| x.0)
    }

    /// Whether a terminal or port lies within `km` of `p`.
    pub fn near_port(&self, p: LatLon, km: f64) -> bool {
        self.reference
            .places
            .nearest(p, km * 1000.0, |k| {
                matches!(k, PlaceKind::Terminal | PlaceKind::Port)
            })
            .is_some()
    }
}

/// Seconds in `h` hours.
pub fn hours(h: f64) -> i64 {
    (h * 3600.0) as i64
}
