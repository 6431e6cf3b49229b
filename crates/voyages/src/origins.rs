//! The origin of cargoes whose loading was not seen (loaded before the data starts, or while
//! dark), estimated as a probability per country from two kinds of evidence:
//!
//! - **who carries what** (the statistics of the seen cargoes): whether vessels of the same
//!   risk and the vessel itself load at export terminals or elsewhere, where each trade
//!   delivers, and the origins within each trade;
//! - **where the ship was first seen laden** (the route): the loading places whose sea route
//!   to the discharge passes near that position; their countries are likely, the others not.
//!
//! See docs/voyages.md for the definitions and what they were measured on.

use std::collections::{BTreeMap, HashMap};

use shadowfleet_geo::{LatLon, Route, Router};
use shadowfleet_places::{PlaceKind, Places};

use crate::trace::{Origin, OriginShare, TraceConfig, Traced, VesselKey};

type Counts = BTreeMap<String, f64>;

fn add(c: &mut Counts, country: &str, n: f64) {
    *c.entry(country.to_owned()).or_default() += n;
}

/// What is known of where a cargo whose loading was not seen travelled: where the ship was
/// first seen laden with it, and the place it was discharged at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sighting {
    /// The ship's first position with the cargo aboard.
    pub at: LatLon,
    /// The discharge place (index in [`Places`]).
    pub discharge: usize,
}

/// The loading places whose sea route to a discharge passes near a sighting, with the
/// routes cached by (place, discharge).
pub struct RouteEvidence<'a> {
    router: Router<'a>,
    places: &'a Places,
    /// Loading places (index in [`Places`]) and the origin country of their oil.
    sources: Vec<(usize, String)>,
    routes: HashMap<(usize, usize), Option<Route>>,
    radius_m: f64,
}

impl<'a> RouteEvidence<'a> {
    /// Evidence over `router`: the loading places are every export terminal of `places` and
    /// every place a seen cargo of `traced` was loaded at; a route passes a sighting when it
    /// comes within `origin_route_radius_km` of it.
    pub fn new(
        router: Router<'a>,
        places: &'a Places,
        traced: &Traced,
        config: &TraceConfig,
    ) -> RouteEvidence<'a> {
        let mut sources: BTreeMap<usize, String> = BTreeMap::new();
        for (i, p) in places.all().iter().enumerate() {
            if p.kind == PlaceKind::Terminal {
                let country = if config.cpc_is_kazakh || p.origin_country.is_empty() {
                    &p.origin_country
                } else {
                    &p.country
                };
                if !country.is_empty() {
                    sources.insert(i, country.clone());
                }
            }
        }
        for c in &traced.cargoes {
            let Some(o) = c.origin.as_ref().filter(|o| !o.inferred) else {
                continue;
            };
            if let Some(i) = o.place.as_deref().and_then(|id| places.index_of(id)) {
                sources.entry(i).or_insert_with(|| o.country.clone());
            }
        }
        RouteEvidence {
            router,
            places,
            sources: sources.into_iter().collect(),
            routes: HashMap::new(),
            radius_m: config.origin_route_radius_km * 1000.0,
        }
    }

    /// The origin countries of the loading places whose route to the sighting's discharge
    /// passes within the radius of it, each with the number of such places; empty when none
    /// does (no evidence).
    pub fn countries(&mut self, s: Sighting) -> Counts {
        let Some(to) = self.places.get(s.discharge).map(|p| p.position) else {
            return Counts::new();
        };
        let mut out = Counts::new();
        for (src, country) in &self.sources {
            let Some(from) = self.places.get(*src).map(|p| p.position) else {
                continue;
            };
            let router = &mut self.router;
            let route = self
                .routes
                .entry((*src, s.discharge))
                .or_insert_with(|| router.route(from, to).ok());
            if route
                .as_ref()
                .is_some_and(|r| near_route(r, s.at, self.radius_m))
            {
                add(&mut out, country, 1.0);
            }
        }
        out
    }
}

/// Whether `p` lies within `radius_m` of the polyline `r` (an equirectangular projection
/// around `p`: good to a few per cent at the radii used).
fn near_route(r: &Route, p: LatLon, radius_m: f64) -> bool {
    const M_PER_DEG: f64 = 111_320.0;
    let k = p.lat.to_radians().cos().max(0.01);
    let xy = |q: LatLon| {
        let mut dl = q.lon - p.lon;
        if dl > 180.0 {
            dl -= 360.0;
        } else if dl < -180.0 {
            dl += 360.0;
        }
        (dl * k * M_PER_DEG, (q.lat - p.lat) * M_PER_DEG)
    };
    let r2 = radius_m * radius_m;
    let pts: Vec<(f64, f64)> = r.points.iter().map(|&q| xy(q)).collect();
    if pts.len() == 1 {
        return pts[0].0 * pts[0].0 + pts[0].1 * pts[0].1 <= r2;
    }
    pts.windows(2).any(|w| {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (cx, cy) = (ax + t * dx, ay + t * dy);
        cx * cx + cy * cy <= r2
    })
}

/// Estimates the origin of every cargo whose loading was not seen, as a probability per
/// country, from the cargoes whose loading was seen. Two trades are told apart: oil loaded
/// at an export terminal (Russian or Kazakh, [`PlaceKind::Terminal`]) and oil loaded
/// anywhere else. For a cargo of vessel `v` discharged in country `c`:
///
/// 1. P(terminal trade | v): the share of terminal loads among the seen cargoes of vessels
///    in the same risk bin (`risk_bin`), shrunk towards the share among all with
///    `origin_prior_cargoes` pseudo-cargoes; then the vessel's own seen cargoes, shrunk
///    towards that;
/// 2. the discharge country as evidence (Bayes): the share of each trade's seen, discharged
///    cargoes that went to `c` (half a pseudo-cargo per country), so that a country the
///    terminal trade delivers to and the other does not raises the terminal trade's chance;
/// 3. P(origin | trade, c): the origins of that trade's seen cargoes discharged in `c`, shrunk
///    towards the trade's overall (one pseudo-cargo split evenly);
/// 4. where the ship was first seen laden (`sighting`): the countries with a loading place
///    whose sea route to the discharge passes there ([`RouteEvidence`]) are kept, the others
///    weighed by `origin_off_route`; without a sighting, or when no route passes it, nothing
///    changes.
///
/// The most probable country becomes the origin (`inferred`, with its probability), the
/// others above `origin_min_probability` go in [`Origin::also`]; the exposure counts each
/// cargo at its probability for the asked origin.
pub fn infer_origins(
    traced: &mut Traced,
    places: &Places,
    config: &TraceConfig,
    risk_bin: &dyn Fn(VesselKey) -> u8,
    sighting: &mut dyn FnMut(usize) -> Option<Sighting>,
    mut routes: Option<&mut RouteEvidence<'_>>,
) {
    // The discharge country of each cargo: that of its largest discharged flow.
    let mut discharge: HashMap<usize, (&str, f64)> = HashMap::new();
    for f in &traced.flows {
        if let Some(d) = &f.discharge {
            let e = discharge.entry(f.cargo).or_insert((&d.country, f.share));
            if f.share > e.1 {
                *e = (&d.country, f.share);
            }
        }
    }
    let terminal = |place: Option<&str>| {
        place
            .and_then(|id| places.index_of(id))
            .and_then(|i| places.get(i))
            .is_some_and(|p| p.kind == PlaceKind::Terminal)
    };
    // Seen cargoes: [terminal trade, other] counts by bin, by vessel, by discharge country;
    // origins by trade, and by trade and discharge country.
    let mut by_bin: HashMap<u8, [f64; 2]> = HashMap::new();
    let mut by_vessel: HashMap<VesselKey, [f64; 2]> = HashMap::new();
    let mut discharged: [f64; 2] = [0.0; 2];
    let mut to_country: HashMap<&str, [f64; 2]> = HashMap::new();
    let mut origins: [Counts; 2] = [Counts::new(), Counts::new()];
    let mut origins_to: HashMap<(usize, &str), Counts> = HashMap::new();
    let mut total = [0.0; 2];
    for c in &traced.cargoes {
        let Some(o) = c.origin.as_ref().filter(|o| !o.inferred) else {
            continue;
        };
        let t = usize::from(!terminal(o.place.as_deref()));
        total[t] += 1.0;
        by_bin.entry(risk_bin(c.vessel)).or_default()[t] += 1.0;
        by_vessel.entry(c.vessel).or_default()[t] += 1.0;
        add(&mut origins[t], &o.country, 1.0);
        if let Some((d, _)) = discharge.get(&c.id) {
            discharged[t] += 1.0;
            to_country.entry(d).or_default()[t] += 1.0;
            add(origins_to.entry((t, d)).or_default(), &o.country, 1.0);
        }
    }
    if total[0] + total[1] == 0.0 {
        return;
    }
    let m = config.origin_prior_cargoes.max(0.0);
    let shrink_share = |n: [f64; 2], prior: f64| {
        let all = n[0] + n[1];
        if all + m > 0.0 {
            (n[0] + m * prior) / (all + m)
        } else {
            prior
        }
    };
    let p_terminal_all = (total[0] + 0.5) / (total[0] + total[1] + 1.0);
    let countries = to_country.len().max(1) as f64;
    // Origins of each trade, one pseudo-cargo split evenly.
    let base: Vec<Counts> = origins
        .iter()
        .map(|o| {
            let n: f64 = o.values().sum();
            let even = if o.is_empty() {
                0.0
            } else {
                1.0 / o.len() as f64
            };
            o.iter()
                .map(|(k, x)| (k.clone(), (x + even) / (n + 1.0)))
                .collect()
        })
        .collect();
    let mut estimates: Vec<(usize, Counts)> = Vec::new();
    for c in &traced.cargoes {
        if c.origin.is_some() {
            continue;
        }
        // 1. The vessel's trade.
        let bin = by_bin.get(&risk_bin(c.vessel)).copied().unwrap_or_default();
        let p_bin = shrink_share(bin, p_terminal_all);
        let own = by_vessel.get(&c.vessel).copied().unwrap_or_default();
        let mut pt = shrink_share(own, p_bin);
        let d = discharge.get(&c.id).map(|(d, _)| *d);
        // 2. The destination as evidence.
        if let Some(d) = d {
            let n = to_country.get(d).copied().unwrap_or_default();
            let like = |t: usize| (n[t] + 0.5) / (discharged[t] + 0.5 * countries);
            let (a, b) = (pt * like(0), (1.0 - pt) * like(1));
            if a + b > 0.0 {
                pt = a / (a + b);
            }
        }
        // 3. The origin within each trade.
        let mut p = Counts::new();
        for (t, w) in [(0, pt), (1, 1.0 - pt)] {
            let within = match d.and_then(|d| origins_to.get(&(t, d))) {
                Some(seen) => {
                    let n: f64 = seen.values().sum();
                    let mut out: Counts = base[t].iter().map(|(k, x)| (k.clone(), m * x)).collect();
                    for (k, x) in seen {
                        *out.entry(k.clone()).or_default() += x;
                    }
                    out.values_mut().for_each(|x| *x /= n + m);
                    out
                }
                None => base[t].clone(),
            };
            for (k, x) in within {
                *p.entry(k).or_default() += w * x;
            }
        }
        // 4. The route.
        let on_route = match (sighting(c.id), routes.as_deref_mut()) {
            (Some(s), Some(r)) => r.countries(s),
            _ => Counts::new(),
        };
        if !on_route.is_empty() {
            for (k, x) in p.iter_mut() {
                if !on_route.contains_key(k) {
                    *x *= config.origin_off_route;
                }
            }
            let total: f64 = p.values().sum();
            if total > 0.0 {
                p.values_mut().for_each(|x| *x /= total);
            }
        }
        estimates.push((c.id, p));
    }
    let min = config.origin_min_probability;
    for (id, p) in estimates {
        let mut ranked: Vec<(String, f64)> = p.into_iter().filter(|(_, x)| *x >= min).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut ranked = ranked.into_iter();
        let Some((country, probability)) = ranked.next() else {
            continue;
        };
        if let Some(c) = traced.cargoes.get_mut(id) {
            c.origin = Some(Origin {
                place: None,
                name: None,
                country,
                inferred: true,
                probability: round3(probability),
                also: ranked
                    .map(|(country, p)| OriginShare {
                        country,
                        probability: round3(p),
                    })
                    .collect(),
            });
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_near_a_segment_is_near_the_route() {
        let r = Route::new(
            vec![
                LatLon { lat: 0.0, lon: 0.0 },
                LatLon {
                    lat: 0.0,
                    lon: 10.0,
                },
            ],
            vec![false],
        );
        // 1° of latitude is 111 km.
        assert!(near_route(&r, LatLon { lat: 0.5, lon: 5.0 }, 60_000.0));
        assert!(!near_route(&r, LatLon { lat: 1.0, lon: 5.0 }, 100_000.0));
        // Beyond the end: the distance to the end point.
        assert!(!near_route(
            &r,
            LatLon {
                lat: 0.0,
                lon: 11.0
            },
            100_000.0
        ));
        assert!(near_route(
            &r,
            LatLon {
                lat: 0.0,
                lon: 10.5
            },
            60_000.0
        ));
    }
}
