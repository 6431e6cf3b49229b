//! Routing on the searoute maritime network, with land-crossing edges repaired.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use crate::geodesy::{haversine_m, LatLon};
use crate::geojson::{self, Geometry};
use crate::land::Land;
use crate::GeoDataError;

/// The searoute network (Apache-2.0; Eurostat SeaRoute / ORNL lanes), gzip-compressed GeoJSON.
const SEAROUTE_MARNET: &[u8] = include_bytes!("../data/searoute_marnet.geojson.gz");

/// Passages that are canals: dug through land, so Natural Earth land covers them. Their edges
/// are kept as they are and flagged on the route.
const CANALS: [&str; 2] = ["suez", "panama"];

/// How many network nodes near an endpoint are tried as its way onto the network.
const SNAP_CANDIDATES: usize = 12;

/// Network nodes on land are moved to sea on rings of this step, up to this distance.
const NODE_NUDGE_STEP_M: f64 = 250.0;
const NODE_NUDGE_MAX_M: f64 = 30_000.0;

/// How many times a route is searched again after blocking an edge that cannot be repaired.
const MAX_REROUTES: usize = 64;

/// Cost factor on edges that cross land and need a repair, so that clean edges are preferred.
const CROSSING_PENALTY: f64 = 1.5;

/// A maritime lane network: nodes and straight edges.
pub struct SeaLanes {
    nodes: Vec<LatLon>,
    moved: usize,
    adjacency: Vec<Vec<(u32, u32)>>,
    edges: Vec<Lane>,
}

struct Lane {
    length_m: f64,
    touches_land: bool,
    canal: bool,
}

impl SeaLanes {
    /// The embedded searoute network, with each edge tested against `land`.
    pub fn searoute(land: &Land) -> Result<SeaLanes, GeoDataError> {
        SeaLanes::from_geojson("searoute_marnet.geojson.gz", SEAROUTE_MARNET, land)
    }

    /// A network from GeoJSON LineStrings; a `passage` property naming a canal marks its edges.
    /// Edges that would cross the antimeridian are dropped.
    pub fn from_geojson(file: &str, bytes: &[u8], land: &Land) -> Result<SeaLanes, GeoDataError> {
        let fc = geojson::parse(file, bytes)?;
        let mut ids: HashMap<(i64, i64), u32> = HashMap::new();
        let mut lanes = SeaLanes {
            nodes: Vec::new(),
            moved: 0,
            adjacency: Vec::new(),
            edges: Vec::new(),
        };
        for (i, f) in fc.features.iter().enumerate() {
            let canal = f
                .properties
                .get("passage")
                .and_then(|v| v.as_str())
                .is_some_and(|p| CANALS.contains(&p));
            let lines: Vec<&Vec<[f64; 2]>> = match &f.geometry {
                Some(Geometry::LineString { coordinates }) => vec![coordinates],
                Some(Geometry::MultiLineString { coordinates }) => coordinates.iter().collect(),
                _ => {
                    return Err(GeoDataError::Format {
                        file: file.to_owned(),
                        reason: format!("feature {i}: expected a LineString or MultiLineString"),
                    })
                }
            };
            for line in lines {
                for w in line.windows(2) {
                    let (a, b) = (LatLon::new(w[0][1], w[0][0]), LatLon::new(w[1][1], w[1][0]));
                    if (a.lon - b.lon).abs() > 180.0 {
                        continue;
                    }
                    let (na, nb) = (
                        lanes.node(&mut ids, a, land, canal),
                        lanes.node(&mut ids, b, land, canal),
                    );
                    let (a, b) = (lanes.nodes[na as usize], lanes.nodes[nb as usize]);
                    if na == nb {
                        continue;
                    }
                    let e = lanes.edges.len() as u32;
                    lanes.edges.push(Lane {
                        length_m: haversine_m(a, b),
                        touches_land: land.segment_touches(a, b),
                        canal,
                    });
                    lanes.adjacency[na as usize].push((nb, e));
                    lanes.adjacency[nb as usize].push((na, e));
                }
            }
        }
        Ok(lanes)
    }

    /// The node at `p`; a node the network places on land (a coarse lane cutting a cape) is
    /// moved to the nearest sea point. Canal nodes stay where they are.
    fn node(
        &mut self,
        ids: &mut HashMap<(i64, i64), u32>,
        p: LatLon,
        land: &Land,
        canal: bool,
    ) -> u32 {
        let key = ((p.lat * 1e6).round() as i64, (p.lon * 1e6).round() as i64);
        *ids.entry(key).or_insert_with(|| {
            let q = if canal {
                p
            } else {
                land.nearest_sea(p, NODE_NUDGE_STEP_M, NODE_NUDGE_MAX_M)
                    .unwrap_or(p)
            };
            if q != p {
                self.moved += 1;
            }
            self.nodes.push(q);
            self.adjacency.push(Vec::new());
            (self.nodes.len() - 1) as u32
        })
    }

    /// Number of edges, how many of them touch land (canals included), and how many nodes
    /// were moved off land.
    pub fn edge_counts(&self) -> (usize, usize, usize) {
        let crossing = self.edges.iter().filter(|e| e.touches_land).count();
        (self.edges.len(), crossing, self.moved)
    }

    fn nearest_nodes(&self, p: LatLon, n: usize) -> Vec<u32> {
        let mut d: Vec<(f64, u32)> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.adjacency[*i].is_empty())
            .map(|(i, q)| (haversine_m(p, *q), i as u32))
            .collect();
        let n = n.min(d.len());
        if n == 0 {
            return Vec::new();
        }
        d.select_nth_unstable_by(n - 1, |a, b| a.0.total_cmp(&b.0));
        d.truncate(n);
        d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        d.into_iter().map(|(_, i)| i).collect()
    }
}

/// A sea route: a polyline from origin to destination.
#[derive(Debug, Clone)]
pub struct Route {
    /// The vertices, origin first.
    pub points: Vec<LatLon>,
    /// Per segment (`points[i]`–`points[i + 1]`): is it a canal transit.
    pub canal: Vec<bool>,
    /// Cumulative great-circle length at each vertex, metres (first is 0).
    pub cumulative_m: Vec<f64>,
    /// Initial great-circle bearing of each segment, degrees.
    pub bearing_deg: Vec<f64>,
}

impl Route {
    /// A route through `points`; `canal` flags each segment that is a canal transit.
    pub fn new(points: Vec<LatLon>, canal: Vec<bool>) -> Route {
        let mut cumulative_m = Vec::with_capacity(points.len());
        let mut total = 0.0;
        cumulative_m.push(0.0);
        for w in points.windows(2) {
            total += haversine_m(w[0], w[1]);
            cumulative_m.push(total);
        }
        let bearing_deg = points
            .windows(2)
            .map(|w| crate::bearing_deg(w[0], w[1]))
            .collect();
        Route {
            points,
            canal,
            cumulative_m,
            bearing_deg,
        }
    }

    /// Total length, metres.
    pub fn length_m(&self) -> f64 {
        self.cumulative_m.last().copied().unwrap_or(0.0)
    }

    /// Like [`Route::at_distance`], searching forward from segment `hint` first: O(1) for a
    /// caller that walks the route in order.
    pub fn at_distance_from(&self, d: f64, hint: usize) -> (LatLon, usize) {
        let n = self.points.len();
        if n >= 2 && hint + 1 < n && self.cumulative_m[hint] <= d {
            let mut i = hint;
            while i + 2 < n && self.cumulative_m[i + 1] <= d && i < hint + 8 {
                i += 1;
            }
            if self.cumulative_m[i + 1] > d || i + 2 == n {
                let span = self.cumulative_m[i + 1] - self.cumulative_m[i];
                let f = if span > 0.0 {
                    ((d - self.cumulative_m[i]) / span).clamp(0.0, 1.0)
                } else {
                    1.0
                };
                return (self.points[i].lerp(self.points[i + 1], f), i);
            }
        }
        self.at_distance(d)
    }

    /// The position `d` metres along the route (clamped to its ends) and the index of the
    /// segment it lies on.
    pub fn at_distance(&self, d: f64) -> (LatLon, usize) {
        let n = self.points.len();
        if n < 2 || d <= 0.0 {
            return (self.points.first().copied().unwrap_or_default(), 0);
        }
        let i = self
            .cumulative_m
            .partition_point(|&c| c <= d)
            .clamp(1, n - 1)
            - 1;
        let span = self.cumulative_m[i + 1] - self.cumulative_m[i];
        let f = if span > 0.0 {
            ((d - self.cumulative_m[i]) / span).min(1.0)
        } else {
            1.0
        };
        (self.points[i].lerp(self.points[i + 1], f), i)
    }
}

/// Why no route was found.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// An endpoint is on land.
    #[error("{0:?} is on land")]
    OnLand(LatLon),
    /// No sea path joins the endpoints (different basins, or a strait narrower than the search).
    #[error("no sea route from {0:?} to {1:?}")]
    NoRoute(LatLon, LatLon),
}

/// Routes over a [`SeaLanes`] network, repairing land-crossing edges on demand and caching
/// the repairs.
pub struct Router<'a> {
    land: &'a Land,
    lanes: &'a SeaLanes,
    repaired: HashMap<u32, Option<Vec<LatLon>>>,
    searches: HashMap<SearchKey, Option<Vec<LatLon>>>,
}

type SearchKey = ((i64, i64), (i64, i64));

impl<'a> Router<'a> {
    /// A router over `lanes`, checking against `land`.
    pub fn new(land: &'a Land, lanes: &'a SeaLanes) -> Self {
        Router {
            land,
            lanes,
            repaired: HashMap::new(),
            searches: HashMap::new(),
        }
    }

    /// The land mask in use.
    pub fn land(&self) -> &Land {
        self.land
    }

    /// The shortest sea route from `from` to `to`, both at sea. The result touches land only on
    /// canal segments (flagged in [`Route::canal`]).
    pub fn route(&mut self, from: LatLon, to: LatLon) -> Result<Route, RouteError> {
        for p in [from, to] {
            if self.land.contains(p) {
                return Err(RouteError::OnLand(p));
            }
        }
        if !self.land.segment_touches(from, to) && haversine_m(from, to) < 50_000.0 {
            return Ok(Route::new(vec![from, to], vec![false]));
        }
        // Ways onto the network: the nearest nodes reachable by a land-free connector.
        let near = self.lanes.nearest_nodes(from, SNAP_CANDIDATES);
        let mut starts: Vec<(u32, Vec<LatLon>)> = near
            .iter()
            .filter(|&&n| {
                !self
                    .land
                    .segment_touches(from, self.lanes.nodes[n as usize])
            })
            .map(|&n| (n, vec![from, self.lanes.nodes[n as usize]]))
            .collect();
        if starts.is_empty() {
            // Boxed in (a harbour behind a breakwater): search a way out to the nearest few.
            starts = near
                .iter()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .filter_map(|&n| {
                    self.searched(from, self.lanes.nodes[n as usize])
                        .map(|c| (n, c))
                })
                .collect();
        }
        let ends = self.lanes.nearest_nodes(to, SNAP_CANDIDATES);
        // An edge whose repair fails (a strait or canal too narrow for the search, such as
        // Corinth) is blocked and the search runs again.
        'search: for _ in 0..MAX_REROUTES {
            let (dist, prev) = self.dijkstra(&starts);
            let mut order: Vec<u32> = ends
                .iter()
                .copied()
                .filter(|&n| dist[n as usize].is_finite())
                .collect();
            order.sort_by(|&x, &y| {
                let cx = dist[x as usize] + haversine_m(self.lanes.nodes[x as usize], to);
                let cy = dist[y as usize] + haversine_m(self.lanes.nodes[y as usize], to);
                cx.total_cmp(&cy).then(x.cmp(&y))
            });
            // Prefer ends with a straight way off the network; searched ways (remembered,
            // failures included) after.
            let (straight, searched): (Vec<u32>, Vec<u32>) = order
                .iter()
                .partition(|&&n| !self.land.segment_touches(self.lanes.nodes[n as usize], to));
            for end in straight.into_iter().chain(searched) {
                let Some(tail) = self.connector(self.lanes.nodes[end as usize], to) else {
                    continue;
                };
                let mut path_edges = Vec::new();
                let mut n = end;
                while let Some((p, e)) = prev[n as usize] {
                    path_edges.push((n, e));
                    n = p;
                }
                path_edges.reverse();
                let Some((_, head)) = starts.iter().find(|(s, _)| *s == n) else {
                    continue;
                };
                let mut points = head.clone();
                let mut canal = vec![false; points.len() - 1];
                for &(q, e) in &path_edges {
                    if self
                        .append_leg(&mut points, &mut canal, self.lanes.nodes[q as usize], e)
                        .is_none()
                    {
                        continue 'search;
                    }
                }
                for p in tail.into_iter().skip(1) {
                    points.push(p);
                    canal.push(false);
                }
                return Ok(Route::new(points, canal));
            }
            break;
        }
        Err(RouteError::NoRoute(from, to))
    }

    /// A land-free line from `a` to `b` found near them, without the lane network: straight
    /// when clear, else a local grid search (remembered). For short stretches round a headland;
    /// `None` when the search finds no way (use [`Router::route`]).
    pub fn around(&mut self, a: LatLon, b: LatLon) -> Option<Vec<LatLon>> {
        self.connector(a, b)
    }

    /// A land-free line from `a` to `b`: straight when clear, else a local search.
    fn connector(&mut self, a: LatLon, b: LatLon) -> Option<Vec<LatLon>> {
        if a == b {
            return Some(vec![a]);
        }
        if !self.land.segment_touches(a, b) {
            return Some(vec![a, b]);
        }
        self.searched(a, b)
    }

    /// [`sea_path`], remembered: ports behind archipelagos are reached many times.
    fn searched(&mut self, a: LatLon, b: LatLon) -> Option<Vec<LatLon>> {
        let key = |p: LatLon| ((p.lat * 1e6).round() as i64, (p.lon * 1e6).round() as i64);
        let land = self.land;
        self.searches
            .entry((key(a), key(b)))
            .or_insert_with(|| sea_path(land, a, b))
            .clone()
    }

    /// Multi-source Dijkstra; sources are entered with the length of their connector.
    #[allow(clippy::type_complexity)]
    fn dijkstra(&self, starts: &[(u32, Vec<LatLon>)]) -> (Vec<f64>, Vec<Option<(u32, u32)>>) {
        let n = self.lanes.nodes.len();
        let mut dist = vec![f64::INFINITY; n];
        let mut prev = vec![None; n];
        let mut heap = BinaryHeap::new();
        for (s, path) in starts {
            let s = *s;
            let c: f64 = path.windows(2).map(|w| haversine_m(w[0], w[1])).sum();
            if c < dist[s as usize] {
                dist[s as usize] = c;
                heap.push(Item(c, s));
            }
        }
        while let Some(Item(c, u)) = heap.pop() {
            if c > dist[u as usize] {
                continue;
            }
            for &(v, e) in &self.lanes.adjacency[u as usize] {
                if matches!(self.repaired.get(&e), Some(None))
                    && !self.lanes.edges[e as usize].canal
                {
                    continue;
                }
                let lane = &self.lanes.edges[e as usize];
                let w = if lane.touches_land && !lane.canal {
                    lane.length_m * CROSSING_PENALTY
                } else {
                    lane.length_m
                };
                let nc = c + w;
                if nc < dist[v as usize] {
                    dist[v as usize] = nc;
                    prev[v as usize] = Some((u, e));
                    heap.push(Item(nc, v));
                }
            }
        }
        (dist, prev)
    }

    /// Appends network edge `e` from the last point to `to`, repaired if it touches land.
    fn append_leg(
        &mut self,
        points: &mut Vec<LatLon>,
        canal: &mut Vec<bool>,
        to: LatLon,
        e: u32,
    ) -> Option<()> {
        let from = *points.last()?;
        if from == to {
            return Some(());
        }
        let lane = &self.lanes.edges[e as usize];
        if !lane.touches_land {
            points.push(to);
            canal.push(false);
            return Some(());
        }
        let is_canal = lane.canal;
        let land = self.land;
        let repaired = self
            .repaired
            .entry(e)
            .or_insert_with(|| sea_path(land, from, to))
            .clone();
        let Some(mut fixed) = repaired else {
            // A canal edge that no sea path can replace is a canal transit proper.
            if is_canal {
                points.push(to);
                canal.push(true);
                return Some(());
            }
            return None;
        };
        // The cache holds the path in the direction it was first needed.
        if fixed.first() != Some(&from) {
            fixed.reverse();
        }
        for p in fixed.into_iter().skip(1) {
            points.push(p);
            canal.push(false);
        }
        Some(())
    }
}

#[derive(PartialEq)]
struct Item(f64, u32);
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

/// Target cells per side of the repair grid, its finest cell (degrees) and its largest side.
const REPAIR_GRID: f64 = 400.0;
const REPAIR_FINEST_DEG: f64 = 0.0015;
const REPAIR_MAX_CELLS: usize = 800;

/// A land-free polyline from `a` to `b` (both at sea), by A* on a local grid whose moves are each
/// tested against land, then straightened. Tries wider and finer grids before giving up; `None`
/// when either end is on land or no way is found. For stretches of up to a few hundred
/// kilometres round a cape or a peninsula (longer ones: [`Router::route`]).
pub fn sea_path(land: &Land, a: LatLon, b: LatLon) -> Option<Vec<LatLon>> {
    if land.contains(a) || land.contains(b) {
        return None;
    }
    let extent = (a.lat - b.lat).abs().max((a.lon - b.lon).abs());
    for attempt in 0..3 {
        let scale = f64::from(1u32 << attempt);
        let margin = (0.05f64).max(0.5 * extent) * scale;
        let side = extent + 2.0 * margin;
        let cell = (side / REPAIR_GRID).max(REPAIR_FINEST_DEG) / scale;
        let n = ((side / cell).ceil() as usize).min(REPAIR_MAX_CELLS);
        let cell = side / n as f64;
        let grid = Grid {
            lat0: a.lat.min(b.lat) - margin,
            lon0: a.lon.min(b.lon) - margin,
            cell,
            n,
        };
        if let Some(path) = grid_search(land, a, b, &grid) {
            return Some(straighten(land, path));
        }
    }
    None
}

#[derive(Clone, Copy)]
struct Grid {
    lat0: f64,
    lon0: f64,
    cell: f64,
    n: usize,
}

fn grid_search(land: &Land, a: LatLon, b: LatLon, grid: &Grid) -> Option<Vec<LatLon>> {
    let Grid {
        lat0,
        lon0,
        cell,
        n,
    } = *grid;
    let centre = |i: usize| LatLon {
        lat: lat0 + ((i / n) as f64 + 0.5) * cell,
        lon: lon0 + ((i % n) as f64 + 0.5) * cell,
    };
    let index = |p: LatLon| -> Option<usize> {
        let r = ((p.lat - lat0) / cell).floor();
        let c = ((p.lon - lon0) / cell).floor();
        (r >= 0.0 && c >= 0.0 && (r as usize) < n && (c as usize) < n)
            .then(|| r as usize * n + c as usize)
    };
    // 0 unknown, 1 sea, 2 land.
    let mut state = vec![0u8; n * n];
    let mut is_sea = |i: usize, state: &mut Vec<u8>| {
        if state[i] == 0 {
            state[i] = if land.contains(centre(i)) { 2 } else { 1 };
        }
        state[i] == 1
    };
    let entry =
        |p: LatLon, state: &mut Vec<u8>, is_sea: &mut dyn FnMut(usize, &mut Vec<u8>) -> bool| {
            let i = index(p)?;
            let (r, c) = ((i / n) as isize, (i % n) as isize);
            for d in 0..3isize {
                for dr in -d..=d {
                    for dc in -d..=d {
                        let (rr, cc) = (r + dr, c + dc);
                        if rr < 0 || cc < 0 || rr >= n as isize || cc >= n as isize {
                            continue;
                        }
                        let j = rr as usize * n + cc as usize;
                        if is_sea(j, state) && !land.segment_touches(p, centre(j)) {
                            return Some(j);
                        }
                    }
                }
            }
            None
        };
    let s = entry(a, &mut state, &mut is_sea)?;
    let g = entry(b, &mut state, &mut is_sea)?;
    let goal = centre(g);
    let h = |i: usize| {
        let p = centre(i);
        let k = p.lat.to_radians().cos();
        ((p.lat - goal.lat).powi(2) + ((p.lon - goal.lon) * k).powi(2)).sqrt()
    };
    let mut cost = vec![f64::INFINITY; n * n];
    let mut prev = vec![u32::MAX; n * n];
    let mut heap = BinaryHeap::new();
    cost[s] = 0.0;
    heap.push(Item(h(s), s as u32));
    while let Some(Item(_, u)) = heap.pop() {
        let u = u as usize;
        if u == g {
            let mut path = vec![b, centre(g)];
            let mut v = g;
            while v != s {
                v = prev[v] as usize;
                path.push(centre(v));
            }
            path.push(a);
            path.reverse();
            return Some(path);
        }
        let (r, c) = ((u / n) as isize, (u % n) as isize);
        let pu = centre(u);
        let k = pu.lat.to_radians().cos();
        for dr in -1isize..=1 {
            for dc in -1isize..=1 {
                let (rr, cc) = (r + dr, c + dc);
                if (dr == 0 && dc == 0) || rr < 0 || cc < 0 || rr >= n as isize || cc >= n as isize
                {
                    continue;
                }
                let v = rr as usize * n + cc as usize;
                if !is_sea(v, &mut state) {
                    continue;
                }
                let step = cell * ((dr * dr) as f64 + ((dc * dc) as f64) * k * k).sqrt();
                let nc = cost[u] + step;
                if nc < cost[v] && !land.segment_touches(pu, centre(v)) {
                    cost[v] = nc;
                    prev[v] = u as u32;
                    heap.push(Item(nc + h(v), v as u32));
                }
            }
        }
    }
    None
}

/// Greedy string pulling: from each kept point, jump to the farthest point still in sight.
fn straighten(land: &Land, path: Vec<LatLon>) -> Vec<LatLon> {
    let mut out = vec![path[0]];
    let mut i = 0;
    while i + 1 < path.len() {
        let mut j = path.len() - 1;
        while j > i + 1 && land.segment_touches(path[i], path[j]) {
            j -= 1;
        }
        out.push(path[j]);
        i = j;
    }
    out
}
