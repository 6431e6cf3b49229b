//! Per-vessel risk scores, 0–100, from named, weighted indicators, each with the events (or
//! list entries) behind it. Indicators combine as independent pieces of evidence
//! ("noisy-or"): score = 100 × (1 − Π (1 − weight × strength / 100)), so one strong
//! indicator (a sanctions listing) is enough for a high score, several weak ones add up, and
//! no sum exceeds 100. Weights and thresholds: [`RiskConfig`], reasoning in `docs/risk.md`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use shadowfleet_events::{Event, EventKind};
use shadowfleet_identities::Identity;
use shadowfleet_refdata::ListKind;
use shadowfleet_voyages::{Traced, VesselKey};

use crate::screening::ScreenMatch;

/// Indicator weights (points when fully present) and thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Weights by indicator name (see [`INDICATORS`]).
    pub weights: BTreeMap<String, f64>,
    /// Flags of convenience and registries used by the shadow fleet (ISO alpha-2).
    pub flags_of_convenience: Vec<String>,
    /// Age at which the `age` indicator starts, years.
    pub age_from_years: f64,
    /// Age at which it is full, years.
    pub age_full_years: f64,
    /// Voyages looked at for `russian_cargo_only` (CREA: the last 5).
    pub last_voyages: usize,
    /// Origin country whose trade `russian_cargo_only` looks for.
    pub origin: String,
    /// Score from which a vessel counts as shadow (exposure's `shadow_share`).
    pub shadow_threshold: f64,
    /// Score from which a cargo of unknown origin aboard the vessel is assumed to be of
    /// `origin` (marked inferred; the exposure's low bound leaves it out).
    pub infer_origin_threshold: f64,
    /// Score below which a cargo of unknown origin aboard the vessel is not counted as
    /// possibly of `origin` (not even in the exposure's high bound).
    pub possible_origin_threshold: f64,
    /// Lowest screening score that counts as listed.
    pub list_threshold: f64,
    /// The price-cap coalition ("G7+": G7, EU, Australia, New Zealand, Norway): a vessel
    /// flagged, owned or insured there is not "shadow" under CREA's rule, whatever it
    /// carries.
    pub g7_plus: Vec<String>,
}

/// Every indicator, with the default weight.
pub const INDICATORS: [(&str, f64); 13] = [
    ("sanctioned", 70.0),
    ("watch_listed", 50.0),
    ("dark_near_terminal_or_sts", 30.0),
    ("dark_at_sea", 25.0),
    ("sts_transfers", 20.0),
    ("sts_with_listed_vessel", 35.0),
    ("spoofing", 35.0),
    ("identity_changes", 20.0),
    ("invalid_identity", 35.0),
    ("flag_of_convenience", 15.0),
    ("flag_of_origin_state", 25.0),
    ("age", 25.0),
    ("russian_cargo_only", 35.0),
];

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            weights: INDICATORS
                .iter()
                .map(|(n, w)| ((*n).to_owned(), *w))
                .collect(),
            // Paris MoU grey/black-listed flags and the open registries where the shadow fleet
            // re-flagged after 2022 (Kpler, S&P Global, Lloyd's List reporting).
            flags_of_convenience: [
                "GA", "CM", "KM", "SL", "CK", "PW", "BB", "TG", "GQ", "GM", "GW", "ST", "VU", "MN",
                "TZ", "BZ", "KN", "SZ", "BJ", "HN", "MW", "AW",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            age_from_years: 15.0,
            age_full_years: 20.0,
            last_voyages: 5,
            origin: "RU".into(),
            shadow_threshold: 50.0,
            infer_origin_threshold: 30.0,
            possible_origin_threshold: 10.0,
            list_threshold: 0.7,
            g7_plus: [
                "US", "GB", "CA", "FR", "DE", "IT", "JP", "AT", "BE", "BG", "HR", "CY", "CZ", "DK",
                "EE", "FI", "GR", "HU", "IE", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK",
                "SI", "ES", "SE", "AU", "NZ", "NO",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        }
    }
}

/// One indicator of one vessel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// Name (see [`INDICATORS`]).
    pub name: &'static str,
    /// Weight, points.
    pub weight: f64,
    /// How strongly it is present, 0–1.
    pub strength: f64,
    /// What it found, in words.
    pub detail: String,
    /// Event ids behind it.
    pub events: Vec<i64>,
}

/// A vessel's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VesselRisk {
    /// The vessel.
    pub vessel: VesselKey,
    /// MMSIs seen for it.
    pub mmsis: Vec<u32>,
    /// Names seen for it, oldest first.
    pub names: Vec<String>,
    /// Score, 0–100.
    pub score: f64,
    /// Indicators present (strength > 0), strongest contribution first.
    pub indicators: Vec<Indicator>,
}

/// What the scorer needs besides events.
pub struct RiskInputs<'a> {
    /// Identity periods.
    pub identities: &'a [Identity],
    /// Events with their ids.
    pub events: &'a [(i64, &'a Event)],
    /// Traced cargo flows.
    pub traced: &'a Traced,
    /// Screening matches.
    pub matches: &'a [ScreenMatch],
    /// Year built, from particulars, by IMO.
    pub build_year: &'a dyn Fn(u32) -> Option<u32>,
    /// Owner's and insurer's countries, from particulars, by IMO (where given).
    pub ownership: &'a dyn Fn(u32) -> (Option<String>, Option<String>),
    /// Year of the data (for ages).
    pub year: i32,
}

/// Scores every tanker seen (AIS ship type 80–89), highest first.
pub fn score(inputs: &RiskInputs, config: &RiskConfig) -> Vec<VesselRisk> {
    let keys = shadowfleet_voyages::vessel_keys(inputs.identities, inputs.events);
    let zombies = shadowfleet_voyages::zombie_mmsis(inputs.events);
    let key_of = |mmsi: u32, imo: Option<u32>| {
        if zombies.contains(&mmsi) {
            return VesselKey::Mmsi(mmsi);
        }
        imo.map(VesselKey::Imo)
            .or_else(|| keys.get(&mmsi).copied())
            .unwrap_or(VesselKey::Mmsi(mmsi))
    };
    struct Acc<'i> {
        mmsis: Vec<u32>,
        ids: Vec<&'i Identity>,
        tanker: bool,
    }
    let mut vessels: BTreeMap<VesselKey, Acc> = BTreeMap::new();
    for i in inputs.identities {
        let k = key_of(i.mmsi, i.imo);
        let a = vessels.entry(k).or_insert_with(|| Acc {
            mmsis: Vec::new(),
            ids: Vec::new(),
            tanker: false,
        });
        if !a.mmsis.contains(&i.mmsi) {
            a.mmsis.push(i.mmsi);
        }
        a.tanker |= i.is_tanker();
        a.ids.push(i);
    }
    // Listed vessels, by key, with their strongest match per list kind.
    let mut listed: HashMap<(VesselKey, ListKind), &ScreenMatch> = HashMap::new();
    for m in inputs
        .matches
        .iter()
        .filter(|m| m.score >= config.list_threshold)
    {
        let k = key_of(m.mmsi, m.imo);
        let e = listed.entry((k, m.list_kind)).or_insert(m);
        if m.score > e.score {
            *e = m;
        }
    }
    let is_listed = |k: VesselKey| {
        listed.contains_key(&(k, ListKind::Sanctions))
            || listed.contains_key(&(k, ListKind::WatchList))
    };
    // Events by vessel (both sides of encounters).
    // (event id, event, the other vessel of an encounter)
    type Seen<'e> = (i64, &'e Event, Option<VesselKey>);
    let mut events: HashMap<VesselKey, Vec<Seen>> = HashMap::new();
    for &(id, e) in inputs.events {
        let k = key_of(e.mmsi, e.imo);
        let other = e.other_mmsi.map(|o| {
            key_of(
                o,
                e.details
                    .get("other_imo")
                    .and_then(Value::as_u64)
                    .map(|x| x as u32),
            )
        });
        events.entry(k).or_default().push((id, e, other));
        if e.kind == EventKind::Encounter {
            if let Some(o) = other {
                events.entry(o).or_default().push((id, e, Some(k)));
            }
        }
    }
    // Cargo origins by vessel, in time order.
    // (time aboard, origin country when seen, evidence)
    type Voyage<'t> = (i64, Option<&'t str>, Vec<i64>);
    let mut voyages: HashMap<VesselKey, Vec<Voyage>> = HashMap::new();
    for f in &inputs.traced.flows {
        let Some(c) = inputs.traced.cargoes.get(f.cargo) else {
            continue;
        };
        let origin = c
            .origin
            .as_ref()
            .filter(|o| !o.inferred)
            .map(|o| o.country.as_str());
        for h in &f.chain {
            let v = voyages.entry(h.vessel).or_default();
            if !v.iter().any(|x| x.0 == h.t) {
                v.push((h.t, origin, f.evidence(c)));
            }
        }
    }
    let w = |n: &str| config.weights.get(n).copied().unwrap_or(0.0);
    let mut out = Vec::new();
    for (k, a) in &vessels {
        if !a.tanker {
            continue;
        }
        let mut ind: Vec<Indicator> = Vec::new();
        let mut push = |name: &'static str, strength: f64, detail: String, evs: Vec<i64>| {
            if strength > 0.0 {
                ind.push(Indicator {
                    name,
                    weight: w(name),
                    strength: strength.clamp(0.0, 1.0),
                    detail,
                    events: evs,
                });
            }
        };
        for (kind, name) in [
            (ListKind::Sanctions, "sanctioned"),
            (ListKind::WatchList, "watch_listed"),
        ] {
            if let Some(m) = listed.get(&(*k, kind)) {
                push(
                    name,
                    m.score,
                    format!(
                        "{} entry {} ({}): {}",
                        m.list, m.entry, m.entry_name, m.explanation
                    ),
                    Vec::new(),
                );
            }
        }
        let evs = events.get(k).map(Vec::as_slice).unwrap_or(&[]);
        let ids = |f: &dyn Fn(&Event, Option<VesselKey>) -> bool| -> Vec<i64> {
            evs.iter()
                .filter(|(_, e, o)| f(e, *o))
                .map(|(i, _, _)| *i)
                .collect()
        };
        let count_strength = |n: usize| (n as f64 / 2.0).min(1.0);
        let near_kind = |e: &Event| {
            e.details
                .get("near")
                .and_then(|n| n.get("kind"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let dark_near = ids(&|e, _| {
            (e.kind == EventKind::Gap
                && matches!(near_kind(e).as_deref(), Some("terminal" | "sts_area")))
                || (e.kind == EventKind::Loitering
                    && e.details.get("possible_dark_sts").and_then(Value::as_bool) == Some(true))
        });
        push(
            "dark_near_terminal_or_sts",
            count_strength(dark_near.len()),
            format!(
                "{} dark periods or possible dark STS near terminals or STS areas",
                dark_near.len()
            ),
            dark_near,
        );
        let dark_sea = ids(&|e, _| {
            e.kind == EventKind::Gap
                && (e.details.get("intentional").and_then(Value::as_bool) == Some(true)
                    || e.details.get("likely_dark").and_then(Value::as_bool) == Some(true))
                && (e.end - e.start) >= 12 * 3600
        });
        push(
            "dark_at_sea",
            count_strength(dark_sea.len()),
            format!(
                "{} likely intentional AIS gaps of 12 h or more",
                dark_sea.len()
            ),
            dark_sea,
        );
        let sts = ids(&|e, _| {
            e.kind == EventKind::Encounter
                && (e.details.get("sts_confirmed").and_then(Value::as_bool) == Some(true)
                    || e.details.get("sts_area").is_some_and(|a| !a.is_null()))
        });
        push(
            "sts_transfers",
            count_strength(sts.len()),
            format!(
                "{} ship-to-ship transfers or encounters in STS areas",
                sts.len()
            ),
            sts,
        );
        let sts_listed = ids(&|e, o| e.kind == EventKind::Encounter && o.is_some_and(&is_listed));
        push(
            "sts_with_listed_vessel",
            if sts_listed.is_empty() { 0.0 } else { 1.0 },
            format!("{} encounters with a listed vessel", sts_listed.len()),
            sts_listed,
        );
        let spoof = ids(&|e, _| e.kind == EventKind::Spoofing);
        push(
            "spoofing",
            count_strength(spoof.len() * 2),
            format!("{} spoofing episodes", spoof.len()),
            spoof,
        );
        let change = |e: &Event| {
            e.details
                .get("change")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let changes = ids(&|e, _| {
            e.kind == EventKind::IdentityChange
                && matches!(
                    change(e).as_str(),
                    "rename" | "reflag" | "mmsi_change" | "imo_change"
                )
        });
        let mut flags: Vec<&str> = a.ids.iter().filter_map(|i| i.flag.as_deref()).collect();
        flags.sort_unstable();
        flags.dedup();
        let hop = if flags.len() >= 2 { 1.0 } else { 0.0 };
        push(
            "identity_changes",
            count_strength(changes.len()).max(hop),
            format!(
                "{} renames, reflaggings or MMSI changes; flags seen: {}",
                changes.len(),
                flags.join(", ")
            ),
            changes,
        );
        let invalid = ids(&|e, _| {
            e.kind == EventKind::IdentityChange
                && matches!(
                    change(e).as_str(),
                    "invalid_mid"
                        | "invalid_imo"
                        | "imo_check_digit"
                        | "zombie_imo"
                        | "shared_mmsi"
                        | "two_places"
                        | "invalid_mmsi"
                )
        });
        let unallocated = a.ids.iter().any(|i| i.flag.is_none());
        push(
            "invalid_identity",
            if invalid.is_empty() && !unallocated {
                0.0
            } else {
                1.0
            },
            format!(
                "{} invalid identities (unallocated MID, bad IMO, zombie, shared MMSI){}",
                invalid.len(),
                if unallocated {
                    "; an MMSI with an unallocated MID"
                } else {
                    ""
                }
            ),
            invalid,
        );
        let current_flag = a
            .ids
            .iter()
            .max_by_key(|i| i.last_seen)
            .and_then(|i| i.flag.clone());
        if let Some(f) = current_flag
            .as_ref()
            .filter(|f| config.flags_of_convenience.contains(f))
        {
            push("flag_of_convenience", 1.0, format!("flag {f}"), Vec::new());
        }
        if let Some(f) = current_flag.as_ref().filter(|f| **f == config.origin) {
            push(
                "flag_of_origin_state",
                1.0,
                format!("flag {f}: the origin state's own registry"),
                Vec::new(),
            );
        }
        if let VesselKey::Imo(imo) = k {
            if let Some(y) = (inputs.build_year)(*imo) {
                let age = f64::from(inputs.year) - f64::from(y);
                let s = (age - config.age_from_years + 1.0)
                    / (config.age_full_years - config.age_from_years + 1.0);
                push(
                    "age",
                    s.clamp(0.0, 1.0),
                    format!("built {y}, {age:.0} years old"),
                    Vec::new(),
                );
            }
        }
        if let Some(v) = voyages.get(k) {
            let mut v: Vec<&Voyage> = v.iter().collect();
            v.sort_by_key(|x| std::cmp::Reverse(x.0));
            let last: Vec<_> = v.into_iter().take(config.last_voyages).collect();
            let known: Vec<_> = last.iter().filter(|x| x.1.is_some()).collect();
            // CREA's rule: no G7+ owner, insurer or flag, where known.
            let (owner, insurer) = match k {
                VesselKey::Imo(i) => (inputs.ownership)(*i),
                VesselKey::Mmsi(_) => (None, None),
            };
            let g7 = [current_flag.as_ref(), owner.as_ref(), insurer.as_ref()]
                .into_iter()
                .flatten()
                .any(|c| config.g7_plus.contains(c));
            if !g7 && !known.is_empty() && known.iter().all(|x| x.1 == Some(config.origin.as_str()))
            {
                let evs: Vec<i64> = known.iter().flat_map(|x| x.2.iter().copied()).collect();
                push(
                    "russian_cargo_only",
                    (0.4 + 0.3 * known.len() as f64).min(1.0),
                    format!(
                        "its last {} cargoes with a known origin all came from {}",
                        known.len(),
                        config.origin
                    ),
                    evs,
                );
            }
        }
        let keep: f64 = ind
            .iter()
            .map(|i| 1.0 - i.weight * i.strength / 100.0)
            .product();
        let score = ((1.0 - keep) * 1000.0).round() / 10.0;
        ind.sort_by(|a, b| (b.weight * b.strength).total_cmp(&(a.weight * a.strength)));
        let mut names: Vec<String> = Vec::new();
        let mut sorted = a.ids.clone();
        sorted.sort_by_key(|i| i.first_seen);
        for i in sorted {
            if !i.name.is_empty() && !names.contains(&i.name) {
                names.push(i.name.clone());
            }
        }
        out.push(VesselRisk {
            vessel: *k,
            mmsis: a.mmsis.clone(),
            names,
            score,
            indicators: ind,
        });
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.vessel.cmp(&b.vessel)));
    out
}

/// Area under the ROC curve of `scores` against `labels` (Mann-Whitney U; ties count half).
pub fn roc_auc(scored: &[(f64, bool)]) -> f64 {
    let pos: Vec<f64> = scored.iter().filter(|x| x.1).map(|x| x.0).collect();
    let neg: Vec<f64> = scored.iter().filter(|x| !x.1).map(|x| x.0).collect();
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let mut u = 0.0;
    for p in &pos {
        for n in &neg {
            u += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    u / (pos.len() * neg.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::roc_auc;

    #[test]
    fn auc() {
        assert_eq!(roc_auc(&[(1.0, true), (0.0, false)]), 1.0);
        assert_eq!(roc_auc(&[(0.0, true), (1.0, false)]), 0.0);
        assert_eq!(roc_auc(&[(1.0, true), (1.0, false)]), 0.5);
    }
}
