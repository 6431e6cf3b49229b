//! Scores detected events against the simulator's ground truth.
//!
//! Each detected kind is compared with the truth events it should find:
//!
//! | detected | truth | match |
//! |---|---|---|
//! | `gap` | `dark` of at least 6 h, ended inside the period | same MMSI; the gap starts within 1 h after the dark start... see [`MatchRules`] |
//! | `encounter` | `sts` with both sides broadcasting | same pair of MMSIs, overlapping in time |
//! | `port_call` | `port_call` | same MMSI, overlapping |
//! | `loitering` | `loitering` | same MMSI, overlapping |
//! | `spoofing` | `spoofing` whose spoofed reports were heard at least [`MatchRules::min_spoofed_reports`] times | same MMSI, overlapping |
//! | `identity_change` | `identity_change` | same (new) MMSI, within [`MatchRules::identity_slack_hours`] |
//! | `interference` | `interference` (one per vessel caught) heard at least [`MatchRules::min_spoofed_reports`] times, in an episode with at least [`MatchRules::min_interference_vessels`] such vessels | the vessel is listed, overlapping |
//!
//! A spoofing finding put down to an area's interference (`interference: true`) is not
//! scored as spoofing: the interference row scores it.
//!
//! Port calls and loitering of background ships (cargo, fishing) are not in the truth and
//! not scored.
//!
//! Recall is the share of truth events matched by at least one detection; precision the
//! share of detections that match a truth event (for gaps and loitering, any truth dark
//! period, STS or loitering of the vessel explains one). The timing error is the absolute
//! difference between detected and true start (for gaps, the mean of start and end errors).

pub mod ceasefire;
pub mod flows;
pub use flows::{
    evaluate_flows, evaluate_risk, CargoMiss, CargoRoute, CargoScore, CountryMonth, CountryTotal,
    FlowScore, RiskScore,
};

use serde::Serialize;
use shadowfleet_model::Timestamp;
use shadowfleet_records::{DropCounts, Event, EventDetails, EventKind};
use shadowfleet_simulate::truth::{Event as TruthEvent, TruthRecord};

/// Matching tolerances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchRules {
    /// Shortest dark period a gap detector must find, hours.
    pub min_dark_hours: f64,
    /// Slack on interval overlap, hours.
    pub overlap_slack_hours: f64,
    /// Largest time difference for an identity change, hours.
    pub identity_slack_hours: f64,
    /// Fewest spoofed position reports a receiver heard for a spoofing episode to be
    /// findable (the simulator's `heard_reports`): an episode no one heard left no trace,
    /// and one heard once is a single stray fix.
    pub min_spoofed_reports: u64,
    /// Fewest vessels (each heard displaced [`Self::min_spoofed_reports`] times) an
    /// interference episode must displace to be findable as interference.
    pub min_interference_vessels: usize,
}

impl Default for MatchRules {
    fn default() -> Self {
        MatchRules {
            min_dark_hours: 6.0,
            overlap_slack_hours: 1.0,
            identity_slack_hours: 24.0,
            min_spoofed_reports: 2,
            min_interference_vessels: 3,
        }
    }
}

/// Scores of one event kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindScore {
    /// Event kind (detected side).
    pub kind: String,
    /// Truth events to find.
    pub truth: usize,
    /// Truth events found.
    pub found: usize,
    /// Detections.
    pub detected: usize,
    /// Detections that match a truth event.
    pub correct: usize,
    /// correct / detected (1 when nothing was detected).
    pub precision: f64,
    /// found / truth (1 when there is nothing to find).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Median absolute timing error of the matches, seconds.
    pub median_timing_error_s: Option<f64>,
}

/// The scores of every kind, plus the dark STS line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// One row per kind, in [`EventKind::ALL`] order.
    pub kinds: Vec<KindScore>,
    /// Dark STS (giver silent) in truth, and how many a loitering flagged "possible dark STS"
    /// of the receiver found.
    pub dark_sts: (usize, usize),
    /// The receiver artefacts the simulator injected beside what the run counted, when the
    /// run's counts are given ([`Evaluation::with_artefacts`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artefacts: Option<ArtefactScore>,
}

/// Receiver artefacts: injected (truth) and counted by the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ArtefactScore {
    /// Late relays injected, and counted as stale relays (the rest fit their track and were
    /// kept harmlessly: a relay of a ship at anchor lies where the ship is).
    pub late_relays: (u64, u64),
    /// Position reports written without a time, and counted as untimed.
    pub untimed_positions: (u64, u64),
}

impl Evaluation {
    /// Adds the artefact line from the truth's `artefacts` record and what the runs counted.
    pub fn with_artefacts(mut self, truth: &[TruthRecord], counted: &DropCounts) -> Evaluation {
        self.artefacts = truth.iter().find_map(|r| match r {
            TruthRecord::Artefacts(a) => Some(ArtefactScore {
                late_relays: (a.late_relays, counted.stale_relays),
                untimed_positions: (a.untimed_positions, counted.untimed_positions),
            }),
            _ => None,
        });
        self
    }
}

fn of_kind<'a>(all: &[&'a TruthEvent], k: &str) -> Vec<&'a TruthEvent> {
    all.iter().copied().filter(|e| e.kind == k).collect()
}

fn t(s: &str) -> i64 {
    Timestamp::parse_rfc3339(s).map_or(0, |x| x.unix_millis().div_euclid(1000))
}

fn overlaps(a: (i64, i64), b: (i64, i64), slack: i64) -> bool {
    a.0 <= b.1 + slack && b.0 <= a.1 + slack
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

fn score(
    kind: EventKind,
    truth: usize,
    found: usize,
    detected: usize,
    correct: usize,
    errors: Vec<f64>,
) -> KindScore {
    let precision = if detected == 0 {
        1.0
    } else {
        correct as f64 / detected as f64
    };
    let recall = if truth == 0 {
        1.0
    } else {
        found as f64 / truth as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    KindScore {
        kind: kind.as_str().to_owned(),
        truth,
        found,
        detected,
        correct,
        precision,
        recall,
        f1,
        median_timing_error_s: median(errors),
    }
}

/// Scores `events` against the truth records.
pub fn evaluate(truth: &[TruthRecord], events: &[Event], rules: MatchRules) -> Evaluation {
    let slack = (rules.overlap_slack_hours * 3600.0) as i64;
    let truth_events: Vec<&TruthEvent> = truth
        .iter()
        .filter_map(|r| match r {
            TruthRecord::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    let span = |e: &TruthEvent| (t(&e.start), t(&e.end));
    // Only what the data can show: events that start inside the simulated period.
    let period_start = truth
        .iter()
        .find_map(|r| match r {
            TruthRecord::Header(h) => Some(t(&h.start)),
            _ => None,
        })
        .unwrap_or(i64::MIN);
    let truth_events: Vec<&TruthEvent> = truth_events
        .into_iter()
        .filter(|e| span(e).0 >= period_start)
        .collect();
    let detected = |k: EventKind| events.iter().filter(move |e| e.kind() == k);
    let clipped = |e: &TruthEvent| e.details.get("clipped").is_some();
    let mut kinds = Vec::new();

    // The simulator records port calls and loitering of tankers only; detections for MMSIs
    // only background ships used are not scored for those kinds.
    let background_only: std::collections::HashSet<u32> = {
        let mut roles: std::collections::HashMap<u32, bool> = std::collections::HashMap::new();
        for r in truth {
            if let TruthRecord::Vessel(v) = r {
                for i in &v.identities {
                    let bg = roles.entry(i.mmsi).or_insert(true);
                    *bg &= v.role == "background";
                }
            }
        }
        roles.into_iter().filter(|x| x.1).map(|x| x.0).collect()
    };
    for kind in EventKind::ALL {
        let det: Vec<&Event> = detected(kind)
            .filter(|e| {
                // Gaps are scored as the dark-AIS call: likely switched off; spoofing as
                // the vessel's own act (a finding put down to an area's interference is
                // scored as interference).
                match &e.details {
                    EventDetails::Gap(g) => g.likely_dark,
                    EventDetails::Spoofing(s) => !s.interference,
                    _ => true,
                }
            })
            .filter(|e| {
                !(matches!(kind, EventKind::PortCall | EventKind::Loitering)
                    && background_only.contains(&e.mmsi))
            })
            .collect();
        // (truth to find, truth that explains a detection, match test, timing error)
        let (targets, explainers): (Vec<&TruthEvent>, Vec<&TruthEvent>) = match kind {
            EventKind::Gap => (
                of_kind(&truth_events, "dark")
                    .into_iter()
                    .filter(|e| !clipped(e))
                    .filter(|e| (span(e).1 - span(e).0) as f64 >= rules.min_dark_hours * 3600.0)
                    .collect(),
                of_kind(&truth_events, "dark"),
            ),
            EventKind::Encounter => {
                let visible: Vec<_> = of_kind(&truth_events, "sts")
                    .into_iter()
                    .filter(|e| e.details.get("dark_side").and_then(|d| d.as_str()) == Some("none"))
                    .collect();
                (visible.clone(), of_kind(&truth_events, "sts"))
            }
            EventKind::PortCall => (
                of_kind(&truth_events, "port_call"),
                of_kind(&truth_events, "port_call"),
            ),
            EventKind::Loitering => (
                of_kind(&truth_events, "loitering"),
                truth_events
                    .iter()
                    .copied()
                    .filter(|e| matches!(e.kind.as_str(), "loitering" | "sts" | "dark"))
                    .collect(),
            ),
            EventKind::Spoofing => (
                of_kind(&truth_events, "spoofing")
                    .into_iter()
                    .filter(|e| {
                        e.details
                            .get("heard_reports")
                            .and_then(|v| v.as_u64())
                            .is_none_or(|n| n >= rules.min_spoofed_reports)
                    })
                    .collect(),
                // False positions an interference caused are false positions all the same:
                // a vessel displaced alone cannot be told from one that spoofs.
                truth_events
                    .iter()
                    .copied()
                    .filter(|e| matches!(e.kind.as_str(), "spoofing" | "interference"))
                    .collect(),
            ),
            EventKind::IdentityChange => (
                of_kind(&truth_events, "identity_change"),
                of_kind(&truth_events, "identity_change"),
            ),
            EventKind::Interference => {
                // Findable: vessels heard displaced at least twice, in an episode that
                // displaced at least `min_interference_vessels` such vessels (one vessel
                // displaced alone cannot be told from one that spoofs).
                let heard = |e: &TruthEvent| {
                    e.details
                        .get("heard_reports")
                        .and_then(|v| v.as_u64())
                        .is_none_or(|n| n >= rules.min_spoofed_reports)
                };
                let episode = |e: &TruthEvent| {
                    let n = |k: &str| e.details.get(k).and_then(|v| v.as_u64());
                    (n("area"), n("episode"))
                };
                let all = of_kind(&truth_events, "interference");
                let mut per_episode: std::collections::HashMap<_, usize> = Default::default();
                for e in all.iter().filter(|e| heard(e)) {
                    *per_episode.entry(episode(e)).or_default() += 1;
                }
                let findable = all
                    .iter()
                    .copied()
                    .filter(|e| heard(e))
                    .filter(|e| {
                        per_episode.get(&episode(e)).copied().unwrap_or(0)
                            >= rules.min_interference_vessels
                    })
                    .collect();
                (findable, all)
            }
            // Kinds the simulator writes no truth for are not scored.
            #[allow(unreachable_patterns, reason = "for kinds added later")]
            _ => continue,
        };
        let matches = |d: &Event, e: &TruthEvent| -> bool {
            match kind {
                EventKind::Encounter => {
                    let pair = (Some(d.mmsi), d.other_mmsi);
                    (pair == (Some(e.mmsi), e.other_mmsi) || pair == (e.other_mmsi, Some(e.mmsi)))
                        && overlaps((d.start, d.end), span(e), slack)
                }
                EventKind::IdentityChange => {
                    d.mmsi == e.mmsi
                        && ((d.start - span(e).0).abs() as f64)
                            <= rules.identity_slack_hours * 3600.0
                }
                EventKind::Loitering => {
                    (d.mmsi == e.mmsi || Some(d.mmsi) == e.other_mmsi)
                        && overlaps((d.start, d.end), span(e), slack)
                }
                // One interference lists its vessels: it finds each one it lists.
                EventKind::Interference => {
                    let listed = match &d.details {
                        EventDetails::Interference(i) => {
                            i.vessels.iter().find(|v| v.mmsi == e.mmsi)
                        }
                        _ => None,
                    };
                    listed.is_some_and(|v| overlaps((v.start, v.end), span(e), slack))
                }
                _ => d.mmsi == e.mmsi && overlaps((d.start, d.end), span(e), slack),
            }
        };
        let mut errors = Vec::new();
        let mut found = 0;
        for e in &targets {
            let best = det
                .iter()
                .filter(|d| matches(d, e))
                .map(|d| match kind {
                    EventKind::Gap => {
                        ((d.start - span(e).0).abs() + (d.end - span(e).1).abs()) as f64 / 2.0
                    }
                    EventKind::Interference => match &d.details {
                        EventDetails::Interference(i) => i
                            .vessels
                            .iter()
                            .find(|v| v.mmsi == e.mmsi)
                            .map_or(f64::NAN, |v| (v.start - span(e).0).abs() as f64),
                        _ => f64::NAN,
                    },
                    _ => (d.start - span(e).0).abs() as f64,
                })
                .min_by(f64::total_cmp);
            if let Some(err) = best {
                found += 1;
                errors.push(err);
            }
        }
        let correct = det
            .iter()
            .filter(|d| explainers.iter().any(|e| matches(d, e)))
            .count();
        kinds.push(score(
            kind,
            targets.len(),
            found,
            det.len(),
            correct,
            errors,
        ));
    }

    let dark: Vec<&TruthEvent> = of_kind(&truth_events, "sts")
        .into_iter()
        .filter(|e| e.details.get("dark_side").and_then(|d| d.as_str()) == Some("giver"))
        .collect();
    let flagged = dark
        .iter()
        .filter(|e| {
            events.iter().any(|d| {
                matches!(&d.details, EventDetails::Loitering(l) if l.possible_dark_sts)
                    && Some(d.mmsi) == e.other_mmsi
                    && overlaps((d.start, d.end), span(e), slack)
            })
        })
        .count();
    Evaluation {
        kinds,
        dark_sts: (dark.len(), flagged),
        artefacts: None,
    }
}

impl Evaluation {
    /// The row of a kind.
    pub fn kind(&self, kind: EventKind) -> Option<&KindScore> {
        self.kinds.iter().find(|k| k.kind == kind.as_str())
    }

    /// A text table.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{:<16} {:>6} {:>6} {:>8} {:>8} {:>9} {:>7} {:>6} {:>14}\n",
            "kind",
            "truth",
            "found",
            "detected",
            "correct",
            "precision",
            "recall",
            "f1",
            "median_err_min"
        );
        for k in &self.kinds {
            s.push_str(&format!(
                "{:<16} {:>6} {:>6} {:>8} {:>8} {:>9.3} {:>7.3} {:>6.3} {:>14}\n",
                k.kind,
                k.truth,
                k.found,
                k.detected,
                k.correct,
                k.precision,
                k.recall,
                k.f1,
                k.median_timing_error_s
                    .map_or("-".to_owned(), |e| format!("{:.1}", e / 60.0))
            ));
        }
        s.push_str(&format!(
            "dark STS (giver silent): {} in truth, {} flagged as possible dark STS by the receiver's loitering\n",
            self.dark_sts.0, self.dark_sts.1
        ));
        if let Some(a) = self.artefacts {
            s.push_str(&format!(
                "late relays: {} injected, {} counted as stale relays; untimed position reports: {} injected, {} counted\n",
                a.late_relays.0, a.late_relays.1, a.untimed_positions.0, a.untimed_positions.1
            ));
        }
        s
    }
}
