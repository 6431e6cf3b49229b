//! Country exposure: how much oil of a given origin each country received, month by month,
//! from the traced flows, with an honest interval.
//!
//! - `volume_bbl`: flows whose origin is the asked one, discharged in the country that month
//!   (by discharge completion): a flow seen loaded at a terminal counts whole, one whose
//!   loading was not seen at the probability of the origin the tracer estimated
//!   ([`shadowfleet_voyages::infer_origins`]).
//! - `low_bbl`: only flows whose origin was seen and whose every link is confirmed, each at
//!   the low end of its volume uncertainty.
//! - `inferred_bbl`, `unconfirmed_bbl`, `unknown_bbl`, `interval_drivers`: what lies between
//!   the two ends and why.
//! - `high_bbl`: every flow that may be of that origin (including flows of unknown origin
//!   first held by a vessel the risk model does not rule out), each at the high end.
//! - `via_sts_share`: share of `volume_bbl` that passed at least one ship-to-ship transfer.
//! - `shadow_share`: share of `volume_bbl` carried (at discharge) by a vessel the risk model
//!   calls shadow.
//! - `sanctioned_then_share`, `sanctioned_later_share`, `sanctioned_undated_share`: share of
//!   `volume_bbl` discharged by a vessel on a sanctions list loaded: listed on or before the
//!   day of discharge, listed only after it, or on a list that gives no listing date.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shadowfleet_voyages::{HopKind, Traced, VesselKey};

/// Exposure settings. Every field has a default; see `docs/exposure.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExposureConfig {
    /// Origin countries counted (ISO alpha-2).
    pub origins: Vec<String>,
    /// Price per barrel, USD, by month `YYYY-MM`; months not listed use `default_price_usd`.
    pub prices_usd: BTreeMap<String, f64>,
    /// Price per barrel for months without one, USD (default: the G7 crude price cap of
    /// December 2022, USD 60).
    pub default_price_usd: f64,
    /// How a cargo of inferred origin enters the point estimate: `likely` (whole when the
    /// asked origin is more likely than not, probability ≥ 0.5, else not at all: the fewest
    /// errors for a country that received a few cargoes) or `expected` (at its
    /// probability).
    pub inferred: InferredCount,
}

/// See [`ExposureConfig::inferred`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InferredCount {
    /// Whole when the asked origin's probability is at least 0.5.
    #[default]
    Likely,
    /// At the probability of the asked origin.
    Expected,
}

impl Default for ExposureConfig {
    fn default() -> Self {
        ExposureConfig {
            origins: vec!["RU".into()],
            prices_usd: BTreeMap::new(),
            default_price_usd: 60.0,
            inferred: InferredCount::default(),
        }
    }
}

/// One country and month.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExposureRow {
    /// Destination country, ISO 3166 alpha-2.
    pub country: String,
    /// `YYYY-MM` of discharge completion.
    pub month: String,
    /// Flows (cargoes or cargo parts) discharged.
    pub cargoes: u32,
    /// Barrels (point estimate).
    pub volume_bbl: f64,
    /// Tonnes (point estimate).
    pub volume_t: f64,
    /// Share of the barrels that passed through at least one STS transfer.
    pub via_sts_share: f64,
    /// Share of the barrels delivered by a vessel the risk model calls shadow.
    pub shadow_share: f64,
    /// Share of the barrels delivered by a vessel already on a sanctions list on the day of
    /// discharge.
    pub sanctioned_then_share: f64,
    /// Share of the barrels delivered by a vessel listed only after the day of discharge.
    pub sanctioned_later_share: f64,
    /// Share of the barrels delivered by a vessel on a sanctions list that gives no listing
    /// date.
    pub sanctioned_undated_share: f64,
    /// Low end of the interval, barrels.
    pub low_bbl: f64,
    /// High end of the interval, barrels.
    pub high_bbl: f64,
    /// Of `volume_bbl`, barrels whose origin was inferred (loaded before the data or while
    /// dark), counted at their probability.
    pub inferred_bbl: f64,
    /// Of `volume_bbl`, barrels seen loaded but with a link not confirmed (a possible load, a
    /// dark STS, a discharge without a draught fall).
    pub unconfirmed_bbl: f64,
    /// Barrels in `high_bbl` only: cargoes of unknown origin that may be of it, at the high
    /// end.
    pub unknown_bbl: f64,
    /// What makes the interval as wide as it is, the largest first: `volume model`,
    /// `inferred origins`, `unconfirmed links`, `unknown origins` (`;`-separated, each with
    /// its share of the width).
    pub interval_drivers: String,
    /// Value at the month's price, USD.
    pub value_usd: f64,
    /// Price used, USD per barrel.
    pub price_usd_per_bbl: f64,
}

/// Whether `s` is a month `YYYY-MM`.
pub fn is_month(s: &str) -> bool {
    s.len() == 7
        && s.as_bytes().get(4) == Some(&b'-')
        && s[..4].parse::<u32>().is_ok()
        && s[5..].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
}

/// `YYYY-MM` of a unix time.
pub fn month_of(t: i64) -> String {
    let days = t.div_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}")
}

/// What the exposure needs to know of a vessel, from the risk model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VesselView {
    /// The vessel counts as shadow (`shadow_share`).
    pub shadow: bool,
    /// A cargo of unknown origin aboard it may be of the asked origin (it counts in
    /// `high_bbl`); false for vessels whose risk is too low to carry such a trade.
    pub may_carry: bool,
    /// On a sanctions list loaded.
    pub sanctioned: bool,
    /// The earliest listing day of its sanctions entries (unix seconds of 00:00 UTC), when
    /// the lists give one.
    pub sanctioned_on: Option<i64>,
}

/// The exposure table, by country then month, for months within `[from, to]` (inclusive,
/// `YYYY-MM`, either open). `vessel` says what the risk model thinks of a vessel.
pub fn exposure(
    traced: &Traced,
    config: &ExposureConfig,
    from: Option<&str>,
    to: Option<&str>,
    vessel: &dyn Fn(VesselKey) -> VesselView,
) -> Vec<ExposureRow> {
    #[derive(Default)]
    struct Acc {
        n: u32,
        bbl: f64,
        t: f64,
        sts: f64,
        shadow: f64,
        // Sanctioned at discharge, only later, undated.
        sanctioned: [f64; 3],
        low: f64,
        high: f64,
        inferred: f64,
        unconfirmed: f64,
        unknown: f64,
        // The interval's width by cause: volume model, inferred origins, unconfirmed
        // links, unknown origins.
        width: [f64; 4],
    }
    let mut acc: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for f in &traced.flows {
        let (Some(d), Some(c)) = (&f.discharge, traced.cargoes.get(f.cargo)) else {
            continue;
        };
        let month = month_of(d.t);
        if from.is_some_and(|m| month.as_str() < m) || to.is_some_and(|m| month.as_str() > m) {
            continue;
        }
        // Probability that the oil is of an asked origin: 1 or 0 when the loading was seen,
        // the tracer's estimate when it was inferred.
        let p: f64 = c.origin.as_ref().map_or(0.0, |o| {
            config
                .origins
                .iter()
                .map(|x| o.probability_of(x))
                .sum::<f64>()
                .min(1.0)
        });
        let counted = p > 0.0;
        // The point estimate's share of the flow.
        let w = match (c.origin.as_ref(), config.inferred) {
            (Some(o), InferredCount::Likely) if o.inferred => f64::from(u8::from(p >= 0.5)),
            _ => p,
        };
        // Possibly of the origin: an estimate gives it a chance, or the loading was not seen
        // and the vessel is not ruled out by the risk model.
        let unseen = c.origin.as_ref().is_none_or(|o| o.inferred);
        let possible = counted || (unseen && vessel(c.vessel).may_carry);
        if !possible {
            continue;
        }
        let v = f.volume(c);
        let a = acc.entry((d.country.clone(), month)).or_default();
        let high = v.barrels * (1.0 + v.spread);
        a.high += high;
        if !counted {
            a.unknown += high;
            a.width[3] += high;
            continue;
        }
        let seen = c.origin.as_ref().is_some_and(|o| !o.inferred);
        let confirmed = seen
            && d.by_draught
            && f.chain
                .iter()
                .all(|h| matches!(h.kind, HopKind::Load | HopKind::Sts));
        if confirmed {
            a.low += v.barrels * (1.0 - v.spread).max(0.0);
            a.width[0] += 2.0 * v.barrels * v.spread;
        } else if seen {
            a.unconfirmed += v.barrels;
            a.width[0] += v.barrels * v.spread;
            a.width[2] += v.barrels;
        } else {
            a.inferred += v.barrels * w;
            a.width[1] += high;
        }
        a.n += u32::from(w > 0.0);
        a.bbl += v.barrels * w;
        a.t += v.tonnes * w;
        if f.sts_hops() > 0 {
            a.sts += v.barrels * w;
        }
        if let Some(last) = f.chain.last() {
            let view = vessel(last.vessel);
            if view.shadow {
                a.shadow += v.barrels * w;
            }
            if view.sanctioned {
                let i = match view.sanctioned_on {
                    Some(day) if day <= d.t => 0,
                    Some(_) => 1,
                    None => 2,
                };
                a.sanctioned[i] += v.barrels * w;
            }
        }
    }
    acc.into_iter()
        .filter(|(_, a)| a.n > 0 || a.high > 0.0)
        .map(|((country, month), a)| {
            let price = config
                .prices_usd
                .get(&month)
                .copied()
                .unwrap_or(config.default_price_usd);
            let share = |x: f64| if a.bbl > 0.0 { x / a.bbl } else { 0.0 };
            let total: f64 = a.width.iter().sum();
            let mut drivers: Vec<(f64, &str)> = a
                .width
                .iter()
                .zip([
                    "volume model",
                    "inferred origins",
                    "unconfirmed links",
                    "unknown origins",
                ])
                .filter(|(w, _)| **w > 0.0)
                .map(|(w, n)| (*w, n))
                .collect();
            drivers.sort_by(|x, y| y.0.total_cmp(&x.0));
            let interval_drivers = drivers
                .iter()
                .map(|(w, n)| format!("{n} {:.0} %", 100.0 * w / total))
                .collect::<Vec<_>>()
                .join("; ");
            ExposureRow {
                via_sts_share: share(a.sts),
                shadow_share: share(a.shadow),
                sanctioned_then_share: share(a.sanctioned[0]),
                sanctioned_later_share: share(a.sanctioned[1]),
                sanctioned_undated_share: share(a.sanctioned[2]),
                value_usd: a.bbl * price,
                price_usd_per_bbl: price,
                country,
                month,
                cargoes: a.n,
                volume_bbl: a.bbl,
                volume_t: a.t,
                low_bbl: a.low,
                high_bbl: a.high,
                inferred_bbl: a.inferred,
                unconfirmed_bbl: a.unconfirmed,
                unknown_bbl: a.unknown,
                interval_drivers,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::month_of;

    #[test]
    fn months() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_767_571_200), "2026-01"); // 2026-01-05
        assert_eq!(month_of(1_772_323_199), "2026-02"); // 2026-02-28T23:59:59
        assert_eq!(month_of(1_772_323_200), "2026-03");
    }
}
