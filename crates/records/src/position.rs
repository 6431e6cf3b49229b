//! Position reports.

use std::num::NonZeroU32;

use shadowfleet_model::LatLon;

/// A receiving station (tag block `s:`, the USCG `r` field, the `$PGHP` base station) by a
/// stable 32-bit hash of its name, so that positions stay small and the same station has the
/// same id in every run; the store keeps the names (`stations` table).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[repr(transparent)]
pub struct StationId(NonZeroU32);

impl StationId {
    /// The id of the station named `name` (FNV-1a of its bytes); `None` for an empty name.
    pub fn of(name: &str) -> Option<StationId> {
        StationId::of_bytes(name.as_bytes())
    }

    /// [`StationId::of`] the name's bytes.
    pub fn of_bytes(name: &[u8]) -> Option<StationId> {
        if name.is_empty() {
            return None;
        }
        let mut h: u32 = 0x811c_9dc5;
        for &b in name {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        NonZeroU32::new(h.max(1)).map(StationId)
    }

    /// The id as stored.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// An id read back from the store.
    pub fn from_stored(v: u32) -> Option<StationId> {
        NonZeroU32::new(v).map(StationId)
    }
}

/// One position report, normalised: the MMSI as broadcast, the receive time, the position and
/// what the ship said of its motion. What the track builder takes, the detectors read and the
/// store keeps (with its segment, [`TrackPosition`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    /// Source MMSI as broadcast.
    pub mmsi: u32,
    /// Receive time, unix seconds.
    pub t: i64,
    /// Position, WGS84 degrees.
    pub pos: LatLon,
    /// Speed over ground, knots, when available.
    pub sog_knots: Option<f32>,
    /// Course over ground, degrees, when available.
    pub cog_deg: Option<f32>,
    /// Navigational status (0–14), when given.
    pub nav_status: Option<u8>,
    /// The UTC second (0–59) of the fix, as the report gives it: a report heard again much
    /// later (a late relay) keeps its old second while its receive time moves on.
    pub second: Option<u8>,
    /// The station that received it, when the input says.
    pub station: Option<StationId>,
    /// Where in which input it was read.
    pub source: Provenance,
}

/// Where a report was read: the input (by its place among the inputs its run read) and the
/// byte offset and length of its sentence line(s) there (in the decompressed stream of a gzip
/// or zstd input; from the first sentence's line to the end of the last one's for a
/// multi-sentence message). A length of 0 says the reader could not tell (CSV and Parquet
/// exports, whose rows are read in time order, not file order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// Byte offset of the line's first byte.
    pub offset: u64,
    /// Bytes of the line(s), without the last line's terminator; 0 when unknown.
    pub length: u32,
    /// Index (from 0) of the input among those its run read, in order.
    pub input: u16,
}

impl Provenance {
    /// Whether the reader said where the report was.
    pub fn is_known(&self) -> bool {
        self.length > 0
    }
}

impl Position {
    /// Whether the report's UTC second agrees with its receive time within `tolerance_s`
    /// seconds (modulo a minute): `None` when the report gives no second.
    pub fn fresh(&self, tolerance_s: i64) -> Option<bool> {
        let s = i64::from(self.second?);
        let d = (self.t.rem_euclid(60) - s).rem_euclid(60);
        Some(d <= tolerance_s || 60 - d <= tolerance_s)
    }
}

/// A position placed in a track segment (a new segment after an impossible jump or a long
/// silence): one row of the store's position files.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPosition {
    /// The report.
    pub position: Position,
    /// Track segment id.
    pub segment: u64,
}
