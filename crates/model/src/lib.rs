//! Plain data shared by every shadowfleet stage.
//!
//! This crate plays the role `geo-types` plays for `geo`: identifiers, positions, times and
//! units that every other crate can share without pulling in algorithms or I/O; and
//! [`cache`], the one hint the stages share for their per-vessel state.
//!
//! Units used throughout shadowfleet: positions are WGS84 degrees (`f64`), speeds
//! are knots, distances metres unless a name says otherwise, times are UTC.

pub mod cache;
mod ids;
mod position;
mod time;

pub use ids::{Imo, InvalidId, Mmsi};
pub use position::LatLon;
pub use time::{ParseTimeError, Timestamp};
