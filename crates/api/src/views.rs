//! The records the CLI prints and the API answers: an event, a flow, a vessel profile, and
//! the API's pages. Each is a typed struct whose JSON is the public format (documented in
//! `docs/cli.md` and `docs/api.md`) and whose OpenAPI schema is generated from it, so the
//! description a client reads and the bytes it gets cannot drift apart.

use serde::Serialize;
use shadowfleet_model::Timestamp;
use shadowfleet_records::{Confidence, EventDetails, EventKind};
use shadowfleet_risk::{ExposureRow, ScreenMatch};
use shadowfleet_run::Analysis;
use shadowfleet_store::StoredEvent;
use shadowfleet_voyages::{Cargo, Flow, HopKind, Origin, VesselKey};
use utoipa::ToSchema;

/// RFC 3339 text of a unix time.
pub fn time(t: i64) -> String {
    Timestamp::from_unix_seconds(t).to_string()
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// A vessel key as JSON: `{"imo": n}` for a vessel known by its IMO number, `{"mmsi": n}`
/// for one that never broadcast one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum VesselRef {
    /// Known by its IMO number.
    Imo {
        /// IMO number.
        imo: u32,
    },
    /// Known by its MMSI only.
    Mmsi {
        /// MMSI.
        mmsi: u32,
    },
}

impl From<VesselKey> for VesselRef {
    fn from(k: VesselKey) -> VesselRef {
        match k {
            VesselKey::Imo(imo) => VesselRef::Imo { imo },
            VesselKey::Mmsi(mmsi) => VesselRef::Mmsi { mmsi },
        }
    }
}

/// An event as `shadowfleet events` prints it and `/api/events` answers it: the store's id,
/// the common fields with RFC 3339 times, and `kind` with its `details`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventView {
    /// Store id.
    pub id: i64,
    /// The vessel (for an encounter confirmed by draught: the giver).
    pub mmsi: u32,
    /// Its IMO number at the time, when broadcast.
    pub imo: Option<u32>,
    /// The other vessel, for encounters and identity changes.
    pub other_mmsi: Option<u32>,
    /// Start, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub start: String,
    /// End, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub end: String,
    /// Latitude, WGS84 degrees (null when never seen at a position).
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// How sure the finding is, and why.
    pub confidence: Confidence,
    /// It begins at the vessel's first report in the data: it may have begun earlier.
    pub truncated_start: bool,
    /// It was still open at the vessel's last report in the data: it may go on.
    pub truncated_end: bool,
    /// `kind` and its `details`.
    #[serde(flatten)]
    pub details: EventDetails,
}

impl EventView {
    /// The view of a stored event.
    pub fn of(s: &StoredEvent) -> EventView {
        let e = &s.event;
        EventView {
            id: s.id,
            mmsi: e.mmsi,
            imo: e.imo,
            other_mmsi: e.other_mmsi,
            start: time(e.start),
            end: time(e.end),
            lat: finite(e.lat),
            lon: finite(e.lon),
            confidence: e.confidence.clone(),
            truncated_start: e.truncated_start,
            truncated_end: e.truncated_end,
            details: e.details.clone(),
        }
    }
}

/// An event as an indicator refers to it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventRef {
    /// Store id.
    pub id: i64,
    /// Kind.
    pub kind: EventKind,
    /// The vessel.
    pub mmsi: u32,
    /// Start, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub start: String,
    /// End, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub end: String,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
}

/// Where a flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlowStatus {
    /// Discharged at a port.
    Discharged,
    /// The ship holding it was lost from view for good.
    Lost,
    /// Still aboard at the data's end.
    AtSea,
}

/// One ship that held a flow.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HopView {
    /// The vessel.
    pub vessel: VesselRef,
    /// Its MMSI then.
    pub mmsi: u32,
    /// How it came to hold the flow.
    pub kind: HopKind,
    /// When, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub time: String,
    /// Event ids behind the hop.
    pub events: Vec<i64>,
}

/// Where a flow was discharged.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DischargeView {
    /// Port id.
    pub place: String,
    /// Port name.
    pub name: String,
    /// Country, ISO 3166 alpha-2.
    pub country: String,
    /// When, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub time: String,
    /// The port call's event id.
    pub event: i64,
    /// The draught fell (false: a long stop of a laden tanker without draught data).
    pub by_draught: bool,
}

/// One cargo flow: a cargo, or the share of it that one chain of ships carried, with its
/// chain of custody, discharge, volume with its interval, confidence and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlowView {
    /// Flow id.
    pub id: usize,
    /// Cargo id.
    pub cargo: usize,
    /// Where the oil came from, when known or inferred.
    pub origin: Option<Origin>,
    /// Load completion (or first sight), RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub loaded: String,
    /// The loading port call's event id.
    pub load_event: Option<i64>,
    /// Products the terminal loads.
    pub products: Vec<String>,
    /// The ships that held it, first the loader.
    pub chain: Vec<HopView>,
    /// Where it was discharged.
    pub discharge: Option<DischargeView>,
    /// Where it stands.
    pub status: FlowStatus,
    /// Share of the cargo.
    pub share: f64,
    /// Ship-to-ship hand-offs.
    pub sts_hops: usize,
    /// Tonnes (point estimate).
    pub volume_t: f64,
    /// Barrels (point estimate).
    pub volume_bbl: f64,
    /// Low end of the volume interval, barrels.
    pub low_bbl: f64,
    /// High end, barrels.
    pub high_bbl: f64,
    /// Where the deadweight came from (`particulars`, a size class).
    pub capacity_source: String,
    /// Confidence in the chain and origin, 0–1.
    pub confidence: f64,
    /// Event ids behind it.
    pub evidence: Vec<i64>,
    /// `[lon, lat]` of its load, hand-offs and discharge (the API only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<[f64; 2]>>,
}

impl FlowView {
    /// The view of flow `f` of cargo `c`.
    pub fn of(f: &Flow, c: &Cargo) -> FlowView {
        let v = f.volume(c);
        let status = match (&f.discharge, f.lost) {
            (Some(_), _) => FlowStatus::Discharged,
            (None, true) => FlowStatus::Lost,
            (None, false) => FlowStatus::AtSea,
        };
        FlowView {
            id: f.id,
            cargo: c.id,
            origin: c.origin.clone(),
            loaded: time(c.loaded),
            load_event: c.load_event,
            products: c.products.clone(),
            chain: f
                .chain
                .iter()
                .map(|h| HopView {
                    vessel: h.vessel.into(),
                    mmsi: h.mmsi,
                    kind: h.kind,
                    time: time(h.t),
                    events: h.events.clone(),
                })
                .collect(),
            discharge: f.discharge.as_ref().map(|d| DischargeView {
                place: d.place.clone(),
                name: d.name.clone(),
                country: d.country.clone(),
                time: time(d.t),
                event: d.event,
                by_draught: d.by_draught,
            }),
            status,
            share: (f.share * 1e4).round() / 1e4,
            sts_hops: f.sts_hops(),
            volume_t: v.tonnes.round(),
            volume_bbl: v.barrels.round(),
            low_bbl: (v.barrels * (1.0 - v.spread)).max(0.0).round(),
            high_bbl: (v.barrels * (1.0 + v.spread)).round(),
            capacity_source: c.capacity_source.clone(),
            confidence: (f.confidence(c) * 100.0).round() / 100.0,
            evidence: f.evidence(c),
            path: None,
        }
    }
}

/// Where a flow went: the positions of its load, each hand-off and its discharge (the
/// events it rests on), consecutive repeats dropped. `pos` gives an event's [lon, lat].
pub fn flow_path(f: &Flow, c: &Cargo, pos: &dyn Fn(i64) -> Option<[f64; 2]>) -> Vec<[f64; 2]> {
    let stops = c
        .load_event
        .into_iter()
        .chain(
            f.chain
                .iter()
                .skip(1)
                .filter_map(|h| h.events.first().copied()),
        )
        .chain(f.discharge.as_ref().map(|d| d.event));
    let mut path: Vec<[f64; 2]> = Vec::new();
    for p in stops.filter_map(pos) {
        if path.last() != Some(&p) {
            path.push(p);
        }
    }
    path
}

/// The vessels a query (IMO number, MMSI or name) names, with the MMSIs behind them.
pub fn resolve(a: &Analysis, q: &str) -> Vec<(VesselKey, Vec<u32>)> {
    let q = q.trim();
    let digits = q.bytes().all(|b| b.is_ascii_digit());
    let mut keys: Vec<VesselKey> = Vec::new();
    for r in &a.risks {
        let hit = match (digits, q.len()) {
            (true, 7) => matches!(r.vessel, VesselKey::Imo(i) if i.to_string() == q),
            (true, 9) => r.mmsis.iter().any(|m| m.to_string() == q),
            _ => {
                let n = shadowfleet_risk::normalise_name(q);
                r.names
                    .iter()
                    .any(|x| shadowfleet_risk::normalise_name(x) == n)
            }
        };
        if hit {
            keys.push(r.vessel);
        }
    }
    if keys.is_empty() && digits && q.len() == 9 {
        // A vessel that is not a tanker, or not scored: its MMSI alone.
        if let Ok(m) = q.parse::<u32>() {
            if a.identities.iter().any(|i| i.mmsi == m) {
                keys.push(VesselKey::Mmsi(m));
            }
        }
    }
    keys.into_iter()
        .map(|k| {
            let mmsis = a.risks.iter().find(|r| r.vessel == k).map_or_else(
                || match k {
                    VesselKey::Mmsi(m) => vec![m],
                    VesselKey::Imo(i) => a
                        .identities
                        .iter()
                        .filter(|x| x.imo == Some(i))
                        .map(|x| x.mmsi)
                        .collect(),
                },
                |r| r.mmsis.clone(),
            );
            (k, mmsis)
        })
        .collect()
}

/// One identity period in a vessel's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IdentityView {
    /// First static report with it, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub from: String,
    /// Last, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub to: String,
    /// MMSI.
    pub mmsi: u32,
    /// IMO number.
    pub imo: Option<u32>,
    /// Name.
    pub name: String,
    /// Call sign.
    pub callsign: String,
    /// Flag from the MID.
    pub flag: Option<String>,
    /// Ship and cargo type.
    pub ship_type: Option<u8>,
    /// Length, metres.
    pub length_m: Option<u16>,
    /// Beam, metres.
    pub beam_m: Option<u16>,
}

/// One indicator of a vessel's risk score with the events behind it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IndicatorView {
    /// Name (see `docs/risk.md`).
    pub name: String,
    /// Weight, points.
    pub weight: f64,
    /// How strongly it is present, 0–1.
    pub strength: f64,
    /// Weight × strength, points.
    pub points: f64,
    /// What it found, in words.
    pub detail: String,
    /// The events behind it.
    pub events: Vec<EventRef>,
}

/// A vessel's risk score.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskView {
    /// Score, 0–100 (null for a vessel not scored: not a tanker).
    pub score: Option<f64>,
    /// At or above the shadow threshold.
    pub shadow: bool,
    /// Indicators present, strongest first.
    pub indicators: Vec<IndicatorView>,
}

/// A vessel's profile: identity timeline, list matches, risk with evidence, voyages.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Profile {
    /// The vessel.
    pub vessel: VesselRef,
    /// Its MMSIs.
    pub mmsis: Vec<u32>,
    /// Its names, oldest first (null when not scored).
    pub names: Option<Vec<String>>,
    /// Identity timeline.
    pub identities: Vec<IdentityView>,
    /// Sanctions and watch-list matches, each with why.
    pub matches: Vec<ScreenMatch>,
    /// Risk score with its evidence.
    pub risk: RiskView,
    /// Cargo flows it carried.
    pub voyages: Vec<FlowView>,
    /// The hull: every identity of the physical ship, each with the basis that links it (IMO,
    /// track continuity, list alias) and its validity interval (unix seconds).
    pub hull: Option<shadowfleet_voyages::Hull>,
}

/// A vessel's profile.
pub fn profile(a: &Analysis, key: VesselKey, mmsis: &[u32]) -> Profile {
    let imo = match key {
        VesselKey::Imo(i) => Some(i),
        VesselKey::Mmsi(_) => None,
    };
    let identities = a
        .identities
        .iter()
        .filter(|i| mmsis.contains(&i.mmsi) || (imo.is_some() && i.imo == imo))
        .map(|i| IdentityView {
            from: time(i.first_seen),
            to: time(i.last_seen),
            mmsi: i.mmsi,
            imo: i.imo,
            name: i.name.clone(),
            callsign: i.callsign.clone(),
            flag: i.flag.clone(),
            ship_type: i.ship_type,
            length_m: i.length_m,
            beam_m: i.beam_m,
        })
        .collect();
    let matches = a
        .matches
        .iter()
        .filter(|m| mmsis.contains(&m.mmsi) || (imo.is_some() && m.imo == imo))
        .cloned()
        .collect();
    let risk = a.risks.iter().find(|r| r.vessel == key);
    let event = |id: i64| {
        a.events.iter().find(|e| e.id == id).map(|e| EventRef {
            id,
            kind: e.event.kind(),
            mmsi: e.event.mmsi,
            start: time(e.event.start),
            end: time(e.event.end),
            lat: finite(e.event.lat),
            lon: finite(e.event.lon),
        })
    };
    let indicators = risk.map_or_else(Vec::new, |r| {
        r.indicators
            .iter()
            .map(|i| IndicatorView {
                name: i.name.to_owned(),
                weight: i.weight,
                strength: (i.strength * 100.0).round() / 100.0,
                points: (i.weight * i.strength * 10.0).round() / 10.0,
                detail: i.detail.clone(),
                events: i.events.iter().filter_map(|&id| event(id)).collect(),
            })
            .collect()
    });
    let voyages = a
        .traced
        .flows
        .iter()
        .filter(|f| f.share > 0.0 && f.chain.iter().any(|h| h.vessel == key))
        .filter_map(|f| a.traced.cargoes.get(f.cargo).map(|c| FlowView::of(f, c)))
        .collect();
    Profile {
        vessel: key.into(),
        mmsis: mmsis.to_vec(),
        names: risk.map(|r| r.names.clone()),
        identities,
        matches,
        risk: RiskView {
            score: risk.map(|r| r.score),
            shadow: a.is_shadow(key),
            indicators,
        },
        voyages,
        hull: mmsis.iter().find_map(|&m| a.hull_of(m)).cloned(),
    }
}

/// A vessel in a search result.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VesselSummary {
    /// The vessel.
    pub vessel: VesselRef,
    /// The id the vessel endpoints take: `imo:N` or `mmsi:N`.
    pub id: String,
    /// Its MMSIs.
    pub mmsis: Vec<u32>,
    /// Its names, oldest first.
    pub names: Vec<String>,
    /// Risk score, 0–100.
    pub score: f64,
    /// At or above the shadow threshold.
    pub shadow: bool,
}

/// What a published map or figure must say about its data: the span of the data, the lists
/// screened against, the sources and their licences (`/api/about`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct About {
    /// The shadowfleet version that made the answer.
    pub version: String,
    /// First and last reception of any vessel in the store (RFC 3339), when there is data.
    pub data_start: Option<String>,
    /// See `data_start`.
    pub data_end: Option<String>,
    /// The reference lists in the store.
    pub lists: Vec<AboutList>,
    /// Sources and licences of what the map draws.
    pub sources: Vec<String>,
    /// What the findings are and are not.
    pub statement: String,
}

/// One reference list in the store.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AboutList {
    /// Its name.
    pub name: String,
    /// What it says about the vessels on it.
    pub kind: shadowfleet_refdata::ListKind,
    /// Entries.
    pub entries: usize,
    /// When it was loaded into the store.
    pub loaded_at: String,
}

impl About {
    /// The about answer for `a` and the store's `lists`.
    pub fn of(a: &Analysis, lists: Vec<AboutList>) -> About {
        let start = a.identities.iter().map(|i| i.first_seen).min();
        let end = a.identities.iter().map(|i| i.last_seen).max();
        About {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_start: start.map(time),
            data_end: end.map(time),
            lists,
            sources: vec![
                "AIS: the inputs ingested into this store".into(),
                "Land and basemap: Natural Earth (public domain)".into(),
                "Sea lanes: searoute / Eurostat SeaRoute (Apache-2.0)".into(),
                "Hexagonal cells: H3 (Uber, Apache-2.0) via h3o".into(),
                "Map rendering: MapLibre GL JS (BSD-3-Clause)".into(),
            ],
            statement: "Analytical findings from AIS, not legal determinations.".into(),
        }
    }
}

/// A page of vessels.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VesselPage {
    /// Matches in all.
    pub total: usize,
    /// First match on this page.
    pub offset: usize,
    /// Page size asked.
    pub limit: usize,
    /// The page.
    pub vessels: Vec<VesselSummary>,
}

/// A page of events.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventPage {
    /// Matches in all.
    pub total: usize,
    /// First match on this page.
    pub offset: usize,
    /// Page size asked.
    pub limit: usize,
    /// The page.
    pub events: Vec<EventView>,
}

/// A page of flows.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlowPage {
    /// Matches in all.
    pub total: usize,
    /// First match on this page.
    pub offset: usize,
    /// Page size asked.
    pub limit: usize,
    /// The page, each with its `path`.
    pub flows: Vec<FlowView>,
}

/// The exposure table.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExposureAnswer {
    /// Origin countries counted.
    pub origins: Vec<String>,
    /// First month asked, `YYYY-MM`.
    pub from: Option<String>,
    /// Last month asked.
    pub to: Option<String>,
    /// One row per destination country and month.
    pub rows: Vec<ExposureRow>,
}

/// The JSON of an event (for output formats built from it: CSV, GeoJSON properties).
pub fn event_json(s: &StoredEvent) -> serde_json::Value {
    serde_json::to_value(EventView::of(s)).unwrap_or(serde_json::Value::Null)
}

/// The JSON of a flow.
pub fn flow_json(f: &Flow, c: &Cargo) -> serde_json::Value {
    serde_json::to_value(FlowView::of(f, c)).unwrap_or(serde_json::Value::Null)
}

/// The JSON of a vessel key.
pub fn vessel_json(k: VesselKey) -> serde_json::Value {
    serde_json::to_value(VesselRef::from(k)).unwrap_or(serde_json::Value::Null)
}
