//! Reference places for the detectors and the simulator: Russian (and Kazakh CPC) oil export
//! terminals, discharge and background ports, known ship-to-ship (STS) transfer areas, and the
//! ITU table of Maritime Identification Digits (MID) that gives an MMSI its flag.
//!
//! The data is embedded (`data/`, see `data/SOURCES.md`). [`Places`] answers "which places are
//! within this distance of a position" through a grid index, so a detector pays one hash lookup
//! per position report, not one distance per place.

pub mod table;

use rustc_hash::FxHashMap;

use shadowfleet_geo::{haversine_m, meridian_gap_m, Land, LatLon};

pub use table::TableError;

const TERMINALS: &str = include_str!("../data/terminals.csv");
const PORTS: &str = include_str!("../data/ports.csv");
const STS_AREAS: &str = include_str!("../data/sts_areas.csv");
const MIDS: &str = include_str!("../data/mid.csv");

pub use shadowfleet_records::{PlaceKind, PlaceRef};

/// A terminal, port or STS area.
#[derive(Debug, Clone)]
pub struct Place {
    /// Id from the data file, e.g. `RU-PRIMORSK`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Country (ISO 3166 alpha-2) of the port, or whose waters an STS area lies in.
    pub country: String,
    /// UN/LOCODE, possibly empty.
    pub locode: String,
    /// Kind.
    pub kind: PlaceKind,
    /// The point as the data gives it.
    pub listed: LatLon,
    /// The nearest sea point to [`Self::listed`] (the same point when it is at sea): where
    /// ships berth or, for an STS area, its centre.
    pub position: LatLon,
    /// Radius of an STS area, metres (0 for ports and terminals).
    pub radius_m: f64,
    /// For terminals: the country of origin of the oil (KZ for CPC Blend, following CREA).
    pub origin_country: String,
    /// For terminals: products loaded (`crude`, `diesel`, `fuel_oil`).
    pub products: Vec<&'static str>,
}

impl Place {
    /// The reference to this place that events carry.
    pub fn to_ref(&self) -> PlaceRef {
        PlaceRef {
            id: self.id.clone(),
            kind: self.kind,
            name: self.name.clone(),
            country: self.country.clone(),
        }
    }
}

/// Farthest distance beyond a place's radius that [`Places::near`] can answer, metres.
pub const MAX_REACH_M: f64 = 60_000.0;

/// Grid cell size of the index, degrees.
const CELL_DEG: f64 = 0.5;

/// All places with a spatial index.
#[derive(Clone)]
pub struct Places {
    places: Vec<Place>,
    by_id: FxHashMap<String, usize>,
    grid: FxHashMap<(i32, i32), Vec<u32>>,
}

fn cell(p: LatLon) -> (i32, i32) {
    (
        (p.lat / CELL_DEG).floor() as i32,
        (p.lon / CELL_DEG).floor() as i32,
    )
}

impl Places {
    /// The embedded terminals, ports and STS areas, each moved to the nearest sea point of
    /// `land` (within 20 km) when its listed point is on land.
    pub fn embedded(land: &Land) -> Result<Places, TableError> {
        let mut places = Vec::new();
        for r in table::rows("terminals.csv", TERMINALS)? {
            let cargo = r.text("cargo")?;
            let grades = r.text("main_grades")?;
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
            let at = LatLon::new(r.degrees("lat", 90.0)?, r.degrees("lon", 180.0)?);
            places.push(Place {
                id: r.text("id")?.to_owned(),
                name: r.text("name")?.to_owned(),
                country: r.text("country_iso2")?.to_owned(),
                locode: r.text("unlocode")?.to_owned(),
                kind: PlaceKind::Terminal,
                listed: at,
                position: at,
                radius_m: 0.0,
                origin_country: origin.to_owned(),
                products,
            });
        }
        for r in table::rows("ports.csv", PORTS)? {
            let at = LatLon::new(r.degrees("lat", 90.0)?, r.degrees("lon", 180.0)?);
            places.push(Place {
                id: r.text("id")?.to_owned(),
                name: r.text("name")?.to_owned(),
                country: r.text("country")?.to_owned(),
                locode: r.text("locode")?.to_owned(),
                kind: PlaceKind::Port,
                listed: at,
                position: at,
                radius_m: 0.0,
                origin_country: String::new(),
                products: Vec::new(),
            });
        }
        for r in table::rows("sts_areas.csv", STS_AREAS)? {
            let country = r
                .text("country_waters")?
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned();
            let at = LatLon::new(r.degrees("lat", 90.0)?, r.degrees("lon", 180.0)?);
            places.push(Place {
                id: r.text("id")?.to_owned(),
                name: r.text("name")?.to_owned(),
                country,
                locode: String::new(),
                kind: PlaceKind::StsArea,
                listed: at,
                position: at,
                radius_m: r.number("radius_km")? * 1000.0,
                origin_country: String::new(),
                products: Vec::new(),
            });
        }
        for p in &mut places {
            p.position = land.nearest_sea(p.listed, 100.0, 20_000.0).ok_or_else(|| {
                TableError(format!("{}: no sea within 20 km of {:?}", p.id, p.listed))
            })?;
        }
        Ok(Places::new(places))
    }

    /// These places plus `ports` (kind [`PlaceKind::Port`]), each moved to the nearest sea
    /// point within 20 km. A port is left out when a place of the same UN/LOCODE exists or
    /// one lies within `merge_m`, or when no sea lies within 20 km (a river or inland
    /// port). Returns the places and how many ports were added.
    pub fn with_ports(self, land: &Land, ports: Vec<Place>, merge_m: f64) -> (Places, usize) {
        let mut places = self.places;
        let mut locodes: rustc_hash::FxHashSet<String> = places
            .iter()
            .filter(|p| !p.locode.is_empty())
            .map(|p| p.locode.clone())
            .collect();
        let mut added = 0;
        // Every point kept so far, by grid cell, for the merge test.
        let mut kept: FxHashMap<(i32, i32), Vec<LatLon>> = FxHashMap::default();
        for p in &places {
            kept.entry(cell(p.position)).or_default().push(p.position);
        }
        for mut p in ports {
            if !p.locode.is_empty() && locodes.contains(&p.locode) {
                continue;
            }
            let Some(sea) = land.nearest_sea(p.listed, 100.0, 20_000.0) else {
                continue;
            };
            p.position = sea;
            let (r, c) = cell(sea);
            let near = (r - 1..=r + 1)
                .flat_map(|r| (c - 1..=c + 1).map(move |c| (r, c)))
                .filter_map(|k| kept.get(&k))
                .flatten()
                .any(|q| haversine_m(*q, sea) <= merge_m);
            if near {
                continue;
            }
            if !p.locode.is_empty() {
                locodes.insert(p.locode.clone());
            }
            kept.entry((r, c)).or_default().push(sea);
            places.push(p);
            added += 1;
        }
        (Places::new(places), added)
    }

    /// Indexes `places`.
    pub fn new(places: Vec<Place>) -> Places {
        let mut grid: FxHashMap<(i32, i32), Vec<u32>> = FxHashMap::default();
        for (i, p) in places.iter().enumerate() {
            let reach = p.radius_m + MAX_REACH_M;
            let dlat = reach / 111_000.0;
            let dlon = reach / (111_000.0 * p.position.lat.to_radians().cos().max(0.02));
            let lo = cell(LatLon {
                lat: p.position.lat - dlat,
                lon: p.position.lon - dlon.min(180.0),
            });
            let hi = cell(LatLon {
                lat: p.position.lat + dlat,
                lon: p.position.lon + dlon.min(180.0),
            });
            for r in lo.0..=hi.0 {
                for c in lo.1..=hi.1 {
                    // Wrap columns around the antimeridian.
                    let cols = (360.0 / CELL_DEG) as i32;
                    let half = cols / 2;
                    let c = (c + half).rem_euclid(cols) - half;
                    grid.entry((r, c)).or_default().push(i as u32);
                }
            }
        }
        let by_id = places
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        Places {
            places,
            by_id,
            grid,
        }
    }

    /// Every place, in data order (terminals, ports, STS areas).
    pub fn all(&self) -> &[Place] {
        &self.places
    }

    /// A place by index.
    pub fn get(&self, i: usize) -> Option<&Place> {
        self.places.get(i)
    }

    /// The index of a place by id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Calls `f(index, place, distance_m)` for every place whose edge (its radius, 0 for ports)
    /// is within `extra_m` of `p`; `extra_m` is capped at [`MAX_REACH_M`].
    pub fn near(&self, p: LatLon, extra_m: f64, mut f: impl FnMut(usize, &Place, f64)) {
        let Some(ids) = self.grid.get(&cell(p)) else {
            return;
        };
        let extra = extra_m.min(MAX_REACH_M);
        for &i in ids {
            let place = &self.places[i as usize];
            if meridian_gap_m(p, place.position) > place.radius_m + extra {
                continue;
            }
            let d = haversine_m(p, place.position);
            if d <= place.radius_m + extra {
                f(i as usize, place, d);
            }
        }
    }

    /// The nearest place of a kind accepted by `kind` whose edge is within `extra_m` of `p`:
    /// (index, distance from its centre in metres).
    pub fn nearest(
        &self,
        p: LatLon,
        extra_m: f64,
        kind: impl Fn(PlaceKind) -> bool,
    ) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        self.near(p, extra_m, |i, place, d| {
            let edge = (d - place.radius_m).max(0.0);
            if kind(place.kind) && best.is_none_or(|(_, b)| edge < b) {
                best = Some((i, edge));
            }
        });
        best.map(|(i, _)| (i, haversine_m(p, self.places[i].position)))
    }
}

/// The ITU table of Maritime Identification Digits: which flag (ISO 3166 alpha-2) an MMSI's
/// first three digits stand for.
pub struct Mids {
    flags: Vec<Option<String>>,
}

impl Mids {
    /// The embedded table (`data/mid.csv`).
    pub fn embedded() -> Result<Mids, TableError> {
        Mids::from_csv("mid.csv", MIDS)
    }

    /// A table from CSV text with columns `mid` and `iso2`.
    pub fn from_csv(file: &str, text: &str) -> Result<Mids, TableError> {
        let mut flags = vec![None; 1000];
        for r in table::rows(file, text)? {
            let mid = r.number("mid")?;
            if !(200.0..=799.0).contains(&mid) || mid.fract() != 0.0 {
                return Err(TableError(format!(
                    "{file}:{}: mid = {mid} is not a three-digit MID 2xx-7xx",
                    r.line
                )));
            }
            flags[mid as usize] = Some(r.text("iso2")?.to_owned());
        }
        Ok(Mids { flags })
    }

    /// The flag of a MID, when allocated.
    pub fn flag_of_mid(&self, mid: u32) -> Option<&str> {
        self.flags.get(mid as usize)?.as_deref()
    }

    /// The MID of a ship station MMSI (nine digits, first 2–7), if it has that form.
    pub fn mid_of(mmsi: u32) -> Option<u32> {
        (200_000_000..800_000_000)
            .contains(&mmsi)
            .then_some(mmsi / 1_000_000)
    }

    /// The flag an MMSI claims: `None` when it is not a ship MMSI or its MID is unallocated.
    pub fn flag_of(&self, mmsi: u32) -> Option<&str> {
        self.flag_of_mid(Self::mid_of(mmsi)?)
    }

    /// Every allocated MID with its flag, ascending.
    pub fn allocated(&self) -> impl Iterator<Item = (u32, &str)> {
        self.flags
            .iter()
            .enumerate()
            .filter_map(|(m, f)| Some((m as u32, f.as_deref()?)))
    }
}

/// Origin and licence of the data embedded in this crate (its `data/SOURCES.md`), for
/// outputs that must carry their sources (evidence packs).
pub const DATA_SOURCES: &str = include_str!("../data/SOURCES.md");
