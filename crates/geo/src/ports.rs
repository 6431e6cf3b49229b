//! Port points of the searoute network.

use crate::geodesy::LatLon;
use crate::geojson::{self, Geometry};
use crate::GeoDataError;

const SEAROUTE_PORTS: &[u8] = include_bytes!("../data/searoute_ports.geojson.gz");

/// A port point.
#[derive(Debug, Clone)]
pub struct Port {
    /// UN/LOCODE, e.g. `RUPRI`.
    pub locode: String,
    /// Port name.
    pub name: String,
    /// Position.
    pub position: LatLon,
}

/// The 3,962 port points shipped with searoute (Apache-2.0), in file order.
pub fn searoute_ports() -> Result<Vec<Port>, GeoDataError> {
    let file = "searoute_ports.geojson.gz";
    let fc = geojson::parse(file, SEAROUTE_PORTS)?;
    let mut out = Vec::with_capacity(fc.features.len());
    for (i, f) in fc.features.iter().enumerate() {
        let Some(Geometry::Point {
            coordinates: [lon, lat],
        }) = f.geometry
        else {
            return Err(GeoDataError::Format {
                file: file.to_owned(),
                reason: format!("feature {i}: expected a Point"),
            });
        };
        let text = |k: &str| {
            f.properties
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        };
        out.push(Port {
            locode: text("port"),
            name: text("name"),
            position: LatLon::new(lat, lon),
        });
    }
    Ok(out)
}
