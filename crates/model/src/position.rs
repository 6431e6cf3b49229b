//! WGS84 positions.

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
