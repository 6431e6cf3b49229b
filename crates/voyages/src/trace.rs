//! The cargo tracer: one pass over the events in time order, with the cargo on board of each
//! vessel as state.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use shadowfleet_geo::{haversine_m, LatLon};
use shadowfleet_places::{PlaceKind, Places};
use shadowfleet_records::{
    ChangeKind, EncounterDetails, Event, EventDetails, IdentityPeriod, LoiteringDetails, Operation,
    PlaceRef, PortCallDetails,
};

use crate::volume::{Capacity, Volume, VolumeConfig};

/// Tracer thresholds. Every field has a default; see `docs/voyages.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceConfig {
    /// Volume model.
    pub volume: VolumeConfig,
    /// Oil loaded at the CPC terminal is Kazakh (CREA's rule); false counts it as Russian.
    pub cpc_is_kazakh: bool,
    /// A giver whose draught after a transfer or discharge is within this of its ballast
    /// draught handed over everything it carried, metres.
    pub empty_margin_m: f64,
    /// A dark partner's AIS gap must cover the end of the loitering (the transfer) and end
    /// no later than this after it, hours.
    pub dark_sts_window_hours: f64,
    /// ... it must have gone dark and come back within this distance of the loitering, km ...
    pub dark_sts_radius_km: f64,
    /// ... and have had time, in its gap, to sail from where it went dark to the loitering
    /// and on to where it came back at this speed, knots ...
    pub dark_sts_max_speed_kn: f64,
    /// ... and to stay alongside at least this long, hours.
    pub dark_sts_min_hours: f64,
    /// A laden tanker's port call without draught data counts as a possible discharge when it
    /// stopped for at least this long, hours.
    pub unknown_discharge_hours: f64,
    /// A port call at the place a vessel just called at, starting within this many hours of
    /// that call's end, continues it: after a discharge, no second cargo first seen laden;
    /// after a call that changed nothing, the draught before the first against the draught
    /// after the second (a call split by an MMSI change alongside), hours.
    pub repeat_discharge_hours: f64,
    /// A draught change that makes a load or a discharge, metres (the port-call detector's
    /// threshold).
    pub draught_change_m: f64,
    /// Weight, in cargoes, of the wider evidence against the narrower when the origin of a
    /// cargo first seen laden is estimated ([`crate::infer_origins`]): the vessel's own cargoes are
    /// shrunk towards those of its risk group discharged in the same country, those towards
    /// all discharged there, those towards its risk group's, those towards all.
    pub origin_prior_cargoes: f64,
    /// An estimated origin below this probability is not given (the cargo stays of unknown
    /// origin).
    pub origin_min_probability: f64,
    /// A loading place is upstream of where a ship was first seen laden when its sea route to
    /// the discharge passes within this distance of that position, km.
    pub origin_route_radius_km: f64,
    /// The weight of a country none of whose loading places is upstream (0: ruled out).
    pub origin_off_route: f64,
}

impl Default for TraceConfig {
    fn default() -> Self {
        TraceConfig {
            volume: VolumeConfig::default(),
            cpc_is_kazakh: true,
            empty_margin_m: 1.0,
            dark_sts_window_hours: 24.0,
            dark_sts_radius_km: 500.0,
            dark_sts_max_speed_kn: 16.0,
            dark_sts_min_hours: 4.0,
            unknown_discharge_hours: 12.0,
            repeat_discharge_hours: 12.0,
            draught_change_m: 0.5,
            origin_prior_cargoes: 3.0,
            origin_min_probability: 0.05,
            origin_route_radius_km: 150.0,
            origin_off_route: 0.05,
        }
    }
}

/// A vessel as the tracer keys it: by IMO number when one was broadcast, else by MMSI (so a
/// ship keeps its cargo across an MMSI change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VesselKey {
    /// IMO number.
    Imo(u32),
    /// MMSI, for a vessel that never broadcast an IMO number.
    Mmsi(u32),
}

impl VesselKey {
    /// The id the API and the backtest use: `imo:N` or `mmsi:N`.
    pub fn id(self) -> String {
        match self {
            VesselKey::Imo(i) => format!("imo:{i}"),
            VesselKey::Mmsi(m) => format!("mmsi:{m}"),
        }
    }
}

impl std::fmt::Display for VesselKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VesselKey::Imo(n) => write!(f, "IMO {n}"),
            VesselKey::Mmsi(n) => write!(f, "MMSI {n}"),
        }
    }
}

/// What the tracer knows of a vessel besides its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VesselInfo {
    /// Length from AIS, metres.
    pub length_m: Option<f64>,
    /// Deadweight from particulars, tonnes.
    pub dwt: Option<f64>,
}

/// Where a cargo's oil comes from.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Origin {
    /// Terminal or port id (`RU-PRIMORSK`), absent when inferred.
    pub place: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Country of origin of the oil (ISO alpha-2): the most probable one when inferred.
    pub country: String,
    /// True when not seen but inferred (the cargo was loaded before the data starts, or
    /// while dark): see [`crate::infer_origins`].
    pub inferred: bool,
    /// Probability that the oil is of `country`: 1 when the loading was seen, else the
    /// estimate of [`crate::infer_origins`].
    pub probability: f64,
    /// Other countries the oil may be of, with their probabilities (inferred origins only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<OriginShare>,
}

/// A possible country of origin and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OriginShare {
    /// Country (ISO alpha-2).
    pub country: String,
    /// Probability.
    pub probability: f64,
}

impl Origin {
    /// A loading seen at `place`.
    pub fn seen(place: &str, name: &str, country: &str) -> Origin {
        Origin {
            place: Some(place.to_owned()),
            name: Some(name.to_owned()),
            country: country.to_owned(),
            inferred: false,
            probability: 1.0,
            also: Vec::new(),
        }
    }

    /// Probability that the oil is of `country`.
    pub fn probability_of(&self, country: &str) -> f64 {
        if self.country == country {
            self.probability
        } else {
            self.also
                .iter()
                .find(|s| s.country == country)
                .map_or(0.0, |s| s.probability)
        }
    }
}

/// A cargo: one loading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cargo {
    /// Index in [`Traced::cargoes`].
    pub id: usize,
    /// Origin, when known or inferred.
    pub origin: Option<Origin>,
    /// Vessel that loaded it (or held it when first seen).
    pub vessel: VesselKey,
    /// MMSI it used then.
    pub mmsi: u32,
    /// Load completion (or first sight), unix seconds.
    pub loaded: i64,
    /// The loading port call, when seen.
    pub load_event: Option<i64>,
    /// Products the terminal loads (`crude`, `diesel`, `fuel_oil`).
    pub products: Vec<String>,
    /// Volume of the whole cargo.
    pub volume: Volume,
    /// Where the deadweight came from (`particulars`, a class name).
    pub capacity_source: String,
}

/// How a ship came to hold a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HopKind {
    /// Loaded at a terminal or port, draught rising.
    Load,
    /// Loaded at a terminal, no draught data.
    PossibleLoad,
    /// Already laden when first seen, or laden from an unseen source.
    FirstSeenLaden,
    /// Ship-to-ship transfer seen from both sides and confirmed by draught.
    Sts,
    /// The receiver's draught rose while loitering in an STS area; the giver was dark nearby.
    DarkSts,
}

impl HopKind {
    /// Confidence that this link is right.
    pub fn confidence(self) -> f64 {
        match self {
            HopKind::Load | HopKind::Sts => 1.0,
            HopKind::PossibleLoad => 0.8,
            HopKind::DarkSts => 0.6,
            HopKind::FirstSeenLaden => 0.5,
        }
    }
}

/// One link of a chain of custody.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hop {
    /// The vessel.
    pub vessel: VesselKey,
    /// Its MMSI then.
    pub mmsi: u32,
    /// How it got the cargo.
    pub kind: HopKind,
    /// When, unix seconds.
    pub t: i64,
    /// The events this link rests on (port call, encounter, loitering and the giver's gap).
    pub events: Vec<i64>,
}

/// Where a flow was discharged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discharge {
    /// Port id.
    pub place: String,
    /// Port name.
    pub name: String,
    /// Country (ISO alpha-2).
    pub country: String,
    /// Discharge completion (end of the port call), unix seconds.
    pub t: i64,
    /// The port call.
    pub event: i64,
    /// Confirmed by a draught fall (else a laden ship's long stop without draught data).
    pub by_draught: bool,
}

/// A cargo, or the part of it that one chain of ships carried to one discharge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    /// Index in [`Traced::flows`].
    pub id: usize,
    /// The cargo.
    pub cargo: usize,
    /// Share of the cargo.
    pub share: f64,
    /// Ships in order, from the loading ship.
    pub chain: Vec<Hop>,
    /// Discharge; `None` while at sea at the end of the data, or lost (handed to an unseen
    /// ship).
    pub discharge: Option<Discharge>,
    /// Handed to a ship that could not be identified.
    pub lost: bool,
}

impl Flow {
    /// Number of ship-to-ship hand-offs.
    pub fn sts_hops(&self) -> usize {
        self.chain
            .iter()
            .filter(|h| matches!(h.kind, HopKind::Sts | HopKind::DarkSts))
            .count()
    }

    /// Confidence: the product of the links' and the discharge's.
    pub fn confidence(&self, cargo: &Cargo) -> f64 {
        let links: f64 = self.chain.iter().map(|h| h.kind.confidence()).product();
        let origin = match &cargo.origin {
            Some(o) if !o.inferred => 1.0,
            // Inferred: at most 0.6, times the chance of the country named.
            Some(o) => 0.6 * o.probability,
            None => 0.0,
        };
        let discharge = self
            .discharge
            .as_ref()
            .map_or(0.0, |d| if d.by_draught { 1.0 } else { 0.7 });
        // The first-seen hop already says the origin is inferred: count it once.
        let first_seen = if self
            .chain
            .first()
            .is_some_and(|h| h.kind == HopKind::FirstSeenLaden)
        {
            1.0 / HopKind::FirstSeenLaden.confidence()
        } else {
            1.0
        };
        (links * first_seen * origin * discharge).clamp(0.0, 1.0)
    }

    /// Every event id the flow rests on, in order.
    pub fn evidence(&self, cargo: &Cargo) -> Vec<i64> {
        let mut v: Vec<i64> = cargo.load_event.into_iter().collect();
        for h in &self.chain {
            for e in &h.events {
                if !v.contains(e) {
                    v.push(*e);
                }
            }
        }
        if let Some(d) = &self.discharge {
            if !v.contains(&d.event) {
                v.push(d.event);
            }
        }
        v
    }

    /// This flow's volume: its share of the cargo's.
    pub fn volume(&self, cargo: &Cargo) -> Volume {
        Volume {
            tonnes: cargo.volume.tonnes * self.share,
            barrels: cargo.volume.barrels * self.share,
            spread: cargo.volume.spread,
        }
    }
}

/// The tracer's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Traced {
    /// Cargoes.
    pub cargoes: Vec<Cargo>,
    /// Flows (each cargo has at least one).
    pub flows: Vec<Flow>,
}

#[derive(Default)]
struct OnBoard {
    flows: Vec<usize>,
    mmsi: u32,
}

/// A port call's place as the tracer needs it.
struct Site {
    name: String,
    country: String,
    products: Vec<String>,
    origin: Origin,
}

struct Gap {
    vessel: VesselKey,
    mmsi: u32,
    id: i64,
    start: i64,
    end: i64,
    off: LatLon,
    on: LatLon,
}

struct Tracer<'a> {
    config: &'a TraceConfig,
    places: &'a Places,
    info: &'a dyn Fn(VesselKey) -> VesselInfo,
    imo_of: HashMap<u32, u32>,
    zombies: std::collections::HashSet<u32>,
    aboard: HashMap<VesselKey, OnBoard>,
    /// Each vessel's last discharge: the place and when the call ended.
    discharged: HashMap<VesselKey, (String, i64)>,
    /// Each vessel's last port call that changed nothing: the place, when it ended, and the
    /// draught before it.
    unchanged_call: HashMap<VesselKey, (String, i64, Option<f64>)>,
    out: Traced,
}

/// MMSIs that broadcast a stolen IMO number (a `zombie_imo` identity change): their IMO
/// says nothing about which ship they are, so they are keyed by MMSI.
pub fn zombie_mmsis(events: &[(i64, &Event)]) -> std::collections::HashSet<u32> {
    events
        .iter()
        .filter(|(_, e)| {
            matches!(&e.details, EventDetails::IdentityChange(c) if c.change == ChangeKind::ZombieImo)
        })
        .map(|(_, e)| e.mmsi)
        .collect()
}

/// Maps MMSIs to vessel keys as the tracer does (an MMSI's most broadcast IMO; the MMSI
/// itself for a zombie broadcasting a stolen IMO).
pub fn vessel_keys(
    identities: &[IdentityPeriod],
    events: &[(i64, &Event)],
) -> HashMap<u32, VesselKey> {
    let zombies = zombie_mmsis(events);
    let mut span: HashMap<(u32, u32), i64> = HashMap::new();
    for i in identities {
        if let Some(imo) = i.imo {
            *span.entry((i.mmsi, imo)).or_default() += (i.last_seen - i.first_seen).max(1);
        }
    }
    let mut best: HashMap<u32, (u32, i64)> = HashMap::new();
    for ((m, imo), n) in span {
        let b = best.entry(m).or_insert((imo, 0));
        if n > b.1 || (n == b.1 && imo < b.0) {
            *b = (imo, n);
        }
    }
    identities
        .iter()
        .map(|i| {
            let k = match best.get(&i.mmsi) {
                Some(b) if !zombies.contains(&i.mmsi) => VesselKey::Imo(b.0),
                _ => VesselKey::Mmsi(i.mmsi),
            };
            (i.mmsi, k)
        })
        .collect()
}

/// Traces cargoes through `events` (each with its store id). `identities` tie MMSIs to IMO
/// numbers; `info` gives a vessel's length and particulars.
pub fn trace(
    events: &[(i64, &Event)],
    identities: &[IdentityPeriod],
    places: &Places,
    config: &TraceConfig,
    info: &dyn Fn(VesselKey) -> VesselInfo,
) -> Traced {
    // An MMSI's IMO: the one most often broadcast with it.
    let mut counts: HashMap<(u32, u32), u32> = HashMap::new();
    for (_, e) in events {
        if let Some(imo) = e.imo {
            *counts.entry((e.mmsi, imo)).or_default() += 1;
        }
        if let (Some(o), EventDetails::Encounter(d)) = (e.other_mmsi, &e.details) {
            if let Some(imo) = d.other_imo {
                *counts.entry((o, imo)).or_default() += 1;
            }
        }
    }
    let mut best: HashMap<u32, (u32, u32)> = HashMap::new();
    for ((m, imo), n) in counts {
        let b = best.entry(m).or_insert((imo, 0));
        if n > b.1 || (n == b.1 && imo < b.0) {
            *b = (imo, n);
        }
    }
    let mut imo_of: HashMap<u32, u32> = best.into_iter().map(|(m, (imo, _))| (m, imo)).collect();
    for (m, k) in vessel_keys(identities, events) {
        if let VesselKey::Imo(i) = k {
            imo_of.insert(m, i);
        }
    }
    let mut t = Tracer {
        config,
        places,
        info,
        imo_of,
        zombies: zombie_mmsis(events),
        aboard: HashMap::new(),
        discharged: HashMap::new(),
        unchanged_call: HashMap::new(),
        out: Traced::default(),
    };
    let gaps: Vec<Gap> = events
        .iter()
        .filter_map(|(id, e)| {
            let EventDetails::Gap(d) = &e.details else {
                return None;
            };
            Some(Gap {
                vessel: t.key(e.mmsi, e.imo),
                mmsi: e.mmsi,
                id: *id,
                start: e.start,
                end: e.end,
                off: LatLon {
                    lat: e.lat,
                    lon: e.lon,
                },
                on: LatLon {
                    lat: d.on_lat,
                    lon: d.on_lon,
                },
            })
        })
        .collect();
    // Ships that say they are not tankers (every identity with a known type is another
    // type: cargo ships, bulk carriers, tugs) carry no oil cargo: their calls and encounters
    // are not traced (a grain carrier loading at a Russian port is not an oil flow).
    let mut known_types: HashMap<u32, bool> = HashMap::new();
    for i in identities {
        if i.ship_type.is_some() {
            *known_types.entry(i.mmsi).or_insert(false) |= i.is_tanker();
        }
    }
    let not_tanker = |m: u32| known_types.get(&m) == Some(&false);
    let mut order: Vec<&(i64, &Event)> = events
        .iter()
        .filter(|(_, e)| {
            matches!(
                e.details,
                EventDetails::PortCall(_) | EventDetails::Encounter(_) | EventDetails::Loitering(_)
            ) && !not_tanker(e.mmsi)
                && !e.other_mmsi.is_some_and(not_tanker)
        })
        .collect();
    order.sort_by_key(|(id, e)| (e.end, *id));
    for &&(id, e) in &order {
        match &e.details {
            EventDetails::PortCall(d) => t.port_call(id, e, d),
            EventDetails::Encounter(d) => t.encounter(id, e, d),
            EventDetails::Loitering(d) => t.loitering(id, e, d, &gaps),
            _ => {}
        }
    }
    t.out
}

impl Tracer<'_> {
    fn key(&self, mmsi: u32, imo: Option<u32>) -> VesselKey {
        if self.zombies.contains(&mmsi) {
            return VesselKey::Mmsi(mmsi);
        }
        imo.or_else(|| self.imo_of.get(&mmsi).copied())
            .map_or(VesselKey::Mmsi(mmsi), VesselKey::Imo)
    }

    fn capacity(&self, v: VesselKey) -> Option<Capacity> {
        let i = (self.info)(v);
        self.config.volume.capacity(i.dwt, i.length_m)
    }

    /// A new cargo aboard `v`. Its volume is `fraction` of a full cargo of `measured_on`
    /// (the ship whose draught change measured it), or a full cargo of `v`.
    #[allow(
        clippy::too_many_arguments,
        reason = "one private constructor with named call sites"
    )]
    fn new_cargo(
        &mut self,
        v: VesselKey,
        mmsi: u32,
        t: i64,
        origin: Option<Origin>,
        load_event: Option<i64>,
        products: Vec<String>,
        measured: Option<(VesselKey, f64)>,
        hop: Hop,
    ) -> Option<usize> {
        let (cap, fraction) = match measured {
            Some((m, f)) => (self.capacity(m)?, Some(f)),
            None => (self.capacity(v)?, None),
        };
        let prods: Vec<&str> = products.iter().map(String::as_str).collect();
        let (bbl, bbl_spread) = self.config.volume.barrels_per_tonne(&prods);
        let volume = self.config.volume.volume(
            &cap,
            fraction.unwrap_or(1.0),
            bbl,
            bbl_spread,
            fraction.is_some(),
        );
        let cargo = self.out.cargoes.len();
        self.out.cargoes.push(Cargo {
            id: cargo,
            origin,
            vessel: v,
            mmsi,
            loaded: t,
            load_event,
            products,
            volume,
            capacity_source: cap.source.to_owned(),
        });
        let flow = self.out.flows.len();
        self.out.flows.push(Flow {
            id: flow,
            cargo,
            share: 1.0,
            chain: vec![hop],
            discharge: None,
            lost: false,
        });
        let b = self.aboard.entry(v).or_default();
        b.flows.push(flow);
        b.mmsi = mmsi;
        Some(flow)
    }

    /// Takes `fraction` of every flow aboard `v` off the ship: whole flows when the fraction
    /// is (nearly) all, else each flow split in two.
    fn take(&mut self, v: VesselKey, fraction: f64) -> Vec<usize> {
        let Some(b) = self.aboard.get_mut(&v) else {
            return Vec::new();
        };
        if fraction >= 0.999 {
            return std::mem::take(&mut b.flows);
        }
        let ids = b.flows.clone();
        let mut taken = Vec::new();
        for id in ids {
            let Some(f) = self.out.flows.get(id).cloned() else {
                continue;
            };
            let part = self.out.flows.len();
            self.out.flows.push(Flow {
                id: part,
                share: f.share * fraction,
                ..f
            });
            if let Some(orig) = self.out.flows.get_mut(id) {
                orig.share *= 1.0 - fraction;
            }
            taken.push(part);
        }
        taken
    }

    /// The share of what `v` carries that a draught fall from `before` to `after` unloaded.
    fn unloaded_share(&self, v: VesselKey, before: Option<f64>, after: Option<f64>) -> f64 {
        let (Some(b), Some(a), Some(cap)) = (before, after, self.capacity(v)) else {
            return 1.0;
        };
        if a <= cap.draught_m[0] + self.config.empty_margin_m {
            return 1.0;
        }
        let carried = (b - cap.draught_m[0]).max(0.1);
        ((b - a) / carried).clamp(0.0, 1.0)
    }

    fn port_call(&mut self, id: i64, e: &Event, d: &PortCallDetails) {
        let place_id = d.place.id.as_str();
        if place_id.is_empty() {
            return;
        }
        let Some(place) = self.site(&d.place) else {
            return;
        };
        let mut before = d.draught_before_m;
        let after = d.draught_after_m;
        let v = self.key(e.mmsi, e.imo);
        let mut operation = d.operation;
        // A call that changed nothing, then another at the same place soon after: one call
        // split in two (the ship changed MMSI alongside, or reception broke), the draught
        // before the first against the draught after the second.
        let repeat = (self.config.repeat_discharge_hours * 3600.0) as i64;
        if let Some((p, end, b)) = self.unchanged_call.remove(&v) {
            if p == place_id && e.start - end <= repeat && b.is_some() {
                before = b;
                if let (Some(b), Some(a)) = (before, after) {
                    let min = self.config.draught_change_m;
                    operation = if a - b >= min {
                        Operation::Load
                    } else if b - a >= min {
                        Operation::Discharge
                    } else {
                        Operation::None
                    };
                }
            }
        }
        if matches!(operation, Operation::None | Operation::Unknown) {
            self.unchanged_call
                .insert(v, (place_id.to_owned(), e.end, before));
        }
        let laden = self.aboard.get(&v).is_some_and(|b| !b.flows.is_empty());
        let terminal = d.place.kind == PlaceKind::Terminal;
        let stopped = d.stop;
        match operation {
            Operation::Load => {
                let cap = self.capacity(v);
                let measured = match (before, after, cap) {
                    (Some(b), Some(a), Some(c)) => Some((v, VolumeConfig::load_fraction(&c, b, a))),
                    _ => None,
                };
                let origin = Some(place.origin.clone());
                let products = place.products.clone();
                let hop = Hop {
                    vessel: v,
                    mmsi: e.mmsi,
                    kind: HopKind::Load,
                    t: e.end,
                    events: vec![id],
                };
                self.new_cargo(v, e.mmsi, e.end, origin, Some(id), products, measured, hop);
            }
            Operation::Unknown if terminal && stopped && !laden => {
                let origin = Some(place.origin.clone());
                let products = place.products.clone();
                let hop = Hop {
                    vessel: v,
                    mmsi: e.mmsi,
                    kind: HopKind::PossibleLoad,
                    t: e.end,
                    events: vec![id],
                };
                self.new_cargo(v, e.mmsi, e.end, origin, Some(id), products, None, hop);
            }
            Operation::Discharge if !terminal => {
                let share = self.unloaded_share(v, before, after);
                // A call at the place the vessel just discharged at, starting within
                // `repeat_discharge_hours` of that call's end, continues it (a call split by
                // an MMSI change or a gap in reception): the same discharge, not a second
                // cargo first seen laden.
                let continues = self.discharged.get(&v).is_some_and(|(p, end)| {
                    p == place_id
                        && ((e.start - end) as f64) <= self.config.repeat_discharge_hours * 3600.0
                });
                self.discharged.insert(v, (place_id.to_owned(), e.end));
                if !laden && continues {
                    return;
                }
                if !laden {
                    // Laden from a source not seen: a cargo of unknown origin.
                    let cap = self.capacity(v);
                    let measured = match (before, after, cap) {
                        (Some(b), Some(a), Some(c)) => {
                            Some((v, VolumeConfig::load_fraction(&c, b, a)))
                        }
                        _ => None,
                    };
                    let hop = Hop {
                        vessel: v,
                        mmsi: e.mmsi,
                        kind: HopKind::FirstSeenLaden,
                        t: e.start,
                        events: vec![id],
                    };
                    self.new_cargo(v, e.mmsi, e.start, None, None, Vec::new(), measured, hop);
                }
                let flows = self.take(v, if laden { share } else { 1.0 });
                let at = Discharge {
                    place: place_id.to_owned(),
                    name: place.name.clone(),
                    country: place.country.clone(),
                    t: e.end,
                    event: id,
                    by_draught: true,
                };
                self.discharge(flows, &at);
            }
            Operation::Unknown
                if !terminal
                    && stopped
                    && laden
                    && (e.end - e.start) as f64 >= self.config.unknown_discharge_hours * 3600.0 =>
            {
                let flows = self.take(v, 1.0);
                let at = Discharge {
                    place: place_id.to_owned(),
                    name: place.name.clone(),
                    country: place.country.clone(),
                    t: e.end,
                    event: id,
                    by_draught: false,
                };
                self.discharge(flows, &at);
            }
            _ => {}
        }
    }

    fn discharge(&mut self, flows: Vec<usize>, at: &Discharge) {
        for f in flows {
            if let Some(flow) = self.out.flows.get_mut(f) {
                flow.discharge = Some(at.clone());
            }
        }
    }

    /// The terminal or port of a port call: from the embedded places, or from the event's
    /// own `place` (ports added with `analyze --ports`).
    fn site(&self, at: &PlaceRef) -> Option<Site> {
        let place_id = at.id.as_str();
        if let Some(p) = self
            .places
            .index_of(place_id)
            .and_then(|i| self.places.get(i))
        {
            let country = if p.kind == PlaceKind::Terminal {
                if !self.config.cpc_is_kazakh && p.origin_country == "KZ" {
                    p.country.clone()
                } else {
                    p.origin_country.clone()
                }
            } else {
                p.country.clone()
            };
            return Some(Site {
                name: p.name.clone(),
                country: p.country.clone(),
                products: p.products.iter().map(|x| (*x).to_owned()).collect(),
                origin: Origin::seen(&p.id, &p.name, &country),
            });
        }
        let name = if at.name.is_empty() {
            place_id.to_owned()
        } else {
            at.name.clone()
        };
        let country = Some(at.country.as_str())
            .filter(|c| c.len() == 2)?
            .to_owned();
        Some(Site {
            origin: Origin::seen(place_id, &name, &country),
            name,
            country,
            products: Vec::new(),
        })
    }

    fn hand_over(
        &mut self,
        flows: Vec<usize>,
        to: VesselKey,
        mmsi: u32,
        kind: HopKind,
        t: i64,
        events: Vec<i64>,
    ) {
        for &f in &flows {
            if let Some(flow) = self.out.flows.get_mut(f) {
                flow.chain.push(Hop {
                    vessel: to,
                    mmsi,
                    kind,
                    t,
                    events: events.clone(),
                });
            }
        }
        let b = self.aboard.entry(to).or_default();
        b.flows.extend(flows);
        b.mmsi = mmsi;
    }

    fn encounter(&mut self, id: i64, e: &Event, d: &EncounterDetails) {
        if !d.sts_confirmed {
            return;
        }
        let Some(giver) = d.giver_mmsi else {
            return;
        };
        let Some(other) = e.other_mmsi else { return };
        let receiver = if giver == e.mmsi { other } else { e.mmsi };
        let draught = |m: u32| {
            d.draughts
                .iter()
                .find(|x| x.mmsi == m)
                .map_or((None, None), |x| (x.before_m, x.after_m))
        };
        let imo_of = |m: u32| if m == e.mmsi { e.imo } else { d.other_imo };
        let g = self.key(giver, imo_of(giver));
        let r = self.key(receiver, imo_of(receiver));
        let (gb, ga) = draught(giver);
        let laden = self.aboard.get(&g).is_some_and(|b| !b.flows.is_empty());
        if !laden {
            let cap = self.capacity(g);
            let measured = match (gb, ga, cap) {
                (Some(b), Some(a), Some(c)) => Some((g, VolumeConfig::load_fraction(&c, b, a))),
                _ => None,
            };
            let hop = Hop {
                vessel: g,
                mmsi: giver,
                kind: HopKind::FirstSeenLaden,
                t: e.start,
                events: vec![id],
            };
            self.new_cargo(g, giver, e.start, None, None, Vec::new(), measured, hop);
        }
        let share = if laden {
            self.unloaded_share(g, gb, ga)
        } else {
            1.0
        };
        let flows = self.take(g, share);
        self.hand_over(flows, r, receiver, HopKind::Sts, e.end, vec![id]);
    }

    fn loitering(&mut self, id: i64, e: &Event, d: &LoiteringDetails, gaps: &[Gap]) {
        if !d.possible_dark_sts {
            return;
        }
        let (Some(before), Some(after)) = (d.draught_before_m, d.draught_after_m) else {
            return;
        };
        let v = self.key(e.mmsi, e.imo);
        let centre = LatLon {
            lat: e.lat,
            lon: e.lon,
        };
        let window = (self.config.dark_sts_window_hours * 3600.0) as i64;
        let radius = self.config.dark_sts_radius_km * 1000.0;
        let receiving = after > before;
        // The partner: another vessel dark at the time, that could have sailed from where it
        // went dark to the loitering, stayed alongside, and sailed on to where it came back;
        // laden (when it gave) or empty (when it took) if its load is known. The one with the
        // shortest detour.
        let speed = self.config.dark_sts_max_speed_kn * 1852.0 / 3600.0;
        let alongside = self.config.dark_sts_min_hours * 3600.0;
        let mut best: Option<(bool, f64, &Gap)> = None;
        // The transfer ends when the loitering does: the partner was dark then and came back
        // on within the window after.
        let slack = 2 * 3600;
        for g in gaps.iter().filter(|g| {
            g.vessel != v
                && g.start <= e.end - alongside as i64
                && g.end >= e.end - slack
                && g.end <= e.end + window
        }) {
            let (d1, d2) = (haversine_m(g.off, centre), haversine_m(centre, g.on));
            if d1.max(d2) > radius || (d1 + d2) / speed + alongside > (g.end - g.start) as f64 {
                continue;
            }
            let fits = self
                .aboard
                .get(&g.vessel)
                .is_some_and(|b| !b.flows.is_empty())
                == receiving;
            let better = match best {
                None => true,
                Some((f, d, _)) => (fits, -(d1 + d2)) > (f, -d),
            };
            if better {
                best = Some((fits, d1 + d2, g));
            }
        }
        let partner = best.map(|(_, _, g)| g);
        if receiving {
            match partner {
                Some(g) => {
                    if self
                        .aboard
                        .get(&g.vessel)
                        .is_none_or(|b| b.flows.is_empty())
                    {
                        // Laden from a source not seen (before the data, or while dark).
                        let measured = self
                            .capacity(v)
                            .map(|c| (v, VolumeConfig::load_fraction(&c, before, after)));
                        let hop = Hop {
                            vessel: g.vessel,
                            mmsi: g.mmsi,
                            kind: HopKind::FirstSeenLaden,
                            t: g.start,
                            events: vec![g.id],
                        };
                        self.new_cargo(
                            g.vessel,
                            g.mmsi,
                            g.start,
                            None,
                            None,
                            Vec::new(),
                            measured,
                            hop,
                        );
                    }
                    let flows = self.take(g.vessel, 1.0);
                    self.hand_over(flows, v, e.mmsi, HopKind::DarkSts, e.end, vec![id, g.id]);
                }
                None => {
                    let cap = self.capacity(v);
                    let measured = cap.map(|c| (v, VolumeConfig::load_fraction(&c, before, after)));
                    let hop = Hop {
                        vessel: v,
                        mmsi: e.mmsi,
                        kind: HopKind::FirstSeenLaden,
                        t: e.end,
                        events: vec![id],
                    };
                    self.new_cargo(v, e.mmsi, e.end, None, None, Vec::new(), measured, hop);
                }
            }
        } else {
            let share = self.unloaded_share(v, Some(before), Some(after));
            let flows = self.take(v, share);
            match partner {
                Some(g) => {
                    self.hand_over(
                        flows,
                        g.vessel,
                        g.mmsi,
                        HopKind::DarkSts,
                        e.end,
                        vec![id, g.id],
                    );
                }
                None => {
                    for f in flows {
                        if let Some(flow) = self.out.flows.get_mut(f) {
                            flow.lost = true;
                        }
                    }
                }
            }
        }
    }
}
