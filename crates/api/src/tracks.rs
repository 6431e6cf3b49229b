//! Vessel tracks from the position store, as GeoJSON: one `LineString` per track segment,
//! with the time of each vertex in `properties.times`, simplified to a map zoom level
//! (Douglas–Peucker with a tolerance of about one screen pixel at that zoom).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use shadowfleet_model::Timestamp;
use shadowfleet_records::IdentityPeriod;
use shadowfleet_store::{PositionQuery, StoreError};
use shadowfleet_voyages::VesselKey;

/// Slack around an identity period when a vessel's positions are taken from an MMSI it used
/// (statics come every few minutes; positions come between them), seconds.
pub const PERIOD_SLACK_S: i64 = 3600;

/// Why a track could not be given.
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// More points than the cap even after simplification.
    #[error("{points} points is more than the {cap} a track answer may hold; ask for a lower zoom or a shorter time window")]
    TooLarge {
        /// Points the answer would hold.
        points: usize,
        /// The cap.
        cap: usize,
    },
}

/// Which positions of which MMSIs belong to a vessel: an IMO-keyed vessel owns an MMSI's
/// positions only within the periods its identity timeline shows it using that MMSI (padded
/// by [`PERIOD_SLACK_S`]); an MMSI-keyed vessel owns all of them.
pub fn ownership(
    key: VesselKey,
    mmsis: &[u32],
    identities: &[IdentityPeriod],
) -> Vec<(u32, i64, i64)> {
    match key {
        VesselKey::Mmsi(m) => vec![(m, i64::MIN, i64::MAX)],
        VesselKey::Imo(imo) => {
            let mut out: Vec<(u32, i64, i64)> = identities
                .iter()
                .filter(|i| i.imo == Some(imo) && mmsis.contains(&i.mmsi))
                .map(|i| {
                    (
                        i.mmsi,
                        i.first_seen - PERIOD_SLACK_S,
                        i.last_seen + PERIOD_SLACK_S,
                    )
                })
                .collect();
            out.sort_unstable();
            // Merge overlapping periods of one MMSI.
            let mut merged: Vec<(u32, i64, i64)> = Vec::new();
            for p in out {
                match merged.last_mut() {
                    Some(l) if l.0 == p.0 && p.1 <= l.2 => l.2 = l.2.max(p.2),
                    _ => merged.push(p),
                }
            }
            merged
        }
    }
}

/// Tolerance of the simplification at a zoom level, degrees: one pixel of a 512-pixel world.
pub fn tolerance_deg(zoom: u8) -> f64 {
    360.0 / (512.0 * 2f64.powi(i32::from(zoom)))
}

/// Indices of the vertices Douglas–Peucker keeps at `tolerance` (planar, degrees).
pub fn simplify(points: &[(f64, f64)], tolerance: f64) -> Vec<usize> {
    simplify_splitting(points, tolerance, &mut |_, _| false)
}

/// [`simplify`], with one more rule: a kept segment from vertex `a` to vertex `b` for which
/// `split(a, b)` holds is split further (at its farthest vertex, else its middle one), down to
/// consecutive vertices if need be (the map's flows: no kept segment may touch land).
pub fn simplify_splitting(
    points: &[(f64, f64)],
    tolerance: f64,
    split: &mut dyn FnMut(usize, usize) -> bool,
) -> Vec<usize> {
    let n = points.len();
    if n <= 2 || tolerance <= 0.0 {
        return (0..n).collect();
    }
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut stack = vec![(0usize, n - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (ax, ay) = points[a];
        let (bx, by) = points[b];
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let mut worst = (0.0, (a + b) / 2);
        for (i, &(px, py)) in points.iter().enumerate().take(b).skip(a + 1) {
            let d = if len2 == 0.0 {
                ((px - ax).powi(2) + (py - ay).powi(2)).sqrt()
            } else {
                let t = (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0);
                ((px - ax - t * dx).powi(2) + (py - ay - t * dy).powi(2)).sqrt()
            };
            if d > worst.0 {
                worst = (d, i);
            }
        }
        if worst.0 > tolerance || split(a, b) {
            keep[worst.1] = true;
            stack.push((a, worst.1));
            stack.push((worst.1, b));
        }
    }
    (0..n).filter(|&i| keep[i]).collect()
}

/// The query for the positions a vessel owns (see [`ownership`]) between `from` and `to`.
pub fn track_query(owned: &[(u32, i64, i64)], from: Option<i64>, to: Option<i64>) -> PositionQuery {
    let mut mmsis: Vec<u32> = owned.iter().map(|o| o.0).collect();
    mmsis.dedup();
    PositionQuery { mmsis, from, to }
}

/// The vessel's track between `from` and `to` (unix seconds) as a GeoJSON FeatureCollection,
/// simplified for `zoom` when given, at most `cap` vertices, read from `files` (those the
/// store lists for [`track_query`]; reading them needs no lock on the store).
pub fn track_geojson(
    files: &[PathBuf],
    key: VesselKey,
    owned: &[(u32, i64, i64)],
    from: Option<i64>,
    to: Option<i64>,
    zoom: Option<u8>,
    cap: usize,
) -> Result<Value, TrackError> {
    let query = track_query(owned, from, to);
    // (mmsi, segment) → (time, lon, lat) vertices.
    type Vertices = Vec<(i64, f64, f64)>;
    let mut segments: BTreeMap<(u32, u64), Vertices> = BTreeMap::new();
    let mut raw = 0usize;
    let mut keep = |p: shadowfleet_store::Position| {
        if owned
            .iter()
            .any(|&(m, lo, hi)| m == p.position.mmsi && p.position.t >= lo && p.position.t <= hi)
        {
            raw += 1;
            segments
                .entry((p.position.mmsi, p.segment))
                .or_default()
                .push((p.position.t, p.position.pos.lon, p.position.pos.lat));
        }
    };
    for f in files {
        shadowfleet_store::positions::read_file(f, &query, &mut keep)?;
    }
    let tolerance = zoom.map_or(0.0, tolerance_deg);
    let mut features = Vec::new();
    let mut vertices = 0usize;
    let mut span: Option<(i64, i64)> = None;
    for ((mmsi, segment), mut pts) in segments {
        pts.sort_by_key(|p| p.0);
        pts.dedup_by_key(|p| p.0);
        let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.1, p.2)).collect();
        let kept = simplify(&xy, tolerance);
        vertices += kept.len();
        if vertices > cap {
            return Err(TrackError::TooLarge {
                points: vertices,
                cap,
            });
        }
        let (first, last) = (pts[0].0, pts[pts.len() - 1].0);
        span = Some(span.map_or((first, last), |(a, b)| (a.min(first), b.max(last))));
        let coords: Vec<[f64; 2]> = kept.iter().map(|&i| [pts[i].1, pts[i].2]).collect();
        let times: Vec<i64> = kept.iter().map(|&i| pts[i].0).collect();
        let geometry = if coords.len() == 1 {
            json!({"type": "Point", "coordinates": coords[0]})
        } else {
            json!({"type": "LineString", "coordinates": coords})
        };
        features.push(json!({
            "type": "Feature",
            "geometry": geometry,
            "properties": {
                "mmsi": mmsi,
                "segment": segment,
                "start": Timestamp::from_unix_seconds(first).to_string(),
                "end": Timestamp::from_unix_seconds(last).to_string(),
                "points": pts.len(),
                "times": times,
            }
        }));
    }
    let time = |t: Option<i64>| t.map(|t| Timestamp::from_unix_seconds(t).to_string());
    Ok(json!({
        "type": "FeatureCollection",
        "vessel": crate::views::VesselRef::from(key),
        "from": time(from),
        "to": time(to),
        "zoom": zoom,
        "positions": raw,
        "vertices": vertices,
        "start": time(span.map(|s| s.0)),
        "end": time(span.map(|s| s.1)),
        "features": features,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplify_keeps_corners_and_drops_collinear_points() {
        let line: Vec<(f64, f64)> = (0..=10)
            .map(|i| (f64::from(i), 0.0))
            .chain((1..=10).map(|i| (10.0, f64::from(i))))
            .collect();
        let kept = simplify(&line, 0.01);
        assert_eq!(kept, vec![0, 10, 20]);
        assert_eq!(simplify(&line, 0.0).len(), line.len());
        // A bump smaller than the tolerance goes; a larger one stays.
        let bump = [(0.0, 0.0), (1.0, 0.005), (2.0, 0.0)];
        assert_eq!(simplify(&bump, 0.01), vec![0, 2]);
        assert_eq!(simplify(&bump, 0.001), vec![0, 1, 2]);
    }

    #[test]
    fn tolerance_halves_per_zoom_level() {
        assert!((tolerance_deg(0) - 0.703_125).abs() < 1e-12);
        assert!((tolerance_deg(1) * 2.0 - tolerance_deg(0)).abs() < 1e-12);
    }
}
