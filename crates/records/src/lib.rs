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
//! No algorithms, no I/O.

#[macro_use]
mod kinds;
mod details;
mod event;
mod identity;
mod place;
mod position;

pub use details::*;
pub use event::{round2, round6, Event, ReportRef};
pub use identity::{ChangeKind, IdentityPeriod};
pub use place::{PlaceKind, PlaceRef};
pub use position::{Position, TrackPosition};
pub use shadowfleet_model::LatLon;
