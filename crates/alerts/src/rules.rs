//! Alert rules: a TOML file of `[[rule]]` tables (`docs/alerts.md`).

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use shadowfleet_model::Timestamp;
use shadowfleet_records::{ConfidenceLevel, Event, EventDetails, EventKind, PlaceRef};

use crate::Alert;

/// What raises a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// An event of this kind.
    Event(EventKind),
    /// A sanctions or watch-list match that appeared or disappeared when lists were loaded.
    ListMatch,
    /// A vessel's risk score rose above the rule's `risk`.
    RiskAbove,
}

/// Which vessels a rule follows. Empty: every vessel. Otherwise a vessel is followed when its
/// MMSI or IMO number is listed or it is on one of `lists`; `min_risk`, when given, must hold
/// as well.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Vessels {
    /// MMSIs followed.
    pub mmsi: Vec<u32>,
    /// IMO numbers followed.
    pub imo: Vec<u32>,
    /// Names of loaded lists (`shadowfleet screen --lists`): vessels matched on any.
    pub lists: Vec<String>,
    /// Only vessels whose risk score is at least this (0–100).
    pub min_risk: Option<f64>,
}

/// One rule as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    when: String,
    #[serde(default)]
    vessels: Vessels,
    place_kind: Option<String>,
    place: Option<String>,
    zone: Option<String>,
    min_hours: Option<f64>,
    min_confidence: Option<String>,
    risk: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    rule: Vec<RawRule>,
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its name (unique in the file): the `rule` of its alerts.
    pub name: String,
    /// What raises it.
    pub when: When,
    /// Which vessels it follows.
    pub vessels: Vessels,
    /// Only events at a place of this kind (`terminal`, `port`, `sts_area`, ...).
    pub place_kind: Option<String>,
    /// Only events at this place (its id, e.g. `RU-PRIMORSK`).
    pub place: Option<String>,
    /// Only zone events of this zone (its id).
    pub zone: Option<String>,
    /// Only events lasting at least this many hours.
    pub min_hours: Option<f64>,
    /// Only events of at least this confidence.
    pub min_confidence: Option<ConfidenceLevel>,
    /// For `risk_above`: the level crossed.
    pub risk: Option<f64>,
}

/// A rules file that cannot be used: names the file and the rule or field.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct RulesError {
    /// The file.
    pub path: String,
    /// What is wrong (with the line for TOML errors).
    pub reason: String,
}

/// What the rules need to know of a vessel beyond the event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Its IMO number.
    pub imo: Option<u32>,
    /// Its name.
    pub name: Option<String>,
    /// The loaded lists it is matched on.
    pub lists: Vec<String>,
    /// Its risk score, when computed.
    pub risk: Option<f64>,
}

/// A list match that appeared or disappeared when the lists were loaded again.
#[derive(Debug, Clone, PartialEq)]
pub struct ListChange {
    /// The vessel's MMSI.
    pub mmsi: u32,
    /// Its IMO number.
    pub imo: Option<u32>,
    /// The list.
    pub list: String,
    /// The entry matched.
    pub entry: String,
    /// Appeared (else disappeared).
    pub appeared: bool,
    /// When the change was seen, unix seconds.
    pub t: i64,
}

/// The rules of one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// In file order.
    pub rules: Vec<Rule>,
}

impl Rules {
    /// Reads a rules file.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|e| RulesError {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Rules::parse(&text, &path.display().to_string())
    }

    /// Parses rules; `path` names the text in errors.
    pub fn parse(text: &str, path: &str) -> Result<Rules, RulesError> {
        let err = |reason: String| RulesError {
            path: path.to_owned(),
            reason,
        };
        let raw: RawRules = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let mut names = BTreeSet::new();
        let mut rules = Vec::new();
        for (k, r) in raw.rule.into_iter().enumerate() {
            let at = format!("rule {} ({:?})", k + 1, r.name);
            if r.name.trim().is_empty() {
                return Err(err(format!("rule {}: field name: empty", k + 1)));
            }
            if !names.insert(r.name.clone()) {
                return Err(err(format!("{at}: field name: used by an earlier rule")));
            }
            let when = match r.when.as_str() {
                "list_match" => When::ListMatch,
                "risk_above" => When::RiskAbove,
                other => When::Event(EventKind::parse(other).ok_or_else(|| {
                    err(format!(
                        "{at}: field when: {other:?} is not an event kind ({}), list_match or risk_above",
                        EventKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })?),
            };
            if when == When::RiskAbove && r.risk.is_none() {
                return Err(err(format!(
                    "{at}: field risk: needed by when = \"risk_above\""
                )));
            }
            let min_confidence = match &r.min_confidence {
                None => None,
                Some(c) => Some(ConfidenceLevel::parse(c).ok_or_else(|| {
                    err(format!(
                        "{at}: field min_confidence: {c:?} is not low, medium or high"
                    ))
                })?),
            };
            rules.push(Rule {
                name: r.name,
                when,
                vessels: r.vessels,
                place_kind: r.place_kind,
                place: r.place,
                zone: r.zone,
                min_hours: r.min_hours,
                min_confidence,
                risk: r.risk,
            });
        }
        Ok(Rules { rules })
    }

    /// Whether any rule needs risk scores (`min_risk` or `risk_above`).
    pub fn need_risk(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.when == When::RiskAbove || r.vessels.min_risk.is_some())
    }

    /// The alerts a stored event (`id`) raises; `facts` tells what is known of an MMSI.
    pub fn alerts_for_event(&self, id: i64, e: &Event, facts: &dyn Fn(u32) -> Facts) -> Vec<Alert> {
        let mut out = Vec::new();
        for rule in &self.rules {
            if rule.when != When::Event(e.kind()) || !rule.event_passes(e) {
                continue;
            }
            // An encounter follows either vessel.
            let vessels = std::iter::once(e.mmsi).chain(e.other_mmsi);
            for mmsi in vessels {
                let f = facts(mmsi);
                if rule.follows(mmsi, &f) {
                    out.push(event_alert(rule, id, e, mmsi, &f));
                    break;
                }
            }
        }
        out
    }

    /// The alerts a list change raises.
    pub fn alerts_for_list_change(&self, c: &ListChange, facts: &Facts) -> Vec<Alert> {
        self.rules
            .iter()
            .filter(|r| r.when == When::ListMatch)
            .filter(|r| {
                let on_list = r.vessels.lists.is_empty() || r.vessels.lists.contains(&c.list);
                on_list && r.follows_ignoring_lists(c.mmsi, facts)
            })
            .map(|r| Alert {
                alert_id: format!(
                    "{}/list:{}:{}:{}:{}",
                    r.name,
                    c.mmsi,
                    c.list,
                    c.entry,
                    if c.appeared {
                        "appeared"
                    } else {
                        "disappeared"
                    }
                ),
                rule: r.name.clone(),
                kind: "list_match".into(),
                event_id: None,
                mmsi: c.mmsi,
                imo: c.imo.or(facts.imo),
                name: facts.name.clone(),
                time: Timestamp::from_unix_seconds(c.t).to_string(),
                end: None,
                lat: None,
                lon: None,
                confidence: "high".into(),
                summary: format!(
                    "{} {} list {} (entry {})",
                    facts.name.as_deref().unwrap_or("MMSI"),
                    if c.appeared {
                        "now matches"
                    } else {
                        "no longer matches"
                    },
                    c.list,
                    c.entry
                ),
            })
            .collect()
    }

    /// The alerts a risk score raises: rules `risk_above` whose level `score` reaches and
    /// `previous` (the score when last checked, if any) did not.
    pub fn alerts_for_risk(
        &self,
        mmsi: u32,
        score: f64,
        previous: Option<f64>,
        t: i64,
        facts: &Facts,
    ) -> Vec<Alert> {
        self.rules
            .iter()
            .filter(|r| r.when == When::RiskAbove)
            .filter(|r| {
                let level = r.risk.unwrap_or(f64::INFINITY);
                score >= level && previous.is_none_or(|p| p < level)
            })
            .filter(|r| r.follows(mmsi, facts))
            .map(|r| Alert {
                alert_id: format!("{}/risk:{mmsi}:{}", r.name, r.risk.unwrap_or(0.0)),
                rule: r.name.clone(),
                kind: "risk_above".into(),
                event_id: None,
                mmsi,
                imo: facts.imo,
                name: facts.name.clone(),
                time: Timestamp::from_unix_seconds(t).to_string(),
                end: None,
                lat: None,
                lon: None,
                confidence: "medium".into(),
                summary: format!("risk score {score:.0} reached {:.0}", r.risk.unwrap_or(0.0)),
            })
            .collect()
    }
}

/// The place an event happened at, when it names one.
fn place_of(e: &Event) -> Option<&PlaceRef> {
    match &e.details {
        EventDetails::PortCall(d) => Some(&d.place),
        EventDetails::Loitering(d) => d.sts_area.as_ref().or(d.near.as_ref()),
        EventDetails::Gap(d) => d.near.as_ref(),
        EventDetails::Encounter(d) => d.sts_area.as_ref(),
        _ => None,
    }
}

impl Rule {
    fn event_passes(&self, e: &Event) -> bool {
        if let Some(min) = self.min_confidence {
            if e.confidence.level < min {
                return false;
            }
        }
        if let Some(h) = self.min_hours {
            if ((e.end - e.start) as f64 / 3600.0) < h {
                return false;
            }
        }
        if self.place_kind.is_some() || self.place.is_some() {
            let Some(p) = place_of(e) else {
                return false;
            };
            if self
                .place_kind
                .as_deref()
                .is_some_and(|k| k != p.kind.as_str())
            {
                return false;
            }
            if self.place.as_deref().is_some_and(|id| id != p.id) {
                return false;
            }
        }
        if let Some(zone) = &self.zone {
            let EventDetails::Zone(d) = &e.details else {
                return false;
            };
            if &d.zone.id != zone {
                return false;
            }
        }
        // A silence that overlaps an outage of our own feed is not the ship's doing.
        if let EventDetails::Gap(d) = &e.details {
            if d.feed_outage.is_some() {
                return false;
            }
        }
        true
    }

    /// Whether the rule follows the vessel.
    pub fn follows(&self, mmsi: u32, f: &Facts) -> bool {
        let v = &self.vessels;
        let named = !(v.mmsi.is_empty() && v.imo.is_empty() && v.lists.is_empty());
        let in_set = v.mmsi.contains(&mmsi)
            || f.imo.is_some_and(|i| v.imo.contains(&i))
            || f.lists.iter().any(|l| v.lists.contains(l));
        (!named || in_set) && self.risk_ok(f)
    }

    fn follows_ignoring_lists(&self, mmsi: u32, f: &Facts) -> bool {
        let v = &self.vessels;
        let named = !(v.mmsi.is_empty() && v.imo.is_empty());
        let in_set = v.mmsi.contains(&mmsi) || f.imo.is_some_and(|i| v.imo.contains(&i));
        (!named || in_set) && self.risk_ok(f)
    }

    fn risk_ok(&self, f: &Facts) -> bool {
        self.vessels
            .min_risk
            .is_none_or(|m| f.risk.is_some_and(|r| r >= m))
    }
}

fn event_alert(rule: &Rule, id: i64, e: &Event, mmsi: u32, f: &Facts) -> Alert {
    let hours = (e.end - e.start) as f64 / 3600.0;
    let who = f.name.clone().unwrap_or_else(|| format!("MMSI {mmsi}"));
    let what = match &e.details {
        EventDetails::PortCall(d) => format!("called at {} ({})", d.place.name, d.place.country),
        EventDetails::Encounter(_) => format!(
            "met {} at sea for {hours:.1} h",
            e.other_mmsi
                .filter(|&o| o != mmsi)
                .or(Some(e.mmsi))
                .map_or(String::new(), |o| format!("MMSI {o}"))
        ),
        EventDetails::Gap(d) => format!("went silent for {:.1} h", d.hours),
        EventDetails::Zone(d) => format!("in zone {} for {:.1} h", d.zone.name, d.hours),
        _ => format!("{} for {hours:.1} h", e.kind()),
    };
    Alert {
        alert_id: format!("{}/{id}", rule.name),
        rule: rule.name.clone(),
        kind: e.kind().as_str().to_owned(),
        event_id: Some(id),
        mmsi,
        imo: f.imo.or(e.imo),
        name: f.name.clone(),
        time: Timestamp::from_unix_seconds(e.start).to_string(),
        end: Some(Timestamp::from_unix_seconds(e.end).to_string()),
        lat: e.lat.is_finite().then_some(e.lat),
        lon: e.lon.is_finite().then_some(e.lon),
        confidence: e.confidence.level.as_str().to_owned(),
        summary: format!("{who} {what}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use shadowfleet_records::{Confidence, GapDetails, PlaceKind, PortCallDetails};

    fn port_call(mmsi: u32, place: &str, kind: PlaceKind, hours: i64) -> Event {
        Event {
            mmsi,
            imo: None,
            other_mmsi: None,
            start: 1_767_571_200,
            end: 1_767_571_200 + hours * 3600,
            lat: 59.7,
            lon: 28.4,
            confidence: Confidence::high(vec![]),
            truncated_start: false,
            truncated_end: false,
            details: PortCallDetails {
                place: PlaceRef {
                    id: place.into(),
                    kind,
                    name: "Ust-Luga".into(),
                    country: "RU".into(),
                },
                ..PortCallDetails::default()
            }
            .into(),
        }
    }

    const RULES: &str = r#"
[[rule]]
name = "terminal"
when = "port_call"
place_kind = "terminal"
vessels.mmsi = [1]
vessels.lists = ["sanctions_eu"]

[[rule]]
name = "long"
when = "port_call"
min_hours = 10

[[rule]]
name = "listed"
when = "list_match"

[[rule]]
name = "risky"
when = "risk_above"
risk = 70
"#;

    #[test]
    fn rules_follow_the_vessels_and_filters_they_name() {
        let rules = Rules::parse(RULES, "rules.toml").unwrap();
        let none = |_| Facts::default();
        let listed = |_| Facts {
            lists: vec!["sanctions_eu".into()],
            ..Facts::default()
        };
        let names = |e: &Event, f: &dyn Fn(u32) -> Facts| -> Vec<String> {
            rules
                .alerts_for_event(7, e, f)
                .into_iter()
                .map(|a| a.alert_id)
                .collect()
        };
        let at_terminal = port_call(1, "RU-USTLUGA-CRUDE", PlaceKind::Terminal, 2);
        assert_eq!(names(&at_terminal, &none), ["terminal/7"]);
        // Not followed by MMSI, but on a followed list.
        let other = port_call(2, "RU-USTLUGA-CRUDE", PlaceKind::Terminal, 2);
        assert!(names(&other, &none).is_empty());
        assert_eq!(names(&other, &listed), ["terminal/7"]);
        // A port, not a terminal; long enough for the second rule.
        let port = port_call(1, "RU-USTLUGA", PlaceKind::Port, 12);
        assert_eq!(names(&port, &none), ["long/7"]);
        // A gap is no port call; a gap over a feed outage never alerts.
        let mut gap = at_terminal.clone();
        gap.details = GapDetails {
            hours: 30.0,
            feed_outage: Some("tcp://x: down".into()),
            ..GapDetails::default()
        }
        .into();
        assert!(names(&gap, &none).is_empty());

        let change = ListChange {
            mmsi: 5,
            imo: Some(9_187_629),
            list: "sdn".into(),
            entry: "E1".into(),
            appeared: true,
            t: 0,
        };
        let a = rules.alerts_for_list_change(&change, &Facts::default());
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].alert_id, "listed/list:5:sdn:E1:appeared");
        assert_eq!(
            rules
                .alerts_for_risk(5, 75.0, Some(60.0), 0, &Facts::default())
                .len(),
            1
        );
        assert!(rules
            .alerts_for_risk(5, 75.0, Some(72.0), 0, &Facts::default())
            .is_empty());
        assert!(rules
            .alerts_for_risk(5, 65.0, None, 0, &Facts::default())
            .is_empty());
    }

    #[test]
    fn a_bad_rules_file_names_the_rule_and_the_field() {
        let bad = |text: &str| Rules::parse(text, "r.toml").unwrap_err().to_string();
        assert!(bad("[[rule]]\nname = \"a\"\nwhen = \"gone_dark\"\n")
            .contains("rule 1 (\"a\"): field when"));
        assert!(bad("[[rule]]\nname = \"a\"\nwhen = \"risk_above\"\n").contains("field risk"));
        assert!(
            bad("[[rule]]\nname = \"a\"\nwhen = \"gap\"\nmin_confidence = \"sure\"\n")
                .contains("min_confidence")
        );
        assert!(bad(
            "[[rule]]\nname = \"a\"\nwhen = \"gap\"\n[[rule]]\nname = \"a\"\nwhen = \"gap\"\n"
        )
        .contains("used by an earlier rule"));
        assert!(
            bad("[[rule]]\nname = \"a\"\nwhen = \"gap\"\nvessel.mmsi = [1]\n")
                .starts_with("r.toml")
        );
    }
}
