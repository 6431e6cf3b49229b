//! Watchlists and alert rules, and where alerts go (`docs/alerts.md`).
//!
//! A [`Rules`] file (TOML) names, per rule, what raises it (`when`: an event kind, a new or
//! withdrawn list match, a risk score above a level), which vessels it follows (MMSIs, IMO
//! numbers, lists they are on, a minimum risk) and filters (place, zone, hours, confidence).
//! [`Rules::alerts_for_event`] turns a stored event into the [`Alert`]s it raises;
//! [`Rules::alerts_for_list_change`] does the same for a list match that appeared or
//! disappeared. The [`sinks`] deliver each alert once: an NDJSON file and signed webhooks.
//!
//! What the rules need to know of a vessel beyond the event (its name, lists, risk) comes in
//! [`Facts`], so that this crate reads no store.

pub mod rules;
pub mod sinks;

pub use rules::{Facts, Rule, Rules, RulesError, When};

use serde::{Deserialize, Serialize};

/// One alert: a rule and the event (or list change) that raised it. Its JSON is the NDJSON
/// line, the webhook's body and the API's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique per rule and event: `rule/event_id` (or `rule/list:mmsi:list:entry:appeared`),
    /// the key of delivering it once.
    pub alert_id: String,
    /// The rule's name.
    pub rule: String,
    /// What raised it: an event kind (`gap`, `port_call`, ...), `list_match` or `risk_above`.
    pub kind: String,
    /// The stored event's id (none for a list change).
    pub event_id: Option<i64>,
    /// The vessel's MMSI.
    pub mmsi: u32,
    /// Its IMO number, when known.
    pub imo: Option<u32>,
    /// Its name, when known.
    pub name: Option<String>,
    /// When the event began (or the list change was seen), RFC 3339 UTC.
    pub time: String,
    /// When it ended, RFC 3339 UTC.
    pub end: Option<String>,
    /// Where, WGS84 degrees.
    pub lat: Option<f64>,
    /// Where, WGS84 degrees.
    pub lon: Option<f64>,
    /// The event's confidence level (`low`, `medium`, `high`).
    pub confidence: String,
    /// One line saying what happened.
    pub summary: String,
}
