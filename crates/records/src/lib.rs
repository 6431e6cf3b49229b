//! The records that flow between shadowfleet's stages, at the bottom of the workspace so that
//! every stage can share them without depending on the stage that made them (the role
//! `arrow-schema` plays for arrow-rs):
//!
//! * [`Position`]: one position report as the tracks, the detectors and the store see it;
//!   [`TrackPosition`]: one placed in a track segment, as stored;
//! * [`Event`]: what a detector found, with typed [`EventDetails`] (one struct per
//!   [`EventKind`]) and the reports it rests on ([`ReportRef`]);
//! * [`IdentityPeriod`]: one identity of an MMSI over its validity period, and the kinds of
//!   identity change ([`ChangeKind`]).
//!
//! Units are in field names (`sog_knots`, `draught_m`, `distance_nm`, `hours`); times are unix
//! seconds UTC, positions WGS84 degrees. The JSON of each record is its public format (the
//! store's `details` column, the CLI's NDJSON and the API), described in `docs/formats.md`.
//! [`state`] is how a stage writes its working state, so that a later run continues it.
//! No algorithms, no I/O.

#[macro_use]
mod kinds;
mod details;
mod event;
mod identity;
mod place;
mod position;
mod run;
pub mod state;

pub use details::*;
pub use event::{round2, round6, Confidence, ConfidenceLevel, Event, ReportRef};
pub use identity::{ChangeKind, IdentityPeriod};
pub use place::{PlaceKind, PlaceRef};
pub use position::{Position, Provenance, StationId, TrackPosition};
pub use run::DropCounts;
pub use shadowfleet_model::LatLon;

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn kind_names_agree_in_rust_json_and_the_details_tag() {
        for k in EventKind::ALL {
            let json = serde_json::to_value(k).expect("kind");
            assert_eq!(json.as_str(), Some(k.as_str()));
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        let e = Event {
            mmsi: 273_000_001,
            imo: None,
            other_mmsi: None,
            start: 1,
            end: 2,
            lat: f64::NAN,
            lon: 20.0,
            confidence: Confidence::high(vec!["a reason".into()]),
            truncated_start: false,
            truncated_end: true,
            details: GapDetails::default().into(),
        };
        let json = serde_json::to_value(&e).expect("event");
        assert_eq!(json["kind"], "gap");
        assert!(json["details"]["hours"].is_number());
        assert!(json["lat"].is_null());
        let back: Event = serde_json::from_value(json).expect("round trip");
        assert_eq!(back.kind(), EventKind::Gap);
        assert!(back.lat.is_nan());
        assert_eq!(back.details, e.details);
    }
}
