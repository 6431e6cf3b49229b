//! The ground-truth file: NDJSON, one record per line, tagged by `record`.
//! Format `shadowfleet-truth`, version [`TRUTH_VERSION`]; documented in `docs/formats.md`.

use serde::{Deserialize, Serialize};

/// Version of the truth format; bumped on any incompatible change.
/// Version 2 adds the `artefacts` record and `interference` events; version 3 the `closure`
/// record, `gate_transit` and `queue` events and `service` vessels.
pub const TRUTH_VERSION: u32 = 3;

/// One line of the truth file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum TruthRecord {
    /// First line: what produced the file.
    Header(Header),
    /// An injected or planned event.
    Event(Event),
    /// A cargo and its chain of custody.
    Cargo(Cargo),
    /// A vessel with its identity history (written at the end).
    Vessel(Vessel),
    /// True volume discharged per destination country, month and origin (written at the end).
    Volume(Volume),
    /// What the receiver artefacts did (written at the end).
    Artefacts(Artefacts),
    /// A port closed for a while (a strike): nothing departed from it.
    Closure(Closure),
}

/// A port closure.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Closure {
    /// Port id (places table).
    pub port: String,
    /// RFC 3339.
    pub start: String,
    /// RFC 3339.
    pub end: String,
    /// What happened.
    pub note: String,
}

/// Counts of the receiver artefacts injected (see the `[ais.artefacts]` scenario section).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Artefacts {
    /// Position reports heard again late through a second station, stamped with their
    /// late arrival.
    pub late_relays: u64,
    /// Messages written without a receive time (stations that write none).
    pub untimed_messages: u64,
    /// Of which position reports.
    pub untimed_positions: u64,
    /// Position reports broadcast at a false position by area-wide interference.
    pub interfered_positions: u64,
}

/// File header.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    /// Always `shadowfleet-truth`.
    pub format: String,
    /// [`TRUTH_VERSION`].
    pub version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// First simulated instant, RFC 3339.
    pub start: String,
    /// End of the simulated period (exclusive), RFC 3339.
    pub end: String,
    /// Generator and version.
    pub generator: String,
}

/// An event. Times are RFC 3339 UTC; `lat`/`lon` are where it happened (for spoofing: the true
/// position; for a dark period: where the vessel went dark).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// Unique id, `E` + number.
    pub id: String,
    /// `dark`, `sts`, `loitering`, `port_call`, `spoofing` or `identity_change`.
    pub kind: String,
    /// Vessel (truth index).
    pub vessel: u32,
    /// MMSI the vessel broadcast when the event started.
    pub mmsi: u32,
    /// The other vessel (STS receiver; the vessel whose MMSI or IMO is taken).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_vessel: Option<u32>,
    /// MMSI of the other vessel at the time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_mmsi: Option<u32>,
    /// Start.
    pub start: String,
    /// End (equal to start for instantaneous events).
    pub end: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Kind-specific facts (see docs/formats.md).
    pub details: serde_json::Value,
}

/// A cargo: loaded once, discharged once, possibly moved between ships on the way.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cargo {
    /// Unique id, `C` + number.
    pub id: String,
    /// Loading terminal id (data/terminals.csv).
    pub terminal: String,
    /// Country of origin of the oil (ISO alpha-2; KZ for CPC Blend).
    pub origin_country: String,
    /// `crude`, `diesel` or `fuel_oil`.
    pub product: String,
    /// Tonnes.
    pub volume_t: f64,
    /// Barrels (tonnes times the product's barrels per tonne).
    pub volume_bbl: f64,
    /// Load completion time (may precede the simulated period).
    pub loaded: String,
    /// The loading port call event, when it lies in the simulated period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_event: Option<String>,
    /// The ships that carried it, in order, with the STS event that handed it on.
    pub chain: Vec<Custody>,
    /// Where it was discharged; absent while still at sea at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discharge: Option<Discharge>,
}

/// One link of a chain of custody.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Custody {
    /// Vessel.
    pub vessel: u32,
    /// The STS event that gave the cargo to this vessel (absent for the loading vessel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_sts: Option<String>,
}

/// Discharge of a cargo.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Discharge {
    /// Port id (data/ports.csv).
    pub port: String,
    /// Country (ISO alpha-2).
    pub country: String,
    /// Discharge completion time.
    pub time: String,
    /// The port call event.
    pub event: String,
}

/// A vessel.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Vessel {
    /// Truth index.
    pub vessel: u32,
    /// `shadow`, `receiver`, `mainstream`, `background` or `scrapped`.
    pub role: String,
    /// Whether it truly belongs to the shadow fleet.
    pub shadow: bool,
    /// On a (simulated) sanctions list.
    pub sanctioned: bool,
    /// Size class or ship kind.
    pub class: String,
    /// Deadweight, tonnes (0 for non-tankers).
    pub dwt: f64,
    /// Length overall, metres.
    pub length_m: f64,
    /// Beam, metres.
    pub beam_m: f64,
    /// Draught in ballast and laden, metres.
    pub draught_m: [f64; 2],
    /// Year built.
    pub build_year: u32,
    /// AIS class `A` or `B`.
    pub ais_class: String,
    /// Identity periods, oldest first.
    pub identities: Vec<Identity>,
    /// When it was broken up (it transmits nothing after).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrapped: Option<String>,
    /// Day a sanctioned vessel was designated (`YYYY-MM-DD`): most before the data start,
    /// some during it or after it (the published sanctions list carries it as the date of
    /// application). Absent for the others, and in truth files of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designated_on: Option<String>,
}

/// An identity period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Identity {
    /// Valid from (RFC 3339; the simulation start for the first).
    pub from: String,
    /// MMSI broadcast.
    pub mmsi: u32,
    /// IMO number broadcast (0: none).
    pub imo: u32,
    /// Name.
    pub name: String,
    /// Call sign.
    pub callsign: String,
    /// Flag (ISO alpha-2) of the registry; `??` for an MMSI whose MID is unallocated.
    pub flag: String,
    /// AIS ship type code.
    pub ship_type: u8,
}

/// True volume per country and month.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Volume {
    /// Destination country (ISO alpha-2).
    pub country: String,
    /// `YYYY-MM` of discharge completion.
    pub month: String,
    /// Origin country of the oil.
    pub origin_country: String,
    /// Cargoes discharged.
    pub cargoes: u32,
    /// Tonnes.
    pub volume_t: f64,
    /// Barrels.
    pub volume_bbl: f64,
    /// Of which delivered through at least one STS, barrels.
    pub via_sts_bbl: f64,
}

/// Reads a truth file (NDJSON) into records; errors name the line.
pub fn read_truth(text: &str) -> Result<Vec<TruthRecord>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}
