//! The small part of GeoJSON (RFC 7946) our reference files use.

use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct FeatureCollection {
    pub features: Vec<Feature>,
}

#[derive(Deserialize)]
pub(crate) struct Feature {
    pub geometry: Option<Geometry>,
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
pub(crate) enum Geometry {
    Point {
        coordinates: [f64; 2],
    },
    LineString {
        coordinates: Vec<[f64; 2]>,
    },
    MultiLineString {
        coordinates: Vec<Vec<[f64; 2]>>,
    },
    Polygon {
        coordinates: Vec<Vec<[f64; 2]>>,
    },
    MultiPolygon {
        coordinates: Vec<Vec<Vec<[f64; 2]>>>,
    },
}

/// Parses a GeoJSON feature collection, gzip-compressed or not.
pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<FeatureCollection, crate::GeoDataError> {
    let text;
    let raw = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).map_err(
            |source| crate::GeoDataError::Io {
                file: file.to_owned(),
                source,
            },
        )?;
        text = out;
        &text[..]
    } else {
        bytes
    };
    serde_json::from_slice(raw).map_err(|e| crate::GeoDataError::Format {
        file: file.to_owned(),
        reason: format!("not a GeoJSON FeatureCollection of 2-D geometries: {e}"),
    })
}
