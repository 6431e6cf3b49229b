//! The event every detector produces, as analysts, the store and the CLI see it.

use serde::{Deserialize, Serialize};
use shadowfleet_model::LatLon;
use utoipa::ToSchema;

use crate::{EventDetails, EventKind};

/// An event: what a detector found, about which vessel, when and where, with the kind's
/// details and the reports it rests on. Times are unix seconds (UTC); the position is WGS84
/// degrees (not a number for an identity change of a vessel never seen at a position).
///
/// In JSON the details' kind sits beside the common fields:
/// `{"mmsi": ..., "start": ..., "kind": "gap", "details": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
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
    #[serde(with = "nan_as_null")]
    pub lat: f64,
    /// Longitude.
    #[serde(with = "nan_as_null")]
    pub lon: f64,
    /// How sure the finding is, and why.
    #[serde(default)]
    pub confidence: Confidence,
    /// It begins at the vessel's first report in the data: it may have begun earlier.
    #[serde(default)]
    pub truncated_start: bool,
    /// It was still open at the vessel's last report in the data: it may go on.
    #[serde(default)]
    pub truncated_end: bool,
    /// Kind and kind-specific facts (see `docs/detectors/`).
    #[serde(flatten)]
    pub details: EventDetails,
}

/// How sure a finding is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceLevel {
    /// Weak support: noise is as likely (a tug's bad IMO, a gap where reception is unknown).
    Low,
    /// The usual evidence.
    #[default]
    Medium,
    /// Strong, independent support (draughts confirm a transfer, others were heard while
    /// the vessel was silent).
    High,
}

impl ConfidenceLevel {
    /// `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfidenceLevel::Low => "low",
            ConfidenceLevel::Medium => "medium",
            ConfidenceLevel::High => "high",
        }
    }

    /// The level named `s`.
    pub fn parse(s: &str) -> Option<ConfidenceLevel> {
        [
            ConfidenceLevel::Low,
            ConfidenceLevel::Medium,
            ConfidenceLevel::High,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }
}

/// A finding's confidence and the reasons behind it, in the spirit of Global Fishing
/// Watch's graded port visits: what supports it and what weakens it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Confidence {
    /// Level.
    pub level: ConfidenceLevel,
    /// Why, in words, strongest first.
    pub reasons: Vec<String>,
}

impl Confidence {
    /// A confidence of `level` for `reasons`.
    pub fn new(level: ConfidenceLevel, reasons: Vec<String>) -> Confidence {
        Confidence { level, reasons }
    }

    /// Low, for these reasons.
    pub fn low(reasons: Vec<String>) -> Confidence {
        Confidence::new(ConfidenceLevel::Low, reasons)
    }

    /// Medium, for these reasons.
    pub fn medium(reasons: Vec<String>) -> Confidence {
        Confidence::new(ConfidenceLevel::Medium, reasons)
    }

    /// High, for these reasons.
    pub fn high(reasons: Vec<String>) -> Confidence {
        Confidence::new(ConfidenceLevel::High, reasons)
    }
}

impl Event {
    /// The kind, from the details.
    pub fn kind(&self) -> EventKind {
        self.details.kind()
    }

    /// The bounding box `[west, east, south, north]` of where it happened (for a gap: where
    /// the vessel went silent and where it came back), when known.
    pub fn extent(&self) -> Option<[f64; 4]> {
        let p = self.position()?;
        let mut b = [p.lon, p.lon, p.lat, p.lat];
        if let EventDetails::Gap(g) = &self.details {
            if g.on_lat.is_finite() && g.on_lon.is_finite() {
                b = [
                    b[0].min(g.on_lon),
                    b[1].max(g.on_lon),
                    b[2].min(g.on_lat),
                    b[3].max(g.on_lat),
                ];
            }
        }
        Some(b)
    }

    /// Where it happened, when known.
    pub fn position(&self) -> Option<LatLon> {
        (self.lat.is_finite() && self.lon.is_finite()).then_some(LatLon {
            lat: self.lat,
            lon: self.lon,
        })
    }
}

/// One report an event rests on: MMSI, receive time, position (rounded to 6 decimals, about
/// 0.1 m). Reports are identified by (MMSI, receive time), which is how the store keys
/// positions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ReportRef {
    /// MMSI as broadcast.
    pub mmsi: u32,
    /// Receive time, unix seconds.
    pub t: i64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
}

impl ReportRef {
    /// The report of `mmsi` received at `t` at `pos`.
    pub fn new(mmsi: u32, t: i64, pos: LatLon) -> ReportRef {
        ReportRef {
            mmsi,
            t,
            lat: round6(pos.lat),
            lon: round6(pos.lon),
        }
    }
}

/// Rounds to 6 decimals (about 0.1 m), for output.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Rounds to 2 decimals, for output.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A coordinate that may be unknown: not a number in Rust, `null` in JSON.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}
