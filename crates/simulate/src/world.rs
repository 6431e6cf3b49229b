//! The fixed geography and reference tables of the simulated world.

use std::collections::{BTreeMap, HashMap};

use shadowfleet_places::{table, Mids, Places, TableError};

use shadowfleet_geo::{offset_m, searoute_ports, Land, LatLon, Route, SeaLanes};

use crate::SimError;

const CLASSES: &str = include_str!("../data/tanker_classes.csv");
const RIVER_PORTS: &str = include_str!("../data/river_ports.toml");

/// The fairway to a river port (`data/river_ports.toml`).
#[derive(Debug, Clone)]
pub struct River {
    /// From the waiting point at sea (the place's anchorage) to the berth, every segment a
    /// river transit (flagged as a canal: it crosses Natural Earth's land).
    pub way: std::sync::Arc<Route>,
    /// Speed on the river, knots.
    pub speed_kn: f64,
    /// Id of the waiting area the truth names for the wait at the anchorage (a `queue`).
    pub queue: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RiverFile {
    port: Vec<RiverPort>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RiverPort {
    id: String,
    name: String,
    country: String,
    locode: String,
    queue: String,
    river_speed_kn: f64,
    way: Vec<[f64; 2]>,
}

/// What a place is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    /// A Russian (or Kazakh CPC) export terminal.
    Terminal,
    /// A port or refinery terminal.
    Port,
    /// A ship-to-ship transfer or anchorage area.
    StsArea,
}

/// A terminal, port or STS area, with the sea points ships use there.
#[derive(Debug, Clone)]
pub struct Place {
    /// Id from the data file, e.g. `RU-PRIMORSK`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Country (ISO 3166 alpha-2) whose waters or port it is.
    pub country: String,
    /// UN/LOCODE, possibly empty.
    pub locode: String,
    /// Kind.
    pub kind: PlaceKind,
    /// Berth or area centre, moved to the nearest sea point when the data puts it on land.
    pub berth: LatLon,
    /// Anchorage or approach point a little seaward of the berth (area centre for STS areas).
    pub anchorage: LatLon,
    /// Radius of an STS area, metres (0 for ports).
    pub radius_m: f64,
    /// For terminals: the country of origin of the oil (KZ for CPC Blend, following CREA).
    pub origin_country: String,
    /// For terminals: products loaded (`crude`, `diesel`, `fuel_oil`).
    pub products: Vec<&'static str>,
    /// For river ports: the fairway from the anchorage to the berth.
    pub river: Option<River>,
}

/// A tanker size class (`data/tanker_classes.csv`).
#[derive(Debug, Clone)]
pub struct TankerClass {
    /// Class name.
    pub name: String,
    /// Deadweight range, tonnes.
    pub dwt: [f64; 2],
    /// Length overall, metres.
    pub length_m: f64,
    /// Beam, metres.
    pub beam_m: f64,
    /// Draught in ballast and fully laden, metres.
    pub draught_m: [f64; 2],
    /// Service speed laden and in ballast, knots.
    pub speed_kn: [f64; 2],
    /// Cargo as a share of deadweight when full.
    pub fill_factor: f64,
}

/// A shore AIS station.
#[derive(Debug, Clone)]
pub struct Station {
    /// Tag-block source name.
    pub name: String,
    /// Position.
    pub position: LatLon,
}

/// Geography, reference tables and shore stations.
pub struct World {
    /// Land mask.
    pub land: Land,
    /// Lane network.
    pub lanes: SeaLanes,
    /// All places.
    pub places: Vec<Place>,
    by_id: HashMap<String, usize>,
    /// Tanker classes.
    pub classes: Vec<TankerClass>,
    /// MIDs allocated to each flag (ISO alpha-2), ascending.
    pub mids: BTreeMap<String, Vec<u32>>,
    /// MIDs in the ship range 201..=775 that the ITU has not allocated.
    pub unallocated_mids: Vec<u32>,
    /// Shore stations.
    pub stations: Vec<Station>,
    /// Stations by 1-degree cell (row = latitude + 90, column = longitude + 180), CSR.
    station_start: Vec<u32>,
    station_ids: Vec<u32>,
}

fn data_err(e: TableError) -> SimError {
    SimError::Data(e.to_string())
}

impl World {
    /// Loads the embedded data and prepares the sea points of every place.
    pub fn load(station_spacing_deg: f64) -> Result<World, SimError> {
        let land = Land::natural_earth_10m().map_err(|e| SimError::Data(e.to_string()))?;
        let lanes = SeaLanes::searoute(&land).map_err(|e| SimError::Data(e.to_string()))?;
        let reference = Places::embedded(&land).map_err(data_err)?;
        let mut places: Vec<Place> = reference
            .all()
            .iter()
            .map(|p| Place {
                id: p.id.clone(),
                name: p.name.clone(),
                country: p.country.clone(),
                locode: p.locode.clone(),
                kind: match p.kind {
                    shadowfleet_places::PlaceKind::Terminal => PlaceKind::Terminal,
                    shadowfleet_places::PlaceKind::Port => PlaceKind::Port,
                    shadowfleet_places::PlaceKind::StsArea => PlaceKind::StsArea,
                },
                berth: p.position,
                anchorage: LatLon::default(),
                radius_m: p.radius_m,
                origin_country: p.origin_country.clone(),
                products: p.products.clone(),
                river: None,
            })
            .collect();
        for p in &mut places {
            p.anchorage = if p.kind == PlaceKind::StsArea {
                p.berth
            } else {
                seaward(&land, p.berth, 2_500.0).unwrap_or(p.berth)
            };
        }
        places.extend(river_ports(&land)?);
        let by_id = places
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();

        let mut classes = Vec::new();
        for r in table::rows("tanker_classes.csv", CLASSES).map_err(data_err)? {
            let n = |k: &str| r.number(k).map_err(data_err);
            classes.push(TankerClass {
                name: r.text("class").map_err(data_err)?.to_owned(),
                dwt: [n("dwt_min")?, n("dwt_max")?],
                length_m: n("length_m")?,
                beam_m: n("beam_m")?,
                draught_m: [n("draught_ballast_m")?, n("draught_laden_m")?],
                speed_kn: [n("speed_laden_kn")?, n("speed_ballast_kn")?],
                fill_factor: n("fill_factor")?,
            });
        }

        let mut mids: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (mid, flag) in Mids::embedded().map_err(data_err)?.allocated() {
            mids.entry(flag.to_owned()).or_default().push(mid);
        }
        for v in mids.values_mut() {
            v.sort_unstable();
            v.dedup();
        }
        let allocated: Vec<u32> = mids.values().flatten().copied().collect();
        let unallocated_mids = (201..=775).filter(|m| !allocated.contains(m)).collect();

        // Shore stations: one per grid cell holding a port of the searoute list, first port
        // in file order.
        let mut stations = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for port in searoute_ports().map_err(|e| SimError::Data(e.to_string()))? {
            let cell = (
                (port.position.lat / station_spacing_deg).floor() as i32,
                (port.position.lon / station_spacing_deg).floor() as i32,
            );
            if seen.insert(cell) {
                stations.push(Station {
                    name: format!(
                        "T-{}",
                        if port.locode.is_empty() {
                            "XX"
                        } else {
                            &port.locode
                        }
                    ),
                    position: port.position,
                });
            }
        }
        let cell_of = |p: LatLon| {
            let r = ((p.lat + 90.0).floor() as usize).min(179);
            let c = ((p.lon + 180.0).floor() as usize).min(359);
            r * 360 + c
        };
        let mut station_start = vec![0u32; 180 * 360 + 1];
        for s in &stations {
            station_start[cell_of(s.position) + 1] += 1;
        }
        for k in 1..station_start.len() {
            station_start[k] += station_start[k - 1];
        }
        let mut fill = station_start.clone();
        let mut station_ids = vec![0u32; stations.len()];
        for (i, s) in stations.iter().enumerate() {
            let c = cell_of(s.position);
            station_ids[fill[c] as usize] = i as u32;
            fill[c] += 1;
        }
        Ok(World {
            land,
            lanes,
            places,
            by_id,
            classes,
            mids,
            unallocated_mids,
            stations,
            station_start,
            station_ids,
        })
    }

    /// Whether the ring of radius `r_m` around `q` (8 points) and `q` itself are at sea.
    pub fn has_room(&self, q: LatLon, r_m: f64) -> bool {
        !self.land.contains(q)
            && (0..8).all(|m| {
                let b = (m as f64 * 45.0).to_radians();
                !self
                    .land
                    .contains(offset_m(q, r_m * b.cos(), r_m * b.sin()))
            })
    }

    /// The index of a place by id.
    pub fn place(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The class index by name.
    pub fn class(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.name == name)
    }

    /// Every shore station within `range_m` of `p`, appended to `out`.
    pub fn stations_within(&self, p: LatLon, range_m: f64, out: &mut Vec<u32>) {
        let coslat = p.lat.to_radians().cos().max(0.05);
        let dlat = (range_m / 111_000.0).ceil() as i64;
        let dlon = ((range_m / (111_000.0 * coslat)).ceil() as i64).min(180);
        let (r0, c0) = (
            (p.lat + 90.0).floor() as i64,
            (p.lon + 180.0).floor() as i64,
        );
        for r in (r0 - dlat).max(0)..=(r0 + dlat).min(179) {
            for c in c0 - dlon..=c0 + dlon {
                let cell = (r * 360 + c.rem_euclid(360)) as usize;
                let ids = &self.station_ids
                    [self.station_start[cell] as usize..self.station_start[cell + 1] as usize];
                out.extend(
                    ids.iter()
                        .copied()
                        .filter(|&i| distance_m(p, self.stations[i as usize].position) <= range_m),
                );
            }
        }
    }
}

/// Equirectangular distance, within 0.1 % of the great circle up to a few hundred kilometres.
pub fn distance_m(p: LatLon, q: LatLon) -> f64 {
    let coslat = ((p.lat + q.lat) / 2.0).to_radians().cos();
    let dy = (q.lat - p.lat) * 111_195.0;
    let mut dlon = q.lon - p.lon;
    if dlon > 180.0 {
        dlon -= 360.0;
    } else if dlon < -180.0 {
        dlon += 360.0;
    }
    let dx = dlon * 111_195.0 * coslat;
    (dx * dx + dy * dy).sqrt()
}

/// The river ports of `data/river_ports.toml`: anchorage at the way's first point (which must
/// be at sea), berth at its last.
fn river_ports(land: &Land) -> Result<Vec<Place>, SimError> {
    let err = |m: String| SimError::Data(format!("river_ports.toml: {m}"));
    let file: RiverFile = toml::from_str(RIVER_PORTS).map_err(|e| err(e.to_string()))?;
    file.port
        .into_iter()
        .map(|r| {
            let way: Vec<LatLon> = r
                .way
                .iter()
                .map(|&[lon, lat]| LatLon::new(lat, lon))
                .collect();
            let (Some(&anchorage), Some(&berth)) = (way.first(), way.last()) else {
                return Err(err(format!("{}: an empty way", r.id)));
            };
            if way.len() < 2 || land.contains(anchorage) {
                return Err(err(format!(
                    "{}: the way needs two points or more, the first at sea",
                    r.id
                )));
            }
            if r.river_speed_kn.is_nan() || r.river_speed_kn <= 0.0 {
                return Err(err(format!("{}: river_speed_kn must be positive", r.id)));
            }
            let canal = vec![true; way.len() - 1];
            Ok(Place {
                id: r.id,
                name: r.name,
                country: r.country,
                locode: r.locode,
                kind: PlaceKind::Port,
                berth,
                anchorage,
                radius_m: 0.0,
                origin_country: String::new(),
                products: Vec::new(),
                river: Some(River {
                    way: std::sync::Arc::new(Route::new(way, canal)),
                    speed_kn: r.river_speed_kn,
                    queue: r.queue,
                }),
            })
        })
        .collect()
}

/// Water kept around an anchorage point for a ship swinging at anchor, metres.
const SWING_CLEARANCE_M: f64 = 200.0;

/// A sea point about `dist_m` from `p` with a clear line of water back to it.
fn seaward(land: &Land, p: LatLon, dist_m: f64) -> Option<LatLon> {
    (0..16).find_map(|k| {
        let a = (k as f64 * 22.5).to_radians();
        let q = offset_m(p, dist_m * a.cos(), dist_m * a.sin());
        let clear = !land.segment_touches(p, q)
            && (0..8).all(|m| {
                let b = (m as f64 * 45.0).to_radians();
                !land.contains(offset_m(
                    q,
                    SWING_CLEARANCE_M * b.cos(),
                    SWING_CLEARANCE_M * b.sin(),
                ))
            });
        clear.then_some(q)
    })
}
