//! What reading an input yields: its counts, or why it could not be read. Shared by the
//! NMEA sources and the CSV archive reader.

use std::io;

use shadowfleet_decode::DecodeStats;

/// Errors reading an input.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input could not be opened or read.
    #[error("{source_name}: {error}")]
    Io {
        /// The input.
        source_name: String,
        /// What went wrong.
        #[source]
        error: io::Error,
    },
    /// A thread of the pipeline could not be started (the system's limit on threads).
    #[error("could not start a thread: {0}")]
    Thread(#[from] io::Error),
    /// A CSV archive whose header we do not know.
    #[error("{source_name}: {reason}")]
    Format {
        /// The input.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
}

/// What one input yielded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceReport {
    /// Decoder counts (for CSV inputs: rows as lines, rows rejected as `not_ais`).
    pub stats: DecodeStats,
    /// CSV rows rejected, with their reasons (first 100 kept).
    pub csv_errors: Vec<String>,
    /// Total CSV rows rejected.
    pub csv_rejected: u64,
}
