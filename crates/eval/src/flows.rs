//! Cargo flows and country exposure scored against the simulator's truth: country totals,
//! interval coverage per country-month, and chain attribution of cargoes that went through
//! ship-to-ship transfers.

use std::collections::{HashMap, HashSet};

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
    /// Cargoes that passed at least one STS transfer and were discharged (truth).
    pub sts_cargoes: usize,
    /// Of which the traced chain (ships in order) and discharge country are right.
    pub sts_attributed: usize,
}

impl FlowScore {
    /// Share of country-months whose truth is inside the interval.
    pub fn coverage(&self) -> f64 {
        if self.country_months == 0 {
            1.0
        } else {
            self.covered as f64 / self.country_months as f64
        }
    }

    /// Share of STS cargoes attributed correctly.
    pub fn sts_accuracy(&self) -> f64 {
        if self.sts_cargoes == 0 {
            1.0
        } else {
            self.sts_attributed as f64 / self.sts_cargoes as f64
        }
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
        s += &format!(
            "interval covers truth in {}/{} country-months ({:.1} %); STS chains attributed {}/{} ({:.1} %)\n",
            self.covered,
            self.country_months,
            self.coverage() * 100.0,
            self.sts_attributed,
            self.sts_cargoes,
            self.sts_accuracy() * 100.0
        );
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
    let mut truth_cm: HashMap<(String, String), f64> = HashMap::new();
    let mut mmsis: HashMap<u32, HashSet<u32>> = HashMap::new();
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
            _ => {}
        }
    }
    let est_cm: HashMap<(String, String), &ExposureRow> = rows
        .iter()
        .map(|r| ((r.country.clone(), r.month.clone()), r))
        .collect();
    let keys: HashSet<&(String, String)> = truth_cm.keys().chain(est_cm.keys()).collect();
    let mut covered = 0;
    for k in &keys {
        let t = truth_cm.get(*k).copied().unwrap_or(0.0);
        let (lo, hi) = est_cm
            .get(*k)
            .map_or((0.0, 0.0), |r| (r.low_bbl, r.high_bbl));
        if t >= lo - 1.0 && t <= hi + 1.0 {
            covered += 1;
        }
    }
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

    // Chain attribution of discharged cargoes that went through STS.
    let mut sts_cargoes = 0;
    let mut sts_attributed = 0;
    for r in truth {
        let TruthRecord::Cargo(c) = r else { continue };
        let Some(d) = &c.discharge else { continue };
        if c.origin_country != origin || c.chain.len() < 2 {
            continue;
        }
        let Some(discharged) = unix(&d.time) else {
            continue;
        };
        sts_cargoes += 1;
        let chain: Vec<&HashSet<u32>> = c
            .chain
            .iter()
            .filter_map(|h| mmsis.get(&h.vessel))
            .collect();
        // The traced flow that ends with the last ship of the chain discharging within a day
        // of the true discharge, carrying the largest share.
        let best = traced
            .flows
            .iter()
            .filter(|f| {
                f.discharge
                    .as_ref()
                    .is_some_and(|x| (x.t - discharged).abs() <= 86_400)
                    && f.chain
                        .last()
                        .is_some_and(|h| chain.last().is_some_and(|m| m.contains(&h.mmsi)))
            })
            .max_by(|a, b| a.share.total_cmp(&b.share));
        let Some(f) = best else { continue };
        let ships_right = f.chain.len() == chain.len()
            && f.chain.iter().zip(&chain).all(|(h, m)| m.contains(&h.mmsi));
        let origin_right = traced
            .cargoes
            .get(f.cargo)
            .and_then(|c| c.origin.as_ref())
            .is_some_and(|o| o.country == origin);
        let country_right = f.discharge.as_ref().is_some_and(|x| x.country == d.country);
        if ships_right && origin_right && country_right {
            sts_attributed += 1;
        }
    }
    FlowScore {
        origin: origin.to_owned(),
        top_countries: top,
        country_months: keys.len(),
        covered,
        sts_cargoes,
        sts_attributed,
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
