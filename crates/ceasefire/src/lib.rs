//! The Black Sea maritime-ceasefire monitor (`docs/ceasefire.md`).
//!
//! [`Registry`] holds the places the monitor watches as data: ports and anchorages, gates as
//! lines, zones as polygons, the configurable "eastern Black Sea" line and the timeline of
//! regimes (the Grain Initiative, the Ukrainian corridor, the Riyadh arrangements).
//! [`monitor`] reads a store (the events, identities and screening matches of the analysis,
//! and the stored positions inside the registry's box, which it runs through the zone
//! detector for gate crossings and anchorage visits) and gives weekly metrics per place (ISO
//! weeks), each with its coverage, a confidence and the events behind it; per regime the
//! mean and interval of each metric; change points in daily departures; spoofing clusters;
//! and, for an incident file, the traffic change after each incident.

pub mod destination;
mod html;
mod metrics;
pub mod registry;
mod week;

pub use html::html;
pub use metrics::{
    incident_effects, monitor, read_incidents, ChangePoint, Cluster, Departure, Incident,
    IncidentEffect, Inputs, MonitorError, OccupiedCall, Options, RegimeSummary, Report, Row,
};
pub use registry::{PortGroup, Registry, RegistryError};
pub use week::{iso_week, week_start};
