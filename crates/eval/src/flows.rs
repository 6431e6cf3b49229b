//! Cargo flows and country exposure scored against the simulator's truth: country totals,
//! interval coverage per country-month, and chain attribution of cargoes that went through
//! ship-to-ship transfers.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use shadowfleet_model::Timestamp;
use shadowfleet_risk::ExposureRow;
use shadowfleet_simulate::truth::TruthRecord;
use shadowfleet_voyages::Traced;

/// One destination country.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryTotal {
    /// Country.
    pub country: String,
    /// True barrels over the period.
    pub truth_bbl: f64,
    /// Estimated barrels.
    pub estimate_bbl: f64,
    /// (estimate − truth) / truth.
    pub error: f64,
}

/// One destination country and month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryMonth {
    /// Country (ISO alpha-2).
    pub country: String,
    /// `YYYY-MM` of discharge completion.
    pub month: String,
    /// True barrels.
    pub truth_bbl: f64,
    /// Estimated barrels (`volume_bbl` of the exposure row; 0 without a row).
    pub estimate_bbl: f64,
    /// The exposure row's interval, barrels.
    pub low_bbl: f64,
    /// The exposure row's interval, barrels.
    pub high_bbl: f64,
    /// (estimate − truth) / truth; absent when the truth is 0.
    pub error: Option<f64>,
    /// Whether the truth lies in `[low_bbl, high_bbl]` (1 barrel of rounding either side).
    pub covered: bool,
}

/// How a cargo travelled, for scoring each kind apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CargoRoute {
    /// Loaded and discharged by one ship.
    Direct,
    /// One ship-to-ship transfer, both ships transmitting.
    OneSts,
    /// Two or more transfers, all with both ships transmitting.
    MultiSts,
    /// At least one transfer with a ship dark.
    DarkSts,
}

impl CargoRoute {
    /// Every route, in report order.
    pub const ALL: [CargoRoute; 4] = [
        CargoRoute::Direct,
        CargoRoute::OneSts,
        CargoRoute::MultiSts,
        CargoRoute::DarkSts,
    ];

    /// The name used in the text and JSON.
    pub fn name(self) -> &'static str {
        match self {
            CargoRoute::Direct => "direct",
            CargoRoute::OneSts => "one_sts",
            CargoRoute::MultiSts => "multi_sts",
            CargoRoute::DarkSts => "dark_sts",
        }
    }
}

/// The cargoes of the origin discharged in the truth, of one route, and how many the tracer
/// got right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CargoScore {
    /// The route.
    pub route: CargoRoute,
    /// Cargoes of the origin discharged (truth).
    pub cargoes: usize,
    /// Of which a traced flow ends with the last ship of the chain discharging within a day
    /// of the true discharge.
    pub found: usize,
    /// Of which the traced origin country is the true one (seen at a terminal or inferred).
    pub origin_right: usize,
    /// Of which the loading terminal was seen and is the true one.
    pub terminal_right: usize,
    /// Links of custody in the truth (ships, the loading one included).
    pub hops: usize,
    /// Of which the traced flow has the right ship at the same place in the chain.
    pub hops_right: usize,
    /// Cargoes whose whole chain (every ship, in order, no more) is right.
    pub chain_right: usize,
    /// Cargoes discharged in the right country.
    pub discharge_right: usize,
    /// Cargoes with origin country, chain and discharge country all right.
    pub all_right: usize,
}

impl CargoScore {
    fn new(route: CargoRoute) -> CargoScore {
        CargoScore {
            route,
            cargoes: 0,
            found: 0,
            origin_right: 0,
            terminal_right: 0,
            hops: 0,
            hops_right: 0,
            chain_right: 0,
            discharge_right: 0,
            all_right: 0,
        }
    }

    /// Share of the cargoes with origin, chain and discharge all right (1 when none).
    pub fn accuracy(&self) -> f64 {
        share(self.all_right, self.cargoes)
    }
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 {
        1.0
    } else {
        n as f64 / of as f64
    }
}

/// A discharged cargo of the truth the tracer did not get right, and what was wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CargoMiss {
    /// The truth's cargo id.
    pub cargo: String,
    /// Its route.
    pub route: CargoRoute,
    /// True loading terminal.
    pub terminal: String,
    /// True load completion (may precede the data).
    pub loaded: String,
    /// True discharge country.
    pub country: String,
    /// True barrels.
    pub truth_bbl: f64,
    /// The traced flow taken for it (index in the tracer's flows), if any.
    pub flow: Option<usize>,
    /// Traced origin country, if any.
    pub traced_origin: Option<String>,
    /// Traced discharge country, if any.
    pub traced_country: Option<String>,
    /// Traced barrels of that flow.
    pub traced_bbl: f64,
    /// What was wrong: `not_found`, `origin`, `chain`, `country` (comma-separated).
    pub wrong: String,
}

/// A traced flow of the origin, discharged, that matches no discharged cargo of the truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmatchedFlow {
    /// Index in the tracer's flows.
    pub flow: usize,
    /// MMSI of the ship that discharged it.
    pub mmsi: u32,
    /// Traced loading terminal (absent when first seen laden).
    pub terminal: Option<String>,
    /// Whether the origin was inferred (not seen at a terminal).
    pub inferred: bool,
    /// Traced discharge country.
    pub country: String,
    /// Discharge completion, RFC 3339.
    pub discharged: String,
    /// Traced barrels.
    pub bbl: f64,
}

/// The volume estimate of the cargoes found, against the truth, for one product or one
/// size class of the loading ship.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumeBias {
    /// `product:crude`, `class:Aframax`, ...
    pub group: String,
    /// Cargoes found.
    pub cargoes: usize,
    /// Median of (traced − truth) / truth.
    pub median_error: f64,
    /// 90th percentile of |traced − truth| / truth.
    pub p90_abs_error: f64,
}

/// The flow score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowScore {
    /// Origin scored (`RU`).
    pub origin: String,
    /// Destination countries by true volume, largest first (at most 10).
    pub top_countries: Vec<CountryTotal>,
    /// Country-months with a true or estimated volume.
    pub country_months: usize,
    /// Of which the true volume lies in `[low_bbl, high_bbl]`.
    pub covered: usize,
    /// Every country-month with a true or estimated volume, by country then month.
    pub months: Vec<CountryMonth>,
    /// Cargoes that passed at least one STS transfer and were discharged (truth).
    pub sts_cargoes: usize,
    /// Of which the traced chain (ships in order), origin and discharge country are right.
    pub sts_attributed: usize,
    /// The discharged cargoes of the origin by route.
    pub cargoes: Vec<CargoScore>,
    /// Traced flows of the origin discharged that match no discharged cargo of the truth
    /// (the wrong ship, or a discharge more than a day from the true one), and their barrels.
    pub unmatched_flows: usize,
    /// Barrels of [`FlowScore::unmatched_flows`].
    pub unmatched_bbl: f64,
    /// The discharged cargoes not right, each with what was wrong.
    pub misses: Vec<CargoMiss>,
    /// The flows of [`FlowScore::unmatched_flows`].
    pub unmatched: Vec<UnmatchedFlow>,
    /// The volume model against the truth, by product and by the loading ship's class.
    pub volume_bias: Vec<VolumeBias>,
}

impl FlowScore {
    /// Share of country-months whose truth is inside the interval.
    pub fn coverage(&self) -> f64 {
        share(self.covered, self.country_months)
    }

    /// Share of STS cargoes attributed correctly.
    pub fn sts_accuracy(&self) -> f64 {
        share(self.sts_attributed, self.sts_cargoes)
    }

    /// Largest relative error among the top countries.
    pub fn worst_country_error(&self) -> f64 {
        self.top_countries
            .iter()
            .map(|c| c.error.abs())
            .fold(0.0, f64::max)
    }

    /// A readable summary.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "exposure of {} oil by destination (top {}):\n",
            self.origin,
            self.top_countries.len()
        );
        for c in &self.top_countries {
            s += &format!(
                "  {}  truth {:>12.0} bbl  estimate {:>12.0} bbl  error {:+.1} %\n",
                c.country,
                c.truth_bbl,
                c.estimate_bbl,
                c.error * 100.0
            );
        }
        s += "by month:\n";
        for m in &self.months {
            s += &format!(
                "  {} {}  truth {:>12.0}  estimate {:>12.0}  [{:>12.0}, {:>12.0}]  {}  {}\n",
                m.country,
                m.month,
                m.truth_bbl,
                m.estimate_bbl,
                m.low_bbl,
                m.high_bbl,
                m.error.map_or_else(
                    || "   n/a  ".to_owned(),
                    |e| format!("{:+6.1} %", e * 100.0)
                ),
                if m.covered { "in" } else { "OUT" }
            );
        }
        s += &format!(
            "interval covers truth in {}/{} country-months ({:.1} %); STS chains attributed {}/{} ({:.1} %)\n",
            self.covered,
            self.country_months,
            self.coverage() * 100.0,
            self.sts_attributed,
            self.sts_cargoes,
            self.sts_accuracy() * 100.0
        );
        s += "cargoes discharged (truth): found, origin, terminal, hops, chain, discharge country, all right\n";
        for c in &self.cargoes {
            s += &format!(
                "  {:<9} {:>4}  found {:>4}  origin {:>4}  terminal {:>4}  hops {:>4}/{:<4}  chain {:>4}  country {:>4}  all {:>4} ({:.1} %)\n",
                c.route.name(),
                c.cargoes,
                c.found,
                c.origin_right,
                c.terminal_right,
                c.hops_right,
                c.hops,
                c.chain_right,
                c.discharge_right,
                c.all_right,
                c.accuracy() * 100.0
            );
        }
        s += "volume of the cargoes found against the truth (median error, p90 of |error|):\n";
        for v in &self.volume_bias {
            s += &format!(
                "  {:<20} {:>4} cargoes  median {:+.1} %  p90 {:.1} %\n",
                v.group,
                v.cargoes,
                v.median_error * 100.0,
                v.p90_abs_error * 100.0
            );
        }
        s += &format!(
            "traced flows matching no discharged cargo: {} ({:.0} bbl)\n",
            self.unmatched_flows, self.unmatched_bbl
        );
        for u in &self.unmatched {
            s += &format!(
                "  F{} MMSI {} from {}{} discharged {} {}: {:.0} bbl\n",
                u.flow,
                u.mmsi,
                u.terminal.as_deref().unwrap_or("(first seen laden)"),
                if u.inferred { " (origin inferred)" } else { "" },
                u.country,
                u.discharged,
                u.bbl
            );
        }
        if !self.misses.is_empty() {
            s += "cargoes not right (truth id, route, terminal, loaded, country, bbl → traced flow, origin, country, bbl: wrong):\n";
        }
        for m in &self.misses {
            s += &format!(
                "  {} {} {} {} {} {:.0} → {} {} {} {:.0}: {}\n",
                m.cargo,
                m.route.name(),
                m.terminal,
                m.loaded,
                m.country,
                m.truth_bbl,
                m.flow.map_or_else(|| "-".to_owned(), |f| format!("F{f}")),
                m.traced_origin.as_deref().unwrap_or("-"),
                m.traced_country.as_deref().unwrap_or("-"),
                m.traced_bbl,
                m.wrong
            );
        }
        s
    }
}

fn unix(s: &str) -> Option<i64> {
    Timestamp::parse_rfc3339(s)
        .ok()
        .map(|t| t.unix_millis() / 1000)
}

/// Scores `rows` (the exposure for `origin`) and `traced` against `truth`.
pub fn evaluate_flows(
    truth: &[TruthRecord],
    rows: &[ExposureRow],
    traced: &Traced,
    origin: &str,
) -> FlowScore {
    // Truth volume by country and month.
    let mut truth_cm: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut mmsis: HashMap<u32, HashSet<u32>> = HashMap::new();
    let mut dark_sts: HashSet<&str> = HashSet::new();
    for r in truth {
        match r {
            TruthRecord::Volume(v) if v.origin_country == origin => {
                *truth_cm
                    .entry((v.country.clone(), v.month.clone()))
                    .or_default() += v.volume_bbl;
            }
            TruthRecord::Vessel(v) => {
                mmsis.insert(v.vessel, v.identities.iter().map(|i| i.mmsi).collect());
            }
            TruthRecord::Event(e)
                if e.kind == "sts"
                    && e.details
                        .get("dark_side")
                        .and_then(|d| d.as_str())
                        .is_some_and(|d| d != "none") =>
            {
                dark_sts.insert(&e.id);
            }
            _ => {}
        }
    }
    let mut est_cm: BTreeMap<(String, String), &ExposureRow> = BTreeMap::new();
    for r in rows {
        est_cm.insert((r.country.clone(), r.month.clone()), r);
    }
    let keys: BTreeSet<&(String, String)> = truth_cm.keys().chain(est_cm.keys()).collect();
    let months: Vec<CountryMonth> = keys
        .iter()
        .map(|k| {
            let t = truth_cm.get(*k).copied().unwrap_or(0.0);
            let row = est_cm.get(*k);
            let (e, lo, hi) =
                row.map_or((0.0, 0.0, 0.0), |r| (r.volume_bbl, r.low_bbl, r.high_bbl));
            CountryMonth {
                country: k.0.clone(),
                month: k.1.clone(),
                truth_bbl: t,
                estimate_bbl: e,
                low_bbl: lo,
                high_bbl: hi,
                error: (t > 0.0).then(|| (e - t) / t),
                covered: t >= lo - 1.0 && t <= hi + 1.0,
            }
        })
        .collect();
    let covered = months.iter().filter(|m| m.covered).count();
    let mut by_country: HashMap<&str, (f64, f64)> = HashMap::new();
    for ((c, _), v) in &truth_cm {
        by_country.entry(c).or_default().0 += v;
    }
    for r in rows {
        by_country.entry(&r.country).or_default().1 += r.volume_bbl;
    }
    let mut top: Vec<CountryTotal> = by_country
        .into_iter()
        .filter(|(_, (t, _))| *t > 0.0)
        .map(|(c, (t, e))| CountryTotal {
            country: c.to_owned(),
            truth_bbl: t,
            estimate_bbl: e,
            error: (e - t) / t,
        })
        .collect();
    top.sort_by(|a, b| {
        b.truth_bbl
            .total_cmp(&a.truth_bbl)
            .then(a.country.cmp(&b.country))
    });
    top.truncate(10);

    // Every discharged cargo of the origin against the traced flow that ends with the last
    // ship of its chain discharging within a day of the true discharge (the largest share).
    let mut scores: BTreeMap<CargoRoute, CargoScore> = CargoRoute::ALL
        .iter()
        .map(|&r| (r, CargoScore::new(r)))
        .collect();
    let mut matched_flows: HashSet<usize> = HashSet::new();
    let mut sts_cargoes = 0;
    let mut sts_attributed = 0;
    let mut misses = Vec::new();
    let mut volume: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let classes: HashMap<u32, &str> = truth
        .iter()
        .filter_map(|r| match r {
            TruthRecord::Vessel(v) => Some((v.vessel, v.class.as_str())),
            _ => None,
        })
        .collect();
    for r in truth {
        let TruthRecord::Cargo(c) = r else { continue };
        let Some(d) = &c.discharge else { continue };
        if c.origin_country != origin {
            continue;
        }
        let Some(discharged) = unix(&d.time) else {
            continue;
        };
        let route = if c
            .chain
            .iter()
            .any(|h| h.via_sts.as_deref().is_some_and(|e| dark_sts.contains(e)))
        {
            CargoRoute::DarkSts
        } else {
            match c.chain.len() {
                0 | 1 => CargoRoute::Direct,
                2 => CargoRoute::OneSts,
                _ => CargoRoute::MultiSts,
            }
        };
        let score = scores
            .entry(route)
            .or_insert_with(|| CargoScore::new(route));
        score.cargoes += 1;
        score.hops += c.chain.len();
        let sts = c.chain.len() >= 2;
        sts_cargoes += usize::from(sts);
        let chain: Vec<Option<&HashSet<u32>>> =
            c.chain.iter().map(|h| mmsis.get(&h.vessel)).collect();
        let last = chain.last().copied().flatten();
        let best = traced
            .flows
            .iter()
            .filter(|f| {
                f.discharge
                    .as_ref()
                    .is_some_and(|x| (x.t - discharged).abs() <= 86_400)
                    && f.chain
                        .last()
                        .is_some_and(|h| last.is_some_and(|m| m.contains(&h.mmsi)))
            })
            .max_by(|a, b| a.share.total_cmp(&b.share));
        let mut miss = CargoMiss {
            cargo: c.id.clone(),
            route,
            terminal: c.terminal.clone(),
            loaded: c.loaded.clone(),
            country: d.country.clone(),
            truth_bbl: c.volume_bbl,
            flow: None,
            traced_origin: None,
            traced_country: None,
            traced_bbl: 0.0,
            wrong: "not_found".into(),
        };
        let Some(f) = best else {
            misses.push(miss);
            continue;
        };
        matched_flows.insert(f.id);
        if let Some(tc) = traced.cargoes.get(f.cargo) {
            let e = (f.volume(tc).barrels - c.volume_bbl) / c.volume_bbl.max(1.0);
            volume
                .entry(format!("product:{}", c.product))
                .or_default()
                .push(e);
            if let Some(class) = c.chain.first().and_then(|h| classes.get(&h.vessel)) {
                volume.entry(format!("class:{class}")).or_default().push(e);
            }
        }
        score.found += 1;
        let hops_right = f
            .chain
            .iter()
            .zip(&chain)
            .filter(|(h, m)| m.is_some_and(|m| m.contains(&h.mmsi)))
            .count();
        score.hops_right += hops_right;
        let chain_right = f.chain.len() == chain.len() && hops_right == chain.len();
        let traced_origin = traced.cargoes.get(f.cargo).and_then(|c| c.origin.as_ref());
        let origin_right = traced_origin.is_some_and(|o| o.country == origin);
        let terminal_right = traced_origin
            .and_then(|o| o.place.as_deref())
            .is_some_and(|p| p == c.terminal);
        let country_right = f.discharge.as_ref().is_some_and(|x| x.country == d.country);
        score.chain_right += usize::from(chain_right);
        score.origin_right += usize::from(origin_right);
        score.terminal_right += usize::from(terminal_right);
        score.discharge_right += usize::from(country_right);
        let all = chain_right && origin_right && country_right;
        score.all_right += usize::from(all);
        sts_attributed += usize::from(sts && all);
        if !all {
            miss.flow = Some(f.id);
            miss.traced_origin = traced_origin.map(|o| o.country.clone());
            miss.traced_country = f.discharge.as_ref().map(|x| x.country.clone());
            miss.traced_bbl = traced
                .cargoes
                .get(f.cargo)
                .map_or(0.0, |c| f.volume(c).barrels);
            let wrong: Vec<&str> = [
                (!origin_right).then_some("origin"),
                (!chain_right).then_some("chain"),
                (!country_right).then_some("country"),
            ]
            .into_iter()
            .flatten()
            .collect();
            miss.wrong = wrong.join(",");
            misses.push(miss);
        }
    }
    // Traced flows of the origin that were discharged but match no cargo.
    let mut unmatched = Vec::new();
    for f in &traced.flows {
        let Some(cargo) = traced.cargoes.get(f.cargo) else {
            continue;
        };
        let Some(o) = cargo.origin.as_ref().filter(|o| o.country == origin) else {
            continue;
        };
        let Some(d) = &f.discharge else { continue };
        if matched_flows.contains(&f.id) {
            continue;
        }
        unmatched.push(UnmatchedFlow {
            flow: f.id,
            mmsi: f.chain.last().map_or(cargo.mmsi, |h| h.mmsi),
            terminal: o.place.clone(),
            inferred: o.inferred,
            country: d.country.clone(),
            discharged: Timestamp::from_unix_seconds(d.t).to_string(),
            bbl: f.volume(cargo).barrels,
        });
    }
    let unmatched_flows = unmatched.len();
    let unmatched_bbl = unmatched.iter().map(|u| u.bbl).sum::<f64>() + 0.0;
    FlowScore {
        origin: origin.to_owned(),
        top_countries: top,
        country_months: months.len(),
        covered,
        months,
        sts_cargoes,
        sts_attributed,
        cargoes: scores.into_values().collect(),
        unmatched_flows,
        unmatched_bbl,
        misses,
        unmatched,
        volume_bias: volume
            .into_iter()
            .map(|(group, mut errs)| {
                errs.sort_by(f64::total_cmp);
                let median = errs[errs.len() / 2];
                let mut abs: Vec<f64> = errs.iter().map(|e| e.abs()).collect();
                abs.sort_by(f64::total_cmp);
                let p90 = abs[((abs.len() - 1) as f64 * 0.9).round() as usize];
                VolumeBias {
                    group,
                    cargoes: errs.len(),
                    median_error: median,
                    p90_abs_error: p90,
                }
            })
            .collect(),
    }
}

/// How well risk scores rank the truth's shadow fleet above the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskScore {
    /// Area under the ROC curve of the scores against the truth's shadow label.
    pub roc_auc: f64,
    /// Tankers of the truth scored.
    pub tankers: usize,
    /// Of which truly shadow.
    pub shadow: usize,
}

/// Scores `risks` against the truth: each tanker of the truth gets the highest score of the
/// keys (IMO numbers, MMSIs) it was seen under, 0 when none was scored.
pub fn evaluate_risk(truth: &[TruthRecord], risks: &[shadowfleet_risk::VesselRisk]) -> RiskScore {
    use shadowfleet_voyages::VesselKey;
    let by_key: HashMap<VesselKey, f64> = risks.iter().map(|r| (r.vessel, r.score)).collect();
    let scored: Vec<(f64, bool)> = truth
        .iter()
        .filter_map(|r| match r {
            TruthRecord::Vessel(v) if v.dwt > 0.0 => Some(v),
            _ => None,
        })
        .map(|v| {
            let s = v
                .identities
                .iter()
                .flat_map(|i| {
                    [
                        by_key.get(&VesselKey::Imo(i.imo)),
                        by_key.get(&VesselKey::Mmsi(i.mmsi)),
                    ]
                })
                .flatten()
                .fold(0.0, |a: f64, b| a.max(*b));
            (s, v.shadow)
        })
        .collect();
    RiskScore {
        roc_auc: shadowfleet_risk::roc_auc(&scored),
        tankers: scored.len(),
        shadow: scored.iter().filter(|x| x.1).count(),
    }
}
