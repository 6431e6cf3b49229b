//! Sanctions and watch-list screening of the vessels seen in AIS, in the spirit of
//! OpenSanctions' yente: each candidate pair gets a score in [0, 1] from the properties that
//! match, and every match says which list, which entry and why.
//!
//! | property | score | condition |
//! |---|---|---|
//! | `imo` | 1.0 | the broadcast IMO equals the listed one and passes its check digit |
//! | `imo_typo` | 0.85 | one digit differs, and name or MMSI agree (never alone) |
//! | `mmsi` | 0.75 | the MMSI is the listed current one |
//! | `mmsi_legacy` | 0.6 | the MMSI is a listed former one |
//! | `name` / `alias` | 0.6 × similarity | normalised names (Jaro-Winkler ≥ `name_threshold`) |
//! | `flag`, `tanker` | +0.1 each | support only: the flag or the tanker type agrees |
//!
//! Two valid IMO numbers that differ by more than one digit rule a pair out, whatever else
//! agrees: they are two ships (an MMSI can be shared, a name reused).
//!
//! Identifiers combine as the strongest one plus 0.1 per other agreeing property (capped at
//! 1); a match is reported at `threshold` (0.7) and above: a name alone needs support.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use shadowfleet_records::IdentityPeriod;
use shadowfleet_refdata::{ListKind, RefList};

/// Screening thresholds; see `docs/screening.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScreenConfig {
    /// Lowest score reported.
    pub threshold: f64,
    /// Lowest Jaro-Winkler similarity of normalised names that counts as a name match.
    pub name_threshold: f64,
}

impl Default for ScreenConfig {
    fn default() -> Self {
        ScreenConfig {
            threshold: 0.7,
            name_threshold: 0.92,
        }
    }
}

/// One match of a seen vessel identity against a list entry.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScreenMatch {
    /// MMSI of the identity seen.
    pub mmsi: u32,
    /// IMO it broadcast.
    pub imo: Option<u32>,
    /// Name it broadcast.
    pub name: String,
    /// List name.
    pub list: String,
    /// Sanctions or watch list.
    pub list_kind: ListKind,
    /// Entry id in the list.
    pub entry: String,
    /// Entry name.
    pub entry_name: String,
    /// Listed IMO.
    pub entry_imo: Option<u32>,
    /// Score in [0, 1].
    pub score: f64,
    /// Properties that matched (`imo`, `imo_typo`, `mmsi`, `mmsi_legacy`, `name`, `alias`, `flag`, `tanker`).
    pub matched: Vec<&'static str>,
    /// Why, in words.
    pub explanation: String,
    /// Day the entry was listed (`YYYY-MM-DD`), when the list gives it.
    pub listed_on: Option<String>,
}

/// Whether a list entry was in force on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListingState {
    /// Listed on or before the day.
    Listed,
    /// Listed only after the day.
    NotYetListed,
    /// The list gives no listing date.
    DateUnknown,
}

impl ListingState {
    /// The state of an entry listed on `listed_on` (`YYYY-MM-DD`) as of `day` (`YYYY-MM-DD`).
    pub fn as_of(listed_on: Option<&str>, day: &str) -> ListingState {
        match listed_on {
            None => ListingState::DateUnknown,
            Some(l) if l <= day => ListingState::Listed,
            Some(_) => ListingState::NotYetListed,
        }
    }

    /// The name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            ListingState::Listed => "listed",
            ListingState::NotYetListed => "not_yet_listed",
            ListingState::DateUnknown => "date_unknown",
        }
    }
}

/// Uppercase, ASCII letters and digits, single spaces; vessel prefixes (`MT`, `M/T`, `MV`)
/// dropped.
pub fn normalise_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_uppercase());
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    let out = out.trim_end();
    for p in ["M T ", "MT ", "M V ", "MV ", "TANKER "] {
        if let Some(rest) = out.strip_prefix(p) {
            return rest.to_owned();
        }
    }
    out.to_owned()
}

/// Whether two seven-digit IMO numbers differ in exactly one digit (a typo).
fn one_digit_apart(a: u32, b: u32) -> bool {
    let (mut a, mut b, mut diff) = (a, b, 0);
    for _ in 0..7 {
        if a % 10 != b % 10 {
            diff += 1;
        }
        a /= 10;
        b /= 10;
    }
    diff == 1
}

/// Country names lists use for common flags, to compare with the ISO codes of MIDs.
fn flag_code(s: &str) -> String {
    let l = s.trim().to_ascii_lowercase();
    let code = match l.as_str() {
        "panama" => "PA",
        "liberia" => "LR",
        "marshall islands" => "MH",
        "malta" => "MT",
        "russia" | "russian federation" => "RU",
        "cameroon" => "CM",
        "gabon" => "GA",
        "comoros" => "KM",
        "sierra leone" => "SL",
        "cook islands" => "CK",
        "palau" => "PW",
        "barbados" => "BB",
        "iran" => "IR",
        "china" | "people's republic of china" => "CN",
        "hong kong" => "HK",
        "greece" => "GR",
        "cyprus" => "CY",
        "bahamas" => "BS",
        "togo" => "TG",
        "vanuatu" => "VU",
        "equatorial guinea" => "GQ",
        "tanzania" => "TZ",
        "oman" => "OM",
        "united arab emirates" => "AE",
        "india" => "IN",
        "turkey" | "türkiye" => "TR",
        "singapore" => "SG",
        "saint kitts and nevis" => "KN",
        "antigua and barbuda" => "AG",
        "belize" => "BZ",
        "mongolia" => "MN",
        "gambia" => "GM",
        "guinea-bissau" => "GW",
        "sao tome and principe" => "ST",
        "eswatini" => "SZ",
        "benin" => "BJ",
        "norway" => "NO",
        _ => return s.trim().to_ascii_uppercase(),
    };
    code.to_owned()
}

/// Screens `identities` against `lists` (particulars lists are skipped).
pub fn screen(
    identities: &[IdentityPeriod],
    lists: &[RefList],
    config: &ScreenConfig,
) -> Vec<ScreenMatch> {
    // Indexes: IMO, MMSI, and name tokens (for blocking the fuzzy comparison).
    type Ref = (usize, usize);
    let mut by_imo: HashMap<u32, Vec<Ref>> = HashMap::new();
    let mut by_mmsi: HashMap<u32, Vec<Ref>> = HashMap::new();
    let mut by_token: HashMap<String, Vec<Ref>> = HashMap::new();
    let mut names: HashMap<Ref, Vec<(String, bool)>> = HashMap::new();
    for (li, l) in lists.iter().enumerate() {
        if l.kind == ListKind::Particulars {
            continue;
        }
        for (ei, e) in l.entries.iter().enumerate() {
            let r = (li, ei);
            if let Some(i) = e.imo {
                by_imo.entry(i).or_default().push(r);
                // Typos: every one-digit variant is indexed lazily below by scanning; keep the
                // IMO list for that.
            }
            for m in &e.mmsis {
                by_mmsi.entry(m.mmsi).or_default().push(r);
            }
            let mut ns = vec![(normalise_name(&e.name), false)];
            ns.extend(e.aliases.iter().map(|a| (normalise_name(a), true)));
            for (n, _) in &ns {
                for tok in n.split(' ').filter(|t| t.len() >= 3) {
                    let v = by_token.entry(tok.to_owned()).or_default();
                    if v.last() != Some(&r) {
                        v.push(r);
                    }
                }
            }
            names.insert(r, ns);
        }
    }
    let imos: Vec<u32> = by_imo.keys().copied().collect();
    let mut out = Vec::new();
    let mut seen: HashMap<(u32, Option<u32>, String, usize, usize), usize> = HashMap::new();
    for id in identities {
        let name = normalise_name(&id.name);
        let mut candidates: Vec<Ref> = Vec::new();
        if let Some(i) = id.imo {
            candidates.extend(by_imo.get(&i).into_iter().flatten());
            for other in imos.iter().filter(|o| one_digit_apart(**o, i)) {
                candidates.extend(by_imo.get(other).into_iter().flatten());
            }
        }
        candidates.extend(by_mmsi.get(&id.mmsi).into_iter().flatten());
        for tok in name.split(' ').filter(|t| t.len() >= 3) {
            candidates.extend(by_token.get(tok).into_iter().flatten());
        }
        candidates.sort_unstable();
        candidates.dedup();
        for r in candidates {
            let (Some(list), Some(ns)) = (lists.get(r.0), names.get(&r)) else {
                continue;
            };
            let Some(e) = list.entries.get(r.1) else {
                continue;
            };
            // Two valid IMO numbers that differ by more than a typo are two ships: an MMSI or
            // a name in common does not make them one (an MMSI can be shared or reassigned).
            if let (Some(a), Some(b)) = (id.imo, e.imo) {
                if a != b
                    && e.imo_valid
                    && shadowfleet_model::Imo::try_from(a).is_ok()
                    && !one_digit_apart(a, b)
                {
                    continue;
                }
            }
            // (property, score, why)
            let mut hits: Vec<(&'static str, f64, String)> = Vec::new();
            let imo_exact = matches!((id.imo, e.imo), (Some(a), Some(b)) if a == b && e.imo_valid);
            if let (true, Some(i)) = (imo_exact, id.imo) {
                hits.push(("imo", 1.0, format!("IMO {i} as listed")));
            }
            if let Some(m) = e.mmsis.iter().find(|m| m.mmsi == id.mmsi) {
                if m.current {
                    hits.push((
                        "mmsi",
                        0.75,
                        format!("MMSI {} is the listed current MMSI", id.mmsi),
                    ));
                } else {
                    hits.push((
                        "mmsi_legacy",
                        0.6,
                        format!("MMSI {} is a listed former MMSI", id.mmsi),
                    ));
                }
            }
            let best_name = ns
                .iter()
                .filter(|(n, _)| !n.is_empty() && !name.is_empty())
                .map(|(n, alias)| (strsim::jaro_winkler(n, &name), *alias, n))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let mut name_ok = false;
            if let Some((sim, alias, n)) = best_name {
                if sim >= config.name_threshold {
                    name_ok = true;
                    let p = if alias { "alias" } else { "name" };
                    let what = if alias {
                        "a listed former name or alias"
                    } else {
                        "the listed name"
                    };
                    hits.push((
                        p,
                        0.6 * sim,
                        format!("name {:?} ~ {what} {n:?} ({sim:.2})", id.name),
                    ));
                }
            }
            if let (Some(a), Some(b), false) = (id.imo, e.imo, imo_exact) {
                let mmsi_ok = hits.iter().any(|h| h.0 == "mmsi");
                if one_digit_apart(a, b) && (name_ok || mmsi_ok) {
                    hits.push((
                        "imo_typo",
                        0.85,
                        format!("IMO {a} is one digit from the listed {b}"),
                    ));
                }
            }
            if hits.is_empty() {
                continue;
            }
            if let (Some(f), Some(lf)) = (&id.flag, &e.flag) {
                if flag_code(lf) == *f {
                    hits.push(("flag", 0.1, format!("flag {f} as listed")));
                }
            }
            let listed_tanker = e
                .vessel_type
                .as_deref()
                .is_some_and(|t| t.to_ascii_lowercase().contains("tanker"));
            if id.is_tanker() && listed_tanker {
                hits.push(("tanker", 0.1, "a tanker, as listed".to_owned()));
            }
            let strongest = hits.iter().map(|h| h.1).fold(0.0, f64::max);
            let score = (strongest + 0.1 * (hits.len() - 1) as f64).min(1.0);
            if score < config.threshold {
                continue;
            }
            let matched: Vec<&'static str> = hits.iter().map(|h| h.0).collect();
            let why: Vec<String> = hits.into_iter().map(|h| h.2).collect();
            let key = (id.mmsi, id.imo, id.name.clone(), r.0, r.1);
            let m = ScreenMatch {
                mmsi: id.mmsi,
                imo: id.imo,
                name: id.name.clone(),
                list: list.name.clone(),
                list_kind: list.kind,
                entry: e.entry.clone(),
                entry_name: e.name.clone(),
                entry_imo: e.imo,
                score: (score * 1000.0).round() / 1000.0,
                matched,
                explanation: why.join("; "),
                listed_on: e.listed_on.clone(),
            };
            match seen.get(&key) {
                Some(&i) => {
                    if out.get(i).is_some_and(|o: &ScreenMatch| o.score < m.score) {
                        out[i] = m;
                    }
                }
                None => {
                    seen.insert(key, out.len());
                    out.push(m);
                }
            }
        }
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.mmsi.cmp(&b.mmsi))
            .then(a.list.cmp(&b.list))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_typos() {
        assert_eq!(
            normalise_name("M/T  Quartanus (ex-Morpheus)"),
            "QUARTANUS EX MORPHEUS"
        );
        assert_eq!(normalise_name("mt Angara"), "ANGARA");
        assert!(one_digit_apart(9179842, 9179843));
        assert!(!one_digit_apart(9179842, 9179824));
        assert_eq!(flag_code("russian federation"), "RU");
    }
}
