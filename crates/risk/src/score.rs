//! Per-vessel risk scores, 0–100, from named, weighted indicators, each with the events (or
//! list entries) behind it. Indicators combine as independent pieces of evidence
//! ("noisy-or"): score = 100 × (1 − Π (1 − weight × strength / 100)), so one strong
//! indicator (a sanctions listing) is enough for a high score, several weak ones add up, and
//! no sum exceeds 100. Weights and thresholds: [`RiskConfig`], reasoning in `docs/risk.md`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use shadowfleet_records::{ChangeKind, Event, EventDetails, EventKind, IdentityPeriod, PlaceKind};
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

/// One indicator: its name, its default weight (points when fully present) and how it is
/// measured on a vessel.
pub struct IndicatorDef {
    /// Name, as in [`RiskConfig::weights`] and `docs/risk.md`.
    pub name: &'static str,
    /// Default weight, points.
    pub weight: f64,
    measure: Measure,
}

/// How strongly an indicator is present on a vessel, what it found in words, and the event
/// ids behind it; `None` when absent.
type Measure = fn(&Facts<'_>, &RiskConfig) -> Option<Found>;

struct Found {
    strength: f64,
    detail: String,
    events: Vec<i64>,
}

/// Every indicator, with its default weight, in the order they are measured.
pub const INDICATORS: [IndicatorDef; 13] = [
    IndicatorDef {
        name: "sanctioned",
        weight: 70.0,
        measure: sanctioned,
    },
    IndicatorDef {
        name: "watch_listed",
        weight: 50.0,
        measure: watch_listed,
    },
    IndicatorDef {
        name: "dark_near_terminal_or_sts",
        weight: 30.0,
        measure: dark_near_terminal_or_sts,
    },
    IndicatorDef {
        name: "dark_at_sea",
        weight: 25.0,
        measure: dark_at_sea,
    },
    IndicatorDef {
        name: "sts_transfers",
        weight: 20.0,
        measure: sts_transfers,
    },
    IndicatorDef {
        name: "sts_with_listed_vessel",
        weight: 35.0,
        measure: sts_with_listed_vessel,
    },
    IndicatorDef {
        name: "spoofing",
        weight: 35.0,
        measure: spoofing,
    },
    IndicatorDef {
        name: "identity_changes",
        weight: 20.0,
        measure: identity_changes,
    },
    IndicatorDef {
        name: "invalid_identity",
        weight: 35.0,
        measure: invalid_identity,
    },
    IndicatorDef {
        name: "flag_of_convenience",
        weight: 15.0,
        measure: flag_of_convenience,
    },
    IndicatorDef {
        name: "flag_of_origin_state",
        weight: 25.0,
        measure: flag_of_origin_state,
    },
    IndicatorDef {
        name: "age",
        weight: 25.0,
        measure: age,
    },
    IndicatorDef {
        name: "russian_cargo_only",
        weight: 35.0,
        measure: russian_cargo_only,
    },
];

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            weights: INDICATORS
                .iter()
                .map(|i| (i.name.to_owned(), i.weight))
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
    pub identities: &'a [IdentityPeriod],
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
        ids: Vec<&'i IdentityPeriod>,
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
    // Events by vessel (both sides of encounters).
    let mut events: HashMap<VesselKey, Vec<Seen>> = HashMap::new();
    for &(id, e) in inputs.events {
        let k = key_of(e.mmsi, e.imo);
        let other_imo = match &e.details {
            EventDetails::Encounter(d) => d.other_imo,
            _ => None,
        };
        let other = e.other_mmsi.map(|o| key_of(o, other_imo));
        events.entry(k).or_default().push((id, e, other));
        if e.kind() == EventKind::Encounter {
            if let Some(o) = other {
                events.entry(o).or_default().push((id, e, Some(k)));
            }
        }
    }
    // Cargo origins by vessel, in time order.
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
        let facts = Facts {
            key: *k,
            ids: &a.ids,
            events: events.get(k).map(Vec::as_slice).unwrap_or(&[]),
            listed: &listed,
            voyages: voyages.get(k).map(Vec::as_slice).unwrap_or(&[]),
            current_flag: a
                .ids
                .iter()
                .max_by_key(|i| i.last_seen)
                .and_then(|i| i.flag.as_deref()),
            inputs,
        };
        let mut ind: Vec<Indicator> = INDICATORS
            .iter()
            .filter_map(|def| {
                let f = (def.measure)(&facts, config).filter(|f| f.strength > 0.0)?;
                Some(Indicator {
                    name: def.name,
                    weight: w(def.name),
                    strength: f.strength.clamp(0.0, 1.0),
                    detail: f.detail,
                    events: f.events,
                })
            })
            .collect();
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

/// (event id, event, the other vessel of an encounter)
type Seen<'e> = (i64, &'e Event, Option<VesselKey>);
/// (time aboard, origin country when seen, evidence)
type Voyage<'t> = (i64, Option<&'t str>, Vec<i64>);

/// What the indicators of one vessel look at.
struct Facts<'a> {
    key: VesselKey,
    ids: &'a [&'a IdentityPeriod],
    events: &'a [Seen<'a>],
    listed: &'a HashMap<(VesselKey, ListKind), &'a ScreenMatch>,
    voyages: &'a [Voyage<'a>],
    current_flag: Option<&'a str>,
    inputs: &'a RiskInputs<'a>,
}

impl Facts<'_> {
    /// Ids of the vessel's events that `f` picks (given the other vessel of an encounter).
    fn ids(&self, f: &dyn Fn(&Event, Option<VesselKey>) -> bool) -> Vec<i64> {
        self.events
            .iter()
            .filter(|(_, e, o)| f(e, *o))
            .map(|(i, _, _)| *i)
            .collect()
    }

    fn is_listed(&self, k: VesselKey) -> bool {
        self.listed.contains_key(&(k, ListKind::Sanctions))
            || self.listed.contains_key(&(k, ListKind::WatchList))
    }
}

/// Two events make an indicator of events full.
fn count_strength(n: usize) -> f64 {
    (n as f64 / 2.0).min(1.0)
}

fn listing(f: &Facts<'_>, kind: ListKind) -> Option<Found> {
    let m = f.listed.get(&(f.key, kind))?;
    // When it was listed against when the data saw it: listed before its first sighting, or
    // only later (a finding about behaviour before the listing is not "a listed ship did it").
    let first_seen = f.ids.iter().map(|i| i.first_seen).min();
    let when = match (&m.listed_on, first_seen) {
        (None, _) => "; listing date not given by the list".to_owned(),
        (Some(l), Some(t)) => {
            let seen = shadowfleet_model::Timestamp::from_unix_seconds(t).to_string();
            let day = seen.get(..10).unwrap_or("");
            if l.as_str() <= day {
                format!("; listed {l}, before the data first saw it ({day})")
            } else {
                format!("; listed {l}, only after the data first saw it ({day})")
            }
        }
        (Some(l), None) => format!("; listed {l}"),
    };
    Some(Found {
        strength: m.score,
        detail: format!(
            "{} entry {} ({}): {}{when}",
            m.list, m.entry, m.entry_name, m.explanation
        ),
        events: Vec::new(),
    })
}

/// On a sanctions list (the strongest match).
fn sanctioned(f: &Facts<'_>, _: &RiskConfig) -> Option<Found> {
    listing(f, ListKind::Sanctions)
}

/// On a watch list (the strongest match).
fn watch_listed(f: &Facts<'_>, _: &RiskConfig) -> Option<Found> {
    listing(f, ListKind::WatchList)
}

/// Gaps beginning or ending near a terminal or STS area, and possible dark STS.
fn dark_near_terminal_or_sts(f: &Facts<'_>, _: &RiskConfig) -> Option<Found> {
    let evs = f.ids(&|e, _| match &e.details {
        EventDetails::Gap(g) => g
            .near
            .as_ref()
            .is_some_and(|n| matches!(n.kind, PlaceKind::Terminal | PlaceKind::StsArea)),
        EventDetails::Loitering(l) => l.possible_dark_sts,
        _ => false,
    });
    Some(Found {
        strength: count_strength(evs.len()),
        detail: format!(
            "{} dark periods or possible dark STS near terminals or STS areas",
            evs.len()
        ),
        events: evs,
    })
}

/// Likely intentional gaps of 12 h or more.
fn dark_at_sea(f: &Facts<'_>, _: &RiskConfig) -> Option<Found> {
    let evs = f.ids(&|e, _| match &e.details {
        EventDetails::Gap(g) => (g.intentional || g.likely_dark) && (e.end - e.start) >= 12 * 3600,
        _ => false,
    });
    Some(Found {
        strength: count_strength(evs.len()),
        detail: format!("{} likely intentional AIS gaps of 12 h or more", evs.len()),
        events: evs,
    })
}

/// Transfers confirmed by draught, and encounters in STS areas.
fn sts_transfers(f: &Facts<'_>, _: &RiskConfig) -> Option<Found> {
    let evs = f.ids(&|e, _| match &e.details {
        EventDetails::Encounter(x) => x.sts_confirmed || x.sts_area.is_some(),
        _ => false,
    });
    Some(Found {
        strength: count_strength(evs.len()),
        detail: format!(
            "{} ship-to-ship transfers or encounters in STS areas",
            evs.len()
        ),
        events: evs,
    })
}

/// Encounters with a vessel on a sanctions or watch list.
fn sts_with_listed_vessel(f: &Facts<'_>, _: &RiskConfig) -> Option<Found> {
    let evs = f.ids(&|e, o| e.kind() == EventKind::Encounter && o.is_some_and(|o| f.is_listed(o)));
    Some(Found {
        strength: if evs.is_empty() { 0.0 } else { 1.0 },
        detail: format!("{} encounters with a listed vessel", evs.len()),
        events: evs,
    })
}

/// Spoofing episodes (one is full strength); those put down to an area's interference are
/// the area's, not the vessel's, and do not count.
fn spoofing(f: &Facts<'_>, _: &RiskConfig) -> Option<Found> {
    let evs = f.ids(&|e, _| matches!(&e.details, EventDetails::Spoofing(s) if !s.interference));
    Some(Found {
        strength: count_strength(evs.len() * 2),
        detail: format!("{} spoofing episodes", evs.len()),
        events: evs,
    })
}

fn identity_change(e: &Event) -> Option<ChangeKind> {
    match &e.details {
        EventDetails::IdentityChange(c) => Some(c.change),
        _ => None,
    }
}

/// Renames, reflaggings, MMSI and IMO changes; full when two flags were seen.
fn identity_changes(f: &Facts<'_>, _: &RiskConfig) -> Option<Found> {
    let evs = f.ids(&|e, _| {
        matches!(
            identity_change(e),
            Some(
                ChangeKind::Rename
                    | ChangeKind::Reflag
                    | ChangeKind::MmsiChange
                    | ChangeKind::ImoChange
            )
        )
    });
    let mut flags: Vec<&str> = f.ids.iter().filter_map(|i| i.flag.as_deref()).collect();
    flags.sort_unstable();
    flags.dedup();
    let hop = if flags.len() >= 2 { 1.0 } else { 0.0 };
    Some(Found {
        strength: count_strength(evs.len()).max(hop),
        detail: format!(
            "{} renames, reflaggings or MMSI changes; flags seen: {}",
            evs.len(),
            flags.join(", ")
        ),
        events: evs,
    })
}

/// Identities that cannot be valid: unallocated MID, bad IMO, zombie IMO, shared MMSI.
fn invalid_identity(f: &Facts<'_>, _: &RiskConfig) -> Option<Found> {
    let evs = f.ids(&|e, _| {
        matches!(
            identity_change(e),
            Some(
                ChangeKind::InvalidMid
                    | ChangeKind::InvalidImo
                    | ChangeKind::ZombieImo
                    | ChangeKind::SharedMmsi
            )
        )
    });
    let unallocated = f.ids.iter().any(|i| i.flag.is_none());
    Some(Found {
        strength: if evs.is_empty() && !unallocated {
            0.0
        } else {
            1.0
        },
        detail: format!(
            "{} invalid identities (unallocated MID, bad IMO, zombie, shared MMSI){}",
            evs.len(),
            if unallocated {
                "; an MMSI with an unallocated MID"
            } else {
                ""
            }
        ),
        events: evs,
    })
}

/// The current flag is a flag of convenience.
fn flag_of_convenience(f: &Facts<'_>, config: &RiskConfig) -> Option<Found> {
    let flag = f
        .current_flag
        .filter(|fl| config.flags_of_convenience.iter().any(|c| c == fl))?;
    Some(Found {
        strength: 1.0,
        detail: format!("flag {flag}"),
        events: Vec::new(),
    })
}

/// The current flag is the origin state's own.
fn flag_of_origin_state(f: &Facts<'_>, config: &RiskConfig) -> Option<Found> {
    let flag = f.current_flag.filter(|fl| *fl == config.origin)?;
    Some(Found {
        strength: 1.0,
        detail: format!("flag {flag}: the origin state's own registry"),
        events: Vec::new(),
    })
}

/// Age from the particulars' year built, rising from `age_from_years` to `age_full_years`.
fn age(f: &Facts<'_>, config: &RiskConfig) -> Option<Found> {
    let VesselKey::Imo(imo) = f.key else {
        return None;
    };
    let y = (f.inputs.build_year)(imo)?;
    let age = f64::from(f.inputs.year) - f64::from(y);
    let s =
        (age - config.age_from_years + 1.0) / (config.age_full_years - config.age_from_years + 1.0);
    Some(Found {
        strength: s.clamp(0.0, 1.0),
        detail: format!("built {y}, {age:.0} years old"),
        events: Vec::new(),
    })
}

/// CREA's rule: the last cargoes with a known origin all came from the origin state, and no
/// G7+ flag, owner or insurer (where known).
fn russian_cargo_only(f: &Facts<'_>, config: &RiskConfig) -> Option<Found> {
    let mut v: Vec<&Voyage> = f.voyages.iter().collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.0));
    let last: Vec<_> = v.into_iter().take(config.last_voyages).collect();
    let known: Vec<_> = last.iter().filter(|x| x.1.is_some()).collect();
    let (owner, insurer) = match f.key {
        VesselKey::Imo(i) => (f.inputs.ownership)(i),
        VesselKey::Mmsi(_) => (None, None),
    };
    let g7 = [f.current_flag, owner.as_deref(), insurer.as_deref()]
        .into_iter()
        .flatten()
        .any(|c| config.g7_plus.iter().any(|g| g == c));
    if g7 || known.is_empty() || !known.iter().all(|x| x.1 == Some(config.origin.as_str())) {
        return None;
    }
    Some(Found {
        strength: (0.4 + 0.3 * known.len() as f64).min(1.0),
        detail: format!(
            "its last {} cargoes with a known origin all came from {}",
            known.len(),
            config.origin
        ),
        events: known.iter().flat_map(|x| x.2.iter().copied()).collect(),
    })
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
