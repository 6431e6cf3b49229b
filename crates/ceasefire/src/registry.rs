//! The registry: ports, anchorages, gates, zones, the "eastern Black Sea" line and the
//! timeline of regimes, as data (`data/black_sea.toml`, versioned; `docs/ceasefire.md`).

use std::path::Path;

use serde::Deserialize;
use shadowfleet_events::detectors::zone::{circle, Zone};
use shadowfleet_geo::{haversine_m, LatLon};
use shadowfleet_model::Timestamp;
use shadowfleet_places::Places;

/// The registry shipped with shadowfleet.
pub const BLACK_SEA: &str = include_str!("../data/black_sea.toml");

/// The registry format version this build reads.
pub const VERSION: u32 = 1;

/// A registry that could not be read: the file and what is wrong, naming the entry.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct RegistryError {
    /// The file (or `black_sea.toml (embedded)`).
    pub file: String,
    /// What is wrong.
    pub reason: String,
}

/// Which kind of port: the monitor reports Ukrainian, occupied and Russian ports apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortGroup {
    /// Ukrainian sea ports of the corridor (Odesa, Chornomorsk, Pivdennyi).
    UaSea,
    /// Ukrainian Danube ports.
    UaDanube,
    /// Crimean and Azov ports under Russian occupation.
    Occupied,
    /// Russian (and the Kazakh CPC) oil export terminals.
    RuTerminal,
    /// Other Russian ports.
    RuPort,
    /// Romania.
    Ro,
    /// Bulgaria.
    Bg,
    /// Türkiye.
    Tr,
    /// Georgia.
    Ge,
}

impl PortGroup {
    /// The name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            PortGroup::UaSea => "ua_sea",
            PortGroup::UaDanube => "ua_danube",
            PortGroup::Occupied => "occupied",
            PortGroup::RuTerminal => "ru_terminal",
            PortGroup::RuPort => "ru_port",
            PortGroup::Ro => "ro",
            PortGroup::Bg => "bg",
            PortGroup::Tr => "tr",
            PortGroup::Ge => "ge",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    version: u32,
    name: String,
    bbox: [f64; 4],
    #[serde(default)]
    port: Vec<RawPort>,
    #[serde(default)]
    anchorage: Vec<Anchorage>,
    #[serde(default)]
    gate: Vec<Gate>,
    #[serde(default)]
    zone: Vec<RawZone>,
    #[serde(default)]
    basin: Vec<RawZone>,
    east_line: RawLine,
    #[serde(default)]
    regime: Vec<RawRegime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPort {
    id: String,
    group: PortGroup,
    name: Option<String>,
    country: Option<String>,
    locode: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    radius_km: Option<f64>,
    min_visit_hours: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    id: String,
    name: String,
    ring: Vec<[f64; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    line: Vec<[f64; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegime {
    id: String,
    name: String,
    from: String,
    to: Option<String>,
}

/// A port of the registry.
#[derive(Debug, Clone)]
pub struct Port {
    /// Id (the places table's, or the registry's own for a river port).
    pub id: String,
    /// Name.
    pub name: String,
    /// Country (ISO 3166 alpha-2; occupied ports keep Ukraine's).
    pub country: String,
    /// UN/LOCODE without the space (`UAODS`), empty when unknown.
    pub locode: String,
    /// Group.
    pub group: PortGroup,
    /// Where it is.
    pub position: LatLon,
    /// Its circle for coverage and (river ports) visits, metres.
    pub radius_m: f64,
    /// Counted from the port-call events of the places table (else from visits).
    pub in_places: bool,
    /// Shortest visit counted as a call (river ports), hours.
    pub min_visit_hours: f64,
}

impl Port {
    /// The port as an AIS destination is compared with.
    pub fn of_call(&self) -> crate::destination::PortOfCall<'_> {
        crate::destination::PortOfCall {
            locode: &self.locode,
            country: &self.country,
            name: &self.name,
        }
    }
}

/// An anchorage or waiting area.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchorage {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Centre, degrees.
    pub lat: f64,
    /// See [`Self::lat`].
    pub lon: f64,
    /// Radius, km.
    pub radius_km: f64,
    /// Vessels waiting here are the `queue` metric.
    #[serde(default)]
    pub queue: bool,
}

/// A gate: a line ships cross.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The line, `[lon, lat]` points.
    pub line: Vec<[f64; 2]>,
    /// What a crossing from the line's left to its right means (`out`, `southbound`).
    pub left_to_right: String,
    /// What the other way means.
    pub right_to_left: String,
    /// The basin on the line's left (`[[basin]]` id), for crossings made dark.
    #[serde(default)]
    pub left_basin: Option<String>,
    /// The basin on its right.
    #[serde(default)]
    pub right_basin: Option<String>,
}

/// A regime: a period under one arrangement.
#[derive(Debug, Clone)]
pub struct Regime {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// First day, unix seconds (00:00 UTC).
    pub from: i64,
    /// End (exclusive: 00:00 UTC after the last day), `None` while it lasts.
    pub to: Option<i64>,
}

impl Regime {
    /// Whether the regime was in force at `t`.
    pub fn covers(&self, t: i64) -> bool {
        t >= self.from && self.to.is_none_or(|e| t < e)
    }
}

/// The registry, resolved against the places table.
#[derive(Debug, Clone)]
pub struct Registry {
    /// Format version.
    pub version: u32,
    /// Name.
    pub name: String,
    /// `[west, south, east, north]`.
    pub bbox: [f64; 4],
    /// Ports.
    pub ports: Vec<Port>,
    /// Anchorages.
    pub anchorages: Vec<Anchorage>,
    /// Gates.
    pub gates: Vec<Gate>,
    /// Zones (areas) as the zone detector watches them.
    pub zones: Vec<Zone>,
    /// Basins on either side of the strait gates.
    pub basins: Vec<Zone>,
    /// The "eastern Black Sea" line, north to south.
    pub east_line: Vec<LatLon>,
    /// Regimes in time order.
    pub regimes: Vec<Regime>,
}

fn point(p: [f64; 2]) -> LatLon {
    LatLon::new(p[1], p[0])
}

fn day(file: &str, what: &str, text: &str) -> Result<i64, RegistryError> {
    Timestamp::parse_day(text)
        .map(|t| t.unix_millis() / 1000)
        .ok_or_else(|| RegistryError {
            file: file.to_owned(),
            reason: format!("{what}: {text:?} is not a day (YYYY-MM-DD)"),
        })
}

impl Registry {
    /// The embedded Black Sea registry.
    pub fn black_sea(places: &Places) -> Result<Registry, RegistryError> {
        Registry::parse("black_sea.toml (embedded)", BLACK_SEA, places)
    }

    /// A registry file the user gives.
    pub fn load(path: &Path, places: &Places) -> Result<Registry, RegistryError> {
        let text = std::fs::read_to_string(path).map_err(|e| RegistryError {
            file: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Registry::parse(&path.display().to_string(), &text, places)
    }

    /// Parses and checks a registry: every id unique, every port found in the places table
    /// or given a position, lines of two points or more, rings of three or more, regimes
    /// with days.
    pub fn parse(file: &str, text: &str, places: &Places) -> Result<Registry, RegistryError> {
        let err = |reason: String| RegistryError {
            file: file.to_owned(),
            reason,
        };
        let raw: RawRegistry = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if raw.version != VERSION {
            return Err(err(format!(
                "version {} (this build reads version {VERSION})",
                raw.version
            )));
        }
        let mut ids = std::collections::HashSet::new();
        let mut unique = |id: &str| {
            if ids.insert(id.to_owned()) {
                Ok(())
            } else {
                Err(err(format!("id {id:?} is used twice")))
            }
        };
        let mut ports = Vec::new();
        for p in raw.port {
            unique(&p.id)?;
            let place = places.index_of(&p.id).and_then(|i| places.get(i));
            let port = match (place, p.lat, p.lon) {
                (_, Some(lat), Some(lon)) => Port {
                    name: p.name.clone().unwrap_or_else(|| p.id.clone()),
                    country: p.country.clone().unwrap_or_default(),
                    locode: p.locode.clone().unwrap_or_default(),
                    position: LatLon::new(lat, lon),
                    radius_m: p.radius_km.unwrap_or(5.0) * 1000.0,
                    in_places: false,
                    min_visit_hours: p.min_visit_hours.unwrap_or(6.0),
                    id: p.id,
                    group: p.group,
                },
                (Some(pl), None, None) => Port {
                    name: p.name.clone().unwrap_or_else(|| pl.name.clone()),
                    country: p.country.clone().unwrap_or_else(|| pl.country.clone()),
                    locode: p.locode.clone().unwrap_or_else(|| pl.locode.clone()),
                    position: pl.position,
                    radius_m: p.radius_km.unwrap_or(10.0) * 1000.0,
                    in_places: true,
                    min_visit_hours: p.min_visit_hours.unwrap_or(6.0),
                    id: p.id,
                    group: p.group,
                },
                _ => {
                    return Err(err(format!(
                        "port {:?}: not in the places table; give lat and lon",
                        p.id
                    )))
                }
            };
            ports.push(port);
        }
        for a in &raw.anchorage {
            unique(&a.id)?;
            if a.radius_km.is_nan() || a.radius_km <= 0.0 {
                return Err(err(format!("anchorage {:?}: radius_km must be > 0", a.id)));
            }
        }
        for g in &raw.gate {
            unique(&g.id)?;
            if g.line.len() < 2 {
                return Err(err(format!("gate {:?}: a line needs two points", g.id)));
            }
        }
        // A zone or basin: a closed ring.
        let area = |what: &str, z: &RawZone| -> Result<Zone, RegistryError> {
            if z.ring.len() < 4 {
                return Err(err(format!(
                    "{what} {:?}: a ring needs three points and the first again",
                    z.id
                )));
            }
            Ok(Zone::area(
                &z.id,
                &z.name,
                vec![z.ring.iter().copied().map(point).collect()],
            ))
        };
        let mut zones = Vec::new();
        for z in &raw.zone {
            unique(&z.id)?;
            zones.push(area("zone", z)?);
        }
        let mut basins = Vec::new();
        for z in &raw.basin {
            unique(&z.id)?;
            basins.push(area("basin", z)?);
        }
        for g in &raw.gate {
            for b in [&g.left_basin, &g.right_basin].into_iter().flatten() {
                if !basins.iter().any(|z| &z.reference.id == b) {
                    return Err(err(format!("gate {:?}: no basin {b:?}", g.id)));
                }
            }
        }
        if raw.east_line.line.len() < 2 {
            return Err(err("east_line: a line needs two points".into()));
        }
        let mut regimes = Vec::new();
        for r in raw.regime {
            unique(&r.id)?;
            let from = day(file, &format!("regime {:?} from", r.id), &r.from)?;
            let to = match &r.to {
                Some(t) => Some(day(file, &format!("regime {:?} to", r.id), t)? + 86_400),
                None => None,
            };
            if to.is_some_and(|t| t <= from) {
                return Err(err(format!("regime {:?}: ends before it begins", r.id)));
            }
            regimes.push(Regime {
                id: r.id,
                name: r.name,
                from,
                to,
            });
        }
        regimes.sort_by_key(|r| r.from);
        Ok(Registry {
            version: raw.version,
            name: raw.name,
            bbox: raw.bbox,
            ports,
            anchorages: raw.anchorage,
            gates: raw.gate,
            zones,
            basins,
            east_line: raw.east_line.line.iter().copied().map(point).collect(),
            regimes,
        })
    }

    /// Whether `p` lies in the registry's box.
    pub fn contains(&self, p: LatLon) -> bool {
        p.lon >= self.bbox[0]
            && p.lon <= self.bbox[2]
            && p.lat >= self.bbox[1]
            && p.lat <= self.bbox[3]
    }

    /// Whether `p` lies west of the "eastern Black Sea" line (its longitude at `p`'s
    /// latitude, the line's ends extended north and south).
    pub fn west_of_line(&self, p: LatLon) -> bool {
        let l = &self.east_line;
        let mut lon = l[0].lon;
        for w in l.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (hi, lo) = if a.lat >= b.lat { (a, b) } else { (b, a) };
            if p.lat <= hi.lat && p.lat >= lo.lat && hi.lat > lo.lat {
                lon = lo.lon + (hi.lon - lo.lon) * (p.lat - lo.lat) / (hi.lat - lo.lat);
                break;
            }
            if p.lat < lo.lat {
                lon = lo.lon;
            }
        }
        p.lon < lon
    }

    /// The port whose circle holds `p`, nearest first.
    pub fn port_at(&self, p: LatLon) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, port) in self.ports.iter().enumerate() {
            let d = haversine_m(p, port.position);
            if d <= port.radius_m && best.is_none_or(|(_, b)| d < b) {
                best = Some((i, d));
            }
        }
        best.map(|(i, _)| i)
    }

    /// What the zone detector watches: the gates, the anchorages and river ports as
    /// circles, and the zones.
    pub fn detector_zones(&self) -> Vec<Zone> {
        let mut out = Vec::new();
        for g in &self.gates {
            out.push(Zone::gate(
                &g.id,
                &g.name,
                vec![g.line.iter().copied().map(point).collect()],
            ));
        }
        for a in &self.anchorages {
            out.push(circle(
                &a.id,
                &a.name,
                LatLon::new(a.lat, a.lon),
                a.radius_km * 1000.0,
            ));
        }
        for p in self.ports.iter().filter(|p| !p.in_places) {
            out.push(circle(&p.id, &p.name, p.position, p.radius_m));
        }
        out.extend(self.zones.iter().cloned());
        out
    }

    /// The basin holding `p`.
    pub fn basin_at(&self, p: LatLon) -> Option<&str> {
        self.basins
            .iter()
            .find(|b| b.contains(p))
            .map(|b| b.reference.id.as_str())
    }

    /// The gates crossed, in order, going from basin `from` to basin `to` (fewest gates;
    /// empty when no chain of gates joins them): each gate's index and whether it is
    /// crossed from its left to its right.
    pub fn gates_between(&self, from: &str, to: &str) -> Vec<(usize, bool)> {
        // Breadth-first over basins, gates as edges.
        let mut prev: std::collections::HashMap<String, (String, usize, bool)> =
            std::collections::HashMap::new();
        let mut queue = std::collections::VecDeque::from([from.to_owned()]);
        let mut seen = std::collections::HashSet::from([from.to_owned()]);
        while let Some(b) = queue.pop_front() {
            if b == to {
                break;
            }
            for (i, g) in self.gates.iter().enumerate() {
                let (Some(l), Some(r)) = (&g.left_basin, &g.right_basin) else {
                    continue;
                };
                let step = if *l == b {
                    Some((r.clone(), true))
                } else if *r == b {
                    Some((l.clone(), false))
                } else {
                    None
                };
                if let Some((next, ltr)) = step {
                    if seen.insert(next.clone()) {
                        prev.insert(next.clone(), (b.clone(), i, ltr));
                        queue.push_back(next);
                    }
                }
            }
        }
        let mut path = Vec::new();
        let mut at = to.to_owned();
        while let Some((p, i, ltr)) = prev.get(&at) {
            path.push((*i, *ltr));
            at = p.clone();
        }
        path.reverse();
        path
    }

    /// The regimes in force at `t`.
    pub fn regimes_at(&self, t: i64) -> impl Iterator<Item = &Regime> {
        self.regimes.iter().filter(move |r| r.covers(t))
    }
}
