//! Scores the ceasefire monitor's weekly metrics against simulator truth (scenarios with
//! services, gates and closures, e.g. `black_sea`): weekly port calls and departures per
//! port, gate transits per gate and direction, spoofing-cluster recall, and whether a port
//! closure's onset and end show as change points within ±3 days.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use shadowfleet_ceasefire::destination::{classify, Declared};
use shadowfleet_ceasefire::{
    iso_week, monitor, week_start, Inputs, MonitorError, Options, PortGroup, Registry, Report,
};
use shadowfleet_geo::{haversine_m, LatLon};
use shadowfleet_simulate::truth::{Event as TruthEvent, TruthRecord};

const DAY: i64 = 86_400;

fn t(s: &str) -> i64 {
    shadowfleet_model::Timestamp::parse_rfc3339(s)
        .map(|t| t.unix_millis() / 1000)
        .unwrap_or(i64::MIN)
}

/// Truth against the monitor for one series (a port's arrivals, a gate's direction).
#[derive(Debug, Clone, Serialize)]
pub struct SeriesScore {
    /// Metric (`port_calls`, `departures`, `gate_transits`, `queue`: vessels that began
    /// waiting at a queue anchorage in the week).
    pub metric: &'static str,
    /// Port or gate id, and the direction for gates.
    pub place: String,
    /// Weeks scored (whole weeks inside the simulated period, the first left out).
    pub weeks: usize,
    /// Sum of the truth over those weeks.
    pub truth: u32,
    /// Sum of the monitor's values.
    pub found: f64,
    /// Sum over weeks of |found − truth| over the truth's sum (weighted absolute percentage
    /// error), percent.
    pub wape_pct: f64,
    /// The largest weekly error, percent of that week's truth (weeks with a truth of 0:
    /// any found is 100 %).
    pub worst_week_pct: f64,
    /// Gate transits of the truth that no AIS could show: made and undone while the vessel
    /// was dark (out across the line and back within one silence, as the giver of a dark
    /// STS transfer does). Counted in [`Self::truth`]; 0 for port series.
    pub unseen: u32,
    /// [`Self::wape_pct`] against the truth without [`Self::unseen`]: what the monitor
    /// could have counted from the AIS it was given.
    pub wape_seen_pct: f64,
}

/// A port closure and the change points near it.
#[derive(Debug, Clone, Serialize)]
pub struct ClosureScore {
    /// Port.
    pub port: String,
    /// Truth start and end, RFC 3339.
    pub start: String,
    /// See [`Self::start`].
    pub end: String,
    /// Days from the truth start to the nearest change point of the port (none: `None`).
    pub onset_error_days: Option<i64>,
    /// Days from the truth end to the nearest change point.
    pub end_error_days: Option<i64>,
    /// The evidence the truth's own daily departures give for the closure: the
    /// log-likelihood ratio of the closure window at its own rate against one constant rate
    /// (the statistic the monitor's change-point search uses).
    pub truth_llr: f64,
    /// Whether [`Self::truth_llr`] reaches the monitor's threshold
    /// (`Options::change_min_llr`): a closure below it is too small, for the port's traffic,
    /// to tell from chance, even with every departure seen.
    pub detectable: bool,
}

/// Log-likelihood of `s` events over `n` days at their own Poisson rate.
fn poisson_ll(s: f64, n: f64) -> f64 {
    if s <= 0.0 || n <= 0.0 {
        0.0
    } else {
        s * (s / n).ln() - s
    }
}

/// Destination honesty at one port: the share of arrivals whose AIS destination did not name
/// the port or its country, in the truth (what the crews set) and as the monitor found it
/// (arrivals with a destination heard, pooled over the scored weeks).
#[derive(Debug, Clone, Serialize)]
pub struct DestinationScore {
    /// Port.
    pub port: String,
    /// Truth arrivals in the scored weeks.
    pub truth_calls: u32,
    /// Of those, the share not naming the port or its country.
    pub truth_share: f64,
    /// Arrivals the monitor classified (a destination heard).
    pub found_calls: u32,
    /// Their share not naming the port or its country.
    pub found_share: f64,
    /// `found_share − truth_share`, percentage points.
    pub error_pp: f64,
}

/// The ceasefire monitor's score.
#[derive(Debug, Clone, Serialize)]
pub struct CeasefireScore {
    /// Weekly series per port (ports only service ships and tankers call at).
    pub series: Vec<SeriesScore>,
    /// Interference episodes: area × episode with enough vessels heard displaced enough
    /// times to be found (as the event-kind score counts them: [`crate::MatchRules`]).
    pub spoof_episodes: usize,
    /// Of those, found by a cluster overlapping in time with its centre within 50 km of the
    /// episode's broadcast point.
    pub spoof_episodes_found: usize,
    /// Clusters that match no episode (a single ship's spoofing counted as a cluster, or
    /// noise).
    pub clusters_unmatched: usize,
    /// Port closures.
    pub closures: Vec<ClosureScore>,
    /// Destination honesty per port (ports with at least 5 truth arrivals).
    pub destinations: Vec<DestinationScore>,
}

/// Ids of the truth's gate transits that no AIS could show: a vessel's transits of one gate
/// while it was dark (its dark periods merged where they overlap) that cancel out, one in
/// each direction — it went out across the line and came back within one silence. When the
/// directions do not balance, the net crossing shows (where it went dark and where it came
/// back lie on either side); the earliest of each direction are the ones paired off.
fn unseen_transits<'a>(events: &[&'a TruthEvent]) -> std::collections::HashSet<&'a str> {
    let mut dark: HashMap<u32, Vec<(i64, i64)>> = HashMap::new();
    for e in events.iter().filter(|e| e.kind == "dark") {
        dark.entry(e.vessel)
            .or_default()
            .push((t(&e.start), t(&e.end)));
    }
    for spans in dark.values_mut() {
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
        for &(a, b) in spans.iter() {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        *spans = merged;
    }
    // (vessel, silence, gate) → transits left to right, right to left, by time.
    type Crossings<'a> = (Vec<(i64, &'a str)>, Vec<(i64, &'a str)>);
    let mut within: BTreeMap<(u32, usize, &str), Crossings<'a>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == "gate_transit") {
        let at = t(&e.start);
        let Some(k) = dark
            .get(&e.vessel)
            .and_then(|spans| spans.iter().position(|&(a, b)| a <= at && at <= b))
        else {
            continue;
        };
        let gate = e.details["gate"].as_str().unwrap_or("");
        let x = within.entry((e.vessel, k, gate)).or_default();
        if e.details["direction"].as_str() == Some("left_to_right") {
            x.0.push((at, e.id.as_str()));
        } else {
            x.1.push((at, e.id.as_str()));
        }
    }
    let mut unseen = std::collections::HashSet::new();
    for (mut ltr, mut rtl) in within.into_values() {
        ltr.sort_unstable();
        rtl.sort_unstable();
        let n = ltr.len().min(rtl.len());
        unseen.extend(ltr[..n].iter().chain(&rtl[..n]).map(|&(_, id)| id));
    }
    unseen
}

/// When a port call's way in (the truth's `approach`: `[time, lat, lon]` at the vertices of
/// a straight-line path) last came within `radius_m` of `centre`: the arrival as a monitor
/// that draws that circle around the port sees it. `None` when the way in is not recorded
/// or never was outside the circle.
pub fn entry_time(approach: &serde_json::Value, centre: LatLon, radius_m: f64) -> Option<i64> {
    let way: Vec<(i64, LatLon)> = approach
        .as_array()?
        .iter()
        .filter_map(|v| {
            let v = v.as_array()?;
            Some((
                t(v.first()?.as_str()?),
                LatLon::new(v.get(1)?.as_f64()?, v.get(2)?.as_f64()?),
            ))
        })
        .collect();
    let outside = |q: LatLon| haversine_m(q, centre) > radius_m;
    // The last vertex outside: the path after it stays inside but for its first stretch.
    let k = way.iter().rposition(|&(_, q)| outside(q))?;
    let &(t0, a) = way.get(k)?;
    let &(t1, b) = way.get(k + 1)?;
    // The first point of the stretch within the circle, to about 20 m.
    let steps = (haversine_m(a, b) / 20.0).ceil().max(1.0) as u32;
    (1..=steps).find_map(|i| {
        let f = f64::from(i) / f64::from(steps);
        (!outside(a.lerp(b, f))).then(|| t0 + ((t1 - t0) as f64 * f).round() as i64)
    })
}

/// Scores `report` (the monitor run on the store analysed from the simulated AIS) against
/// `truth`. `ports` are the registry ids whose calls the truth records completely (no
/// background traffic calls there). A call arrives when its way in enters the circle the
/// monitor counts arrivals by: `port_entry_m` around a port of the places table (the
/// port-call detector's entry radius), the registry's own circle around a river port.
pub fn evaluate_ceasefire(
    truth: &[TruthRecord],
    report: &Report,
    registry: &Registry,
    ports: &[&str],
    port_entry_m: f64,
) -> CeasefireScore {
    let (mut start, mut end) = (i64::MIN, i64::MAX);
    let mut events: Vec<&TruthEvent> = Vec::new();
    let mut closures = Vec::new();
    for r in truth {
        match r {
            TruthRecord::Header(h) => {
                start = t(&h.start);
                end = t(&h.end);
            }
            TruthRecord::Event(e) => events.push(e),
            TruthRecord::Closure(c) => closures.push(c),
            _ => {}
        }
    }
    // Whole weeks inside the period, after a first week of warm-up (calls in progress at
    // the start have no observed arrival; the simulator's ships start mid-plan).
    let mut weeks = Vec::new();
    let mut w = week_start(start);
    if w < start {
        w += 7 * DAY;
    }
    w += 7 * DAY;
    while w + 7 * DAY <= end {
        weeks.push(iso_week(w));
        w += 7 * DAY;
    }
    let mut truth_counts: BTreeMap<(&'static str, String, String), u32> = BTreeMap::new();
    let unseen = unseen_transits(&events);
    let mut unseen_counts: BTreeMap<(&'static str, String, String), u32> = BTreeMap::new();
    // Port → (arrivals in the scored weeks, of which not naming it).
    let mut truth_declared: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut queued: std::collections::HashSet<(String, String, u32)> = Default::default();
    for e in &events {
        let (s, x) = (t(&e.start), t(&e.end));
        match e.kind.as_str() {
            "port_call" => {
                let place = e.details["place"].as_str().unwrap_or("").to_owned();
                if !ports.contains(&place.as_str()) {
                    continue;
                }
                let port = registry.ports.iter().find(|p| p.id == place);
                let s = port
                    .and_then(|p| {
                        let r = if p.in_places {
                            port_entry_m
                        } else {
                            p.radius_m
                        };
                        entry_time(&e.details["approach"], p.position, r)
                    })
                    .unwrap_or(s);
                if let (Some(port), Some(said), true) = (
                    port,
                    e.details["declared_destination"].as_str(),
                    weeks.contains(&iso_week(s)),
                ) {
                    let x = truth_declared.entry(place.clone()).or_default();
                    x.0 += 1;
                    x.1 += u32::from(classify(said, &port.of_call()) != Declared::Named);
                }
                if s >= start {
                    *truth_counts
                        .entry(("port_calls", place.clone(), iso_week(s)))
                        .or_default() += 1;
                }
                if e.details.get("clipped").is_none() && x < end {
                    *truth_counts
                        .entry(("departures", place, iso_week(x)))
                        .or_default() += 1;
                }
            }
            "queue" => {
                // Vessels that began waiting in the week, each once (as the monitor counts).
                let area = e.details["area"].as_str().unwrap_or("").to_owned();
                if s >= start && queued.insert((area.clone(), iso_week(s), e.vessel)) {
                    *truth_counts
                        .entry(("queue", area, iso_week(s)))
                        .or_default() += 1;
                }
            }
            "gate_transit" => {
                let gate = e.details["gate"].as_str().unwrap_or("");
                let dir = e.details["direction"].as_str().unwrap_or("");
                let key = ("gate_transits", format!("{gate}:{dir}"), iso_week(s));
                if unseen.contains(e.id.as_str()) {
                    *unseen_counts.entry(key.clone()).or_default() += 1;
                }
                *truth_counts.entry(key).or_default() += 1;
            }
            _ => {}
        }
    }
    // The monitor's rows, gate directions mapped back to the line's sides.
    let mut found: HashMap<(&'static str, String, String), f64> = HashMap::new();
    for r in &report.rows {
        if (r.metric == "port_calls" || r.metric == "departures") && r.split == "all" {
            *found
                .entry((r.metric, r.place.clone(), r.week.clone()))
                .or_default() += r.value;
        }
    }
    for r in report
        .rows
        .iter()
        .filter(|r| r.metric == "queue" && r.split == "all")
    {
        *found
            .entry(("queue", r.place.clone(), r.week.clone()))
            .or_default() += r.value;
    }
    for g in &report.gates {
        for (side, name) in [
            ("left_to_right", &g.left_to_right),
            ("right_to_left", &g.right_to_left),
        ] {
            for r in report
                .rows
                .iter()
                .filter(|r| r.metric == "gate_transits" && r.place == g.id && &r.split == name)
            {
                *found
                    .entry(("gate_transits", format!("{}:{side}", g.id), r.week.clone()))
                    .or_default() += r.value;
            }
        }
    }
    let mut keys: Vec<(&'static str, String)> = truth_counts
        .keys()
        .map(|(m, p, _)| (*m, p.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    let mut series = Vec::new();
    for (metric, place) in keys {
        let (mut tsum, mut fsum, mut err, mut worst) = (0u32, 0.0, 0.0, 0.0f64);
        let (mut usum, mut err_seen) = (0u32, 0.0);
        for w in &weeks {
            let key = (metric, place.clone(), w.clone());
            let tr = truth_counts.get(&key).copied().unwrap_or(0);
            let un = unseen_counts.get(&key).copied().unwrap_or(0);
            let f = found.get(&key).copied().unwrap_or(0.0);
            tsum += tr;
            usum += un;
            fsum += f;
            let e = (f - f64::from(tr)).abs();
            err += e;
            err_seen += (f - f64::from(tr - un)).abs();
            let pct = if tr > 0 {
                e / f64::from(tr) * 100.0
            } else if e > 0.0 {
                100.0
            } else {
                0.0
            };
            worst = worst.max(pct);
        }
        series.push(SeriesScore {
            metric,
            place,
            weeks: weeks.len(),
            truth: tsum,
            found: fsum,
            wape_pct: if tsum > 0 {
                (err / f64::from(tsum) * 1000.0).round() / 10.0
            } else {
                0.0
            },
            worst_week_pct: (worst * 10.0).round() / 10.0,
            unseen: usum,
            wape_seen_pct: if tsum > usum {
                (err_seen / f64::from(tsum - usum) * 1000.0).round() / 10.0
            } else {
                0.0
            },
        });
    }

    // Spoofing clusters: interference episodes with enough vessels heard displaced (as the
    // event-kind score counts them, MatchRules::min_interference_vessels).
    // (area, episode) → (first, last, broadcast lat, lon, vessels)
    type Episode = (i64, i64, f64, f64, usize);
    let mut episodes: BTreeMap<(u64, u64), Episode> = BTreeMap::new();
    let rules = crate::MatchRules::default();
    for e in events.iter().filter(|e| {
        e.kind == "interference"
            && e.details["heard_reports"].as_u64().unwrap_or(0) >= rules.min_spoofed_reports
    }) {
        let key = (
            e.details["area"].as_u64().unwrap_or(0),
            e.details["episode"].as_u64().unwrap_or(0),
        );
        let x = episodes.entry(key).or_insert((
            i64::MAX,
            i64::MIN,
            e.details["broadcast_lat"].as_f64().unwrap_or(0.0),
            e.details["broadcast_lon"].as_f64().unwrap_or(0.0),
            0,
        ));
        x.0 = x.0.min(t(&e.start));
        x.1 = x.1.max(t(&e.end));
        x.4 += 1;
    }
    let min_vessels = rules.min_interference_vessels;
    let episodes: Vec<_> = episodes
        .into_values()
        .filter(|e| e.4 >= min_vessels)
        .collect();
    let near = |c: &shadowfleet_ceasefire::Cluster, lat: f64, lon: f64| {
        shadowfleet_geo::haversine_m(
            shadowfleet_geo::LatLon::new(c.lat, c.lon),
            shadowfleet_geo::LatLon::new(lat, lon),
        ) <= 50_000.0
    };
    let overlaps =
        |c: &shadowfleet_ceasefire::Cluster, a: i64, b: i64| t(&c.start) <= b && t(&c.end) >= a;
    let found_eps = episodes
        .iter()
        .filter(|e| {
            report
                .clusters
                .iter()
                .any(|c| overlaps(c, e.0, e.1) && near(c, e.2, e.3))
        })
        .count();
    let unmatched = report
        .clusters
        .iter()
        .filter(|c| {
            !episodes
                .iter()
                .any(|e| overlaps(c, e.0, e.1) && near(c, e.2, e.3))
        })
        .count();

    let closures = closures
        .iter()
        .map(|c| {
            let (s, e) = (t(&c.start), t(&c.end));
            let nearest = |x: i64| {
                report
                    .change_points
                    .iter()
                    .filter(|p| p.place == c.port)
                    .map(|p| {
                        let d = shadowfleet_model::Timestamp::parse_day(&p.date)
                            .map(|d| d.unix_millis() / 1000)
                            .unwrap_or(i64::MAX / 2);
                        (d - x) / DAY
                    })
                    .min_by_key(|d| d.abs())
            };
            // Truth departures per day of the period, and the closure window's evidence.
            let days = ((end - start) / DAY).max(1) as usize;
            let mut daily = vec![0.0; days];
            for ev in events.iter().filter(|ev| {
                ev.kind == "port_call"
                    && ev.details["place"].as_str() == Some(c.port.as_str())
                    && ev.details.get("clipped").is_none()
            }) {
                let x = t(&ev.end);
                if (start..end).contains(&x) {
                    daily[(((x - start) / DAY) as usize).min(days - 1)] += 1.0;
                }
            }
            let day_of = |x: i64| (((x - start).max(0) / DAY) as usize).min(days);
            let (a, b) = (day_of(s), day_of(e));
            let inside: f64 = daily[a..b.max(a)].iter().sum();
            let total: f64 = daily.iter().sum();
            let n_in = (b.max(a) - a) as f64;
            let truth_llr = poisson_ll(inside, n_in)
                + poisson_ll(total - inside, days as f64 - n_in)
                - poisson_ll(total, days as f64);
            ClosureScore {
                port: c.port.clone(),
                start: c.start.clone(),
                end: c.end.clone(),
                onset_error_days: nearest(s),
                end_error_days: nearest(e),
                truth_llr: (truth_llr * 100.0).round() / 100.0,
                detectable: truth_llr >= Options::default().change_min_llr,
            }
        })
        .collect();
    // The monitor's shares pooled over the scored weeks (each row's events are the arrivals
    // it classified).
    let mut found_declared: HashMap<&str, (f64, f64)> = HashMap::new();
    for r in report.rows.iter().filter(|r| {
        r.metric == "destination_honesty" && r.split == "all" && weeks.contains(&r.week)
    }) {
        let n = r.events.len() as f64;
        let x = found_declared.entry(r.place.as_str()).or_default();
        x.0 += n;
        x.1 += r.value * n;
    }
    let destinations = truth_declared
        .into_iter()
        .filter(|(_, (n, _))| *n >= 5)
        .map(|(port, (n, not_named))| {
            let (fc, fnn) = found_declared
                .get(port.as_str())
                .copied()
                .unwrap_or_default();
            let truth_share = f64::from(not_named) / f64::from(n);
            let found_share = if fc > 0.0 { fnn / fc } else { 0.0 };
            let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
            DestinationScore {
                port,
                truth_calls: n,
                truth_share: r3(truth_share),
                found_calls: fc.round() as u32,
                found_share: r3(found_share),
                error_pp: ((found_share - truth_share) * 1000.0).round() / 10.0,
            }
        })
        .collect();
    CeasefireScore {
        series,
        spoof_episodes: episodes.len(),
        spoof_episodes_found: found_eps,
        clusters_unmatched: unmatched,
        closures,
        destinations,
    }
}

/// Runs the monitor (the embedded Black Sea registry, default options) on a store analysed
/// from simulated AIS and scores it, when the truth holds gate transits or port closures (a
/// scenario such as `black_sea`; `None` otherwise). Ports are scored where the truth records
/// every call: Ukrainian, occupied and Russian ports, where no background traffic calls.
/// A true call arrives when its way in enters the circle of the port-call detector's entry
/// radius the store's events were found with (`inputs.port_entry_km`).
pub fn monitor_and_score(
    truth: &[TruthRecord],
    store: &shadowfleet_store::Store,
    places: &shadowfleet_places::Places,
    inputs: &Inputs<'_>,
) -> Result<Option<CeasefireScore>, MonitorError> {
    let relevant = truth.iter().any(|r| match r {
        TruthRecord::Event(e) => e.kind == "gate_transit",
        TruthRecord::Closure(_) => true,
        _ => false,
    });
    if !relevant {
        return Ok(None);
    }
    let registry = Registry::black_sea(places).map_err(|e| MonitorError::Empty(e.to_string()))?;
    let report = monitor(store, &registry, inputs, &Options::default())?;
    let ports: Vec<&str> = registry
        .ports
        .iter()
        .filter(|p| {
            matches!(
                p.group,
                PortGroup::UaSea
                    | PortGroup::UaDanube
                    | PortGroup::Occupied
                    | PortGroup::RuTerminal
                    | PortGroup::RuPort
            )
        })
        .map(|p| p.id.as_str())
        .collect();
    Ok(Some(evaluate_ceasefire(
        truth,
        &report,
        &registry,
        &ports,
        inputs.port_entry_km * 1000.0,
    )))
}

impl CeasefireScore {
    /// Whether the truth holds anything for the monitor (gate transits or closures).
    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.closures.is_empty()
    }

    /// A table for people.
    pub fn to_text(&self) -> String {
        let mut s = String::from(
            "ceasefire monitor, weekly (whole weeks after the first, per port and gate):\n",
        );
        s.push_str(&format!(
            "  {:<14} {:<34} {:>6} {:>8} {:>8} {:>8} {:>7} {:>8}\n",
            "metric", "place", "truth", "found", "wape%", "worst%", "unseen", "seen%"
        ));
        for x in &self.series {
            s.push_str(&format!(
                "  {:<14} {:<34} {:>6} {:>8} {:>8.1} {:>8.1} {:>7} {:>8.1}\n",
                x.metric,
                x.place,
                x.truth,
                x.found,
                x.wape_pct,
                x.worst_week_pct,
                x.unseen,
                x.wape_seen_pct
            ));
        }
        s.push_str(
            "  (unseen: gate transits made and undone within one silence of the vessel, which no \
             AIS shows; seen%: the error against the truth without them)\n",
        );
        s.push_str(&format!(
            "  spoofing clusters: {} of {} interference episodes found, {} clusters match none\n",
            self.spoof_episodes_found, self.spoof_episodes, self.clusters_unmatched
        ));
        if !self.destinations.is_empty() {
            s.push_str(&format!(
                "  destination honesty (share of arrivals not naming the port or its country):\n  {:<34} {:>6} {:>7} {:>6} {:>7} {:>7}\n",
                "port", "truth", "share", "found", "share", "err pp"
            ));
            for d in &self.destinations {
                s.push_str(&format!(
                    "  {:<34} {:>6} {:>7.3} {:>6} {:>7.3} {:>+7.1}\n",
                    d.port, d.truth_calls, d.truth_share, d.found_calls, d.found_share, d.error_pp
                ));
            }
        }
        for c in &self.closures {
            let d = |x: Option<i64>| x.map_or("none".to_owned(), |d| format!("{d:+} d"));
            s.push_str(&format!(
                "  closure of {} {} – {}: nearest change point to the onset {}, to the end {}; evidence in the truth's departures: LLR {:.1} ({})\n",
                c.port,
                c.start,
                c.end,
                d(c.onset_error_days),
                d(c.end_error_days),
                c.truth_llr,
                if c.detectable {
                    "detectable"
                } else {
                    "below the monitor's threshold: not detectable from departures"
                }
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A way in straight from 10 km east of the port to its centre, one hour long, after a
    /// pass through the circle and out again: the arrival is the last entry, 7 km along.
    #[test]
    fn a_call_arrives_when_its_way_in_last_enters_the_circle() {
        let centre = LatLon::new(46.0, 30.7);
        let east = |km: f64| shadowfleet_geo::offset_m(centre, 0.0, km * 1000.0);
        let at = |minute: i64, q: LatLon| {
            let t = 1_741_000_000 + minute * 60;
            serde_json::json!([shadowfleet_simulate::rfc3339(t), q.lat, q.lon])
        };
        let way = serde_json::json!([
            at(-120, east(12.0)),
            at(-90, east(2.0)),
            at(-60, east(10.0)),
            at(0, centre),
        ]);
        let t0 = 1_741_000_000 - 3600;
        let entry = entry_time(&way, centre, 3_000.0).expect("an entry");
        assert!((entry - (t0 + 7 * 360)).abs() <= 10, "{}", entry - t0);
        // Never outside the circle: no entry to time (the call's start stands).
        assert_eq!(entry_time(&way, centre, 20_000.0), None);
        assert_eq!(entry_time(&serde_json::Value::Null, centre, 3_000.0), None);
    }
}
