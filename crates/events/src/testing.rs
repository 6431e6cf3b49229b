//! Hand-made tracks for the detectors' unit tests.

use shadowfleet_geo::LatLon;
use shadowfleet_tracks::{Position, TrackPoint};

/// 2026-01-01T00:00:00Z: test times count from here.
pub const T0: i64 = 1_767_225_600;

/// A track point of vessel `vessel` (MMSI `273_000_000 + vessel`), segment 1, `t` seconds
/// after [`T0`], at `pos`, reporting `sog` knots.
pub fn point(vessel: u32, t: i64, pos: LatLon, sog: f32) -> TrackPoint {
    TrackPoint {
        position: Position {
            mmsi: 273_000_000 + vessel,
            t: T0 + t,
            pos,
            sog_knots: Some(sog),
            cog_deg: None,
            nav_status: None,
            second: None,
            station: None,
        },
        vessel,
        segment: 1,
        previous: None,
    }
}

/// `n` points of `vessel` every `step` seconds from `from`, at `pos(i)` and `sog` knots.
pub fn every(
    vessel: u32,
    from: i64,
    step: i64,
    n: usize,
    sog: f32,
    pos: impl Fn(usize) -> LatLon,
) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| point(vessel, from + step * i as i64, pos(i), sog))
        .collect()
}

/// Points of several vessels merged into one stream in time order (as the track builder
/// releases them).
pub fn merged(tracks: &[Vec<TrackPoint>]) -> Vec<TrackPoint> {
    let mut all: Vec<TrackPoint> = tracks.iter().flatten().copied().collect();
    all.sort_by_key(|p| (p.position.t, p.vessel));
    all
}

/// The point `m` metres east of `p`.
pub fn east(p: LatLon, m: f64) -> LatLon {
    shadowfleet_geo::offset_m(p, 0.0, m)
}
