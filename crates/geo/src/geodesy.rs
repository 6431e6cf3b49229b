//! Positions and spherical geodesy.

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// One international nautical mile, metres.
pub const METRES_PER_NM: f64 = 1852.0;

/// A WGS84 position in degrees; longitude in [-180, 180).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct LatLon {
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
}

impl LatLon {
    /// A position; the longitude is wrapped into [-180, 180).
    pub fn new(lat: f64, lon: f64) -> Self {
        LatLon {
            lat,
            lon: wrap_lon(lon),
        }
    }

    /// The point a fraction `f` of the way to `other`, straight in longitude/latitude.
    pub fn lerp(self, other: LatLon, f: f64) -> LatLon {
        LatLon {
            lat: self.lat + (other.lat - self.lat) * f,
            lon: self.lon + (other.lon - self.lon) * f,
        }
    }
}

fn wrap_lon(lon: f64) -> f64 {
    let w = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if w.is_finite() {
        w
    } else {
        lon
    }
}

/// Great-circle distance in metres.
pub fn haversine_m(a: LatLon, b: LatLon) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
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
    fn longitudes_wrap() {
        assert_eq!(LatLon::new(0.0, 190.0).lon, -170.0);
        assert_eq!(LatLon::new(0.0, -180.0).lon, -180.0);
    }
}
