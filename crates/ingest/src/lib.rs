//! Where AIS comes from: files (plain, gzip, zstd), stdin, a TCP feed
//! (reconnecting with backoff), a UDP listener, and decoded position files: CSV of any
//! usual layout (Danish Maritime Authority, NOAA MarineCadastre, portal exports) and
//! (Geo)Parquet, read by the same path.
//!
//! This crate does the I/O that the sans-IO decoder refuses to do. NMEA
//! inputs stream through [`shadowfleet_decode::Decoder`] in fixed-size chunks,
//! so memory does not grow with the input. CSV archives are already decoded;
//! their rows become the same [`Decoded`] messages (flagged `FROM_CSV`), so
//! every later stage sees one kind of record.

mod csv_archive;
pub mod csv_columns;
pub mod parquet_rows;
mod report;
mod sort;
mod source;

pub use csv_archive::{detect_csv, detect_csv_layout, CsvLayout, CsvReader, CsvRowError};
pub use report::{IngestError, SourceReport};
pub use source::{
    open_reader, read_source, read_source_counting, read_source_with, Backoff, Source,
};

pub use shadowfleet_decode::Decoded;
