//! Event detectors over vessel tracks and identities. Each detector is a small state machine
//! fed track points in event-time order ([`shadowfleet_tracks::TrackBuilder`]'s output),
//! behind one trait ([`Detector`]) and registered in one list ([`detectors`]); [`Pipeline`]
//! wires them to decoded AIS and hands on the [`Event`]s they emit.
//! Definitions and thresholds, with their published sources: `docs/detectors/`.

pub mod detector;
pub mod detectors;
pub mod pipeline;
mod slots;
#[cfg(test)]
mod testing;

pub use detector::{Context, Detector, DetectorError, DueQueue, Partition, Reference, Register};
pub use detectors::{encounters, gaps, interference, loitering, port_calls, spoofing};
pub use detectors::{DetectorConfig, EnrichConfig};
pub use pipeline::{
    DetectStage, Input, Pipeline, PipelineOutput, PipelineStats, StageProfile, Step, TrackStage,
};
pub use shadowfleet_records::{Event, EventKind};
