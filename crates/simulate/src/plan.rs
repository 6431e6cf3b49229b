//! The voyage planner: a discrete-event loop that decides, when a ship runs out of plan, what
//! it does next, and writes the truth of every planned event.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use shadowfleet_decode::AisText;
use shadowfleet_geo::{haversine_m, offset_m, LatLon, Route, Router};

use crate::fleet::{Dark, Ident, Motion, Parcel, Role, Segment, Ship, Spoof, SpoofKind};
use crate::rng::Rng;
use crate::scenario::{Scenario, Weights};
use crate::truth::{self, TruthRecord};
use crate::world::{PlaceKind, World};
use crate::{rfc3339, SimError};

/// Knots to metres per second.
pub const KN: f64 = 0.514_444;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
/// A ship this close to a river berth is at it (and leaves down the river), metres.
const RIVER_BERTH_M: f64 = 100.0;
/// An open-ended hold (a mother ship waiting for a shuttle).
pub const OPEN: i64 = i64::MAX / 4;

/// Barrels per tonne by product (UN Energy Statistics conversion factors as quoted in the
/// product brief: crude 7.32, gas/diesel oil 7.23, fuel oil 6.91).
pub fn barrels_per_tonne(product: &str) -> f64 {
    match product {
        "diesel" => 7.23,
        "fuel_oil" => 6.91,
        _ => 7.32,
    }
}

/// (destination country, month, origin country).
pub type VolumeKey = (String, String, String);

/// Cargoes, tonnes, barrels and barrels delivered through STS.
#[derive(Debug, Default, Clone, Copy)]
pub struct VolumeSum {
    pub cargoes: u32,
    pub tonnes: f64,
    pub barrels: f64,
    pub via_sts_barrels: f64,
}

pub struct Planner<'w> {
    pub world: &'w World,
    pub scenario: &'w Scenario,
    router: Router<'w>,
    routes: HashMap<(usize, usize), Arc<Route>>,
    pub start: i64,
    pub end: i64,
    pub rng: Rng,
    pub records: Vec<TruthRecord>,
    next_event: u32,
    next_cargo: u32,
    /// Mother ships waiting, with the STS area they wait in.
    pub pool: Vec<(usize, usize)>,
    /// Mother ships given a cargo by the last plan step: they need planning after the transfer.
    pub woken: Vec<usize>,
    /// Spots recently handed out in each area, so that ships do not anchor on top of each
    /// other.
    spots: HashMap<usize, VecDeque<LatLon>>,
    /// Routes planned and segments checked against land.
    pub routes_checked: u64,
    pub segments_checked: u64,
    /// Volume per (country, month, origin): cargoes, tonnes, barrels, via STS barrels.
    pub volumes: BTreeMap<VolumeKey, VolumeSum>,
}

/// Ships waiting or transferring in one area keep at least this far apart, metres.
const SPOT_SPACING_M: f64 = 1_500.0;
/// Spots remembered per area.
const SPOTS_REMEMBERED: usize = 24;

/// A place drawn from scenario weights.
pub(crate) fn pick(rng: &mut Rng, world: &World, w: &Weights) -> Result<usize, SimError> {
    let keys: Vec<&String> = w.keys().collect();
    if keys.is_empty() {
        return Err(SimError::Data(
            "a trade list in the scenario is empty".into(),
        ));
    }
    let k = keys[rng.weighted(w.values().copied())];
    world
        .place(k)
        .ok_or_else(|| SimError::Data(format!("scenario names unknown place {k:?}")))
}

impl<'w> Planner<'w> {
    pub fn new(world: &'w World, scenario: &'w Scenario, start: i64, end: i64, seed: u64) -> Self {
        Planner {
            world,
            scenario,
            router: Router::new(&world.land, &world.lanes),
            routes: HashMap::new(),
            start,
            end,
            rng: Rng::new(seed, u64::MAX),
            records: Vec::new(),
            next_event: 0,
            next_cargo: 0,
            pool: Vec::new(),
            woken: Vec::new(),
            spots: HashMap::new(),
            routes_checked: 0,
            segments_checked: 0,
            volumes: BTreeMap::new(),
        }
    }

    /// Checks that every place a scenario names exists and can be reached.
    pub fn validate(&self) -> Result<(), SimError> {
        let t = &self.scenario.trade;
        for w in [
            &t.terminals,
            &t.destinations,
            &t.receiver_destinations,
            &t.sts_areas,
            &t.loiter_areas,
            &t.mainstream_loading,
            &t.mainstream_discharge,
            &t.background_ports,
        ]
        .into_iter()
        .chain(
            self.scenario
                .service
                .iter()
                .flat_map(|sv| [&sv.load, &sv.discharge, &sv.flags]),
        ) {
            for k in w.keys() {
                // Flags are checked when MMSIs are made.
                if k.len() == 2 {
                    continue;
                }
                if self.world.place(k).is_none() {
                    return Err(SimError::Data(format!(
                        "scenario {}: unknown place {k:?} (see crates/places/data/*.csv)",
                        self.scenario.name
                    )));
                }
            }
        }
        for sv in &self.scenario.service {
            if sv.load.is_empty() || sv.discharge.is_empty() {
                return Err(SimError::Data(format!(
                    "scenario {}: service {:?} needs load and discharge ports",
                    self.scenario.name, sv.name
                )));
            }
            if !matches!(sv.dark_at.as_str(), "load" | "discharge") {
                return Err(SimError::Data(format!(
                    "scenario {}: service {:?}: dark_at must be \"load\" or \"discharge\", not {:?}",
                    self.scenario.name, sv.name, sv.dark_at
                )));
            }
            if let Some(d) = &sv.declared {
                if !matches!(d.at.as_str(), "load" | "discharge")
                    || !(0.0..=1.0).contains(&d.share)
                    || d.destinations.is_empty()
                {
                    return Err(SimError::Data(format!(
                        "scenario {}: service {:?}: declared needs `at` \"load\" or \"discharge\", a share in [0, 1] and destinations",
                        self.scenario.name, sv.name
                    )));
                }
            }
        }
        for c in &self.scenario.closure {
            if self.world.place(&c.port).is_none() {
                return Err(SimError::Data(format!(
                    "scenario {}: closure of unknown port {:?}",
                    self.scenario.name, c.port
                )));
            }
        }
        Ok(())
    }

    /// Refuses a route with a segment touching land outside a canal: the invariant every
    /// simulated track rests on.
    fn checked(&mut self, r: Route) -> Result<Arc<Route>, SimError> {
        for (k, w) in r.points.windows(2).enumerate() {
            if !r.canal.get(k).copied().unwrap_or(false)
                && self.world.land.segment_touches(w[0], w[1])
            {
                return Err(SimError::Data(format!(
                    "planned route segment {:?} -> {:?} touches land",
                    w[0], w[1]
                )));
            }
        }
        self.routes_checked += 1;
        self.segments_checked += r.points.len().saturating_sub(1) as u64;
        Ok(Arc::new(r))
    }

    fn route_between(&mut self, from: usize, to: usize) -> Result<Arc<Route>, SimError> {
        if let Some(r) = self.routes.get(&(from, to)) {
            return Ok(r.clone());
        }
        let (a, b) = (&self.world.places[from], &self.world.places[to]);
        let r = self
            .router
            .route(a.anchorage, b.anchorage)
            .map_err(|e| SimError::Data(format!("route {} -> {}: {e}", a.id, b.id)))?;
        let r = self.checked(r)?;
        self.routes.insert((from, to), r.clone());
        Ok(r)
    }

    /// A route from the ship's position to `to`, through the network between places.
    fn route(
        &mut self,
        ship: &Ship,
        to: LatLon,
        to_place: Option<usize>,
    ) -> Result<Arc<Route>, SimError> {
        let from = ship.pos;
        if let (Some(a), Some(b)) = (ship.place, to_place) {
            if a != b {
                let trunk = self.route_between(a, b)?;
                return self.splice(from, &trunk, to);
            }
        }
        let r = self
            .router
            .route(from, to)
            .map_err(|e| SimError::Data(format!("route {from:?} -> {to:?}: {e}")))?;
        self.checked(r)
    }

    /// The shortest way at sea from `route`'s start to its end (`geo::sea_path`) when one
    /// is found and is shorter; else `route` pulled straight, from each vertex to the
    /// farthest later one a straight land-free line reaches. A route through a canal is
    /// left as it is.
    fn direct(&self, route: &Arc<Route>) -> Arc<Route> {
        let p = &route.points;
        if p.len() < 3 || route.canal.iter().any(|&c| c) {
            return Arc::clone(route);
        }
        if let Some(path) = p
            .last()
            .and_then(|&end| shadowfleet_geo::sea_path(&self.world.land, p[0], end))
            .filter(|path| path.len() >= 2)
        {
            let canal = vec![false; path.len() - 1];
            let r = Route::new(path, canal);
            if r.length_m() < route.length_m() {
                return Arc::new(r);
            }
        }
        let mut points = vec![p[0]];
        let mut i = 0;
        while i + 1 < p.len() {
            let j = (i + 2..p.len())
                .rev()
                .find(|&j| !self.world.land.segment_touches(p[i], p[j]))
                .unwrap_or(i + 1);
            points.push(p[j]);
            i = j;
        }
        let canal = vec![false; points.len() - 1];
        Arc::new(Route::new(points, canal))
    }

    /// The trunk route with land-free connectors from `from` and to `to` added.
    fn splice(&mut self, from: LatLon, trunk: &Route, to: LatLon) -> Result<Arc<Route>, SimError> {
        let mut points = Vec::with_capacity(trunk.points.len() + 8);
        let mut canal = Vec::new();
        let first = trunk.points[0];
        let last = *trunk.points.last().unwrap_or(&first);
        let head = self.connector(from, first)?;
        points.extend_from_slice(&head.points);
        canal.extend_from_slice(&head.canal);
        points.extend_from_slice(&trunk.points[1..]);
        canal.extend_from_slice(&trunk.canal);
        let tail = self.connector(last, to)?;
        points.extend_from_slice(&tail.points[1..]);
        canal.extend_from_slice(&tail.canal);
        self.checked(Route::new(points, canal))
    }

    fn connector(&mut self, a: LatLon, b: LatLon) -> Result<Route, SimError> {
        if a == b || !self.world.land.segment_touches(a, b) {
            return Ok(Route::new(vec![a, b], vec![false]));
        }
        self.router
            .route(a, b)
            .map_err(|e| SimError::Data(format!("connector {a:?} -> {b:?}: {e}")))
    }

    fn event(
        &mut self,
        kind: &str,
        ship: (u32, u32),
        other: Option<(u32, u32)>,
        span: (i64, i64),
        at: LatLon,
        details: serde_json::Value,
    ) -> String {
        self.next_event += 1;
        let id = format!("E{}", self.next_event);
        let (start, end) = span;
        if start < self.end && end >= self.start {
            let mut details = details;
            if end > self.end {
                if let Some(m) = details.as_object_mut() {
                    m.insert("clipped".into(), true.into());
                }
            }
            self.records.push(TruthRecord::Event(truth::Event {
                id: id.clone(),
                kind: kind.to_owned(),
                vessel: ship.0,
                mmsi: ship.1,
                other_vessel: other.map(|o| o.0),
                other_mmsi: other.map(|o| o.1),
                start: rfc3339(start),
                end: rfc3339(end.min(self.end)),
                lat: round6(at.lat),
                lon: round6(at.lon),
                details,
            }));
        }
        id
    }

    /// Records a dark period once the emitter has seen both its ends.
    pub fn dark_event(&mut self, i: usize, mmsi: u32, d: &Dark, off: LatLon, on: LatLon) {
        let hours = (d.end - d.start) as f64 / 3600.0;
        let nm = haversine_m(off, on) / shadowfleet_geo::METRES_PER_NM;
        self.event(
            "dark",
            (i as u32, mmsi),
            None,
            (d.start, d.end),
            off,
            serde_json::json!({
                "near": d.near, "hours": (hours * 100.0).round() / 100.0,
                "on_lat": round6(on.lat), "on_lon": round6(on.lon),
                "distance_nm": (nm * 10.0).round() / 10.0,
                "implied_speed_kn": if hours > 0.0 { (nm / hours * 100.0).round() / 100.0 } else { 0.0 },
            }),
        );
    }

    fn sail(
        &mut self,
        ship: &mut Ship,
        to: LatLon,
        to_place: Option<usize>,
        depart: i64,
        dest: &str,
    ) -> Result<i64, SimError> {
        let depart = self.down_river(ship, depart, dest);
        let mut route = self.route(ship, to, to_place)?;
        if let Role::Service(k) = ship.role {
            if self.scenario.service[usize::from(k)].direct {
                route = self.direct(&route);
            }
        }
        let laden = !ship.parcels.is_empty();
        let kn = ship.speed_kn[usize::from(!laden)] * ship.rng.range(0.95, 1.05);
        let speed_mps = kn * KN;
        self.gate_transits(ship, &route, depart, speed_mps);
        let end = Self::sail_along(ship, route, depart, speed_mps, dest);
        ship.pos = to;
        ship.place = to_place;
        Ok(end)
    }

    /// A ship at the berth of a river port first sails down the river to the port's
    /// anchorage at sea, at the river's speed. Returns when it is there (`depart` when it
    /// is not at a river berth).
    fn down_river(&mut self, ship: &mut Ship, depart: i64, dest: &str) -> i64 {
        let Some(river) = ship.place.and_then(|p| self.world.places[p].river.as_ref()) else {
            return depart;
        };
        let (Some(&anchorage), Some(&berth)) = (river.way.points.first(), river.way.points.last())
        else {
            return depart;
        };
        if haversine_m(ship.pos, berth) > RIVER_BERTH_M {
            return depart;
        }
        let mut points = river.way.points.clone();
        points.reverse();
        let mut canal = river.way.canal.clone();
        canal.reverse();
        let down = Arc::new(Route::new(points, canal));
        let speed_mps = river.speed_kn * KN;
        self.gate_transits(ship, &down, depart, speed_mps);
        let end = Self::sail_along(ship, down, depart, speed_mps, dest);
        ship.pos = anchorage;
        end
    }

    /// Plans a passage along `route` from `start` at `speed_mps` (under way, showing
    /// `dest`); returns when it ends. The ship's position is the caller's to move.
    fn sail_along(
        ship: &mut Ship,
        route: Arc<Route>,
        start: i64,
        speed_mps: f64,
        dest: &str,
    ) -> i64 {
        let end = start + (route.length_m() / speed_mps).ceil() as i64 + 1;
        ship.plan(Segment {
            start,
            end,
            motion: Motion::Sail {
                route,
                speed_mps,
                cursor: Default::default(),
            },
            status: 0,
            draught_dm: ship.draught_dm,
            destination: AisText::from_str_lossy(dest),
            eta: end,
        });
        end
    }

    /// Appends a hold at `at` over `span` and moves the ship there.
    pub fn hold(ship: &mut Ship, at: LatLon, span: (i64, i64), status: u8, dest: &str, phase: f64) {
        ship.plan(Segment {
            start: span.0,
            end: span.1,
            motion: Motion::Hold { at, phase },
            status,
            draught_dm: ship.draught_dm,
            destination: AisText::from_str_lossy(dest),
            eta: span.0,
        });
        ship.pos = at;
    }

    /// A new cargo id.
    pub fn new_cargo_id(&mut self) -> u32 {
        self.next_cargo += 1;
        self.next_cargo
    }

    fn draught_for(ship: &Ship) -> u8 {
        draught_dm(ship)
    }
}

/// How far out from the berth a port call's way in is recorded, metres: wider than any
/// circle a monitor draws around a port (the port-call entry radius, 3 km; a river port's
/// circle, a few km).
pub const APPROACH_M: f64 = 25_000.0;

/// The way in to the berth as planned so far: the positions (time, point) at the vertices of
/// the passages, from the last one farther than [`APPROACH_M`] from `berth` to the berth, in
/// time order. Between two of them the ship moves straight (linear in latitude, longitude
/// and time), so a reader can time the entry into any circle around the port.
fn approach(ship: &Ship, berth: LatLon) -> Vec<(i64, LatLon)> {
    let mut way = Vec::new();
    'back: for seg in ship.schedule.iter().rev() {
        match &seg.motion {
            Motion::Hold { at, .. } => {
                if haversine_m(*at, berth) > APPROACH_M {
                    way.push((seg.end, *at));
                    break;
                }
            }
            Motion::Sail {
                route, speed_mps, ..
            } => {
                for (q, d) in route.points.iter().zip(&route.cumulative_m).rev() {
                    way.push((seg.start + (d / speed_mps).round() as i64, *q));
                    if haversine_m(*q, berth) > APPROACH_M {
                        break 'back;
                    }
                }
            }
        }
    }
    way.reverse();
    way
}

/// The draught (decimetres) a ship shows with the cargo now on board: linear between ballast
/// and laden by the share of a full load.
pub fn draught_dm(ship: &Ship) -> u8 {
    if let Role::Service(_) = ship.role {
        let m = ship.draught_m[usize::from(ship.laden)];
        return (m * 10.0).round().clamp(1.0, 255.0) as u8;
    }
    {
        let load: f64 = ship.parcels.iter().map(|p| p.volume_t).sum();
        let full = (ship.dwt * ship.fill_factor).max(1.0);
        let f = (load / full).clamp(0.0, 1.0);
        let m = ship.draught_m[0] + (ship.draught_m[1] - ship.draught_m[0]) * f;
        (m * 10.0).round().clamp(1.0, 255.0) as u8
    }
}

impl<'w> Planner<'w> {
    /// A port call: approach to the anchorage, wait, berth, cargo operation, departure.
    /// `operate` runs at the end of the berth stay and changes the cargo on board.
    fn port_call(
        &mut self,
        ship: &mut Ship,
        idx: u32,
        place: usize,
        depart: i64,
        (purpose, stay_hours): (&str, [f64; 2]),
        operate: &mut dyn FnMut(&mut Planner<'w>, &mut Ship, i64, &str) -> Vec<String>,
    ) -> Result<i64, SimError> {
        let p = self.world.places[place].clone();
        let dest = ship.declare.take().unwrap_or_else(|| {
            if p.locode.is_empty() {
                p.name.clone()
            } else {
                p.locode.clone()
            }
        });
        let arrive = self.sail(ship, p.anchorage, Some(place), depart, &dest)?;
        let mut wait = (ship.rng.range(2.0, 20.0) * HOUR as f64) as i64;
        // A closed port: wait at the anchorage until it opens.
        if let Some(open) = self.closed_until(&p.id, arrive + wait) {
            wait = open - arrive + (ship.rng.range(1.0, 12.0) * HOUR as f64) as i64;
        }
        let phase = ship.rng.range(0.0, std::f64::consts::TAU);
        Self::hold(ship, p.anchorage, (arrive, arrive + wait), 1, &dest, phase);
        ship.place = Some(place);
        let at_berth = if let Some(river) = &p.river {
            // The wait at sea is the queue to enter the river; then up the fairway to a
            // berth along the quay.
            let hours = wait as f64 / HOUR as f64;
            self.event(
                "queue",
                (ship.index, ship.ident(arrive).mmsi),
                None,
                (arrive, arrive + wait),
                p.anchorage,
                serde_json::json!({"area": river.queue, "hours": (hours * 100.0).round() / 100.0}),
            );
            let speed_mps = river.speed_kn * KN;
            self.gate_transits(ship, &river.way, arrive + wait, speed_mps);
            Self::sail_along(ship, river.way.clone(), arrive + wait, speed_mps, &dest)
        } else if haversine_m(p.anchorage, p.berth) > 50.0 {
            let c = self.connector(p.anchorage, p.berth)?;
            let r = self.checked(c)?;
            Self::sail_along(ship, r, arrive + wait, 5.0 * KN, &dest)
        } else {
            arrive + wait
        };
        let mut stay = (ship.rng.range(stay_hours[0], stay_hours[1]) * HOUR as f64) as i64;
        // Nothing leaves a closed port.
        if let Some(open) = self.closed_until(&p.id, at_berth + stay) {
            stay = open - at_berth + (ship.rng.range(1.0, 8.0) * HOUR as f64) as i64;
        }
        let before = ship.draught_dm;
        // The crew enters the new draught near the end of the operation.
        let update = at_berth + stay - (ship.rng.range(0.5, 3.0) * HOUR as f64) as i64;
        Self::hold(ship, p.berth, (at_berth, update), 5, &dest, 0.0);
        let mmsi = ship.ident(arrive).mmsi;
        let id = format!("E{}", self.next_event + 1);
        let cargoes = operate(self, ship, update, &id);
        ship.draught_dm = Self::draught_for(ship);
        let next_dest = if purpose == "load" { "FOR ORDERS" } else { "" };
        Self::hold(ship, p.berth, (update, at_berth + stay), 5, next_dest, 0.0);
        let leave = at_berth + stay;
        let approach: Vec<serde_json::Value> = approach(ship, p.berth)
            .into_iter()
            .map(|(t, q)| serde_json::json!([rfc3339(t), q.lat, q.lon]))
            .collect();
        self.event(
            "port_call",
            (idx, mmsi),
            None,
            // At a river port the call begins in the port; the wait at sea is its queue.
            (if p.river.is_some() { at_berth } else { arrive }, leave),
            p.berth,
            serde_json::json!({
                "place": p.id, "place_kind": if p.kind == PlaceKind::Terminal { "terminal" } else { "port" },
                "country": p.country, "locode": p.locode, "purpose": purpose,
                "declared_destination": dest,
                "berth_arrival": rfc3339(at_berth),
                "draught_before_m": f64::from(before) / 10.0, "draught_after_m": f64::from(ship.draught_dm) / 10.0,
                "draught_update": rfc3339(update), "cargoes": cargoes,
                "approach": approach,
            }),
        );
        ship.pos = p.berth;
        ship.place = Some(place);
        Ok(leave)
    }

    /// Plans what ship `i` does next, from `ships[i].free_at`.
    pub fn plan(&mut self, ships: &mut [Ship], i: usize) -> Result<(), SimError> {
        let now = ships[i].free_at;
        if let Some(scrap) = ships[i].scrap_at {
            if now >= scrap {
                ships[i].free_at = OPEN;
                return Ok(());
            }
        }
        match ships[i].role {
            Role::Service(k) => self.plan_service(&mut ships[i], now, usize::from(k)),
            Role::Cargo => self.plan_cargo_ship(&mut ships[i], now),
            Role::Fishing => self.plan_fishing(&mut ships[i], now),
            Role::Receiver if ships[i].parcels.is_empty() => {
                self.wait_for_cargo(&mut ships[i], i, now)
            }
            _ if ships[i].parcels.is_empty() => self.load(&mut ships[i], i, now, None),
            _ => self.deliver(ships, i, now, None),
        }
    }

    /// A mother ship goes to an STS area and waits there, open-ended.
    pub fn wait_for_cargo(&mut self, ship: &mut Ship, i: usize, now: i64) -> Result<(), SimError> {
        let area = pick(&mut self.rng, self.world, &self.scenario.trade.sts_areas)?;
        let at = self.point_in_area(area, &mut ship.rng);
        let arrive = if haversine_m(ship.pos, at) > 100.0 {
            let dest = self.world.places[area].name.clone();
            let arrive = self.sail(ship, at, Some(area), now, &dest)?;
            ship.place = Some(area);
            arrive
        } else {
            now
        };
        let phase = ship.rng.range(0.0, std::f64::consts::TAU);
        Self::hold(ship, at, (arrive, OPEN), 1, "", phase);
        ship.free_at = OPEN;
        self.pool.push((i, area));
        Ok(())
    }

    pub(crate) fn point_in_area(&mut self, area: usize, rng: &mut Rng) -> LatLon {
        let p = &self.world.places[area];
        let land = &self.world.land;
        // Room for two ships side by side, each swinging at anchor, and away from the spots
        // other ships were given here recently.
        let roomy = |q: LatLon| self.world.has_room(q, 300.0);
        let taken = self.spots.entry(area).or_default();
        let clearance = |q: LatLon| {
            taken
                .iter()
                .map(|&s| haversine_m(s, q))
                .fold(f64::INFINITY, f64::min)
        };
        let mut best: Option<(LatLon, f64)> = None;
        for k in 0..48 {
            let spread = if k < 24 { 0.5 } else { 0.9 };
            let r = p.radius_m * spread * rng.f64().sqrt();
            let a = rng.range(0.0, std::f64::consts::TAU);
            let q = offset_m(p.anchorage, r * a.cos(), r * a.sin());
            if !land.segment_touches(p.anchorage, q) && roomy(q) {
                let c = clearance(q);
                if best.is_none_or(|(_, b)| c > b) {
                    best = Some((q, c));
                }
                if c >= SPOT_SPACING_M {
                    break;
                }
            }
        }
        let at = best.map_or(p.anchorage, |b| b.0);
        if taken.len() >= SPOTS_REMEMBERED {
            taken.pop_front();
        }
        taken.push_back(at);
        at
    }

    /// Ballast leg to a loading place and a loading call. `progress` starts the leg part-way
    /// (initial state).
    pub fn load(
        &mut self,
        ship: &mut Ship,
        i: usize,
        now: i64,
        progress: Option<f64>,
    ) -> Result<(), SimError> {
        let sc = self.scenario;
        let russian = matches!(ship.role, Role::Shadow | Role::Receiver);
        let list = if russian {
            &sc.trade.terminals
        } else {
            &sc.trade.mainstream_loading
        };
        // A ship already at a loading place (waiting at its anchorage) loads there.
        let here = ship
            .place
            .filter(|&p| list.contains_key(&self.world.places[p].id));
        let place = match here {
            Some(p) => p,
            None => pick(&mut self.rng, self.world, list)?,
        };
        let depart = self.backdate(ship, place, now, progress)?;
        // Dark approach to the terminal: off some hours out, on again at the anchorage.
        let dark_approach =
            ship.role == Role::Shadow && ship.rng.chance(sc.behaviour.dark_terminal_share);
        let before = ship.schedule.len();
        let leave = self.port_call(
            ship,
            i as u32,
            place,
            depart,
            ("load", [20.0, 36.0]),
            &mut |pl, s, t, event| {
                let p = &pl.world.places[place];
                let product = if p.products.is_empty() {
                    "crude"
                } else {
                    p.products[s.rng.below(p.products.len())]
                };
                let volume_t = (s.dwt * s.fill_factor * s.rng.range(0.9, 1.0)).round();
                pl.next_cargo += 1;
                s.parcels.push(Parcel {
                    cargo: pl.next_cargo,
                    terminal: place,
                    product,
                    volume_t,
                    loaded: t,
                    load_event: event.to_owned(),
                    chain: vec![(i as u32, None)],
                });
                s.hops = 0;
                vec![format!("C{}", pl.next_cargo)]
            },
        )?;
        if dark_approach {
            if let Some(arrive) = ship.schedule.get(before).map(|s| s.end) {
                let off = arrive - (ship.rng.range(12.0, 48.0) * HOUR as f64) as i64;
                let on = arrive + (ship.rng.range(0.5, 3.0) * HOUR as f64) as i64;
                ship.dark.push_back(Dark {
                    start: off.max(depart + HOUR),
                    end: on,
                    near: format!("terminal {}", self.world.places[place].id),
                    off: None,
                });
            }
        }
        ship.free_at = leave;
        Ok(())
    }

    /// Starts a leg in the past for the initial state: the departure such that `progress` of
    /// the leg to `place` is done at `now`.
    fn backdate(
        &mut self,
        ship: &mut Ship,
        place: usize,
        now: i64,
        progress: Option<f64>,
    ) -> Result<i64, SimError> {
        let Some(f) = progress else { return Ok(now) };
        let p = self.world.places[place].anchorage;
        let r = self.route(ship, p, Some(place))?;
        let speed = ship.speed_kn[usize::from(ship.parcels.is_empty())] * KN;
        Ok(now - (f * r.length_m() / speed) as i64)
    }

    /// A laden ship: hand the cargo on by STS, or carry it to a discharge port.
    pub fn deliver(
        &mut self,
        ships: &mut [Ship],
        i: usize,
        now: i64,
        progress: Option<f64>,
    ) -> Result<(), SimError> {
        let b = &self.scenario.behaviour;
        let can_sts = matches!(ships[i].role, Role::Shadow | Role::Receiver);
        let p_sts = if ships[i].hops == 0 {
            b.sts_share
        } else {
            b.multi_hop_share
        };
        if can_sts && !self.pool.is_empty() && ships[i].rng.chance(p_sts) {
            return self.sts(ships, i, now, progress);
        }
        let ship = &mut ships[i];
        let sc = self.scenario;
        let list = match ship.role {
            Role::Receiver => &sc.trade.receiver_destinations,
            Role::Shadow => &sc.trade.destinations,
            _ => &sc.trade.mainstream_discharge,
        };
        let place = pick(&mut self.rng, self.world, list)?;
        let mut depart = self.backdate(ship, place, now, progress)?;
        let shadow = matches!(ship.role, Role::Shadow | Role::Receiver);
        if shadow && progress.is_none() && ship.rng.chance(b.loiter_share) {
            let area = pick(&mut self.rng, self.world, &sc.trade.loiter_areas)?;
            let at = self.point_in_area(area, &mut ship.rng);
            let dest = self.world.places[place].locode.clone();
            let arrive = self.sail(ship, at, Some(area), depart, &dest)?;
            let hours = ship.rng.range(b.loiter_hours[0], b.loiter_hours[1]);
            let end = arrive + (hours * HOUR as f64) as i64;
            let phase = ship.rng.range(0.0, std::f64::consts::TAU);
            Self::hold(ship, at, (arrive, end), 0, &dest, phase);
            ship.place = Some(area);
            let mmsi = ship.ident(arrive).mmsi;
            self.event(
                "loitering",
                (i as u32, mmsi),
                None,
                (arrive, end),
                at,
                serde_json::json!({"area": self.world.places[area].id, "reason": "waiting"}),
            );
            depart = end;
        }
        let leg_start = ship.schedule.len();
        let leave = self.port_call(
            ship,
            i as u32,
            place,
            depart,
            ("discharge", [20.0, 36.0]),
            &mut |pl, s, t, event| {
                let parcels = std::mem::take(&mut s.parcels);
                parcels
                    .into_iter()
                    .map(|p| pl.discharge(p, place, t, event))
                    .collect()
            },
        )?;
        if shadow {
            if let Some(seg) = ship.schedule.get(leg_start).cloned() {
                self.inject_at_sea(ship, &seg);
            }
            if ship.will_change_identity {
                ship.will_change_identity = false;
                self.change_identity(ship, i, leave - HOUR);
            }
        }
        ship.hops = 0;
        ship.free_at = leave;
        Ok(())
    }

    /// Records a discharged cargo (or keeps it for the end when it lands after the period).
    fn discharge(&mut self, p: Parcel, place: usize, t: i64, event: &str) -> String {
        let id = format!("C{}", p.cargo);
        let port = &self.world.places[place];
        let terminal = &self.world.places[p.terminal];
        let bbl = (p.volume_t * barrels_per_tonne(p.product)).round();
        let delivered = t < self.end;
        if delivered && t >= self.start {
            let month = rfc3339(t)[..7].to_owned();
            let origin = if terminal.kind == PlaceKind::Terminal {
                terminal.origin_country.clone()
            } else {
                terminal.country.clone()
            };
            let v = self
                .volumes
                .entry((port.country.clone(), month, origin))
                .or_default();
            v.cargoes += 1;
            v.tonnes += p.volume_t;
            v.barrels += bbl;
            if p.chain.len() > 1 {
                v.via_sts_barrels += bbl;
            }
        }
        let discharge = delivered.then(|| truth::Discharge {
            port: port.id.clone(),
            country: port.country.clone(),
            time: rfc3339(t),
            event: event.to_owned(),
        });
        self.records.push(self.cargo_record(&p, discharge));
        id
    }

    pub fn cargo_record(&self, p: &Parcel, discharge: Option<truth::Discharge>) -> TruthRecord {
        let terminal = &self.world.places[p.terminal];
        let origin = if terminal.kind == PlaceKind::Terminal {
            terminal.origin_country.clone()
        } else {
            terminal.country.clone()
        };
        TruthRecord::Cargo(truth::Cargo {
            id: format!("C{}", p.cargo),
            terminal: terminal.id.clone(),
            origin_country: origin,
            product: p.product.to_owned(),
            volume_t: p.volume_t,
            volume_bbl: (p.volume_t * barrels_per_tonne(p.product)).round(),
            loaded: rfc3339(p.loaded),
            load_event: (!p.load_event.is_empty() && p.loaded >= self.start)
                .then(|| p.load_event.clone()),
            chain: p
                .chain
                .iter()
                .map(|(v, via)| truth::Custody {
                    vessel: *v,
                    via_sts: via.clone(),
                })
                .collect(),
            discharge,
        })
    }

    /// A ship-to-ship transfer of all cargo on ship `i` to a waiting mother ship.
    fn sts(
        &mut self,
        ships: &mut [Ship],
        i: usize,
        now: i64,
        progress: Option<f64>,
    ) -> Result<(), SimError> {
        let sc = self.scenario;
        let area = pick(&mut self.rng, self.world, &sc.trade.sts_areas)?;
        // Prefer a mother ship already in that area; otherwise the first waiting anywhere.
        let k = self
            .pool
            .iter()
            .position(|&(r, a)| a == area && r != i)
            .or_else(|| self.pool.iter().position(|&(r, _)| r != i));
        let Some(k) = k else { return Ok(()) };
        let (j, _) = self.pool.remove(k);
        let (giver, receiver) = two(ships, i, j);
        let at = self.point_in_area(area, &mut giver.rng);
        let beside = offset_m(at, 0.0, 80.0);
        let area_id = self.world.places[area].id.clone();
        let depart = match progress {
            Some(f) => {
                now - (f * self.route(giver, at, Some(area))?.length_m() / (giver.speed_kn[0] * KN))
                    as i64
            }
            None => now,
        };
        let t_g = self.sail(giver, at, Some(area), depart, "")?;
        giver.place = Some(area);
        // The receiver leaves its wait now, or when it has reached the place it was sent to
        // wait: a mother ship still on its way there is picked from the pool too, and its
        // move to the giver starts at the end of that leg (it started at `now`, while the
        // ship was still sailing, and its AIS and the transfer's truth disagreed).
        if let Some(last) = receiver.schedule.back_mut() {
            if last.end == OPEN {
                last.end = now.max(last.start + 1);
            }
        }
        let ready = receiver.schedule.back().map_or(now, |s| s.end.max(now));
        let t_r = if haversine_m(receiver.pos, beside) > 50.0 {
            let t = self.sail(receiver, beside, Some(area), ready, "")?;
            receiver.place = Some(area);
            t
        } else {
            ready
        };
        let b = &sc.behaviour;
        let start = t_g.max(t_r) + (giver.rng.range(0.5, 3.0) * HOUR as f64) as i64;
        let end = start + (giver.rng.range(b.sts_hours[0], b.sts_hours[1]) * HOUR as f64) as i64;
        let phase = giver.rng.range(0.0, std::f64::consts::TAU);
        let (gm, rm) = (giver.ident(start).mmsi, receiver.ident(start).mmsi);
        for (s, idx, arrive, pos) in [(&mut *giver, i, t_g, at), (&mut *receiver, j, t_r, beside)] {
            if start - arrive >= HOUR {
                Self::hold(s, pos, (arrive, start), 1, "", phase);
                if start - arrive >= 2 * HOUR {
                    let mmsi = s.ident(arrive).mmsi;
                    self.event(
                        "loitering",
                        (idx as u32, mmsi),
                        None,
                        (arrive, start),
                        pos,
                        serde_json::json!({"area": area_id, "reason": "waiting for STS"}),
                    );
                }
            } else {
                Self::hold(s, pos, (arrive, start), 1, "", phase);
            }
        }
        let dark = giver.rng.chance(b.dark_sts_share);
        let id = format!("E{}", self.next_event + 1);
        let gd = (giver.draught_dm, receiver.draught_dm);
        // Cargo changes hands at the end of the transfer.
        let mid = end - HOUR;
        Self::hold(giver, at, (start, mid), 1, "", phase);
        Self::hold(receiver, beside, (start, mid), 1, "", phase);
        let parcels = std::mem::take(&mut giver.parcels);
        let volume: f64 = parcels.iter().map(|p| p.volume_t).sum();
        let cargoes: Vec<String> = parcels.iter().map(|p| format!("C{}", p.cargo)).collect();
        for mut p in parcels {
            p.chain.push((j as u32, Some(id.clone())));
            receiver.parcels.push(p);
        }
        receiver.hops = giver.hops + 1;
        giver.draught_dm = Self::draught_for(giver);
        receiver.draught_dm = Self::draught_for(receiver);
        Self::hold(giver, at, (mid, end), 1, "", phase);
        Self::hold(receiver, beside, (mid, end), 1, "", phase);
        if dark {
            let off = (t_g - (giver.rng.range(6.0, 24.0) * HOUR as f64) as i64).max(depart + HOUR);
            let on = end + (giver.rng.range(1.0, 8.0) * HOUR as f64) as i64;
            giver.dark.push_back(Dark {
                start: off,
                end: on,
                near: format!("STS {area_id}"),
                off: None,
            });
        }
        self.event(
            "sts",
            (i as u32, gm),
            Some((j as u32, rm)),
            (start, end),
            at,
            serde_json::json!({
                "area": area_id, "dark_side": if dark { "giver" } else { "none" },
                "volume_t": volume, "cargoes": cargoes,
                "giver_draught_m": [f64::from(gd.0) / 10.0, f64::from(giver.draught_dm) / 10.0],
                "receiver_draught_m": [f64::from(gd.1) / 10.0, f64::from(receiver.draught_dm) / 10.0],
                "receiver_lat": round6(beside.lat), "receiver_lon": round6(beside.lon),
            }),
        );
        giver.free_at = end;
        receiver.free_at = end;
        self.woken.push(j);
        giver.hops = 0;
        Ok(())
    }

    /// Dark periods and spoofing on a long leg at sea.
    fn inject_at_sea(&mut self, ship: &mut Ship, leg: &Segment) {
        let b = &self.scenario.behaviour;
        let (t0, t1) = (leg.start.max(self.start), leg.end);
        if t1 - t0 < 2 * 24 * HOUR {
            return;
        }
        if ship.rng.chance(b.dark_voyage_share) {
            let len = (ship.rng.range(b.dark_hours[0], b.dark_hours[1]) * HOUR as f64) as i64;
            let len = len.min(t1 - t0 - 12 * HOUR);
            let start =
                t0 + 6 * HOUR + (ship.rng.f64() * (t1 - t0 - 12 * HOUR - len) as f64) as i64;
            ship.dark.push_back(Dark {
                start,
                end: start + len,
                near: "at sea".into(),
                off: None,
            });
        }
        if ship.rng.chance(b.spoofing_share) {
            let mut start = t0 + 6 * HOUR + (ship.rng.f64() * (t1 - t0 - 30 * HOUR) as f64) as i64;
            // A transmitter that is off cannot spoof: start after a dark period it would
            // fall into (the longest episode still ends 4 h before the leg does).
            if let Some(d) = ship.dark.back().filter(|d| d.start <= start + 20 * HOUR) {
                if d.end >= start {
                    start = d.end + HOUR;
                    if start > t1 - 24 * HOUR {
                        return;
                    }
                }
            }
            let (truth_pos, _, _) = crate::fleet::kinematics(leg, start);
            let dir = ship.rng.range(0.0, std::f64::consts::TAU);
            let (kind, hours) = match ship.rng.below(4) {
                0 => {
                    let d = ship.rng.range(60_000.0, 400_000.0);
                    (
                        SpoofKind::Offset {
                            north_m: d * dir.cos(),
                            east_m: d * dir.sin(),
                        },
                        ship.rng.range(6.0, 20.0),
                    )
                }
                1 => (
                    SpoofKind::Circle {
                        centre: truth_pos,
                        radius_m: ship.rng.range(1_500.0, 4_000.0),
                    },
                    ship.rng.range(3.0, 12.0),
                ),
                2 => match self.land_near(truth_pos) {
                    Some(at) => (SpoofKind::Land { at }, ship.rng.range(2.0, 8.0)),
                    None => (
                        SpoofKind::Offset {
                            north_m: 150_000.0 * dir.cos(),
                            east_m: 150_000.0 * dir.sin(),
                        },
                        8.0,
                    ),
                },
                _ => {
                    let d = ship.rng.range(300_000.0, 1_500_000.0);
                    (
                        SpoofKind::Jump {
                            north_m: d * dir.cos(),
                            east_m: d * dir.sin(),
                        },
                        0.25,
                    )
                }
            };
            let end = start + (hours * HOUR as f64) as i64;
            ship.spoof.push_back(Spoof {
                start,
                end,
                kind,
                mmsi: ship.ident(start).mmsi,
                truth_pos,
                heard: 0,
            });
        }
    }

    /// The truth record of a spoofing episode, written once the emitter has passed it (and
    /// knows how many spoofed reports were heard).
    pub fn spoofing_event(&mut self, i: usize, s: &Spoof) {
        let shown = match s.kind {
            SpoofKind::Offset { north_m, east_m } | SpoofKind::Jump { north_m, east_m } => {
                offset_m(s.truth_pos, north_m, east_m)
            }
            SpoofKind::Circle { centre, radius_m } => offset_m(centre, radius_m, 0.0),
            SpoofKind::Land { at } => at,
        };
        self.event(
            "spoofing",
            (i as u32, s.mmsi),
            None,
            (s.start, s.end),
            s.truth_pos,
            serde_json::json!({
                "method": s.kind.name(),
                "broadcast_lat": round6(shown.lat), "broadcast_lon": round6(shown.lon),
                "heard_reports": s.heard,
            }),
        );
    }

    /// Records that interference put ship `i` (broadcasting `mmsi`) at a false position near
    /// the target of `area` from `span.0` to `span.1`; `at` is the area's centre.
    pub fn interference_event(
        &mut self,
        i: usize,
        mmsi: u32,
        span: (i64, i64),
        area: (u32, u32),
        a: &crate::scenario::Interference,
        heard: u32,
    ) {
        self.event(
            "interference",
            (i as u32, mmsi),
            None,
            span,
            LatLon {
                lat: a.lat,
                lon: a.lon,
            },
            serde_json::json!({
                "area": area.0, "episode": area.1,
                "broadcast_lat": round6(a.target_lat), "broadcast_lon": round6(a.target_lon),
                "radius_km": a.radius_km,
                "heard_reports": heard,
            }),
        );
    }

    fn land_near(&self, p: LatLon) -> Option<LatLon> {
        let mut d = 10_000.0;
        while d <= 400_000.0 {
            for k in 0..16 {
                let a = (k as f64 * 22.5).to_radians();
                let q = offset_m(p, d * a.cos(), d * a.sin());
                // Well inland, as GNSS spoofing shows ships (at airports, deep inland): the
                // point and a ring 10 km around it are land.
                if self.world.land.contains(q)
                    && (0..8).all(|m| {
                        self.world.land.contains(offset_m(
                            q,
                            10_000.0 * (m as f64 * 0.785).cos(),
                            10_000.0 * (m as f64 * 0.785).sin(),
                        ))
                    })
                {
                    return Some(q);
                }
            }
            d += 10_000.0;
        }
        None
    }

    /// Rename, reflag (new MID, MMSI and call sign) or new MMSI, from `t`.
    pub fn change_identity(&mut self, ship: &mut Ship, i: usize, t: i64) {
        let old = ship.ident(t).clone();
        let mut new = old.clone();
        let how = ship.rng.below(3);
        let kind = match how {
            0 => {
                new.name = AisText::from_str_lossy(&ship_name(&mut ship.rng, true));
                "rename"
            }
            1 => {
                let flags = &self.scenario.flags.shadow;
                let flag = pick_key(&mut ship.rng, flags);
                new.flag = flag.clone();
                new.mmsi = mmsi_for(self.world, &flag, &mut ship.rng);
                new.callsign = AisText::from_str_lossy(&callsign(&mut ship.rng));
                new.name = AisText::from_str_lossy(&ship_name(&mut ship.rng, true));
                "reflag"
            }
            _ => {
                new.mmsi = mmsi_for(self.world, &old.flag, &mut ship.rng);
                "mmsi_change"
            }
        };
        self.identity_event(ship, i, t, kind, &old, &new, None);
        ship.set_ident(t, new);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn identity_event(
        &mut self,
        ship: &Ship,
        i: usize,
        t: i64,
        kind: &str,
        old: &Ident,
        new: &Ident,
        other: Option<(u32, u32)>,
    ) {
        let at = ship.kinematics(t).map(|k| k.0).unwrap_or(ship.pos);
        self.event(
            "identity_change",
            (i as u32, new.mmsi),
            other,
            (t, t),
            at,
            serde_json::json!({
                "change": kind,
                "from": {"mmsi": old.mmsi, "imo": old.imo, "name": old.name.as_str(), "callsign": old.callsign.as_str(), "flag": old.flag},
                "to": {"mmsi": new.mmsi, "imo": new.imo, "name": new.name.as_str(), "callsign": new.callsign.as_str(), "flag": new.flag},
            }),
        );
    }

    /// The span of a closure, unix seconds.
    pub fn closure_span(&self, c: &crate::scenario::Closure) -> (i64, i64) {
        let from = self.start + (c.from_day * DAY as f64) as i64;
        (from, from + (c.days * DAY as f64) as i64)
    }

    /// When the port `id` opens again, if it is closed at `t`.
    fn closed_until(&self, id: &str, t: i64) -> Option<i64> {
        self.scenario
            .closure
            .iter()
            .filter(|c| c.port == id)
            .map(|c| self.closure_span(c))
            .find(|&(a, b)| t >= a && t < b)
            .map(|(_, b)| b)
    }

    /// Records the scenario's gate lines that a route crosses (`gate_transit` events).
    fn gate_transits(&mut self, ship: &Ship, route: &Route, depart: i64, speed_mps: f64) {
        let sc = self.scenario;
        if sc.gate.is_empty() {
            return;
        }
        let pt = |p: [f64; 2]| LatLon::new(p[1], p[0]);
        let mut found = Vec::new();
        for (j, w) in route.points.windows(2).enumerate() {
            for g in &sc.gate {
                for l in g.line.windows(2) {
                    if let Some((f, from_left)) =
                        shadowfleet_geo::segments_cross(w[0], w[1], pt(l[0]), pt(l[1]))
                    {
                        let seg = route.cumulative_m[j + 1] - route.cumulative_m[j];
                        let d = route.cumulative_m[j] + f * seg;
                        let t = depart + (d / speed_mps).round() as i64;
                        found.push((t, w[0].lerp(w[1], f), g.id.clone(), from_left));
                    }
                }
            }
        }
        for (t, at, gate, from_left) in found {
            let mmsi = ship.ident(t).mmsi;
            self.event(
                "gate_transit",
                (ship.index, mmsi),
                None,
                (t, t),
                at,
                serde_json::json!({
                    "gate": gate,
                    "direction": if from_left { "left_to_right" } else { "right_to_left" },
                    "laden": ship.laden || !ship.parcels.is_empty(),
                }),
            );
        }
    }

    /// A service ship: load (dark on the approach when the scenario says so), wait laden at
    /// the service's waiting area, discharge; then back to load.
    fn plan_service(&mut self, ship: &mut Ship, now: i64, k: usize) -> Result<(), SimError> {
        let sc = self.scenario;
        let sv = &sc.service[k];
        let purpose = if ship.laden { "discharge" } else { "load" };
        let list = if ship.laden { &sv.discharge } else { &sv.load };
        // A ship already waiting at one of the ports calls there; a closed port is avoided
        // when another is open (a few tries).
        let here = ship.place.filter(|&p| {
            let id = &self.world.places[p].id;
            list.contains_key(id) && self.closed_until(id, now).is_none()
        });
        let mut place = match here {
            Some(p) => p,
            None => pick(&mut self.rng, self.world, list)?,
        };
        for _ in 0..4 {
            if self
                .closed_until(&self.world.places[place].id, now)
                .is_none()
            {
                break;
            }
            place = pick(&mut self.rng, self.world, list)?;
        }
        if let Some(d) = sv.declared.as_ref().filter(|d| d.at == purpose) {
            if ship.rng.chance(d.share) {
                ship.declare = Some(pick_key(&mut ship.rng, &d.destinations));
            }
        }
        let before = ship.schedule.len();
        let leave = self.port_call(
            ship,
            ship.index,
            place,
            now,
            (purpose, sv.port_hours),
            &mut |_, s, _, _| {
                s.laden = !s.laden;
                Vec::new()
            },
        )?;
        if sv.dark_at == purpose && ship.rng.chance(sv.dark_approach_share) {
            if let Some(arrive) = ship.schedule.get(before).map(|s| s.end) {
                let h = ship
                    .rng
                    .range(sv.dark_approach_hours[0], sv.dark_approach_hours[1]);
                let off = arrive - (h * HOUR as f64) as i64;
                let on = arrive + (ship.rng.range(1.0, 6.0) * HOUR as f64) as i64;
                ship.dark.push_back(Dark {
                    start: off.max(now + HOUR),
                    end: on,
                    near: format!("port {}", self.world.places[place].id),
                    off: None,
                });
            }
        }
        ship.free_at = leave;
        if let (Some(w), true) = (&sv.wait, ship.laden) {
            // A spot at sea with room to swing at anchor (the centre when none is found).
            let centre = LatLon::new(w.lat, w.lon);
            let mut at = centre;
            for _ in 0..24 {
                let r = w.radius_km * 1000.0 * ship.rng.f64().sqrt();
                let a = ship.rng.range(0.0, std::f64::consts::TAU);
                let q = offset_m(centre, r * a.cos(), r * a.sin());
                if !self.world.land.segment_touches(centre, q) && self.world.has_room(q, 300.0) {
                    at = q;
                    break;
                }
            }
            let arrive = self.sail(ship, at, None, leave, &w.id)?;
            let hours = ship.rng.range(w.hours[0], w.hours[1]);
            let end = arrive + (hours * HOUR as f64) as i64;
            let phase = ship.rng.range(0.0, std::f64::consts::TAU);
            Self::hold(ship, at, (arrive, end), 1, &w.id, phase);
            self.event(
                "queue",
                (ship.index, ship.ident(arrive).mmsi),
                None,
                (arrive, end),
                at,
                serde_json::json!({"area": w.id, "hours": (hours * 100.0).round() / 100.0}),
            );
            ship.free_at = end;
        }
        Ok(())
    }

    fn plan_cargo_ship(&mut self, ship: &mut Ship, now: i64) -> Result<(), SimError> {
        let mut place = pick(
            &mut self.rng,
            self.world,
            &self.scenario.trade.background_ports,
        )?;
        if Some(place) == ship.place {
            place = pick(
                &mut self.rng,
                self.world,
                &self.scenario.trade.background_ports,
            )?;
        }
        let p = self.world.places[place].clone();
        let arrive = if Some(place) == ship.place {
            now
        } else {
            self.sail(ship, p.anchorage, Some(place), now, &p.locode)?
        };
        let stay = (ship.rng.range(8.0, 30.0) * HOUR as f64) as i64;
        let phase = ship.rng.range(0.0, std::f64::consts::TAU);
        Self::hold(
            ship,
            p.anchorage,
            (arrive, arrive + stay),
            5,
            &p.locode,
            phase,
        );
        ship.place = Some(place);
        ship.free_at = arrive + stay;
        Ok(())
    }

    fn plan_fishing(&mut self, ship: &mut Ship, now: i64) -> Result<(), SimError> {
        let home = ship.place.unwrap_or(0);
        let p = self.world.places[home].clone();
        // Out to a fishing spot 10-40 km offshore, fish slowly, come back.
        let mut spot = None;
        for _ in 0..16 {
            let d = ship.rng.range(10_000.0, 40_000.0);
            let a = ship.rng.range(0.0, std::f64::consts::TAU);
            let q = offset_m(p.anchorage, d * a.cos(), d * a.sin());
            if !self.world.land.segment_touches(p.anchorage, q) && self.world.has_room(q, 300.0) {
                spot = Some(q);
                break;
            }
        }
        let phase = ship.rng.range(0.0, std::f64::consts::TAU);
        let Some(spot) = spot else {
            Self::hold(ship, p.anchorage, (now, now + 24 * HOUR), 5, "", phase);
            ship.free_at = now + 24 * HOUR;
            return Ok(());
        };
        ship.place = None;
        ship.pos = p.anchorage;
        let arrive = self.sail(ship, spot, None, now, "")?;
        let hours = if ship
            .rng
            .chance(self.scenario.behaviour.fishing_loiter_share)
        {
            ship.rng.range(5.0, 14.0)
        } else {
            ship.rng.range(1.0, 3.0)
        };
        let end = arrive + (hours * HOUR as f64) as i64;
        Self::hold(ship, spot, (arrive, end), 7, "", phase);
        let back = self.sail(ship, p.anchorage, None, end, "")?;
        let rest = (ship.rng.range(6.0, 20.0) * HOUR as f64) as i64;
        Self::hold(ship, p.anchorage, (back, back + rest), 5, "", phase);
        ship.place = Some(home);
        ship.free_at = back + rest;
        Ok(())
    }
}

/// Two distinct elements of a slice, mutably.
fn two<T>(v: &mut [T], i: usize, j: usize) -> (&mut T, &mut T) {
    if i < j {
        let (a, b) = v.split_at_mut(j);
        (&mut a[i], &mut b[0])
    } else {
        let (a, b) = v.split_at_mut(i);
        (&mut b[0], &mut a[j])
    }
}

pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

const SYLLABLES: [&str; 24] = [
    "AR", "BO", "CA", "DE", "EL", "FA", "GA", "HE", "IO", "KA", "LU", "MA", "NO", "OR", "PE", "RA",
    "SA", "TE", "UL", "VE", "ZO", "NI", "KO", "LI",
];
const WORDS: [&str; 12] = [
    "STAR", "SPIRIT", "GLORY", "PRIDE", "VOYAGER", "LADY", "PEARL", "SUN", "WAVE", "HOPE",
    "TRADER", "RIVER",
];

/// A ship name: two or three syllables, sometimes with a word.
pub fn ship_name(rng: &mut Rng, tanker: bool) -> String {
    let mut s = String::new();
    for _ in 0..2 + rng.below(2) {
        s.push_str(SYLLABLES[rng.below(SYLLABLES.len())]);
    }
    if tanker && rng.chance(0.4) {
        s.push(' ');
        s.push_str(WORDS[rng.below(WORDS.len())]);
    }
    s
}

/// A call sign: two letters and three digits.
pub fn callsign(rng: &mut Rng) -> String {
    let l = |rng: &mut Rng| (b'A' + rng.below(26) as u8) as char;
    format!("{}{}{:03}", l(rng), l(rng), rng.below(1000))
}

/// An MMSI of a flag (the first MID allocated to it). For a flag not in the table (`??`,
/// a ship already on an unallocated MID) the first unallocated MID, so that the MMSI keeps
/// its nine digits.
pub fn mmsi_for(world: &World, flag: &str, rng: &mut Rng) -> u32 {
    let mid = world
        .mids
        .get(flag)
        .and_then(|m| m.first().copied())
        .or_else(|| world.unallocated_mids.first().copied())
        .unwrap_or(201);
    mid * 1_000_000 + 100_000 + rng.below(900_000) as u32
}

/// A valid IMO number (check digit right).
pub fn imo_number(rng: &mut Rng) -> u32 {
    let six = 910_000 + rng.below(80_000) as u32;
    let n = six * 10;
    n + shadowfleet_model::Imo::check_digit(n)
}

/// A key drawn from scenario weights (empty when there are none).
pub(crate) fn pick_key(rng: &mut Rng, w: &Weights) -> String {
    w.keys()
        .nth(rng.weighted(w.values().copied()))
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn an_mmsi_has_nine_digits_whatever_the_flag() {
        let world = World::load(0.75).unwrap();
        let mut rng = Rng::new(1, 1);
        for flag in ["LR", "PA", "??", "XX"] {
            let m = mmsi_for(&world, flag, &mut rng);
            assert!((100_000_000..=999_999_999).contains(&m), "{flag}: {m}");
        }
        // A ship already on an unallocated MID stays on one.
        let m = mmsi_for(&world, "??", &mut rng);
        assert!(world.unallocated_mids.contains(&(m / 1_000_000)));
    }
}
