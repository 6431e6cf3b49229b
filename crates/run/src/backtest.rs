//! A backtest of the risk score against dated designations: is the score more than hindsight?
//!
//! For each month M in which some vessel of the data was designated (a sanctions-list entry
//! with a listing date), the vessels are ranked by the risk score computed only from what was
//! known before M ([`Analysis::before`]: events that had ended, identities seen, list entries
//! already listed); vessels already designated are left out of the ranking. Reported per month:
//! Precision@k (share of the top k designated in M or later), recall (share of the
//! later-designated vessels the top k holds) and the base rate (what a random ranking gets);
//! over all designations, the share of designated vessels that were in a top k before their
//! designation and the median lead time in weeks from the first such month to the designation.
//!
//! Limits (docs/risk.md): many designations follow ownership and finance, not behaviour in
//! AIS; a designation month with little data before it ranks on little; vessels the data never
//! saw cannot be ranked.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use shadowfleet_model::Timestamp;
use shadowfleet_refdata::ListKind;
use shadowfleet_store::Store;
use shadowfleet_voyages::VesselKey;

use crate::analysis::{Analysis, AnalysisConfig};

/// Least data before a designation month for the month to be ranked, seconds.
pub const MIN_HISTORY_S: i64 = 7 * 86_400;
/// Designation months later than this after the end of the data are not ranked (the ranking
/// would be the same as at the end of the data), seconds.
pub const MAX_AFTER_DATA_S: i64 = 120 * 86_400;

/// One ranked month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthResult {
    /// `YYYY-MM`.
    pub month: String,
    /// Vessels ranked (seen before the month, not yet designated).
    pub ranked: usize,
    /// Of them, designated in the month or later.
    pub later_designated: usize,
    /// Of them, designated in the month itself.
    pub designated_in_month: usize,
    /// Top-k vessels designated in the month or later.
    pub hits: usize,
    /// `hits / min(k, ranked)`.
    pub precision_at_k: f64,
    /// `hits / later_designated`.
    pub recall_at_k: f64,
    /// `later_designated / ranked`: the precision of a random ranking.
    pub base_rate: f64,
    /// The top-k: vessel id, score, designation day when designated later.
    pub top: Vec<Ranked>,
}

/// A vessel in a month's top k.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// `imo:N` or `mmsi:N`.
    pub vessel: String,
    /// Risk score from data before the month.
    pub score: f64,
    /// Designation day, when it was designated in the month or later.
    pub designated_on: Option<String>,
}

/// The whole backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    /// Top-k size.
    pub k: usize,
    /// First and last day of the data.
    pub data: (String, String),
    /// Dated designations of vessels the data saw (IMO and day), by list.
    pub designations: usize,
    /// Dated designations the data never saw (left out).
    pub unseen_designations: usize,
    /// Each ranked month.
    pub months: Vec<MonthResult>,
    /// Designated vessels ranked at least once before their designation.
    pub designated_ranked: usize,
    /// Of them, in a top k before their designation.
    pub designated_in_top_k: usize,
    /// Weeks from the first month a designated vessel was in the top k to its designation.
    pub lead_weeks: Vec<f64>,
    /// Their median.
    pub median_lead_weeks: Option<f64>,
}

fn day_of(t: i64) -> String {
    Timestamp::from_unix_seconds(t)
        .to_string()
        .get(..10)
        .unwrap_or("")
        .to_owned()
}

fn month_start(month: &str) -> Option<i64> {
    Timestamp::parse_rfc3339(&format!("{month}-01T00:00:00Z"))
        .ok()
        .map(|t| t.unix_millis().div_euclid(1000))
}

fn day_start(day: &str) -> Option<i64> {
    Timestamp::parse_rfc3339(&format!("{day}T00:00:00Z"))
        .ok()
        .map(|t| t.unix_millis().div_euclid(1000))
}

/// The ranking at `cutoff`: vessels by the risk score from data before it, highest first
/// (ties by id), with the MMSIs behind each.
pub fn ranking_before(
    store: &Store,
    config: &AnalysisConfig,
    cutoff: i64,
) -> anyhow::Result<Vec<(VesselKey, f64, Vec<u32>)>> {
    let a = Analysis::before(store, config.clone(), cutoff)?;
    let mut out: Vec<(VesselKey, f64, Vec<u32>)> = a
        .risks
        .iter()
        .map(|r| (r.vessel, r.score, r.mmsis.clone()))
        .collect();
    out.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.id().cmp(&y.0.id())));
    Ok(out)
}

/// Runs the backtest on `store` with its lists, top `k`.
pub fn backtest(store: &Store, config: &AnalysisConfig, k: usize) -> anyhow::Result<Backtest> {
    anyhow::ensure!(k > 0, "k must be at least 1");
    let identities = store.identities()?;
    let (Some(start), Some(end)) = (
        identities.iter().map(|i| i.first_seen).min(),
        identities.iter().map(|i| i.last_seen).max(),
    ) else {
        anyhow::bail!("the store holds no data to rank: run `shadowfleet analyze` first");
    };
    // IMO → earliest designation day on any sanctions list.
    let mut designated: HashMap<u32, String> = HashMap::new();
    for l in store.lists()? {
        if l.list.kind != ListKind::Sanctions {
            continue;
        }
        for e in &l.list.entries {
            if let (Some(imo), Some(day)) = (e.imo.filter(|_| e.imo_valid), &e.listed_on) {
                let d = designated.entry(imo).or_insert_with(|| day.clone());
                if day < d {
                    *d = day.clone();
                }
            }
        }
    }
    anyhow::ensure!(
        !designated.is_empty(),
        "no dated sanctions-list entries in the store: load a list with listing dates (e.g. the EU Annex XLII export) with --lists"
    );
    // The IMOs the data saw, and each MMSI's IMOs.
    let mut imo_of_mmsi: HashMap<u32, HashSet<u32>> = HashMap::new();
    for i in &identities {
        if let Some(imo) = i.imo {
            imo_of_mmsi.entry(i.mmsi).or_default().insert(imo);
        }
    }
    let seen: HashSet<u32> = imo_of_mmsi.values().flatten().copied().collect();
    let unseen_designations = designated.keys().filter(|i| !seen.contains(i)).count();
    designated.retain(|i, _| seen.contains(i));
    // The designation day of a ranked vessel.
    let designation = |k: VesselKey, mmsis: &[u32]| -> Option<String> {
        match k {
            VesselKey::Imo(i) => designated.get(&i).cloned(),
            VesselKey::Mmsi(_) => mmsis
                .iter()
                .filter_map(|m| imo_of_mmsi.get(m))
                .flatten()
                .filter_map(|i| designated.get(i))
                .min()
                .cloned(),
        }
    };
    let months: std::collections::BTreeSet<String> = designated
        .values()
        .filter_map(|d| d.get(..7).map(str::to_owned))
        .filter(|m| {
            month_start(m)
                .is_some_and(|c| c >= start + MIN_HISTORY_S && c <= end + MAX_AFTER_DATA_S)
        })
        .collect();
    let mut results = Vec::new();
    // Vessel → first cutoff at which it was in the top k (before its designation).
    let mut first_top: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let mut ranked_before: HashSet<String> = HashSet::new();
    for month in &months {
        let Some(cutoff) = month_start(month) else {
            continue;
        };
        let cutoff_day = day_of(cutoff);
        let ranking: Vec<(VesselKey, f64, Option<String>)> = ranking_before(store, config, cutoff)?
            .into_iter()
            .map(|(v, s, m)| {
                let d = designation(v, &m);
                (v, s, d)
            })
            // Already designated: not a prediction any more.
            .filter(|(_, _, d)| d.as_ref().is_none_or(|d| *d >= cutoff_day))
            .collect();
        let later: Vec<&(VesselKey, f64, Option<String>)> =
            ranking.iter().filter(|r| r.2.is_some()).collect();
        for r in &later {
            ranked_before.insert(r.0.id());
        }
        let in_month = later
            .iter()
            .filter(|r| {
                r.2.as_deref()
                    .is_some_and(|d| d.starts_with(month.as_str()))
            })
            .count();
        let top: Vec<&(VesselKey, f64, Option<String>)> = ranking.iter().take(k).collect();
        let hits = top.iter().filter(|r| r.2.is_some()).count();
        for r in top.iter().filter(|r| r.2.is_some()) {
            first_top
                .entry(r.0.id())
                .or_insert_with(|| (cutoff, r.2.clone().unwrap_or_default()));
        }
        let n = ranking.len();
        results.push(MonthResult {
            month: month.clone(),
            ranked: n,
            later_designated: later.len(),
            designated_in_month: in_month,
            hits,
            precision_at_k: if n == 0 {
                0.0
            } else {
                hits as f64 / k.min(n) as f64
            },
            recall_at_k: if later.is_empty() {
                0.0
            } else {
                hits as f64 / later.len() as f64
            },
            base_rate: if n == 0 {
                0.0
            } else {
                later.len() as f64 / n as f64
            },
            top: top
                .iter()
                .map(|r| Ranked {
                    vessel: r.0.id(),
                    score: (r.1 * 10.0).round() / 10.0,
                    designated_on: r.2.clone(),
                })
                .collect(),
        });
    }
    let mut lead_weeks: Vec<f64> = first_top
        .values()
        .filter_map(|(cutoff, day)| day_start(day).map(|d| (d - cutoff) as f64 / (7.0 * 86_400.0)))
        .map(|w| (w * 10.0).round() / 10.0)
        .collect();
    lead_weeks.sort_by(f64::total_cmp);
    let median_lead_weeks = (!lead_weeks.is_empty()).then(|| {
        let n = lead_weeks.len();
        if n % 2 == 1 {
            lead_weeks[n / 2]
        } else {
            (lead_weeks[n / 2 - 1] + lead_weeks[n / 2]) / 2.0
        }
    });
    Ok(Backtest {
        k,
        data: (day_of(start), day_of(end)),
        designations: designated.len(),
        unseen_designations,
        months: results,
        designated_ranked: ranked_before.len(),
        designated_in_top_k: first_top.len(),
        lead_weeks,
        median_lead_weeks,
    })
}
