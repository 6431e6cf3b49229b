//! Voyages and cargo flows, traced from the detected events.
//!
//! A cargo is created where a tanker loads (its draught rises at a terminal or port call), is
//! handed on at ship-to-ship transfers (an encounter confirmed by draught, or a "dark" STS: a
//! tanker whose draught rose while loitering in an STS area, matched to a laden tanker that was
//! dark nearby at the time), and ends where a ship's draught falls in a port of a country.
//! A cargo split between several ships becomes several [`Flow`]s, each with its share. Every
//! flow keeps the event ids it rests on and a confidence. Definitions, thresholds and the
//! volume model: `docs/voyages.md`. [`mod@hulls`] joins a ship's identities (MMSI, IMO, name,
//! flag) into one hull with each link's basis.

pub mod hulls;
mod origins;
mod trace;
pub mod volume;

pub use hulls::{hulls, Hull, HullLink, LinkBasis};
pub use origins::{infer_origins, RouteEvidence, Sighting};
pub use trace::{
    trace, vessel_keys, zombie_mmsis, Cargo, Discharge, Flow, Hop, HopKind, Origin, OriginShare,
    TraceConfig, Traced, VesselInfo, VesselKey,
};
pub use volume::{Capacity, TankerClass, Volume, VolumeConfig};
