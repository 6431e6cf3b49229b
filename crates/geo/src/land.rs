//! A land mask: polygon edges in a regular grid, with the inside/outside state of every cell
//! centre precomputed, so that a point test only looks at the edges of one cell.

use crate::geodesy::LatLon;
use crate::geojson::{self, Geometry};
use crate::GeoDataError;

/// Natural Earth 1:10m land polygons (public domain), gzip-compressed GeoJSON.
const NATURAL_EARTH_10M_LAND: &[u8] = include_bytes!("../data/ne_10m_land.geojson.gz");

/// Grid cell size in degrees. At 1:10m the busiest cell holds a few hundred edges.
const CELL_DEG: f64 = 0.25;
/// Cells with more edges than this are split into [`SUB`] × [`SUB`] sub-cells with their own
/// edge lists and centre states, so that a point test on an intricate coast (a port, an
/// archipelago) looks at a few edges, not hundreds.
const DENSE_EDGES: usize = 16;
/// Sub-cells per side of a split cell.
const SUB: usize = 8;
/// Marks a cell that is not split.
const NOT_SPLIT: u32 = u32::MAX;

/// A longitude/latitude box that is all land or all sea.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UniformBox {
    /// West and east edges, degrees (west included, east not).
    pub lon: (f64, f64),
    /// South and north edges, degrees (south included, north not).
    pub lat: (f64, f64),
    /// Whether the box is land.
    pub land: bool,
}

impl UniformBox {
    /// Whether `p` is in the box.
    pub fn holds(&self, p: LatLon) -> bool {
        p.lon >= self.lon.0 && p.lon < self.lon.1 && p.lat >= self.lat.0 && p.lat < self.lat.1
    }
}

/// Land polygons with exact point-in-land and segment-touches-land tests.
///
/// Lines are straight in longitude/latitude. Segments must not cross the antimeridian.
pub struct Land {
    cols: usize,
    rows: usize,
    /// Polygon ring edges as (x1, y1, x2, y2) in degrees (x = longitude).
    edges: Vec<[f64; 4]>,
    /// CSR index: the edges overlapping cell `i` are `cell_edges[cell_start[i]..cell_start[i + 1]]`.
    cell_start: Vec<u32>,
    cell_edges: Vec<u32>,
    /// One bit per cell: is the cell centre on land.
    centre_land: Vec<u64>,
    /// Per cell, the index of its block of sub-cells, or [`NOT_SPLIT`].
    split_of: Vec<u32>,
    /// CSR index of the sub-cells' edges: sub-cell `j` (block × SUB² + row × SUB + column)
    /// overlaps `sub_edges[sub_start[j]..sub_start[j + 1]]`.
    sub_start: Vec<u32>,
    sub_edges: Vec<u32>,
    /// One bit per sub-cell: is its centre on land.
    sub_land: Vec<u64>,
}

impl Land {
    /// The embedded Natural Earth 1:10m land (public domain; see `crates/geo/data/SOURCES.md`).
    pub fn natural_earth_10m() -> Result<Land, GeoDataError> {
        Land::from_geojson("ne_10m_land.geojson.gz", NATURAL_EARTH_10M_LAND)
    }

    /// Land from a GeoJSON feature collection of polygons (gzip-compressed or not).
    pub fn from_geojson(file: &str, bytes: &[u8]) -> Result<Land, GeoDataError> {
        let fc = geojson::parse(file, bytes)?;
        let mut edges = Vec::new();
        let mut push_ring = |ring: &[[f64; 2]]| {
            for w in ring.windows(2) {
                let ([x1, y1], [x2, y2]) = (w[0], w[1]);
                if (x1, y1) != (x2, y2) {
                    edges.push([x1, y1, x2, y2]);
                }
            }
        };
        for (i, f) in fc.features.iter().enumerate() {
            match &f.geometry {
                Some(Geometry::Polygon { coordinates }) => {
                    coordinates.iter().for_each(|r| push_ring(r))
                }
                Some(Geometry::MultiPolygon { coordinates }) => {
                    coordinates.iter().flatten().for_each(|r| push_ring(r))
                }
                _ => {
                    return Err(GeoDataError::Format {
                        file: file.to_owned(),
                        reason: format!("feature {i}: expected a Polygon or MultiPolygon"),
                    })
                }
            }
        }
        Ok(Land::from_edges(edges))
    }

    fn from_edges(edges: Vec<[f64; 4]>) -> Land {
        let cols = (360.0 / CELL_DEG).round() as usize;
        let rows = (180.0 / CELL_DEG).round() as usize;
        let mut counts = vec![0u32; cols * rows + 1];
        let ranges: Vec<_> = edges.iter().map(|e| cell_range(e, cols, rows)).collect();
        for &(c0, c1, r0, r1) in &ranges {
            for r in r0..=r1 {
                for c in c0..=c1 {
                    counts[r * cols + c] += 1;
                }
            }
        }
        let mut cell_start = Vec::with_capacity(counts.len());
        let mut total = 0u32;
        for n in &counts {
            cell_start.push(total);
            total += n;
        }
        let mut fill = cell_start.clone();
        let mut cell_edges = vec![0u32; total as usize];
        for (i, &(c0, c1, r0, r1)) in ranges.iter().enumerate() {
            for r in r0..=r1 {
                for c in c0..=c1 {
                    let slot = &mut fill[r * cols + c];
                    cell_edges[*slot as usize] = i as u32;
                    *slot += 1;
                }
            }
        }
        let mut land = Land {
            cols,
            rows,
            edges,
            cell_start,
            cell_edges,
            centre_land: vec![0; (cols * rows).div_ceil(64)],
            split_of: vec![NOT_SPLIT; cols * rows],
            sub_start: vec![0],
            sub_edges: Vec::new(),
            sub_land: Vec::new(),
        };
        land.classify_centres();
        land.split_dense_cells();
        land
    }

    /// Splits every cell with more than [`DENSE_EDGES`] edges into sub-cells: each edge is
    /// listed in the sub-cells its bounding box overlaps, and the sub-cell centres of each
    /// row are classified by one exact test at the first and the even-odd rule along the row.
    fn split_dense_cells(&mut self) {
        let h = CELL_DEG / SUB as f64;
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); SUB * SUB];
        let mut xs = Vec::new();
        for i in 0..self.cols * self.rows {
            if self.cell(i).len() <= DENSE_EDGES {
                continue;
            }
            let block = (self.sub_start.len() - 1) / (SUB * SUB);
            self.split_of[i] = u32::try_from(block).unwrap_or(NOT_SPLIT);
            let (r, c) = (i / self.cols, i % self.cols);
            let (x0, y0) = (-180.0 + c as f64 * CELL_DEG, -90.0 + r as f64 * CELL_DEG);
            let sub = |v: f64, lo: f64| {
                (((v - lo) / h).floor() as isize).clamp(0, SUB as isize - 1) as usize
            };
            for l in &mut lists {
                l.clear();
            }
            for &e in self.cell(i) {
                let [x1, y1, x2, y2] = self.edges[e as usize];
                let (c0, c1) = (sub(x1.min(x2), x0), sub(x1.max(x2), x0));
                let (r0, r1) = (sub(y1.min(y2), y0), sub(y1.max(y2), y0));
                for sr in r0..=r1 {
                    for sc in c0..=c1 {
                        lists[sr * SUB + sc].push(e);
                    }
                }
            }
            let base = block * SUB * SUB;
            self.sub_land.resize((base + SUB * SUB).div_ceil(64), 0);
            for sr in 0..SUB {
                let y = sub_centre(y0, sr);
                let first = sub_centre(x0, 0);
                let mut inside = self.contains_in_cell(i, LatLon { lat: y, lon: first });
                xs.clear();
                for &e in self.cell(i) {
                    let [x1, y1, x2, y2] = self.edges[e as usize];
                    if (y1 > y) != (y2 > y) {
                        xs.push(x1 + (y - y1) / (y2 - y1) * (x2 - x1));
                    }
                }
                xs.sort_by(f64::total_cmp);
                let mut k = xs.partition_point(|&x| x < first);
                for sc in 0..SUB {
                    let xc = sub_centre(x0, sc);
                    while k < xs.len() && xs[k] < xc {
                        inside = !inside;
                        k += 1;
                    }
                    if inside {
                        let j = base + sr * SUB + sc;
                        self.sub_land[j / 64] |= 1 << (j % 64);
                    }
                }
            }
            for l in &lists {
                self.sub_edges.extend_from_slice(l);
                self.sub_start
                    .push(u32::try_from(self.sub_edges.len()).unwrap_or(u32::MAX));
            }
        }
    }

    /// Even-odd rule along each row of cell centres: the crossings of the row's horizontal line,
    /// sorted, give the state of every centre in one sweep.
    fn classify_centres(&mut self) {
        let mut xs = Vec::new();
        for r in 0..self.rows {
            let y = -90.0 + (r as f64 + 0.5) * CELL_DEG;
            xs.clear();
            for c in 0..self.cols {
                let x_lo = -180.0 + c as f64 * CELL_DEG;
                for &e in self.cell(r * self.cols + c) {
                    let [x1, y1, x2, y2] = self.edges[e as usize];
                    if (y1 > y) != (y2 > y) {
                        let x = x1 + (y - y1) / (y2 - y1) * (x2 - x1);
                        let col = (((x + 180.0) / CELL_DEG).floor() as isize)
                            .clamp(0, self.cols as isize - 1)
                            as usize;
                        // An edge spanning several cells of the row is counted in one only.
                        if col == c || (c == 0 && x < x_lo) {
                            xs.push(x);
                        }
                    }
                }
            }
            xs.sort_by(f64::total_cmp);
            let mut k = 0;
            for c in 0..self.cols {
                let xc = -180.0 + (c as f64 + 0.5) * CELL_DEG;
                while k < xs.len() && xs[k] < xc {
                    k += 1;
                }
                if k % 2 == 1 {
                    let i = r * self.cols + c;
                    self.centre_land[i / 64] |= 1 << (i % 64);
                }
            }
        }
    }

    fn cell(&self, i: usize) -> &[u32] {
        &self.cell_edges[self.cell_start[i] as usize..self.cell_start[i + 1] as usize]
    }

    fn cell_of(&self, p: LatLon) -> (usize, usize) {
        let c = (((p.lon + 180.0) / CELL_DEG).floor() as isize).clamp(0, self.cols as isize - 1);
        let r = (((p.lat + 90.0) / CELL_DEG).floor() as isize).clamp(0, self.rows as isize - 1);
        (r as usize, c as usize)
    }

    /// Is `p` on land.
    pub fn contains(&self, p: LatLon) -> bool {
        self.classify(p).0
    }

    /// Is `p` on land, and a box around it in which every point answers the same (a cell or
    /// sub-cell that no coastline crosses, or a square around `p` clear of the coast; none
    /// when `p` is on the coastline). A caller following a vessel can keep the box and skip
    /// the test while the vessel stays in it.
    pub fn classify(&self, p: LatLon) -> (bool, Option<UniformBox>) {
        let (r, c) = self.cell_of(p);
        let i = r * self.cols + c;
        let (x0, y0) = (-180.0 + c as f64 * CELL_DEG, -90.0 + r as f64 * CELL_DEG);
        let block = self.split_of[i];
        if block == NOT_SPLIT {
            let inside = self.contains_in_cell(i, p);
            let bounds = (x0, y0, CELL_DEG);
            return (
                inside,
                uniform_around(p, inside, bounds, self.cell(i), &self.edges),
            );
        }
        // Parity from the sub-cell's centre to `p`, across the edges of the sub-cell.
        let h = CELL_DEG / SUB as f64;
        let sub =
            |v: f64, lo: f64| (((v - lo) / h).floor() as isize).clamp(0, SUB as isize - 1) as usize;
        let (sr, sc) = (sub(p.lat, y0), sub(p.lon, x0));
        let j = block as usize * SUB * SUB + sr * SUB + sc;
        let mut inside = self.sub_land[j / 64] >> (j % 64) & 1 == 1;
        let centre = [sub_centre(x0, sc), sub_centre(y0, sr)];
        let q = [p.lon, p.lat];
        let edges = &self.sub_edges[self.sub_start[j] as usize..self.sub_start[j + 1] as usize];
        for &e in edges {
            if crosses(centre, q, self.edges[e as usize]) {
                inside = !inside;
            }
        }
        let bounds = (x0 + sc as f64 * h, y0 + sr as f64 * h, h);
        (
            inside,
            uniform_around(p, inside, bounds, edges, &self.edges),
        )
    }

    /// Is `p` on land, by the parity from the centre of cell `i` (which holds `p`).
    fn contains_in_cell(&self, i: usize, p: LatLon) -> bool {
        let (r, c) = (i / self.cols, i % self.cols);
        let mut inside = self.centre_land[i / 64] >> (i % 64) & 1 == 1;
        let centre = [
            -180.0 + (c as f64 + 0.5) * CELL_DEG,
            -90.0 + (r as f64 + 0.5) * CELL_DEG,
        ];
        let q = [p.lon, p.lat];
        for &e in self.cell(i) {
            if crosses(centre, q, self.edges[e as usize]) {
                inside = !inside;
            }
        }
        inside
    }

    /// Does the straight segment from `a` to `b` touch land anywhere (either end included).
    pub fn segment_touches(&self, a: LatLon, b: LatLon) -> bool {
        if self.contains(a) || self.contains(b) {
            return true;
        }
        let seg = [a.lon, a.lat, b.lon, b.lat];
        let (c0, c1, r0, r1) = cell_range(&seg, self.cols, self.rows);
        let (p, q) = ([a.lon, a.lat], [b.lon, b.lat]);
        for r in r0..=r1 {
            for c in c0..=c1 {
                for &e in self.cell(r * self.cols + c) {
                    if crosses(p, q, self.edges[e as usize]) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// The sea point nearest to `p` found on rings of `step_m` up to `max_m` (16 bearings per
    /// ring), or `p` itself when it is at sea. `None` when every probe is on land.
    pub fn nearest_sea(&self, p: LatLon, step_m: f64, max_m: f64) -> Option<LatLon> {
        if !self.contains(p) {
            return Some(p);
        }
        let mut d = step_m;
        while d <= max_m {
            for k in 0..16 {
                let a = (k as f64 * 22.5).to_radians();
                let q = crate::offset_m(p, d * a.cos(), d * a.sin());
                if !self.contains(q) {
                    return Some(q);
                }
            }
            d += step_m;
        }
        None
    }

    /// Distance from `p` to the nearest land polygon edge (the coastline), metres, capped at
    /// `max_m` (the search looks no further). Zero on land. Local equirectangular metres:
    /// within about 0.5 % of the geodesic at these ranges.
    pub fn distance_to_shore_m(&self, p: LatLon, max_m: f64) -> f64 {
        if self.contains(p) {
            return 0.0;
        }
        self.distance_to_coastline_m(p, max_m)
    }

    /// Distance from `p` to the nearest coastline edge, on land or at sea, metres, searching
    /// up to `max_m` (returned when no coastline is that close): how far inland a point on
    /// land lies, or how far offshore a point at sea.
    pub fn distance_to_coastline_m(&self, p: LatLon, max_m: f64) -> f64 {
        let coslat = p.lat.to_radians().cos().max(0.01);
        let m_per_deg = 111_195.0;
        let dlat = max_m / m_per_deg;
        let dlon = (max_m / (m_per_deg * coslat)).min(180.0);
        let query = [p.lon - dlon, p.lat - dlat, p.lon + dlon, p.lat + dlat];
        let (c0, c1, r0, r1) = cell_range(&query, self.cols, self.rows);
        let mut best = max_m;
        for r in r0..=r1 {
            for c in c0..=c1 {
                for &e in self.cell(r * self.cols + c) {
                    let [x1, y1, x2, y2] = self.edges[e as usize];
                    // Edge in metres relative to p.
                    let a = ((x1 - p.lon) * m_per_deg * coslat, (y1 - p.lat) * m_per_deg);
                    let b = ((x2 - p.lon) * m_per_deg * coslat, (y2 - p.lat) * m_per_deg);
                    let d = point_segment_distance(a, b);
                    if d < best {
                        best = d;
                    }
                }
            }
        }
        best
    }

    /// The number of polygon edges indexed (for reports).
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Heap bytes held by the mask and its index.
    pub fn heap_bytes(&self) -> usize {
        self.edges.capacity() * std::mem::size_of::<[f64; 4]>()
            + self.cell_start.capacity() * 4
            + self.cell_edges.capacity() * 4
            + self.centre_land.capacity() * 8
            + self.split_of.capacity() * 4
            + self.sub_start.capacity() * 4
            + self.sub_edges.capacity() * 4
            + self.sub_land.capacity() * 8
    }
}

/// The box around `p` in which every point answers as `p` does, given the (sub-)cell
/// holding it (west, south, side, degrees) and the edges overlapping that cell: the whole
/// cell when no edge does; else a square around `p` inside the disk that reaches neither an
/// edge nor the cell's boundary (in longitude/latitude, where the edges are straight), so no
/// segment from `p` to a point of it crosses the coast.
fn uniform_around(
    p: LatLon,
    land: bool,
    (x0, y0, side): (f64, f64, f64),
    cell_edges: &[u32],
    edges: &[[f64; 4]],
) -> Option<UniformBox> {
    if cell_edges.is_empty() {
        return Some(UniformBox {
            lon: (x0, x0 + side),
            lat: (y0, y0 + side),
            land,
        });
    }
    let mut clear = (p.lon - x0)
        .min(x0 + side - p.lon)
        .min(p.lat - y0)
        .min(y0 + side - p.lat);
    for &e in cell_edges {
        let [x1, y1, x2, y2] = edges[e as usize];
        clear = clear.min(point_segment_distance(
            (x1 - p.lon, y1 - p.lat),
            (x2 - p.lon, y2 - p.lat),
        ));
    }
    // The square's half side, a little inside clear / √2.
    let half = clear * 0.7;
    (half > 0.0).then_some(UniformBox {
        lon: (p.lon - half, p.lon + half),
        lat: (p.lat - half, p.lat + half),
        land,
    })
}

/// The centre of sub-cell `k` of a split cell starting at `lo` (one formula for building and
/// querying, so both see the same point).
fn sub_centre(lo: f64, k: usize) -> f64 {
    lo + (k as f64 + 0.5) * (CELL_DEG / SUB as f64)
}

fn cell_range(e: &[f64; 4], cols: usize, rows: usize) -> (usize, usize, usize, usize) {
    let idx = |v: f64, off: f64, n: usize| {
        (((v + off) / CELL_DEG).floor() as isize).clamp(0, n as isize - 1) as usize
    };
    let (x0, x1) = (e[0].min(e[2]), e[0].max(e[2]));
    let (y0, y1) = (e[1].min(e[3]), e[1].max(e[3]));
    (
        idx(x0, 180.0, cols),
        idx(x1, 180.0, cols),
        idx(y0, 90.0, rows),
        idx(y1, 90.0, rows),
    )
}

/// Distance from the origin to segment a–b (plane coordinates).
fn point_segment_distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (a.0 + t * dx, a.1 + t * dy);
    (x * x + y * y).sqrt()
}

fn orient(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Does segment p–q cross edge e. Edge endpoints count with the half-open rule on y, so that a
/// path through a shared vertex of two edges crosses exactly one of them.
fn crosses(p: [f64; 2], q: [f64; 2], e: [f64; 4]) -> bool {
    let (a, b) = ([e[0], e[1]], [e[2], e[3]]);
    let d1 = orient(p, q, a);
    let d2 = orient(p, q, b);
    if (d1 > 0.0 && d2 > 0.0) || (d1 < 0.0 && d2 < 0.0) {
        return false;
    }
    if d1 == 0.0 && d2 == 0.0 {
        // Collinear: treat overlap as touching.
        let within = |t: [f64; 2]| {
            t[0] >= p[0].min(q[0])
                && t[0] <= p[0].max(q[0])
                && t[1] >= p[1].min(q[1])
                && t[1] <= p[1].max(q[1])
        };
        return within(a) || within(b);
    }
    let d3 = orient(a, b, p);
    let d4 = orient(a, b, q);
    if (d3 > 0.0 && d4 > 0.0) || (d3 < 0.0 && d4 < 0.0) {
        return false;
    }
    // The segment meets the edge line at a vertex of the edge: count the vertex with the
    // larger y only (half-open), so that paths through shared vertices count once.
    if d1 == 0.0 {
        return a[1] > b[1] || (a[1] == b[1] && d2 != 0.0);
    }
    if d2 == 0.0 {
        return b[1] > a[1] || (a[1] == b[1] && d1 != 0.0);
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test data is embedded")]
    use super::*;

    fn square() -> Land {
        // A 2x2 degree island centred on (0, 0).
        let ring = [
            [-1.0, -1.0],
            [1.0, -1.0],
            [1.0, 1.0],
            [-1.0, 1.0],
            [-1.0, -1.0],
        ];
        let edges = ring
            .windows(2)
            .map(|w| [w[0][0], w[0][1], w[1][0], w[1][1]])
            .collect();
        Land::from_edges(edges)
    }

    #[test]
    fn points_inside_and_outside_a_square_island() {
        let land = square();
        assert!(land.contains(LatLon::new(0.0, 0.0)));
        assert!(land.contains(LatLon::new(0.99, -0.99)));
        assert!(!land.contains(LatLon::new(1.01, 0.0)));
        assert!(!land.contains(LatLon::new(0.0, 1.3)));
        assert!(!land.contains(LatLon::new(40.0, 40.0)));
    }

    #[test]
    fn segments_past_and_through_the_island() {
        let land = square();
        assert!(land.segment_touches(LatLon::new(0.0, -3.0), LatLon::new(0.0, 3.0)));
        assert!(!land.segment_touches(LatLon::new(2.0, -3.0), LatLon::new(2.0, 3.0)));
        assert!(land.segment_touches(LatLon::new(-2.0, -0.5), LatLon::new(2.0, -0.5)));
    }

    #[test]
    fn distance_to_the_shore_of_the_island() {
        let land = square();
        let p = LatLon::new(0.0, 2.0); // one degree east of the east shore
        let d = land.distance_to_shore_m(p, 500_000.0);
        assert!((d - 111_195.0).abs() < 200.0, "{d}");
        assert_eq!(land.distance_to_shore_m(LatLon::new(0.0, 0.0), 1e6), 0.0);
        assert_eq!(
            land.distance_to_shore_m(LatLon::new(0.0, 5.0), 100_000.0),
            100_000.0
        );
    }

    #[test]
    fn split_cells_and_uniform_boxes_answer_as_the_whole_cell_does() {
        let land = Land::natural_earth_10m().unwrap();
        let split = land.split_of.iter().filter(|&&b| b != NOT_SPLIT).count();
        assert!(split > 1000, "{split} cells split");
        // Random points (the Baltic's coasts, then anywhere), tested through the sub-cells
        // and through the whole cell's edges; and a random point of the box said to answer
        // the same.
        let mut rng = shadowfleet_testkit::Xorshift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = || rng.unit();
        let (mut tested, mut on_land) = (0, 0);
        for k in 0..400_000 {
            let p = if k % 2 == 0 {
                LatLon::new(53.5 + next() * 12.0, 9.0 + next() * 21.0)
            } else {
                LatLon::new(next() * 160.0 - 80.0, next() * 360.0 - 180.0)
            };
            let (r, c) = land.cell_of(p);
            let i = r * land.cols + c;
            tested += usize::from(land.split_of[i] != NOT_SPLIT);
            let (inside, uniform) = land.classify(p);
            if let Some(b) = uniform {
                assert!(b.holds(p) && b.land == inside, "{p:?} {b:?}");
                // Any other point of the box answers the same.
                let q = LatLon::new(
                    b.lat.0 + next() * (b.lat.1 - b.lat.0) * 0.999,
                    b.lon.0 + next() * (b.lon.1 - b.lon.0) * 0.999,
                );
                let (r, c) = land.cell_of(q);
                assert_eq!(
                    land.contains_in_cell(r * land.cols + c, q),
                    inside,
                    "{q:?} in {b:?}"
                );
            }
            on_land += usize::from(inside);
            assert_eq!(inside, land.contains_in_cell(i, p), "{p:?}");
        }
        assert!(
            tested > 10_000 && on_land > 1000,
            "{tested} tested, {on_land} on land"
        );
    }

    #[test]
    fn nearest_sea_leaves_the_island() {
        let land = square();
        let p = land.nearest_sea(LatLon::new(0.5, 0.5), 10_000.0, 300_000.0);
        assert!(p.is_some_and(|p| !land.contains(p)));
    }
}
