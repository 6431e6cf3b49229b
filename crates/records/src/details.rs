//! The details of each kind of event: one struct per kind, and the list of kinds. A new kind
//! is its struct here and one line in the [`event_kinds!`] list below (see
//! `docs/architecture.md`, "Adding a detector").
//!
//! Field names carry their units; every struct lists the reports it rests on as `evidence`
//! where the detector keeps them. Missing fields read as their defaults, so rows written by
//! older versions still load.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ChangeKind, PlaceRef, ReportRef};

event_kinds! {
    /// AIS silence of at least 6 h in one track segment.
    Gap(GapDetails) = "gap";
    /// Two tankers side by side, slow, for hours (ship-to-ship transfer when draughts agree).
    Encounter(EncounterDetails) = "encounter";
    /// Slow drifting or anchoring away from port.
    Loitering(LoiteringDetails) = "loitering";
    /// A visit to a terminal or port.
    PortCall(PortCallDetails) = "port_call";
    /// Broadcast positions that cannot be true.
    Spoofing(SpoofingDetails) = "spoofing";
    /// A change of name, flag, MMSI or IMO, or an identity that cannot be valid.
    IdentityChange(IdentityChangeDetails) = "identity_change";
    /// A visit to a configured area, or a crossing of a configured gate.
    Zone(ZoneDetails) = "zone";
    /// Many vessels displaced together to one place: area-wide GNSS interference.
    Interference(InterferenceDetails) = "interference";
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An AIS gap (`docs/detectors/gaps.md`). The event's position is where the vessel went
/// silent, `on_lat`/`on_lon` where it came back.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct GapDetails {
    /// Length, hours.
    pub hours: f64,
    /// Great-circle distance between the off and on positions, nautical miles.
    pub distance_nm: f64,
    /// Distance over time, knots.
    pub implied_speed_kn: f64,
    /// Distance from shore of the off position, nautical miles (capped at the search radius).
    pub off_shore_nm: f64,
    /// Meets Global Fishing Watch's intentional-disabling definition.
    pub intentional: bool,
    /// Intentional, or silent where others were heard: likely switched off.
    pub likely_dark: bool,
    /// Chance that a transmitting vessel stays unheard this long given the reception.
    pub unheard_probability: f64,
    /// Share of the gap's hours in which other vessels were heard in the off position's cell.
    pub reception_off: Option<f64>,
    /// The same for the on position's cell.
    pub reception_on: Option<f64>,
    /// The terminal or STS area the gap began (or ended) near.
    pub near: Option<PlaceRef>,
    /// Latitude where the vessel came back.
    pub on_lat: f64,
    /// Longitude where the vessel came back.
    pub on_lon: f64,
    /// The last report before and the first after.
    pub evidence: Vec<ReportRef>,
    /// When the gap overlaps an outage of the live feed that last heard the vessel
    /// (`shadowfleet watch`): which feed and when. The silence may be ours, not the ship's:
    /// not likely dark, low confidence, and no alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed_outage: Option<String>,
}

/// One vessel's draught around an encounter.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Draughts {
    /// MMSI.
    pub mmsi: u32,
    /// Draught reported before, metres.
    pub before_m: Option<f64>,
    /// Draught reported after (within the wait), metres.
    pub after_m: Option<f64>,
}

/// An encounter (`docs/detectors/encounters.md`); a ship-to-ship transfer when the draughts
/// confirm it. The event's vessel is the giver when confirmed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct EncounterDetails {
    /// Length, hours.
    pub hours: f64,
    /// Median speed of the two, knots.
    pub median_speed_kn: f64,
    /// Smallest distance between them, metres.
    pub min_distance_m: f64,
    /// Median distance, metres.
    pub median_distance_m: f64,
    /// Resampled instants (10 min apart) at which they were close.
    pub samples: u32,
    /// The known STS area it happened in.
    pub sts_area: Option<PlaceRef>,
    /// One draught fell and the other rose by at least the change threshold.
    pub sts_confirmed: bool,
    /// The vessel whose draught fell, when confirmed.
    pub giver_mmsi: Option<u32>,
    /// Both vessels' draughts before and after.
    pub draughts: Vec<Draughts>,
    /// The other vessel's IMO number, when broadcast.
    pub other_imo: Option<u32>,
}

/// What the draughts say a port call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// The draught rose by at least the change threshold.
    Load,
    /// It fell by at least the threshold.
    Discharge,
    /// Both known, no change.
    None,
    /// A draught before or after is missing.
    #[default]
    Unknown,
}

/// A port call (`docs/detectors/port_calls.md`). The event's position is the place's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PortCallDetails {
    /// The terminal or port.
    pub place: PlaceRef,
    /// Its UN/LOCODE, when known.
    pub locode: Option<String>,
    /// Global Fishing Watch's port-visit confidence, 1–4 (entry, stop, gap, exit seen).
    pub confidence: u8,
    /// The track was seen outside before it came in.
    pub entry: bool,
    /// The track was seen leaving.
    pub exit: bool,
    /// A stop was seen inside.
    pub stop: bool,
    /// A gap was seen inside.
    pub gap: bool,
    /// Draught before, metres.
    pub draught_before_m: Option<f64>,
    /// Draught after (within the wait), metres.
    pub draught_after_m: Option<f64>,
    /// What the draughts say it did.
    pub operation: Operation,
    /// The AIS destination the crew had set on arrival (the last one sent before the first
    /// report inside, else the first sent during the call); `""` is a blank destination,
    /// absent when no voyage report (type 5) was heard.
    pub destination: Option<String>,
    /// The last report inside at or below the stop speed, unix seconds: when the vessel left
    /// its berth or anchorage (`end` is the first report outside, minutes later).
    pub last_stop: Option<i64>,
    /// The first report inside and the first outside after.
    pub evidence: Vec<ReportRef>,
}

/// Loitering away from port (`docs/detectors/loitering.md`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoiteringDetails {
    /// Length, hours.
    pub hours: f64,
    /// Mean speed over ground, knots.
    pub mean_speed_kn: f64,
    /// The known STS area it happened in.
    pub sts_area: Option<PlaceRef>,
    /// The terminal or STS area it happened near.
    pub near: Option<PlaceRef>,
    /// Draught before, metres.
    pub draught_before_m: Option<f64>,
    /// Draught after (within the wait), metres.
    pub draught_after_m: Option<f64>,
    /// In an STS area, no encounter seen, and the draught changed: a transfer with a partner
    /// that had its AIS off.
    pub possible_dark_sts: bool,
    /// The first and last slow report.
    pub evidence: Vec<ReportRef>,
}

/// How broadcast positions are false (`docs/detectors/spoofing.md`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SpoofMethod {
    /// Positions well inland.
    #[default]
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

/// One spoofing finding within a spoofing event.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SpoofFinding {
    /// Signature.
    pub method: SpoofMethod,
    /// First false report, unix seconds.
    pub start: i64,
    /// Last false report, unix seconds.
    pub end: i64,
    /// Displacement (excursions), circle radius, or distance inland, km.
    pub size_km: f64,
    /// The last plausible report before, when known.
    pub before: Option<ReportRef>,
}

/// Spoofed positions: findings of one MMSI close in time (`docs/detectors/spoofing.md`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct SpoofingDetails {
    /// The findings' methods, sorted and joined with `+` (`circle+land`).
    pub method: String,
    /// Each finding.
    pub findings: Vec<SpoofFinding>,
    /// The first and last false report.
    pub evidence: Vec<ReportRef>,
    /// The false positions lie where an area-wide interference put several vessels at the
    /// same time (an `interference` event): a sign of jamming or spoofing of the area, not
    /// of this vessel's deceit. Such findings are low confidence.
    pub interference: bool,
}

/// An identity as an identity change shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct IdentityRef {
    /// MMSI.
    pub mmsi: u32,
    /// IMO number, when broadcast.
    pub imo: Option<u32>,
    /// Name.
    pub name: String,
    /// Call sign.
    pub callsign: String,
    /// Flag from the MID.
    pub flag: Option<String>,
    /// Ship and cargo type.
    pub ship_type: Option<u8>,
}

impl From<&crate::IdentityPeriod> for IdentityRef {
    fn from(i: &crate::IdentityPeriod) -> IdentityRef {
        IdentityRef {
            mmsi: i.mmsi,
            imo: i.imo,
            name: i.name.clone(),
            callsign: i.callsign.clone(),
            flag: i.flag.clone(),
            ship_type: i.ship_type,
        }
    }
}

/// An identity change (`docs/detectors/identity.md`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct IdentityChangeDetails {
    /// Which change.
    pub change: ChangeKind,
    /// The identity before (absent for a first sighting, e.g. an invalid MID).
    pub from: Option<IdentityRef>,
    /// The identity after.
    pub to: IdentityRef,
    /// The evidence in words.
    pub evidence: String,
}

/// Whether a zone is an area (visits) or a gate (crossings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ZoneShape {
    /// A polygon, or a circle around a place.
    #[default]
    Area,
    /// A line.
    Gate,
}

/// A configured zone, as events name it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ZoneRef {
    /// Id from the zones file (or the place's id).
    pub id: String,
    /// Name.
    pub name: String,
    /// Area or gate.
    pub shape: ZoneShape,
}

/// Which way a gate was crossed, relative to its line as drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateDirection {
    /// From the left of the line to its right.
    LeftToRight,
    /// From its right to its left.
    RightToLeft,
}

/// A visit to an area or a crossing of a gate (`docs/detectors/zone.md`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ZoneDetails {
    /// The zone.
    pub zone: ZoneRef,
    /// Seen outside just before: an observed entry (true for a crossing).
    pub entered: bool,
    /// Seen leaving (true for a crossing).
    pub exited: bool,
    /// First to last report inside, hours (0 for a crossing).
    pub hours: f64,
    /// Reports inside (0 for a crossing).
    pub reports: u32,
    /// For a crossing, which way.
    pub direction: Option<GateDirection>,
    /// First and last report inside and the first outside; for a crossing, the reports
    /// before and after the line.
    pub evidence: Vec<ReportRef>,
}

/// Area-wide GNSS interference (`docs/detectors/interference.md`): several vessels whose
/// broadcast positions jumped, at about the same time, to one place far from where they
/// were. The event's position is the centre of the vessels' last true positions (the area
/// affected); `broadcast_lat`/`broadcast_lon` where the false positions lie.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct InterferenceDetails {
    /// Distinct vessels displaced.
    pub vessel_count: u32,
    /// Centre of the false positions, degrees.
    pub broadcast_lat: f64,
    /// See [`Self::broadcast_lat`].
    pub broadcast_lon: f64,
    /// Largest distance of a vessel's first false position from that centre, km.
    pub broadcast_spread_km: f64,
    /// Largest distance of a vessel's last true position from the event's position, km.
    pub area_radius_km: f64,
    /// Mean displacement, km.
    pub mean_jump_km: f64,
    /// Each vessel (the first 64): when it was displaced and the reports that show it.
    pub vessels: Vec<InterferedVessel>,
}

/// One vessel caught by an interference.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct InterferedVessel {
    /// MMSI.
    pub mmsi: u32,
    /// First and last false report, unix seconds.
    pub start: i64,
    /// See [`Self::start`].
    pub end: i64,
    /// The last true report before the jump.
    pub before: ReportRef,
    /// The first false report.
    pub first_false: ReportRef,
}
