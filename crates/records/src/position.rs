//! Position reports.

use shadowfleet_model::LatLon;

/// One position report, normalised: the MMSI as broadcast, the receive time, the position and
/// what the ship said of its motion. What the track builder takes, the detectors read and the
/// store keeps (with its segment, [`TrackPosition`]).
#[derive(Debug, Clone, Copy, PartialEq)]
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
