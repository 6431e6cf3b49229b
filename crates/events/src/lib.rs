//! Event detectors over vessel tracks and identities. Each detector is a small state machine
//! fed track points in event-time order ([`shadowfleet_tracks::TrackBuilder`]'s output);
//! [`Pipeline`] wires them to decoded AIS and turns their findings into [`Event`]s.
//! Definitions and thresholds, with their published sources: `docs/detectors/`.

pub mod encounters;
pub mod event;
pub mod gaps;
pub mod loitering;
pub mod pipeline;
pub mod port_calls;
mod slots;
pub mod spoofing;
pub mod threaded;

pub use event::{Event, EventKind};
pub use pipeline::{
    DetectStage, DetectorConfig, Input, Pipeline, PipelineOutput, PipelineStats, Step, TrackStage,
};
