//! Positions and spherical geodesy.

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// One international nautical mile, metres.
pub const METRES_PER_NM: f64 = 1852.0;

pub use shadowfleet_model::LatLon;

/// Great-circle distance in metres.
pub fn haversine_m(a: LatLon, b: LatLon) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    if dp.abs() < SHORT_RAD && dl.abs() < SHORT_RAD {
        // The short hops of tracks (nearly every call): the same formula, with the sines of
        // the half-differences and the arcsine by their series (exact to double precision at
        // these angles) and cos p1 · cos p2 = cos² pm − sin² (dp/2), so one cosine instead of
        // four trigonometric calls and an arcsine.
        let s1 = sin_small(dp / 2.0);
        let s2 = sin_small(dl / 2.0);
        let cm = ((p1 + p2) / 2.0).cos();
        let h = s1 * s1 + (cm * cm - s1 * s1) * s2 * s2;
        return 2.0 * EARTH_RADIUS_M * asin_small(h.max(0.0).sqrt());
    }
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// A lower bound of [`haversine_m`]: the distance along a meridian between the two
/// latitudes, metres (no geodesic between them is shorter).
pub fn meridian_gap_m(a: LatLon, b: LatLon) -> f64 {
    EARTH_RADIUS_M * (a.lat - b.lat).abs().to_radians()
}

/// Whether [`haversine_m`]`(a, b) <= d_m`, given the cosine of `b`'s latitude (or any upper
/// bound of it, such as 1, at the price of a looser bound): decided by
/// the meridian gap (a lower bound) or by the path along the meridian and then `b`'s
/// parallel (an upper bound) when either settles it, by the great-circle distance otherwise.
pub fn within_m(a: LatLon, b: LatLon, cos_b_lat: f64, d_m: f64) -> bool {
    let gap = meridian_gap_m(a, b);
    if gap > d_m {
        return false;
    }
    let mut dl = (a.lon - b.lon).abs();
    if dl > 180.0 {
        dl = 360.0 - dl;
    }
    if gap + EARTH_RADIUS_M * cos_b_lat.abs() * dl.to_radians() <= d_m {
        return true;
    }
    haversine_m(a, b) <= d_m
}

/// Latitude and longitude differences below which [`haversine_m`] takes its series path
/// (about 5.7°).
const SHORT_RAD: f64 = 0.1;

/// `sin x` for |x| ≤ 0.05 (Taylor series to x⁹; the next term is below 1e-20 relative).
#[inline]
fn sin_small(x: f64) -> f64 {
    let x2 = x * x;
    x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0))))
}

/// `asin y` for 0 ≤ y ≤ 0.071 (series to y¹³; the next term is below 1e-17 relative).
#[inline]
fn asin_small(y: f64) -> f64 {
    let y2 = y * y;
    y * (1.0
        + y2 * (1.0 / 6.0
            + y2 * (3.0 / 40.0
                + y2 * (5.0 / 112.0
                    + y2 * (35.0 / 1152.0 + y2 * (63.0 / 2816.0 + y2 * (231.0 / 13312.0)))))))
}

/// Initial great-circle bearing from `a` to `b`, degrees clockwise from north in [0, 360).
pub fn bearing_deg(a: LatLon, b: LatLon) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dl = (b.lon - a.lon).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    y.atan2(x).to_degrees().rem_euclid(360.0)
}

/// The point `north_m` metres north and `east_m` metres east of `p` (local flat approximation,
/// accurate to well under 1 % for offsets of a few hundred kilometres away from the poles).
pub fn offset_m(p: LatLon, north_m: f64, east_m: f64) -> LatLon {
    let dlat = (north_m / EARTH_RADIUS_M).to_degrees();
    let coslat = p.lat.to_radians().cos().max(1e-6);
    let dlon = (east_m / (EARTH_RADIUS_M * coslat)).to_degrees();
    LatLon::new(p.lat + dlat, p.lon + dlon)
}

/// Where segment `a → b` meets segment `c → d`, planar in longitude/latitude (as GeoJSON
/// draws lines): the fraction along `a → b`, and whether `a` lies on the left of `c → d`
/// (a step from left to right). `None` when they do not meet or are parallel.
pub fn segments_cross(a: LatLon, b: LatLon, c: LatLon, d: LatLon) -> Option<(f64, bool)> {
    let cross = |ux: f64, uy: f64, vx: f64, vy: f64| ux * vy - uy * vx;
    let (rx, ry) = (b.lon - a.lon, b.lat - a.lat);
    let (sx, sy) = (d.lon - c.lon, d.lat - c.lat);
    let denom = cross(rx, ry, sx, sy);
    if denom == 0.0 {
        return None;
    }
    let (qx, qy) = (c.lon - a.lon, c.lat - a.lat);
    let t = cross(qx, qy, sx, sy) / denom;
    let u = cross(qx, qy, rx, ry) / denom;
    if !(0.0..=1.0).contains(&t) || !(0.0..=1.0).contains(&u) {
        return None;
    }
    // Left of c → d when the cross product of the line's direction and (a − c) is positive.
    Some((t, cross(sx, sy, a.lon - c.lon, a.lat - c.lat) > 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude_is_sixty_nautical_miles() {
        let d = haversine_m(LatLon::new(0.0, 0.0), LatLon::new(1.0, 0.0));
        assert!((d / METRES_PER_NM - 60.04).abs() < 0.05, "{d}");
    }

    #[test]
    fn bearings_point_the_right_way() {
        let o = LatLon::new(50.0, 10.0);
        assert!((bearing_deg(o, LatLon::new(51.0, 10.0)) - 0.0).abs() < 1e-9);
        assert!((bearing_deg(o, LatLon::new(50.0, 11.0)) - 89.6).abs() < 0.1);
        assert!((bearing_deg(o, LatLon::new(49.0, 10.0)) - 180.0).abs() < 1e-9);
    }

    #[test]
    fn offsets_round_trip_through_haversine() {
        let p = LatLon::new(60.0, 28.0);
        let q = offset_m(p, 3000.0, 4000.0);
        assert!((haversine_m(p, q) - 5000.0).abs() < 5.0);
    }

    #[test]
    fn the_series_path_agrees_with_the_general_formula() {
        let general = |a: LatLon, b: LatLon| {
            let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
            let dl = (b.lon - a.lon).to_radians();
            let h =
                ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
            2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
        };
        // A fixed pseudo-random walk over the globe and over hop sizes from centimetres to
        // the edge of the series path.
        let mut rng = shadowfleet_testkit::Xorshift::new(0x2545_f491_4f6c_dd1d);
        let mut next = || rng.unit();
        for _ in 0..200_000 {
            let a = LatLon::new(next() * 178.0 - 89.0, next() * 360.0 - 180.0);
            let scale = 10f64.powf(-9.0 + 8.0 * next());
            let b = LatLon::new(
                (a.lat + (next() - 0.5) * 11.0 * scale).clamp(-90.0, 90.0),
                a.lon + (next() - 0.5) * 11.0 * scale,
            );
            let (fast, slow) = (haversine_m(a, b), general(a, b));
            assert!(
                (fast - slow).abs() <= 1e-12 * slow.max(1.0),
                "{a:?} {b:?}: {fast} vs {slow}"
            );
        }
    }

    #[test]
    fn within_agrees_with_the_distance() {
        let mut rng = shadowfleet_testkit::Xorshift::new(0x1234_5678_9abc_def1);
        let mut next = || rng.unit();
        for _ in 0..100_000 {
            let b = LatLon::new(next() * 170.0 - 85.0, next() * 360.0 - 180.0);
            let a = LatLon::new(
                (b.lat + (next() - 0.5) * 0.2).clamp(-90.0, 90.0),
                b.lon + (next() - 0.5) * 0.4,
            );
            let d = next() * 20_000.0;
            let cos_b = b.lat.to_radians().cos();
            assert_eq!(
                within_m(a, b, cos_b, d),
                haversine_m(a, b) <= d,
                "{a:?} {b:?} {d}"
            );
            assert!(meridian_gap_m(a, b) <= haversine_m(a, b) * (1.0 + 1e-12));
        }
    }

    #[test]
    fn longitudes_wrap() {
        assert_eq!(LatLon::new(0.0, 190.0).lon, -170.0);
        assert_eq!(LatLon::new(0.0, -180.0).lon, -180.0);
    }

    #[test]
    fn a_step_across_a_line_and_its_side() {
        // A west-to-east line; a step from north to south starts on its left.
        let (c, d) = (LatLon::new(41.0, 29.0), LatLon::new(41.0, 30.0));
        let (f, from_left) =
            segments_cross(LatLon::new(41.5, 29.5), LatLon::new(40.5, 29.5), c, d).unwrap();
        assert!((f - 0.5).abs() < 1e-12 && from_left);
        let (_, from_left) =
            segments_cross(LatLon::new(40.5, 29.5), LatLon::new(41.5, 29.5), c, d).unwrap();
        assert!(!from_left);
        assert!(segments_cross(LatLon::new(41.5, 31.0), LatLon::new(40.5, 31.0), c, d).is_none());
    }
}
