//! Decoding and encoding AIS: NMEA 0183 `!xxVDM`/`!xxVDO` sentences, with NMEA
//! 4.10 tag blocks, USCG/NAIS trailing fields and Gatehouse `$PGHP` headers,
//! into typed messages of types 1–27, and back.
//!
//! The [`Decoder`] is sans-IO: push bytes or lines, receive [`Decoded`]
//! messages and [`Rejection`]s through a [`Sink`]. It allocates nothing per
//! message and every piece of state it keeps is bounded. Reading files and
//! sockets is the `shadowfleet-ingest` crate's job.
//!
//! Messages keep gpsd's field names and raw units (the AIVDM documentation at
//! <https://gpsd.gitlab.io/gpsd/AIVDM.html> is the reference). The normalised,
//! scaled view with "not available" sentinels mapped to `None` is
//! [`VesselPosition`] and [`VesselStatic`]. Units: degrees, knots, metres.
//!
//! Output formats live here too, because the oracle tests need them: gpsd's
//! `gpsdecode -u -c` text ([`gpsd::CsvWriter`]) and gpsd-style JSON
//! ([`gpsd::write_json`]).

pub mod bits;
mod decoder;
mod encoder;
pub mod gpsd;
pub mod messages;
mod records;
pub mod sentence;
mod swar;
pub mod tag_block;
mod text;

pub use decoder::{
    DecodeStats, Decoded, Decoder, DecoderConfig, Flags, FnSink, Meta, RejectReason, Rejection,
    Sink,
};
pub use encoder::{encode_nmea, EncodeOptions};
pub use messages::{AisMessage, Body, Header};
pub use records::{ReportClass, VesselPosition, VesselStatic};
pub use text::AisText;
