//! The origin of cargoes whose loading was not seen (loaded before the data starts, or while
//! dark), estimated as a probability per country from two kinds of evidence:
//!
//! - **who carries what** (the statistics of the seen cargoes): all of them, those of vessels
//!   in the same risk group, those discharged in the same country, those of the same group
//!   discharged there, the vessel's own — each level shrunk towards the wider one;
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
/// country. The statistics of the seen cargoes give a prior, level by level, each shrunk
/// towards the wider one with `origin_prior_cargoes` pseudo-cargoes:
///
/// 1. the share of each origin among all seen cargoes (a Laplace estimate, one pseudo-cargo
///    split evenly);
/// 2. among those of vessels in the same risk `group`;
/// 3. among all seen cargoes discharged in the same country;
/// 4. among those of the same risk group discharged there;
/// 5. among the vessel's own seen cargoes.
///
/// Where the ship was first seen laden (`sighting`) then keeps the countries with a loading
/// place whose sea route to the discharge passes there ([`RouteEvidence`]) and weighs the
/// others by `origin_off_route`; without a sighting, or when no route passes it, the prior
/// stands.
///
/// The most probable country becomes the origin (`inferred`, with its probability), the
/// others above `origin_min_probability` go in [`Origin::also`]; the exposure counts each
/// cargo at its probability for the asked origin.
pub fn infer_origins(
    traced: &mut Traced,
    config: &TraceConfig,
    group: &dyn Fn(VesselKey) -> u8,
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
    let mut all = Counts::new();
    let mut by_group: HashMap<u8, Counts> = HashMap::new();
    let mut by_country: HashMap<&str, Counts> = HashMap::new();
    let mut by_group_country: HashMap<(u8, &str), Counts> = HashMap::new();
    let mut by_vessel: HashMap<VesselKey, Counts> = HashMap::new();
    for c in &traced.cargoes {
        let Some(o) = c.origin.as_ref().filter(|o| !o.inferred) else {
            continue;
        };
        let g = group(c.vessel);
        add(&mut all, &o.country, 1.0);
        add(by_group.entry(g).or_default(), &o.country, 1.0);
        if let Some((d, _)) = discharge.get(&c.id) {
            add(by_country.entry(d).or_default(), &o.country, 1.0);
            add(by_group_country.entry((g, d)).or_default(), &o.country, 1.0);
        }
        add(by_vessel.entry(c.vessel).or_default(), &o.country, 1.0);
    }
    if all.is_empty() {
        return;
    }
    let m = config.origin_prior_cargoes.max(0.0);
    // Shrinks `counts` towards `prior` with `m` pseudo-cargoes.
    let shrink = |counts: Option<&Counts>, prior: &Counts| -> Counts {
        let n: f64 = counts.map_or(0.0, |c| c.values().sum());
        let mut out = Counts::new();
        for (k, p) in prior {
            out.insert(k.clone(), m * p);
        }
        for (k, x) in counts.into_iter().flatten() {
            *out.entry(k.clone()).or_default() += x;
        }
        let total = n + m;
        if total > 0.0 {
            out.values_mut().for_each(|x| *x /= total);
        }
        out
    };
    let n: f64 = all.values().sum();
    let even = 1.0 / all.len() as f64;
    let p_all: Counts = all
        .iter()
        .map(|(k, x)| (k.clone(), (x + even) / (n + 1.0)))
        .collect();
    let mut estimates: Vec<(usize, Counts)> = Vec::new();
    for c in &traced.cargoes {
        if c.origin.is_some() {
            continue;
        }
        let g = group(c.vessel);
        let p_group = shrink(by_group.get(&g), &p_all);
        let p = match discharge.get(&c.id) {
            Some((d, _)) => {
                let p_country = shrink(by_country.get(d), &p_group);
                shrink(by_group_country.get(&(g, *d)), &p_country)
            }
            None => p_group,
        };
        let mut p = shrink(by_vessel.get(&c.vessel), &p);
        // The route: countries with a loading place upstream of the sighting.
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
            for k in on_route.keys() {
                // A country upstream that no seen cargo came from: its prior is the
                // pseudo-cargo share.
                if !p.contains_key(k) {
                    p.insert(k.clone(), even / (n + 1.0));
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
