//! Geography for shadowfleet.
//!
//! * [`LatLon`] and plain WGS84 geodesy on a sphere (haversine distance, bearings, offsets);
//! * [`Land`]: Natural Earth land polygons behind a grid index, answering "is this point on
//!   land", "does this straight segment touch land" exactly against the polygon edges, and
//!   "how far is the shore";
//! * [`SeaLanes`] and [`Router`]: the searoute maritime network, routed with Dijkstra, with every
//!   edge that crosses land repaired by a local search on a fine grid, so that a [`Route`] never
//!   crosses land except through a named canal.
//!
//! Lines between two points are straight in longitude/latitude (as GeoJSON draws them, RFC 7946
//! section 3.1.1); positions along them are interpolated the same way, so what is tested against
//! land is what a simulated ship sails.

mod geodesy;
mod geojson;
mod land;
mod lanes;
mod ports;

pub use geodesy::{
    bearing_deg, haversine_m, meridian_gap_m, offset_m, segments_cross, within_m, LatLon,
    EARTH_RADIUS_M, METRES_PER_NM,
};
pub use land::{Land, UniformBox};
pub use lanes::{sea_path, Route, RouteError, Router, SeaLanes};
pub use ports::{searoute_ports, Port};

/// Why a geographic data file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum GeoDataError {
    /// The file could not be read or decompressed.
    #[error("{file}: {source}")]
    Io {
        /// File name.
        file: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not the GeoJSON we expect.
    #[error("{file}: {reason}")]
    Format {
        /// File name.
        file: String,
        /// What was wrong, with the feature index where known.
        reason: String,
    },
}

/// Origin and licence of the data embedded in this crate (its `data/SOURCES.md`), for
/// outputs that must carry their sources (evidence packs).
pub const DATA_SOURCES: &str = include_str!("../data/SOURCES.md");
