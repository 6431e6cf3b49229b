//! The run layer: what every command, the HTTP API, the tests and the benches call, so that
//! what is measured is what `shadowfleet` runs.
//!
//! * [`mod@ingest`]: AIS inputs → decode → tracks and identities → every detector → the store
//!   (events, identity periods, positions), as one run (`shadowfleet analyze`,
//!   `POST /api/ingest`);
//! * [`analysis`]: a store's events, identities and reference lists → screening, the cargo
//!   tracer, risk scores, inferred origins and the exposure (`screen`, `vessel`, `flows`,
//!   `exposure`, `demo`, `serve`, `eval`);
//! * [`backtest`]: the risk score ranked month by month from data before each designation
//!   month, against the designations that followed (`backtest`);
//! * [`threaded`]: the pipeline on several threads with bounded, recycled batches between
//!   them;
//! * [`cpu`]: the CPU time each stage (thread) of a run used;
//! * [`watch`]: live feeds into the store in checkpoints, with alert rules (`shadowfleet
//!   watch`).

pub mod analysis;
pub mod backtest;
pub mod config;
pub mod cpu;
pub mod evidence;
pub mod ingest;
pub mod lists;
pub mod threaded;
pub mod watch;

pub use analysis::{Analysis, AnalysisConfig};
pub use ingest::{ingest, IngestInput, IngestOptions, IngestReport};
pub use shadowfleet_events::DetectorConfig;
