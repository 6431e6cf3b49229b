//! The event every detector produces, as analysts, the store and the CLI see it.

use serde::{Deserialize, Serialize};

/// Kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// AIS silence of at least 6 h in one track segment.
    Gap,
    /// Two tankers side by side, slow, for hours (ship-to-ship transfer when draughts agree).
    Encounter,
    /// Slow drifting or anchoring away from port.
    Loitering,
    /// A visit to a terminal or port.
    PortCall,
    /// Broadcast positions that cannot be true.
    Spoofing,
    /// A change of name, flag, MMSI or IMO, or an identity that cannot be valid.
    IdentityChange,
}

impl EventKind {
    /// Every kind, in a fixed order.
    pub const ALL: [EventKind; 6] = [
        EventKind::Gap,
        EventKind::Encounter,
        EventKind::Loitering,
        EventKind::PortCall,
        EventKind::Spoofing,
        EventKind::IdentityChange,
    ];

    /// `gap`, `encounter`, `loitering`, `port_call`, `spoofing`, `identity_change`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Gap => "gap",
            EventKind::Encounter => "encounter",
            EventKind::Loitering => "loitering",
            EventKind::PortCall => "port_call",
            EventKind::Spoofing => "spoofing",
            EventKind::IdentityChange => "identity_change",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event. Times are unix seconds (UTC); the position is WGS84 degrees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Kind.
    pub kind: EventKind,
    /// The vessel (for an encounter confirmed by draught: the giver).
    pub mmsi: u32,
    /// Its IMO number at the time, when broadcast.
    pub imo: Option<u32>,
    /// The other vessel, for encounters and identity changes.
    pub other_mmsi: Option<u32>,
    /// Start, unix seconds.
    pub start: i64,
    /// End, unix seconds (equal to start for instantaneous events).
    pub end: i64,
    /// Latitude of where it happened.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Kind-specific facts and the evidence (see `docs/detectors/`).
    pub details: serde_json::Value,
}

/// One report an event rests on: MMSI, receive time, position. Reports are identified by
/// (MMSI, receive time), which is how the store keys positions.
pub fn evidence(mmsi: u32, t: i64, lat: f64, lon: f64) -> serde_json::Value {
    serde_json::json!({"mmsi": mmsi, "t": t, "lat": round6(lat), "lon": round6(lon)})
}

/// Rounds to 6 decimals (about 0.1 m), for output.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Rounds to 2 decimals, for output.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
