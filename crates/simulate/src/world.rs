//! The fixed geography and reference tables of the simulated world.

use std::collections::{BTreeMap, HashMap};

use shadowfleet_geo::{offset_m, searoute_ports, Land, LatLon, SeaLanes};

use crate::SimError;

const TERMINALS: &str = include_str!("../data/terminals.csv");
const PORTS: &str = include_str!("../data/ports.csv");
const STS_AREAS: &str = include_str!("../data/sts_areas.csv");
const CLASSES: &str = include_str!("../data/tanker_classes.csv");
const MIDS: &str = include_str!("../data/mid.csv");

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

/// Splits one CSV record (RFC 4180 quotes, no embedded newlines).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// A CSV row: its 1-based line number and its fields by column name.
type Row = (usize, HashMap<String, String>);

/// Rows of a CSV file as maps from header to value, with the 1-based line number.
fn csv_rows(file: &str, text: &str) -> Result<Vec<Row>, SimError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header = match lines.next() {
        Some((_, h)) => csv_fields(h.trim_end_matches('\r')),
        None => return Err(SimError::Data(format!("{file}: empty"))),
    };
    let mut rows = Vec::new();
    for (i, line) in lines {
        let fields = csv_fields(line.trim_end_matches('\r'));
        if fields.len() != header.len() {
            return Err(SimError::Data(format!(
                "{file}:{}: {} fields, header has {}",
                i + 1,
                fields.len(),
                header.len()
            )));
        }
        rows.push((i + 1, header.iter().cloned().zip(fields).collect()));
    }
    Ok(rows)
}

fn field<'a>(
    file: &str,
    line: usize,
    row: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, SimError> {
    row.get(name)
        .map(|s| s.as_str())
        .ok_or_else(|| SimError::Data(format!("{file}:{line}: no column {name}")))
}

fn number(
    file: &str,
    line: usize,
    row: &HashMap<String, String>,
    name: &str,
) -> Result<f64, SimError> {
    let s = field(file, line, row, name)?;
    s.trim()
        .parse()
        .map_err(|_| SimError::Data(format!("{file}:{line}: {name} = {s:?} is not a number")))
}

impl World {
    /// Loads the embedded data and prepares the sea points of every place.
    pub fn load(station_spacing_deg: f64) -> Result<World, SimError> {
        let land = Land::natural_earth_10m().map_err(|e| SimError::Data(e.to_string()))?;
        let lanes = SeaLanes::searoute(&land).map_err(|e| SimError::Data(e.to_string()))?;
        let mut places = Vec::new();
        for (line, r) in csv_rows("terminals.csv", TERMINALS)? {
            let f = |n: &str| field("terminals.csv", line, &r, n);
            let cargo = f("cargo")?;
            let grades = f("main_grades")?;
            let mut products = Vec::new();
            if cargo.contains("crude") || cargo.contains("condensate") {
                products.push("crude");
            }
            if cargo.contains("products") {
                products.push("diesel");
                if grades.contains("fuel oil") || grades.is_empty() {
                    products.push("fuel_oil");
                }
            }
            if products.is_empty() {
                products.push("crude");
            }
            let origin = if grades.contains("CPC Blend") {
                "KZ"
            } else {
                "RU"
            };
            places.push(Place {
                id: f("id")?.to_owned(),
                name: f("name")?.to_owned(),
                country: f("country_iso2")?.to_owned(),
                locode: f("unlocode")?.to_owned(),
                kind: PlaceKind::Terminal,
                berth: LatLon::new(
                    number("terminals.csv", line, &r, "lat")?,
                    number("terminals.csv", line, &r, "lon")?,
                ),
                anchorage: LatLon::default(),
                radius_m: 0.0,
                origin_country: origin.to_owned(),
                products,
            });
        }
        for (line, r) in csv_rows("ports.csv", PORTS)? {
            let f = |n: &str| field("ports.csv", line, &r, n);
            places.push(Place {
                id: f("id")?.to_owned(),
                name: f("name")?.to_owned(),
                country: f("country")?.to_owned(),
                locode: f("locode")?.to_owned(),
                kind: PlaceKind::Port,
                berth: LatLon::new(
                    number("ports.csv", line, &r, "lat")?,
                    number("ports.csv", line, &r, "lon")?,
                ),
                anchorage: LatLon::default(),
                radius_m: 0.0,
                origin_country: String::new(),
                products: Vec::new(),
            });
        }
        for (line, r) in csv_rows("sts_areas.csv", STS_AREAS)? {
            let f = |n: &str| field("sts_areas.csv", line, &r, n);
            let country = f("country_waters")?
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned();
            places.push(Place {
                id: f("id")?.to_owned(),
                name: f("name")?.to_owned(),
                country,
                locode: String::new(),
                kind: PlaceKind::StsArea,
                berth: LatLon::new(
                    number("sts_areas.csv", line, &r, "lat")?,
                    number("sts_areas.csv", line, &r, "lon")?,
                ),
                anchorage: LatLon::default(),
                radius_m: number("sts_areas.csv", line, &r, "radius_km")? * 1000.0,
                origin_country: String::new(),
                products: Vec::new(),
            });
        }
        for p in &mut places {
            let sea = land.nearest_sea(p.berth, 100.0, 20_000.0).ok_or_else(|| {
                SimError::Data(format!("{}: no sea within 20 km of {:?}", p.id, p.berth))
            })?;
            // A berth needs some water around it: step a little further out when the sea
            // point found is right on the coastline.
            p.berth = sea;
            p.anchorage = if p.kind == PlaceKind::StsArea {
                p.berth
            } else {
                seaward(&land, p.berth, 2_500.0).unwrap_or(p.berth)
            };
        }
        let by_id = places
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();

        let mut classes = Vec::new();
        for (line, r) in csv_rows("tanker_classes.csv", CLASSES)? {
            let n = |k: &str| number("tanker_classes.csv", line, &r, k);
            classes.push(TankerClass {
                name: field("tanker_classes.csv", line, &r, "class")?.to_owned(),
                dwt: [n("dwt_min")?, n("dwt_max")?],
                length_m: n("length_m")?,
                beam_m: n("beam_m")?,
                draught_m: [n("draught_ballast_m")?, n("draught_laden_m")?],
                speed_kn: [n("speed_laden_kn")?, n("speed_ballast_kn")?],
                fill_factor: n("fill_factor")?,
            });
        }

        let mut mids: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (line, r) in csv_rows("mid.csv", MIDS)? {
            let mid = number("mid.csv", line, &r, "mid")? as u32;
            mids.entry(field("mid.csv", line, &r, "iso2")?.to_owned())
                .or_default()
                .push(mid);
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
