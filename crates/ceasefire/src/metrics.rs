//! Weekly metrics from a store (`docs/ceasefire.md` defines each).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use serde::Serialize;
use shadowfleet_events::detectors::zone::{Finding, ZoneConfig, ZoneDetector};
use shadowfleet_geo::{bearing_deg, haversine_m, offset_m, Land, LatLon};
use shadowfleet_model::Timestamp;
use shadowfleet_records::{
    EventDetails, GateDirection, IdentityPeriod, Operation, PortCallDetails,
};
use shadowfleet_risk::{ListingState, ScreenMatch};
use shadowfleet_store::{PositionQuery, Store, StoredEvent};
use shadowfleet_tracks::TrackPoint;

use crate::destination::{classify, Declared};
use crate::registry::{PortGroup, Registry};
use crate::week::{iso_week, week_start};

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
const HOUR: i64 = 3_600;

/// What the monitor reads besides the positions: the analysis's events, identities and
/// screening matches.
pub struct Inputs<'a> {
    /// Stored events with their ids.
    pub events: &'a [StoredEvent],
    /// Identity periods.
    pub identities: &'a [IdentityPeriod],
    /// Screening matches (list status on the day of a call).
    pub matches: &'a [ScreenMatch],
    /// Land (a dark approach is timed only when it could be straight at sea).
    pub land: &'a Land,
    /// The port-call detector's entry radius the events were found with, km: a call's
    /// arrival is when its way in crossed into this circle round the port.
    pub port_entry_km: f64,
}

/// The period, thresholds and incidents of a run of the monitor.
#[derive(Debug, Clone)]
pub struct Options {
    /// First day (unix seconds), the data's first when `None`.
    pub from: Option<i64>,
    /// End (exclusive, unix seconds), the data's last when `None`.
    pub to: Option<i64>,
    /// Incidents (attacks, detentions) whose traffic change to measure.
    pub incidents: Vec<Incident>,
    /// Fewest log-likelihood-ratio points for a change point in daily departures.
    pub change_min_llr: f64,
    /// Smallest relative change of the daily rate for a change point.
    pub change_min_relative: f64,
    /// Shortest run of days on either side of a change point.
    pub change_min_days: usize,
    /// A visit to a queue anchorage with at least this long stopped in it (reports at or
    /// below [`Self::queue_max_sog_kn`]) is a vessel waiting, hours.
    pub queue_min_hours: f64,
    /// Speed at or below which a vessel in a queue anchorage is stopped (waiting, not
    /// passing through), knots.
    pub queue_max_sog_kn: f64,
    /// A gap ending this long before a call at an occupied port, or less, is a dark
    /// approach, hours.
    pub dark_approach_hours: f64,
    /// A vessel back in a port's circle at most this long after it left continues the same
    /// call, hours.
    pub rejoin_hours: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            from: None,
            to: None,
            incidents: Vec::new(),
            change_min_llr: 8.0,
            change_min_relative: 0.5,
            change_min_days: 5,
            queue_min_hours: 1.0,
            queue_max_sog_kn: 1.0,
            dark_approach_hours: 48.0,
            rejoin_hours: 6.0,
        }
    }
}

/// Why the monitor could not run.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] shadowfleet_store::StoreError),
    /// An incident file could not be read (file, line, field).
    #[error("{0}")]
    Incidents(String),
    /// Nothing of the store lies in the registry's box or period.
    #[error("{0}")]
    Empty(String),
}

/// One weekly number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Row {
    /// ISO week, `2025-W14`.
    pub week: String,
    /// Monday 00:00 UTC of the week, RFC 3339.
    pub week_start: String,
    /// Metric name (`docs/ceasefire.md`).
    #[schema(value_type = String)]
    pub metric: &'static str,
    /// Registry id (port, gate, anchorage, zone) or region.
    pub place: String,
    /// `all`, a ship type (`tanker`, `cargo`, ...), or a gate direction with `laden` /
    /// `ballast` / `unknown`.
    pub split: String,
    /// The number.
    pub value: f64,
    /// `high`, `medium` or `low`, from the coverage.
    #[schema(value_type = String)]
    pub confidence: &'static str,
    /// Share of the week's days on which AIS was received at the place (0–1).
    pub coverage: f64,
    /// Regimes in force on the week's Thursday.
    pub regimes: Vec<String>,
    /// Ids of the stored events behind the number.
    pub events: Vec<i64>,
    /// Evidence that is not a stored event (gate crossings, waits): `MMSI@RFC3339`.
    pub evidence: Vec<String>,
    /// What the number means or leaves out.
    pub note: String,
}

/// A metric summarised over the weeks of one regime.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegimeSummary {
    /// Regime id (`none` for weeks outside every regime).
    pub regime: String,
    /// Metric.
    #[schema(value_type = String)]
    pub metric: &'static str,
    /// Place.
    pub place: String,
    /// Split.
    pub split: String,
    /// Weeks.
    pub weeks: usize,
    /// Mean weekly value.
    pub mean: f64,
    /// 95 % interval of the mean (normal approximation), low.
    pub low: f64,
    /// See [`Self::low`].
    pub high: f64,
}

/// A change in the daily rate of departures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangePoint {
    /// Metric (`departures`).
    #[schema(value_type = String)]
    pub metric: &'static str,
    /// Port id or group (`group:ua_sea`).
    pub place: String,
    /// First day of the new rate, `YYYY-MM-DD`.
    pub date: String,
    /// Departures per day before.
    pub before_per_day: f64,
    /// Departures per day after (to the next change point).
    pub after_per_day: f64,
    /// Log-likelihood ratio of the split (Poisson rates).
    pub llr: f64,
    /// Regimes in force on the day.
    pub regimes: Vec<String>,
}

/// Vessels displaced together: interference, not a ship's act.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cluster {
    /// The interference event.
    pub event: i64,
    /// Centre of the false positions, degrees.
    pub lat: f64,
    /// See [`Self::lat`].
    pub lon: f64,
    /// Spread of the false positions, km.
    pub radius_km: f64,
    /// Where the vessels really were (the event's position), degrees.
    pub area_lat: f64,
    /// See [`Self::area_lat`].
    pub area_lon: f64,
    /// Vessels displaced.
    pub vessels: u32,
    /// RFC 3339.
    pub start: String,
    /// RFC 3339.
    pub end: String,
}

/// A call at an occupied port.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OccupiedCall {
    /// The port-call event (absent for a river-port visit).
    pub event: Option<i64>,
    /// Port id.
    pub port: String,
    /// MMSI.
    pub mmsi: u32,
    /// IMO broadcast at the time.
    pub imo: Option<u32>,
    /// Name broadcast at the time.
    pub name: String,
    /// Flag (from the MMSI).
    pub flag: Option<String>,
    /// The first report in port, RFC 3339.
    pub arrival: String,
    /// RFC 3339, when seen leaving.
    pub departure: Option<String>,
    /// Status on the day of arrival: `listed:<list>`, `date_unknown:<list>`,
    /// `not_yet_listed:<list>` or `not_listed`.
    pub list_status: String,
    /// The gap event of a dark approach, when one ended within the window before arrival.
    pub dark_approach: Option<i64>,
}

/// An incident the user gives: an attack, a detention.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    /// When, unix seconds.
    pub time: i64,
    /// A registry port id (the change is measured there and for its group), or empty.
    pub place: String,
    /// The vessel (MMSI, IMO or name), when one.
    pub vessel: String,
    /// What happened.
    pub description: String,
}

/// Traffic around an incident: departures per day in the 28 days before, and the 7 and 14
/// days after (each window cut to the days the data covers).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentEffect {
    /// Incident index in the file (0-based).
    pub incident: usize,
    /// RFC 3339.
    pub time: String,
    /// Port id or group.
    pub place: String,
    /// Departures per day, 28 days before.
    pub before_per_day: f64,
    /// Departures per day, 7 days after.
    pub after7_per_day: f64,
    /// Departures per day, 14 days after.
    pub after14_per_day: f64,
    /// Change over 7 days, percent of before (`None` when nothing departed before).
    pub change7_pct: Option<f64>,
    /// Change over 14 days.
    pub change14_pct: Option<f64>,
    /// The departures counted after (port-call event ids).
    pub events: Vec<i64>,
}

/// What the monitor found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Registry name and version.
    pub registry: String,
    /// First day, RFC 3339.
    pub from: String,
    /// End (exclusive), RFC 3339.
    pub to: String,
    /// Positions read inside the registry's box and period.
    pub positions: u64,
    /// The gates, with what each direction means.
    pub gates: Vec<crate::registry::Gate>,
    /// Weekly rows.
    pub rows: Vec<Row>,
    /// Per regime.
    pub regimes: Vec<RegimeSummary>,
    /// Change points in daily departures.
    pub change_points: Vec<ChangePoint>,
    /// Spoofing clusters.
    pub clusters: Vec<Cluster>,
    /// Calls at occupied ports.
    pub occupied_calls: Vec<OccupiedCall>,
    /// Incidents and the traffic after them.
    pub incidents: Vec<IncidentEffect>,
    /// Every departure from a registry port seen leaving (for incidents asked later).
    #[serde(skip)]
    pub departures: Vec<Departure>,
    /// The period, unix seconds (start, exclusive end).
    #[serde(skip)]
    pub span: (i64, i64),
}

/// A departure from a registry port.
#[derive(Debug, Clone)]
pub struct Departure {
    /// Port id.
    pub port: String,
    /// Its group.
    pub group: PortGroup,
    /// Last report in port, unix seconds.
    pub time: i64,
    /// The port-call event (none for a river-port visit).
    pub event: Option<i64>,
}

/// Departures per day around each incident: in the 28 days before, the 7 and 14 days after,
/// at the incident's port and its group, or (no port given) at every Ukrainian sea port and
/// their group. Each window is cut to the data's `span` (a rate over the days the data
/// covers, not over days it does not).
pub fn incident_effects(
    registry: &Registry,
    departures: &[Departure],
    span: (i64, i64),
    incidents: &[Incident],
) -> Vec<IncidentEffect> {
    let mut out = Vec::new();
    for (n, inc) in incidents.iter().enumerate() {
        let mut places: Vec<String> = Vec::new();
        if let Some(p) = registry.ports.iter().find(|p| p.id == inc.place) {
            places.push(p.id.clone());
            places.push(format!("group:{}", p.group.as_str()));
        } else {
            places.extend(
                registry
                    .ports
                    .iter()
                    .filter(|p| p.group == PortGroup::UaSea)
                    .map(|p| p.id.clone()),
            );
            places.push("group:ua_sea".into());
        }
        for place in places {
            let counted = |a: i64, b: i64| -> Vec<&Departure> {
                departures
                    .iter()
                    .filter(|d| {
                        (d.port == place || format!("group:{}", d.group.as_str()) == place)
                            && d.time >= a
                            && d.time < b
                    })
                    .collect()
            };
            // Days of [a, b) the data covers.
            let days =
                |a: i64, b: i64| ((b.min(span.1) - a.max(span.0)) as f64 / DAY as f64).max(0.0);
            let per_day = |n: usize, d: f64| if d > 0.0 { n as f64 / d } else { 0.0 };
            let b0 = inc.time - 28 * DAY;
            let before = per_day(counted(b0, inc.time).len(), days(b0, inc.time));
            let a7 = counted(inc.time, inc.time + 7 * DAY);
            let a14 = counted(inc.time, inc.time + 14 * DAY);
            let pct = |after: f64| {
                (before > 0.0).then(|| ((after - before) / before * 1000.0).round() / 10.0)
            };
            let r7 = per_day(a7.len(), days(inc.time, inc.time + 7 * DAY));
            let r14 = per_day(a14.len(), days(inc.time, inc.time + 14 * DAY));
            out.push(IncidentEffect {
                incident: n,
                time: rfc3339(inc.time),
                place,
                before_per_day: (before * 100.0).round() / 100.0,
                after7_per_day: (r7 * 100.0).round() / 100.0,
                after14_per_day: (r14 * 100.0).round() / 100.0,
                change7_pct: pct(r7),
                change14_pct: pct(r14),
                events: a14.iter().filter_map(|d| d.event).collect(),
            });
        }
    }
    out
}

/// Regions the darkness and STS metrics are reported by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Region {
    /// Within a Ukrainian port's circle: ships go dark there for safety.
    UaPorts,
    /// The corridor zone.
    UaCorridor,
    /// East of the "eastern Black Sea" line.
    East,
    /// West of it.
    West,
}

impl Region {
    fn as_str(self) -> &'static str {
        match self {
            Region::UaPorts => "ua_ports",
            Region::UaCorridor => "ua_corridor",
            Region::East => "east_of_line",
            Region::West => "west_of_line",
        }
    }
    const ALL: [Region; 4] = [
        Region::UaPorts,
        Region::UaCorridor,
        Region::East,
        Region::West,
    ];
}

/// Ship types as the monitor splits them (ITU-R M.1371 Table 53).
fn category(ship_type: Option<u8>) -> &'static str {
    match ship_type {
        Some(80..=89) => "tanker",
        Some(70..=79) => "cargo",
        Some(60..=69) => "passenger",
        Some(35) | Some(55) => "state",
        Some(_) => "other",
        None => "unknown",
    }
}

fn rfc3339(t: i64) -> String {
    Timestamp::from_unix_seconds(t).to_string()
}

fn day_text(t: i64) -> String {
    rfc3339(t).get(..10).unwrap_or("").to_owned()
}

fn confidence(coverage: f64) -> &'static str {
    if coverage >= 0.85 {
        "high"
    } else if coverage >= 0.5 {
        "medium"
    } else {
        "low"
    }
}

/// A vessel's identity at `t`: the period covering it, else the nearest.
struct Identities<'a> {
    by_mmsi: HashMap<u32, Vec<&'a IdentityPeriod>>,
}

impl<'a> Identities<'a> {
    fn new(all: &'a [IdentityPeriod]) -> Self {
        let mut by_mmsi: HashMap<u32, Vec<&IdentityPeriod>> = HashMap::new();
        for i in all {
            by_mmsi.entry(i.mmsi).or_default().push(i);
        }
        for v in by_mmsi.values_mut() {
            v.sort_by_key(|i| i.first_seen);
        }
        Identities { by_mmsi }
    }

    fn at(&self, mmsi: u32, t: i64) -> Option<&'a IdentityPeriod> {
        let v = self.by_mmsi.get(&mmsi)?;
        v.iter()
            .rev()
            .find(|i| i.first_seen <= t)
            .or_else(|| v.first())
            .copied()
    }

    fn ship_type(&self, mmsi: u32, t: i64) -> Option<u8> {
        self.at(mmsi, t).and_then(|i| i.ship_type).or_else(|| {
            self.by_mmsi
                .get(&mmsi)?
                .iter()
                .rev()
                .find_map(|i| i.ship_type)
        })
    }
}

fn list_status(matches: &[&ScreenMatch], day: &str) -> String {
    let mut best: Option<(u8, String)> = None;
    for m in matches {
        let state = ListingState::as_of(m.listed_on.as_deref(), day);
        let rank = match state {
            ListingState::Listed => 3,
            ListingState::DateUnknown => 2,
            ListingState::NotYetListed => 1,
        };
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, format!("{}:{}", state.as_str(), m.list)));
        }
    }
    best.map(|(_, s)| s).unwrap_or_else(|| "not_listed".into())
}

/// A call at a registry port.
struct Call {
    port: usize,
    mmsi: u32,
    /// The arrival: the first report in port, or for a dark approach the time estimated
    /// from the last report before the silence.
    arrive: i64,
    /// The first report in port.
    seen: i64,
    /// The arrival was seen (the call does not begin at the vessel's first report).
    arrived: bool,
    depart: Option<i64>,
    /// The port-call events of the call (more than one when a re-entry was merged).
    events: Vec<i64>,
    /// The AIS destination set on arrival (`None`: no voyage report heard).
    destination: Option<String>,
}

struct Crossing {
    gate: usize,
    mmsi: u32,
    t: i64,
    direction: GateDirection,
    /// The gap event of a crossing made dark.
    gap: Option<i64>,
}

struct AreaVisit {
    id: String,
    mmsi: u32,
    first: i64,
    last: i64,
    entered: bool,
}

/// Daily and weekly buckets of the period.
struct Calendar {
    from: i64,
    to: i64,
    weeks: Vec<i64>,
}

impl Calendar {
    fn new(from: i64, to: i64) -> Calendar {
        let mut weeks = Vec::new();
        let mut w = week_start(from);
        while w < to {
            weeks.push(w);
            w += WEEK;
        }
        Calendar { from, to, weeks }
    }

    fn week_of(&self, t: i64) -> Option<usize> {
        if t < self.from || t >= self.to {
            return None;
        }
        let first = *self.weeks.first()?;
        usize::try_from((week_start(t) - first) / WEEK).ok()
    }

    fn days(&self) -> usize {
        usize::try_from((self.to - self.from + DAY - 1) / DAY).unwrap_or(0)
    }

    fn day_of(&self, t: i64) -> Option<usize> {
        if t < self.from || t >= self.to {
            return None;
        }
        usize::try_from((t - self.from) / DAY).ok()
    }
}

/// The arrival time of a call whose first report in port (`first`) ends a gap (`gap`: its
/// start and last position before the silence): the vessel's position and speed then,
/// sailing on to `port` — straight, or when the straight way crosses land (round a cape,
/// from the Kerch Strait round Crimea to Sevastopol) along the shortest way at sea to the
/// water off the port ([`sea_way_m`]) — never before the silence began nor after the first
/// report in port. `first` itself when the call does not end a gap, when the speed before
/// is unknown or below 3 kn (a vessel waiting, whose move in cannot be timed), when no
/// way at sea is found, or when the silence lasted far longer than the way in
/// ([`DARK_DETOUR_FACTOR`]: the vessel did something else before it came in).
fn dark_arrival(
    gap: Option<&(i64, LatLon)>,
    speed_at: impl Fn(i64) -> Option<f32>,
    port: LatLon,
    first: i64,
    land: &Land,
) -> i64 {
    let Some(&(off, at)) = gap else {
        return first;
    };
    let metres = haversine_m(at, port);
    // The way in, short of the harbour (a port's point and its breakwaters may lie on the
    // coastline's land).
    let short = {
        let (d, b) = (
            (metres - 10_000.0).max(0.0),
            bearing_deg(at, port).to_radians(),
        );
        offset_m(at, d * b.cos(), d * b.sin())
    };
    let Some(kn) = speed_at(off).filter(|&kn| kn >= 3.0) else {
        return first;
    };
    let metres = if land.segment_touches(at, short) {
        match sea_way_m(land, at, port) {
            Some(m) => m,
            None => return first,
        }
    } else {
        metres
    };
    let hours = metres / 1852.0 / f64::from(kn);
    // A silence far longer than the way in: the vessel did something else first (waited,
    // met another ship, went elsewhere); when it came in is not known from before.
    if (first - off) as f64 / HOUR as f64 > DARK_DETOUR_FACTOR * hours + DARK_DETOUR_HOURS {
        return first;
    }
    (off + (hours * HOUR as f64) as i64).clamp(off, first)
}

/// The last report before a silence that ends at `key` (vessel, first report after it):
/// the start of a gap event ending there (`gap_on`, its speed from `gap_off`), else
/// `previous` (the report before on the same track) when the vessel went unheard on its
/// track for at least [`UNHEARD_APPROACH`] before. `None`: heard all the way in.
fn silence_before(
    gap_on: &HashMap<(u32, i64), (i64, LatLon)>,
    gap_off: &HashMap<(u32, i64), Option<f32>>,
    key: (u32, i64),
    previous: Option<Heard>,
) -> Option<Heard> {
    match gap_on.get(&key) {
        Some(&(off, at)) => Some((off, at, gap_off.get(&(key.0, off)).copied().flatten())),
        None => previous.filter(|&(t, _, _)| key.1 - t >= UNHEARD_APPROACH),
    }
}

/// When a vessel heard all the way in crossed into a port's circle (`radius_m` round
/// `port`, the port-call detector's entry radius): on the straight way from its report
/// before (`before`, outside the circle) to its first report in port (`first`, inside), at
/// the even pace the two reports imply. The first report's time when the report before is
/// not outside or the first not inside the circle.
fn circle_entry(before: (i64, LatLon), first: (i64, LatLon), port: LatLon, radius_m: f64) -> i64 {
    let ((t0, a), (t1, b)) = (before, first);
    if t1 <= t0 || haversine_m(a, port) <= radius_m || haversine_m(b, port) > radius_m {
        return t1;
    }
    // The way's fraction where it enters the circle, halved down to well under a metre.
    let (mut out, mut within) = (0.0, 1.0);
    for _ in 0..24 {
        let mid = 0.5 * (out + within);
        if haversine_m(a.lerp(b, mid), port) > radius_m {
            out = mid;
        } else {
            within = mid;
        }
    }
    (t0 + ((t1 - t0) as f64 * within).round() as i64).clamp(t0, t1)
}

/// When a vessel left port: when it set off from its last stop inside (`last_stop`; the
/// first report outside, `end`, comes minutes later): between that stop and the report after
/// it on the same track (`after`, with the stop's position), see [`set_off`]; the last stop
/// when the report after is not known. When the vessel was unheard for longer than
/// [`DEPARTURE_SILENCE`] between the stop and the first report outside (its reports displaced
/// by interference onto another track, or a silence), the departure is timed back from the
/// first report outside at its speed (`exit_sog`, at least 3 kn) over the straight way from
/// the port — never before the last stop nor after `end`; the last stop when that speed is
/// not known.
fn departure(
    d: &PortCallDetails,
    end: i64,
    exit_sog: Option<f32>,
    after: Option<(LatLon, Heard)>,
    port: LatLon,
) -> i64 {
    let Some(stop) = d.last_stop else {
        return end;
    };
    if end - stop <= DEPARTURE_SILENCE {
        return after.map_or(stop, |(at, moving)| set_off((stop, at), moving));
    }
    let (Some(kn), Some(out)) = (
        exit_sog.filter(|&kn| kn >= 3.0),
        d.evidence.get(1).filter(|x| x.t == end),
    ) else {
        return stop;
    };
    let hours = haversine_m(port, LatLon::new(out.lat, out.lon)) / 1852.0 / f64::from(kn);
    (end - (hours * HOUR as f64) as i64).clamp(stop, end)
}

/// When a vessel set off from where it stood: its first report moving (`moving`: time,
/// position, speed) timed back at that speed over the way from its last report standing
/// (`stood`: time, position) — never before that report nor after the first moving one
/// (a reporting interval apart: three minutes at anchor, enough to put a departure on the
/// other side of Monday 00:00). The report standing's time when the speed is not known or
/// below 0.5 kn.
fn set_off(stood: (i64, LatLon), moving: Heard) -> i64 {
    let ((t0, a), (t1, b, kn)) = (stood, moving);
    let Some(kn) = kn.filter(|&kn| kn >= 0.5) else {
        return t0;
    };
    let seconds = haversine_m(a, b) / (f64::from(kn) * 1852.0 / 3600.0);
    (t1 - seconds.round() as i64).clamp(t0, t1.max(t0))
}

/// Speed at or below which a vessel in a river port's circle stands (at a berth or
/// anchored), knots: river ports' calls are zone visits, and their departure is when the
/// vessel set off from where it last stood ([`set_off`]).
const RIVER_STOPPED_KN: f32 = 0.5;

/// Seconds between the last stop in port and the first report outside beyond which the
/// vessel's way out went unheard (see [`departure`]); longer than a slow move out of a
/// port's circle.
const DEPARTURE_SILENCE: i64 = 2 * HOUR;

/// Seconds a vessel went unheard on its track before its first report in port beyond which
/// its arrival is estimated from its last report before (as a dark approach's is): about the
/// time a ship at 12 kn takes to cross a port's circle twice.
const UNHEARD_APPROACH: i64 = 30 * 60;

/// A report as the arrival estimate needs it: time, position, speed (knots).
type Heard = (i64, LatLon, Option<f32>);

/// The last report of a vessel's most recent track segments, to find the report before one
/// on the same track (a vessel whose reports are displaced by interference has them on a
/// track of their own meanwhile).
#[derive(Debug, Default)]
struct SegmentTails(Vec<(u64, Heard)>);

impl SegmentTails {
    /// Segments remembered.
    const KEPT: usize = 4;

    /// Notes `heard` on `segment`; returns the segment's report before it, if remembered.
    /// (Reports come in time order per day; a day written in parts is read part by part,
    /// so an older report does not replace a newer one.)
    fn hear(&mut self, segment: u64, heard: Heard) -> Option<Heard> {
        match self.0.iter_mut().find(|x| x.0 == segment) {
            Some(x) => {
                let before = x.1;
                if before.0 <= heard.0 {
                    x.1 = heard;
                }
                (before.0 < heard.0).then_some(before)
            }
            None => {
                if self.0.len() == Self::KEPT {
                    self.0.remove(0);
                }
                self.0.push((segment, heard));
                None
            }
        }
    }
}

/// A dark approach is timed from before the silence only when the silence lasted at most
/// this many times the way in, plus [`DARK_DETOUR_HOURS`].
const DARK_DETOUR_FACTOR: f64 = 3.0;
/// See [`DARK_DETOUR_FACTOR`].
const DARK_DETOUR_HOURS: f64 = 12.0;

/// Metres from `at` to `port` at sea: the shortest land-free way to the water nearest the
/// port (a port's point, its breakwaters and berths may lie on the coastline's land: the
/// first point at sea on rings of 1, 2, 5 and 10 km round it), then straight on to the
/// port's point. `None` when `at` is on land or no way is found.
fn sea_way_m(land: &Land, at: LatLon, port: LatLon) -> Option<f64> {
    let off_port = if land.contains(port) {
        [1_000.0, 2_000.0, 5_000.0, 10_000.0]
            .iter()
            .find_map(|&r| {
                (0..16)
                    .map(|k| {
                        let b = f64::from(k) * std::f64::consts::TAU / 16.0;
                        offset_m(port, r * b.cos(), r * b.sin())
                    })
                    .filter(|&p| !land.contains(p))
                    .min_by(|&p, &q| haversine_m(p, at).total_cmp(&haversine_m(q, at)))
            })?
    } else {
        port
    };
    let path = shadowfleet_geo::sea_path(land, at, off_port)?;
    let along: f64 = path.windows(2).map(|w| haversine_m(w[0], w[1])).sum();
    Some(along + haversine_m(off_port, port))
}

/// Runs the monitor.
pub fn monitor(
    store: &Store,
    registry: &Registry,
    inputs: &Inputs<'_>,
    options: &Options,
) -> Result<Report, MonitorError> {
    let ids = Identities::new(inputs.identities);
    let mut matches: HashMap<u32, Vec<&ScreenMatch>> = HashMap::new();
    for m in inputs.matches {
        matches.entry(m.mmsi).or_default().push(m);
    }
    let in_box = |e: &StoredEvent| registry.contains(LatLon::new(e.event.lat, e.event.lon));

    // The period: what the user asks, else the events' span in the box.
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for e in inputs.events.iter().filter(|e| in_box(e)) {
        lo = lo.min(e.event.start);
        hi = hi.max(e.event.end);
    }
    let from = options.from.unwrap_or(lo.div_euclid(DAY) * DAY);
    let to = options.to.unwrap_or((hi.div_euclid(DAY) + 1) * DAY);
    if from == i64::MAX || to <= from {
        return Err(MonitorError::Empty(format!(
            "no event of the store lies in the {} registry's box {:?}{}: analyze AIS of the Black Sea first",
            registry.name,
            registry.bbox,
            if options.from.is_some() || options.to.is_some() { " and period" } else { "" }
        )));
    }
    let cal = Calendar::new(from, to);
    let n_weeks = cal.weeks.len();

    // One pass over the positions in the box: coverage, vessel-days, state vessels, and the
    // zone detector's gate crossings and anchorage visits.
    let mut zd = ZoneDetector::new(
        ZoneConfig {
            max_gap_hours: 12.0,
            ..ZoneConfig::default()
        },
        registry.detector_zones(),
    );
    let gate_index: HashMap<&str, usize> = registry
        .gates
        .iter()
        .enumerate()
        .map(|(i, g)| (g.id.as_str(), i))
        .collect();
    let mut crossings: Vec<Crossing> = Vec::new();
    let mut visits: Vec<AreaVisit> = Vec::new();
    let mut dense: HashMap<u32, u32> = HashMap::new();
    let mut port_days: HashSet<(usize, usize)> = HashSet::new();
    let mut anchorage_days: HashSet<(usize, usize)> = HashSet::new();
    let mut region_days: HashSet<(Region, usize)> = HashSet::new();
    let mut any_days: HashSet<usize> = HashSet::new();
    let mut vessel_days: HashSet<(Region, usize, u32)> = HashSet::new();
    let mut state_hours: BTreeMap<usize, HashSet<(u32, i64)>> = BTreeMap::new();
    let mut state_evidence: BTreeMap<usize, BTreeSet<u32>> = BTreeMap::new();
    let mut positions = 0u64;
    // Stretches stopped in each queue anchorage, per vessel: (first, last) report.
    let mut stopped: HashMap<(u32, usize), Vec<(i64, i64)>> = HashMap::new();
    let rejoin_s = (options.rejoin_hours * HOUR as f64) as i64;
    let ua_ports: Vec<LatLon> = registry
        .ports
        .iter()
        .filter(|p| matches!(p.group, PortGroup::UaSea | PortGroup::UaDanube))
        .map(|p| p.position)
        .collect();
    let region_of = |p: LatLon| -> Region {
        if ua_ports.iter().any(|&u| haversine_m(u, p) <= 15_000.0) {
            Region::UaPorts
        } else if registry
            .zones
            .iter()
            .any(|z| z.reference.id == "UA-CORRIDOR" && z.contains(p))
        {
            Region::UaCorridor
        } else if registry.west_of_line(p) {
            Region::West
        } else {
            Region::East
        }
    };
    // Gaps by their last report before the silence (its speed is read in the pass below)
    // and by their first report after it: a call that begins with a gap's end was
    // approached dark, and its arrival is estimated from where and how fast the vessel
    // went before the silence.
    let mut gap_off: HashMap<(u32, i64), Option<f32>> = HashMap::new();
    let mut gap_on: HashMap<(u32, i64), (i64, LatLon)> = HashMap::new();
    // Likewise the first report outside of calls whose vessel was unheard in port for a
    // while before it (its speed is read in the pass): the departure is estimated from it.
    let mut exit_sog: HashMap<(u32, i64), Option<f32>> = HashMap::new();
    let port_index: HashMap<&str, usize> = registry
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    // Calls at the places table's ports with an observed entry that ends no gap: when the
    // vessel went unheard on its track for a while before its first report in port (out of
    // coverage, or its reports displaced onto another track by interference), its arrival is
    // estimated like a dark one, from its last report on the same track (filled in the pass).
    let mut unheard_in: HashMap<(u32, i64), Option<Heard>> = HashMap::new();
    // The last report of each track segment of the vessels whose calls are in `unheard_in`
    // (a few segments per vessel: a vessel's displaced reports make a track of their own).
    let mut last_on_segment: HashMap<u32, SegmentTails> = HashMap::new();
    // Every vessel's last report and its track segment, and for each entry into a queue
    // anchorage's circle (vessel, first report inside) the report before on the same track:
    // a wait whose approach went unheard is timed from it.
    let mut last_heard: HashMap<u32, (u64, Heard)> = HashMap::new();
    let mut queue_entry_before: HashMap<(u32, i64), Heard> = HashMap::new();
    // The report after a call's last stop in port (vessel, last stop), with the stop's
    // position: the vessel set off between the two (see [`set_off`]).
    let mut after_stop: HashMap<(u32, i64), Option<(LatLon, Heard)>> = HashMap::new();
    // When vessels set off from where they stood in a river port's circle (vessel, port).
    let mut river_set_off: HashMap<(u32, usize), Vec<i64>> = HashMap::new();
    for e in inputs.events {
        if let EventDetails::PortCall(d) = &e.event.details {
            if let Some(stop) = d.last_stop.filter(|_| d.exit) {
                after_stop.insert((e.event.mmsi, stop), None);
            }
            if d.exit
                && d.last_stop
                    .is_some_and(|s| e.event.end - s > DEPARTURE_SILENCE)
            {
                exit_sog.insert((e.event.mmsi, e.event.end), None);
            }
            if d.entry
                && port_index
                    .get(d.place.id.as_str())
                    .is_some_and(|&i| registry.ports[i].in_places)
            {
                unheard_in.insert((e.event.mmsi, e.event.start), None);
                last_on_segment.entry(e.event.mmsi).or_default();
            }
        }
        if let EventDetails::Gap(_) = &e.event.details {
            gap_off.insert((e.event.mmsi, e.event.start), None);
            gap_on.insert(
                (e.event.mmsi, e.event.end),
                (e.event.start, LatLon::new(e.event.lat, e.event.lon)),
            );
        }
    }
    let query = PositionQuery {
        mmsis: Vec::new(),
        from: Some(from),
        to: Some(to - 1),
    };
    {
        let mut on_finding = |f: Finding| match f {
            Finding::Crossing {
                zone,
                before,
                t,
                direction,
                ..
            } => {
                if let Some(&g) = gate_index.get(zone.reference.id.as_str()) {
                    crossings.push(Crossing {
                        gate: g,
                        mmsi: before.mmsi,
                        t,
                        direction,
                        gap: None,
                    });
                }
            }
            Finding::Visit { visit, zone, .. } => visits.push(AreaVisit {
                id: zone.reference.id.clone(),
                mmsi: visit.first.mmsi,
                first: visit.first.t,
                last: visit.last.t,
                entered: visit.entered,
            }),
        };
        store.read_positions(&query, &mut |tp| {
            let r = tp.position;
            if let Some(tails) = last_on_segment.get_mut(&r.mmsi) {
                let before = tails.hear(tp.segment, (r.t, r.pos, r.sog_knots));
                if let Some(b) = unheard_in.get_mut(&(r.mmsi, r.t)) {
                    *b = before;
                }
            }
            let previous = last_heard.get(&r.mmsi).copied();
            // (A day written in parts is read part by part: an older report read later does
            // not replace a newer one.)
            if previous.is_none_or(|(_, h)| h.0 <= r.t) {
                last_heard.insert(r.mmsi, (tp.segment, (r.t, r.pos, r.sog_knots)));
            }
            let previous = previous
                .filter(|&(segment, h)| segment == tp.segment && h.0 < r.t)
                .map(|(_, h)| h);
            if let Some(p) = previous {
                if let Some(slot) = after_stop.get_mut(&(r.mmsi, p.0)) {
                    *slot = Some((p.1, (r.t, r.pos, r.sog_knots)));
                }
            }
            if let Some(sog) = gap_off.get_mut(&(r.mmsi, r.t)) {
                *sog = r.sog_knots;
            }
            if let Some(sog) = exit_sog.get_mut(&(r.mmsi, r.t)) {
                *sog = r.sog_knots;
            }
            if !registry.contains(r.pos) {
                return;
            }
            positions += 1;
            let Some(day) = cal.day_of(r.t) else {
                return;
            };
            any_days.insert(day);
            let region = region_of(r.pos);
            region_days.insert((region, day));
            vessel_days.insert((region, day, r.mmsi));
            if let Some(i) = registry.port_at(r.pos) {
                port_days.insert((i, day));
                // A vessel moving off from where it stood in a river port.
                let stood = |kn: Option<f32>| kn.is_some_and(|v| v <= RIVER_STOPPED_KN);
                if let Some(p) = previous.filter(|p| {
                    !registry.ports[i].in_places
                        && stood(p.2)
                        && r.sog_knots.is_some_and(|v| v > RIVER_STOPPED_KN)
                        && registry.port_at(p.1) == Some(i)
                }) {
                    river_set_off
                        .entry((r.mmsi, i))
                        .or_default()
                        .push(set_off((p.0, p.1), (r.t, r.pos, r.sog_knots)));
                }
            }
            for (i, a) in registry.anchorages.iter().enumerate() {
                let (centre, radius) = (LatLon::new(a.lat, a.lon), a.radius_km * 1000.0);
                if haversine_m(r.pos, centre) <= radius {
                    anchorage_days.insert((i, day));
                    if let Some(p) =
                        previous.filter(|p| a.queue && haversine_m(p.1, centre) > radius)
                    {
                        queue_entry_before.insert((r.mmsi, r.t), p);
                    }
                    if a.queue
                        && r.sog_knots
                            .is_some_and(|v| f64::from(v) <= options.queue_max_sog_kn)
                    {
                        let spans = stopped.entry((r.mmsi, i)).or_default();
                        match spans.last_mut() {
                            Some(last) if r.t >= last.1 && r.t - last.1 <= rejoin_s => {
                                last.1 = r.t;
                            }
                            _ => spans.push((r.t, r.t)),
                        }
                    }
                }
            }
            if category(ids.ship_type(r.mmsi, r.t)) == "state" && registry.west_of_line(r.pos) {
                if let Some(w) = cal.week_of(r.t) {
                    state_hours
                        .entry(w)
                        .or_default()
                        .insert((r.mmsi, r.t / HOUR));
                    state_evidence.entry(w).or_default().insert(r.mmsi);
                }
            }
            let next = dense.len() as u32;
            let vessel = *dense.entry(r.mmsi).or_insert(next);
            zd.push(
                &TrackPoint {
                    position: r,
                    vessel,
                    segment: tp.segment,
                    previous: None,
                },
                &mut on_finding,
            );
        })?;
        zd.finish(&mut on_finding);
    }
    let coverage_days = |days: &dyn Fn(usize) -> bool, w: usize| -> f64 {
        let start = cal.weeks[w].max(cal.from);
        let end = (cal.weeks[w] + WEEK).min(cal.to);
        let (mut n, mut k) = (0, 0);
        let mut t = start;
        while t < end {
            if let Some(d) = cal.day_of(t) {
                n += 1;
                if days(d) {
                    k += 1;
                }
            }
            t += DAY;
        }
        if n == 0 {
            0.0
        } else {
            f64::from(k) / f64::from(n)
        }
    };
    let regimes_of_week = |w: usize| -> Vec<String> {
        registry
            .regimes_at(cal.weeks[w] + 3 * DAY + DAY / 2)
            .map(|r| r.id.clone())
            .collect()
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut push = |w: usize,
                    metric: &'static str,
                    place: &str,
                    split: &str,
                    value: f64,
                    coverage: f64,
                    events: Vec<i64>,
                    evidence: Vec<String>,
                    note: &str| {
        rows.push(Row {
            week: iso_week(cal.weeks[w]),
            week_start: rfc3339(cal.weeks[w]),
            metric,
            place: place.to_owned(),
            split: split.to_owned(),
            value: (value * 1000.0).round() / 1000.0,
            confidence: confidence(coverage),
            coverage: (coverage * 100.0).round() / 100.0,
            regimes: regimes_of_week(w),
            events,
            evidence,
            note: note.to_owned(),
        });
    };

    // Port calls: the places table's from port-call events, river ports from visits.
    let mut calls: Vec<Call> = Vec::new();
    let mut last_ops: HashMap<u32, Vec<(i64, Operation)>> = HashMap::new();
    for e in inputs.events {
        if let EventDetails::PortCall(d) = &e.event.details {
            last_ops
                .entry(e.event.mmsi)
                .or_default()
                .push((e.event.end, d.operation));
            if let Some(&i) = port_index.get(d.place.id.as_str()) {
                if registry.ports[i].in_places {
                    // The last report before a silence ending in port: a gap's, else the
                    // last on the track when the vessel went unheard long enough.
                    let key = (e.event.mmsi, e.event.start);
                    let before = silence_before(
                        &gap_on,
                        &gap_off,
                        key,
                        unheard_in.get(&key).copied().flatten(),
                    );
                    let arrive = match before {
                        Some((off, at, sog)) => dark_arrival(
                            Some(&(off, at)),
                            |_| sog,
                            registry.ports[i].position,
                            e.event.start,
                            inputs.land,
                        ),
                        // Heard all the way in: when the way between the report before
                        // and the first in port crossed into the port-call circle.
                        None => unheard_in
                            .get(&key)
                            .copied()
                            .flatten()
                            .zip(d.evidence.first().filter(|x| x.t == e.event.start))
                            .map_or(e.event.start, |((t, at, _), x)| {
                                circle_entry(
                                    (t, at),
                                    (x.t, LatLon::new(x.lat, x.lon)),
                                    LatLon::new(e.event.lat, e.event.lon),
                                    inputs.port_entry_km * 1000.0,
                                )
                            }),
                    };
                    calls.push(Call {
                        port: i,
                        mmsi: e.event.mmsi,
                        arrive,
                        seen: e.event.start,
                        arrived: !e.event.truncated_start,
                        // Left the berth or anchorage: the last stopped report, else the
                        // first report outside; after a silence, timed back from the
                        // first report outside.
                        depart: (!e.event.truncated_end).then(|| {
                            departure(
                                d,
                                e.event.end,
                                exit_sog
                                    .get(&(e.event.mmsi, e.event.end))
                                    .copied()
                                    .flatten(),
                                d.last_stop
                                    .and_then(|s| after_stop.get(&(e.event.mmsi, s)))
                                    .copied()
                                    .flatten(),
                                registry.ports[i].position,
                            )
                        }),
                        events: vec![e.id],
                        destination: d.destination.clone(),
                    });
                }
            }
        }
    }
    for v in &visits {
        if let Some(&i) = port_index.get(v.id.as_str()) {
            let p = &registry.ports[i];
            if !p.in_places && (v.last - v.first) as f64 >= p.min_visit_hours * HOUR as f64 {
                calls.push(Call {
                    port: i,
                    mmsi: v.mmsi,
                    arrive: v.first,
                    seen: v.first,
                    arrived: v.entered,
                    // When it set off from where it last stood inside, else its last
                    // report inside.
                    depart: (v.last < to - 6 * HOUR).then(|| {
                        river_set_off
                            .get(&(v.mmsi, i))
                            .into_iter()
                            .flatten()
                            .copied()
                            .filter(|&t| t >= v.first && t <= v.last)
                            .max()
                            .unwrap_or(v.last)
                    }),
                    events: Vec::new(),
                    destination: None,
                });
            }
        }
    }
    for v in last_ops.values_mut() {
        v.sort_by_key(|x| x.0);
    }
    // One call, not two, when a vessel comes back into the port's circle soon after it left
    // (an anchorage-to-berth move that leaves the circle, a track split by interference).
    calls.sort_by_key(|c| (c.port, c.mmsi, c.arrive));
    let rejoin = (options.rejoin_hours * HOUR as f64) as i64;
    let mut merged: Vec<Call> = Vec::with_capacity(calls.len());
    for c in calls {
        match merged.last_mut() {
            Some(m)
                if m.port == c.port
                    && m.mmsi == c.mmsi
                    && m.depart.is_none_or(|d| c.arrive <= d + rejoin) =>
            {
                m.depart = match (m.depart, c.depart) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
                m.events.extend(c.events);
                if m.destination.is_none() {
                    m.destination = c.destination;
                }
            }
            _ => merged.push(c),
        }
    }
    let mut calls = merged;
    calls.sort_by_key(|c| (c.port, c.arrive, c.mmsi));
    for (i, port) in registry.ports.iter().enumerate() {
        let here: Vec<&Call> = calls.iter().filter(|c| c.port == i).collect();
        let seen = here.iter().any(|c| {
            cal.week_of(c.arrive).is_some() || c.depart.and_then(|d| cal.week_of(d)).is_some()
        }) || port_days.iter().any(|&(p, _)| p == i);
        if !seen {
            continue;
        }
        let of_call = port.of_call();
        for w in 0..n_weeks {
            let cov = coverage_days(&|d| port_days.contains(&(i, d)), w);
            let arrivals: Vec<&&Call> = here
                .iter()
                .filter(|c| c.arrived && cal.week_of(c.arrive) == Some(w))
                .collect();
            let departures: Vec<&&Call> = here
                .iter()
                .filter(|c| c.depart.and_then(|d| cal.week_of(d)) == Some(w))
                .collect();
            let ev = |v: &[&&Call]| {
                v.iter()
                    .flat_map(|c| c.events.iter().copied())
                    .collect::<Vec<_>>()
            };
            // A river port's calls are zone visits, not stored events: `MMSI@time` instead.
            let visit_evidence = |v: &[&&Call], time: fn(&Call) -> Option<i64>| {
                v.iter()
                    .filter(|c| c.events.is_empty())
                    .filter_map(|c| time(c).map(|t| format!("{}@{}", c.mmsi, rfc3339(t))))
                    .collect::<Vec<_>>()
            };
            let note = if port.group == PortGroup::UaSea || port.group == PortGroup::UaDanube {
                "Ukrainian port: ships often go dark here for safety; counts are a lower bound"
            } else {
                ""
            };
            push(
                w,
                "port_calls",
                &port.id,
                "all",
                arrivals.len() as f64,
                cov,
                ev(&arrivals),
                visit_evidence(&arrivals, |c| Some(c.arrive)),
                note,
            );
            push(
                w,
                "departures",
                &port.id,
                "all",
                departures.len() as f64,
                cov,
                ev(&departures),
                visit_evidence(&departures, |c| c.depart),
                note,
            );
            let mut by_type: BTreeMap<&str, (u32, u32, Vec<i64>)> = BTreeMap::new();
            for c in &arrivals {
                let e = by_type
                    .entry(category(ids.ship_type(c.mmsi, c.arrive)))
                    .or_default();
                e.0 += 1;
                e.2.extend(&c.events);
            }
            for c in &departures {
                let e = by_type
                    .entry(category(
                        ids.ship_type(c.mmsi, c.depart.unwrap_or(c.arrive)),
                    ))
                    .or_default();
                e.1 += 1;
            }
            for (ty, (a, d, evs)) in by_type {
                push(
                    w,
                    "port_calls",
                    &port.id,
                    ty,
                    f64::from(a),
                    cov,
                    evs,
                    Vec::new(),
                    "",
                );
                push(
                    w,
                    "departures",
                    &port.id,
                    ty,
                    f64::from(d),
                    cov,
                    Vec::new(),
                    Vec::new(),
                    "",
                );
            }
            let vessels: BTreeSet<u32> =
                arrivals.iter().chain(&departures).map(|c| c.mmsi).collect();
            push(
                w,
                "vessels",
                &port.id,
                "all",
                vessels.len() as f64,
                cov,
                Vec::new(),
                Vec::new(),
                "distinct vessels arriving or departing",
            );
            let mut hours: Vec<f64> = departures
                .iter()
                .filter_map(|c| c.depart.map(|d| (d - c.arrive) as f64 / HOUR as f64))
                .collect();
            if !hours.is_empty() {
                hours.sort_by(f64::total_cmp);
                push(
                    w,
                    "turnaround_median_h",
                    &port.id,
                    "all",
                    quantile(&hours, 0.5),
                    cov,
                    ev(&departures),
                    Vec::new(),
                    "",
                );
                push(
                    w,
                    "turnaround_p90_h",
                    &port.id,
                    "all",
                    quantile(&hours, 0.9),
                    cov,
                    ev(&departures),
                    Vec::new(),
                    "",
                );
            }
            // What the crews arriving had set as their AIS destination.
            let declared: Vec<(Declared, &&Call)> = arrivals
                .iter()
                .filter_map(|c| Some((classify(c.destination.as_deref()?, &of_call), *c)))
                .collect();
            if !declared.is_empty() {
                let n = declared.len() as f64;
                let share = |keep: &dyn Fn(Declared) -> bool| -> (f64, Vec<i64>, Vec<String>) {
                    let hit: Vec<&(Declared, &&Call)> =
                        declared.iter().filter(|(d, _)| keep(*d)).collect();
                    (
                        hit.len() as f64 / n,
                        hit.iter()
                            .flat_map(|(_, c)| c.events.iter().copied())
                            .collect(),
                        hit.iter()
                            .map(|(_, c)| {
                                format!("{}: {:?}", c.mmsi, c.destination.as_deref().unwrap_or(""))
                            })
                            .collect(),
                    )
                };
                let unheard = arrivals.len() - declared.len();
                let note = format!(
                    "share of {} arrivals with a destination heard ({unheard} without) whose AIS destination did not name the port or its country",
                    declared.len()
                );
                // The headline row links every arrival it classified (its denominator); its
                // evidence lists the destinations that did not name the port.
                let (v, _, evid) = share(&|d| d != Declared::Named);
                let all: Vec<i64> = declared
                    .iter()
                    .filter_map(|(_, c)| c.events.first().copied())
                    .collect();
                push(
                    w,
                    "destination_honesty",
                    &port.id,
                    "all",
                    v,
                    cov,
                    all,
                    evid,
                    &note,
                );
                for kind in [Declared::OtherPlace, Declared::Blank, Declared::ForOrders] {
                    let (v, evs, evid) = share(&|d| d == kind);
                    push(
                        w,
                        "destination_honesty",
                        &port.id,
                        kind.as_str(),
                        v,
                        cov,
                        evs,
                        evid,
                        "",
                    );
                }
            }
            if port.group == PortGroup::Occupied {
                push(w, "occupied_port_calls", &port.id, "all", arrivals.len() as f64, cov, ev(&arrivals), Vec::new(), "calls at a port under Russian occupation; see occupied_calls for IMO, flag, list status and dark approaches");
            }
        }
    }

    // Gate transits, laden or ballast by the draught change of the last port call.
    let laden_at = |mmsi: u32, t: i64| -> &'static str {
        match last_ops.get(&mmsi).and_then(|v| {
            v.iter()
                .rev()
                .find(|(end, op)| *end <= t && matches!(op, Operation::Load | Operation::Discharge))
        }) {
            Some((_, Operation::Load)) => "laden",
            Some((_, Operation::Discharge)) => "ballast",
            _ => "unknown",
        }
    };
    // Crossings made dark: a gap whose ends lie on either side of a gate (steps that long
    // are not tested by the zone detector, so none is counted twice).
    for e in inputs.events.iter() {
        let EventDetails::Gap(d) = &e.event.details else {
            continue;
        };
        if !in_box(e) && !registry.contains(LatLon::new(d.on_lat, d.on_lon)) {
            continue;
        }
        let (off, on) = (
            LatLon::new(e.event.lat, e.event.lon),
            LatLon::new(d.on_lat, d.on_lon),
        );
        // Across a strait: the basins it went dark and came back in give the gates.
        if let (Some(a), Some(b)) = (registry.basin_at(off), registry.basin_at(on)) {
            let path = if a == b {
                Vec::new()
            } else {
                registry.gates_between(a, b)
            };
            // Each crossing timed by the share of the way (off, the gates' midpoints, on)
            // covered when it reaches the gate: a ship that went dark beside the line and
            // came back a day's sailing away crossed it soon after it went dark.
            let mut stops: Vec<LatLon> = vec![off];
            stops.extend(path.iter().map(|&(g, _)| {
                let line = &registry.gates[g].line;
                let (a, b) = (line[0], line[line.len() - 1]);
                LatLon::new((a[1] + b[1]) / 2.0, (a[0] + b[0]) / 2.0)
            }));
            stops.push(on);
            let legs: Vec<f64> = stops.windows(2).map(|w| haversine_m(w[0], w[1])).collect();
            let total: f64 = legs.iter().sum();
            let n = path.len() as f64;
            for (k, &(g, from_left)) in path.iter().enumerate() {
                let share = if total > 0.0 {
                    legs[..=k].iter().sum::<f64>() / total
                } else {
                    (k as f64 + 1.0) / (n + 1.0)
                };
                crossings.push(Crossing {
                    gate: g,
                    mmsi: e.event.mmsi,
                    t: e.event.start + ((e.event.end - e.event.start) as f64 * share) as i64,
                    direction: if from_left {
                        GateDirection::LeftToRight
                    } else {
                        GateDirection::RightToLeft
                    },
                    gap: Some(e.id),
                });
            }
            if !path.is_empty() {
                continue;
            }
        }
        for (g, gate) in registry.gates.iter().enumerate() {
            if gate.left_basin.is_some() {
                // Strait gates are crossed dark only by the basin rule above.
                continue;
            }
            for l in gate.line.windows(2) {
                let (c, dd) = (LatLon::new(l[0][1], l[0][0]), LatLon::new(l[1][1], l[1][0]));
                if let Some((f, from_left)) = shadowfleet_geo::segments_cross(off, on, c, dd) {
                    crossings.push(Crossing {
                        gate: g,
                        mmsi: e.event.mmsi,
                        t: e.event.start + ((e.event.end - e.event.start) as f64 * f) as i64,
                        direction: if from_left {
                            GateDirection::LeftToRight
                        } else {
                            GateDirection::RightToLeft
                        },
                        gap: Some(e.id),
                    });
                }
            }
        }
    }
    for (g, gate) in registry.gates.iter().enumerate() {
        let here: Vec<&Crossing> = crossings.iter().filter(|c| c.gate == g).collect();
        if here.is_empty() {
            continue;
        }
        let mid = gate.line[gate.line.len() / 2];
        let region = region_of(LatLon::new(mid[1], mid[0]));
        for w in 0..n_weeks {
            let cov = coverage_days(&|d| region_days.contains(&(region, d)), w);
            let mut by: BTreeMap<String, (Vec<i64>, Vec<String>)> = BTreeMap::new();
            for dir in [&gate.left_to_right, &gate.right_to_left] {
                by.insert(dir.clone(), Default::default());
            }
            for c in here.iter().filter(|c| cal.week_of(c.t) == Some(w)) {
                let dir = match c.direction {
                    GateDirection::LeftToRight => &gate.left_to_right,
                    GateDirection::RightToLeft => &gate.right_to_left,
                };
                let ev = format!("{}@{}", c.mmsi, rfc3339(c.t));
                let mut splits = vec![dir.clone(), format!("{dir}/{}", laden_at(c.mmsi, c.t))];
                if c.gap.is_some() {
                    splits.push(format!("{dir}/dark"));
                }
                for split in splits {
                    let x = by.entry(split).or_default();
                    x.0.extend(c.gap);
                    x.1.push(ev.clone());
                }
            }
            for (split, (events, evidence)) in by {
                let note = if split.ends_with("/dark") {
                    "crossed while dark: the gap's ends lie on either side of the line (its events)"
                } else {
                    "laden/ballast from the draught change of the vessel's last port call; unknown when none was seen; dark crossings are inferred from gaps"
                };
                push(
                    w,
                    "gate_transits",
                    &gate.id,
                    &split,
                    evidence.len() as f64,
                    cov,
                    events,
                    evidence,
                    note,
                );
            }
        }
    }

    // Queues: vessels waiting at the queue anchorages.
    for (a, anchorage) in registry
        .anchorages
        .iter()
        .enumerate()
        .filter(|(_, a)| a.queue)
    {
        let centre = LatLon::new(anchorage.lat, anchorage.lon);
        // When each visit began: its first report, or when it ends a gap of the vessel or
        // follows a silence on its track (a wait whose approach went unheard: the Danube's
        // roads are poorly covered), the time the vessel would have got there from before
        // the silence, as a dark approach to a port is timed. Once per visit, not per week
        // (the way round land is searched for).
        let started: Vec<(&AreaVisit, i64)> = visits
            .iter()
            .filter(|v| v.id == anchorage.id)
            .map(|v| {
                let key = (v.mmsi, v.first);
                let start = silence_before(
                    &gap_on,
                    &gap_off,
                    key,
                    queue_entry_before.get(&key).copied(),
                )
                .map_or(v.first, |(off, at, sog)| {
                    dark_arrival(Some(&(off, at)), |_| sog, centre, v.first, inputs.land)
                });
                (v, start)
            })
            .collect();
        for w in 0..n_weeks {
            let cov = coverage_days(&|d| anchorage_days.contains(&(a, d)), w);
            // Time stopped inside during a visit: a ship passing through is not waiting. A
            // vessel stopped at its first report after a dark approach was waiting since it
            // came.
            let stopped_s = |v: &AreaVisit, start: i64| -> i64 {
                stopped
                    .get(&(v.mmsi, a))
                    .into_iter()
                    .flatten()
                    .map(|&(x, y)| {
                        let x = if x == v.first { start } else { x };
                        (y.min(v.last) - x.max(start)).max(0)
                    })
                    .sum()
            };
            let waits: Vec<(&AreaVisit, i64, i64)> = started
                .iter()
                .filter(|&&(_, start)| cal.week_of(start) == Some(w))
                .map(|&(v, start)| (v, start, stopped_s(v, start)))
                .filter(|&(_, _, s)| s as f64 >= options.queue_min_hours * HOUR as f64)
                .collect();
            let vessels: BTreeSet<u32> = waits.iter().map(|(v, _, _)| v.mmsi).collect();
            let evidence: Vec<String> = waits
                .iter()
                .map(|(v, start, _)| format!("{}@{}", v.mmsi, rfc3339(*start)))
                .collect();
            push(
                w,
                "queue",
                &anchorage.id,
                "all",
                vessels.len() as f64,
                cov,
                Vec::new(),
                evidence,
                "vessels that began a visit this week in which they waited (stopped) at least the queue time",
            );
            if !waits.is_empty() {
                let mut h: Vec<f64> = waits
                    .iter()
                    .map(|&(_, _, s)| s as f64 / HOUR as f64)
                    .collect();
                h.sort_by(f64::total_cmp);
                push(
                    w,
                    "queue_wait_median_h",
                    &anchorage.id,
                    "all",
                    quantile(&h, 0.5),
                    cov,
                    Vec::new(),
                    Vec::new(),
                    "time stopped inside (first to last report at or below the queue speed)",
                );
            }
        }
    }

    // Darkness: tanker gap-hours per tanker vessel-day in each region, over the same ratio of
    // the other ships in that region over the whole period (the coverage baseline).
    let mut gap_hours: HashMap<(Region, usize, bool), (f64, Vec<i64>)> = HashMap::new();
    let mut base_hours: HashMap<Region, f64> = HashMap::new();
    for e in inputs.events.iter().filter(|e| in_box(e)) {
        if let EventDetails::Gap(g) = &e.event.details {
            let Some(w) = cal.week_of(e.event.start) else {
                continue;
            };
            let region = region_of(LatLon::new(e.event.lat, e.event.lon));
            let tanker = category(ids.ship_type(e.event.mmsi, e.event.start)) == "tanker";
            let x = gap_hours.entry((region, w, tanker)).or_default();
            x.0 += g.hours;
            x.1.push(e.id);
            if !tanker {
                *base_hours.entry(region).or_default() += g.hours;
            }
        }
    }
    let mut days_by: HashMap<(Region, usize, bool), f64> = HashMap::new();
    let mut base_days: HashMap<Region, f64> = HashMap::new();
    for &(region, day, mmsi) in &vessel_days {
        let t = cal.from + day as i64 * DAY;
        let Some(w) = cal.week_of(t) else { continue };
        let tanker = category(ids.ship_type(mmsi, t)) == "tanker";
        *days_by.entry((region, w, tanker)).or_default() += 1.0;
        if !tanker {
            *base_days.entry(region).or_default() += 1.0;
        }
    }
    for region in Region::ALL {
        let baseline = match (base_hours.get(&region), base_days.get(&region)) {
            (Some(&h), Some(&d)) if d > 0.0 && h > 0.0 => Some(h / d),
            _ => None,
        };
        for w in 0..n_weeks {
            let cov = coverage_days(&|d| region_days.contains(&(region, d)), w);
            let days = days_by.get(&(region, w, true)).copied().unwrap_or(0.0);
            if days == 0.0 {
                continue;
            }
            let (hours, events) = gap_hours
                .get(&(region, w, true))
                .cloned()
                .unwrap_or_default();
            let rate = hours / days;
            let note = match (region, baseline) {
                (Region::UaPorts, _) => format!("{rate:.2} gap-h per tanker-day; Ukrainian ports: darkness here is a safety practice, never evasion"),
                (_, Some(b)) => format!("{rate:.2} gap-h per tanker-day over {b:.2} for other ships in the region (the coverage baseline)"),
                (_, None) => format!("{rate:.2} gap-h per tanker-day; no baseline (no gaps of other ships in the region): the value is the raw rate"),
            };
            push(
                w,
                "dark_index",
                region.as_str(),
                "tanker",
                baseline.map_or(rate, |b| rate / b),
                cov,
                events,
                Vec::new(),
                &note,
            );
        }
    }

    // Spoofing clusters: area-wide interference events in the box.
    let mut clusters = Vec::new();
    let mut cluster_weeks: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
    for e in inputs.events.iter() {
        if let EventDetails::Interference(d) = &e.event.details {
            let inside = registry.contains(LatLon::new(e.event.lat, e.event.lon))
                || registry.contains(LatLon::new(d.broadcast_lat, d.broadcast_lon));
            if !inside || d.vessel_count < 2 {
                continue;
            }
            if let Some(w) = cal.week_of(e.event.start) {
                cluster_weeks.entry(w).or_default().push(e.id);
            } else {
                continue;
            }
            clusters.push(Cluster {
                event: e.id,
                lat: d.broadcast_lat,
                lon: d.broadcast_lon,
                radius_km: d.broadcast_spread_km,
                area_lat: e.event.lat,
                area_lon: e.event.lon,
                vessels: d.vessel_count,
                start: rfc3339(e.event.start),
                end: rfc3339(e.event.end),
            });
        }
    }
    for w in 0..n_weeks {
        let cov = coverage_days(&|d| any_days.contains(&d), w);
        let ev = cluster_weeks.remove(&w).unwrap_or_default();
        push(
            w,
            "spoof_clusters",
            &registry.name,
            "all",
            ev.len() as f64,
            cov,
            ev,
            Vec::new(),
            "vessels displaced together to a common area: interference, not a ship's act",
        );
    }

    // STS in the zones: encounters by region, with the counterpart's list status.
    let mut sts: BTreeMap<(Region, usize), (Vec<i64>, Vec<String>)> = BTreeMap::new();
    for e in inputs.events.iter().filter(|e| in_box(e)) {
        if let EventDetails::Encounter(_) = &e.event.details {
            let Some(w) = cal.week_of(e.event.start) else {
                continue;
            };
            let region = region_of(LatLon::new(e.event.lat, e.event.lon));
            let day = day_text(e.event.start);
            let x = sts.entry((region, w)).or_default();
            x.0.push(e.id);
            for m in [Some(e.event.mmsi), e.event.other_mmsi]
                .into_iter()
                .flatten()
            {
                let s = list_status(matches.get(&m).map(Vec::as_slice).unwrap_or(&[]), &day);
                x.1.push(format!("{m}:{s}"));
            }
        }
    }
    for ((region, w), (events, statuses)) in sts {
        let cov = coverage_days(&|d| region_days.contains(&(region, d)), w);
        push(
            w,
            "sts_in_zone",
            region.as_str(),
            "all",
            events.len() as f64,
            cov,
            events,
            statuses,
            "encounters; evidence lists each party's list status on the day",
        );
    }

    // State vessels west of the line.
    for w in 0..n_weeks {
        let cov = coverage_days(&|d| region_days.contains(&(Region::West, d)), w);
        let hours = state_hours.get(&w).map_or(0, HashSet::len);
        let ev: Vec<String> = state_evidence
            .get(&w)
            .map(|s| s.iter().map(u32::to_string).collect())
            .unwrap_or_default();
        push(w, "state_vessel_presence", "west_of_line", "all", hours as f64, cov, Vec::new(), ev, "vessel-hours of AIS-visible naval and law-enforcement vessels (types 35, 55): a lower bound");
    }

    // Calls at occupied ports, with identity, list status and dark approach.
    let mut occupied_calls = Vec::new();
    for c in calls
        .iter()
        .filter(|c| registry.ports[c.port].group == PortGroup::Occupied)
    {
        if cal.week_of(c.arrive).is_none() {
            continue;
        }
        let port = &registry.ports[c.port];
        let id = ids.at(c.mmsi, c.arrive);
        let dark = inputs.events.iter().find_map(|e| match &e.event.details {
            EventDetails::Gap(g)
                if e.event.mmsi == c.mmsi
                    && e.event.end <= c.seen + HOUR
                    && e.event.end
                        >= c.seen - (options.dark_approach_hours * HOUR as f64) as i64
                    && haversine_m(LatLon::new(g.on_lat, g.on_lon), port.position) <= 100_000.0 =>
            {
                Some(e.id)
            }
            _ => None,
        });
        occupied_calls.push(OccupiedCall {
            event: c.events.first().copied(),
            port: port.id.clone(),
            mmsi: c.mmsi,
            imo: id.and_then(|i| i.imo),
            name: id.map(|i| i.name.clone()).unwrap_or_default(),
            flag: id.and_then(|i| i.flag.clone()),
            arrival: rfc3339(c.seen),
            departure: c.depart.map(rfc3339),
            list_status: list_status(
                matches.get(&c.mmsi).map(Vec::as_slice).unwrap_or(&[]),
                &day_text(c.arrive),
            ),
            dark_approach: dark,
        });
    }

    // Change points in daily departures, per Ukrainian sea port and group.
    let days = cal.days();
    let mut series: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for c in &calls {
        let port = &registry.ports[c.port];
        let Some(d) = c.depart.and_then(|t| cal.day_of(t)) else {
            continue;
        };
        for key in [port.id.clone(), format!("group:{}", port.group.as_str())] {
            series.entry(key).or_insert_with(|| vec![0.0; days])[d] += 1.0;
        }
    }
    let mut change_points = Vec::new();
    for (place, counts) in &series {
        let mut found = Vec::new();
        segment(counts, 0, counts.len(), options, 0, &mut found);
        found.sort_by_key(|c| c.0);
        found.dedup_by_key(|c| c.0);
        for (j, &(k, llr)) in found.iter().enumerate() {
            // Rates between the neighbouring change points.
            let prev = if j == 0 { 0 } else { found[j - 1].0 };
            let next = found.get(j + 1).map_or(counts.len(), |c| c.0);
            let (before, after) = (rate(counts, prev, k), rate(counts, k, next));
            let t = cal.from + k as i64 * DAY;
            change_points.push(ChangePoint {
                metric: "departures",
                place: place.clone(),
                date: day_text(t),
                before_per_day: (before * 100.0).round() / 100.0,
                after_per_day: (after * 100.0).round() / 100.0,
                llr: (llr * 10.0).round() / 10.0,
                regimes: registry.regimes_at(t).map(|r| r.id.clone()).collect(),
            });
        }
    }

    // Incidents: departures per day before and after.
    let departures: Vec<Departure> = calls
        .iter()
        .filter_map(|c| {
            let p = &registry.ports[c.port];
            Some(Departure {
                port: p.id.clone(),
                group: p.group,
                time: c.depart?,
                event: c.events.last().copied(),
            })
        })
        .collect();
    let incidents = incident_effects(registry, &departures, (from, to), &options.incidents);

    let regimes = summarise(registry, &rows);
    Ok(Report {
        departures,
        span: (from, to),
        registry: format!("{} v{}", registry.name, registry.version),
        from: rfc3339(from),
        to: rfc3339(to),
        positions,
        gates: registry.gates.clone(),
        rows,
        regimes,
        change_points,
        clusters,
        occupied_calls,
        incidents,
    })
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos.fract());
    let next = sorted.get(i + 1).copied().unwrap_or(sorted[i]);
    sorted[i] + (next - sorted[i]) * f
}

fn rate(c: &[f64], a: usize, b: usize) -> f64 {
    if b <= a {
        return 0.0;
    }
    c[a..b].iter().sum::<f64>() / (b - a) as f64
}

/// Change points by binary segmentation: the best change of `c[a..b]` by the
/// log-likelihood ratio of Poisson rates — one split (a new level) or a window (a level that
/// returns, as after a strike) — kept when strong and large enough, then each part again.
fn segment(c: &[f64], a: usize, b: usize, o: &Options, depth: u32, out: &mut Vec<(usize, f64)>) {
    let m = o.change_min_days.max(1);
    if depth > 3 || b < a + 2 * m {
        return;
    }
    let mut prefix = vec![0.0; b - a + 1];
    for k in a..b {
        prefix[k - a + 1] = prefix[k - a] + c[k];
    }
    // Log-likelihood of c[x..y] at its own rate, from the prefix sums.
    let ll = |x: usize, y: usize| -> f64 {
        let s = prefix[y - a] - prefix[x - a];
        let n = (y - x) as f64;
        if s <= 0.0 || n == 0.0 {
            0.0
        } else {
            s * (s / n).ln() - s
        }
    };
    let whole = ll(a, b);
    // (first day of the change, end of it or b, llr)
    let mut best: Option<(usize, usize, f64)> = None;
    for k in a + m..=b - m {
        let llr = ll(a, k) + ll(k, b) - whole;
        if best.is_none_or(|(_, _, l)| llr > l) {
            best = Some((k, b, llr));
        }
    }
    for x in a + 1..b {
        for y in x + m..b {
            // The window's outside, as one rate.
            let (s_in, n_in) = (prefix[y - a] - prefix[x - a], (y - x) as f64);
            let (s_out, n_out) = (prefix[b - a] - s_in, (b - a) as f64 - n_in);
            let out_ll = if s_out > 0.0 {
                s_out * (s_out / n_out).ln() - s_out
            } else {
                0.0
            };
            let in_ll = if s_in > 0.0 {
                s_in * (s_in / n_in).ln() - s_in
            } else {
                0.0
            };
            let llr = in_ll + out_ll - whole;
            if best.is_none_or(|(_, _, l)| llr > l) {
                best = Some((x, y, llr));
            }
        }
    }
    let Some((k, e, llr)) = best else { return };
    let inside = rate(c, k, e);
    let outside = {
        let n = (b - a) - (e - k);
        let s: f64 = c[a..k].iter().sum::<f64>() + c[e..b].iter().sum::<f64>();
        if n == 0 {
            0.0
        } else {
            s / n as f64
        }
    };
    let rel = (inside - outside).abs() / inside.max(outside).max(1e-9);
    if llr < o.change_min_llr || rel < o.change_min_relative {
        return;
    }
    out.push((k, llr));
    if e < b {
        out.push((e, llr));
        segment(c, a, k, o, depth + 1, out);
        segment(c, k, e, o, depth + 1, out);
        segment(c, e, b, o, depth + 1, out);
    } else {
        segment(c, a, k, o, depth + 1, out);
        segment(c, k, b, o, depth + 1, out);
    }
}

/// Mean and 95 % interval of each weekly series per regime.
fn summarise(registry: &Registry, rows: &[Row]) -> Vec<RegimeSummary> {
    let mut series: BTreeMap<(String, &'static str, String, String), Vec<f64>> = BTreeMap::new();
    for r in rows {
        let regimes: Vec<String> = if r.regimes.is_empty() {
            vec!["none".into()]
        } else {
            r.regimes.clone()
        };
        for g in regimes {
            series
                .entry((g, r.metric, r.place.clone(), r.split.clone()))
                .or_default()
                .push(r.value);
        }
    }
    let order: HashMap<&str, usize> = registry
        .regimes
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut out: Vec<RegimeSummary> = series
        .into_iter()
        .map(|((regime, metric, place, split), v)| {
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let var = if v.len() > 1 {
                v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
            } else {
                0.0
            };
            let half = 1.96 * (var / n).sqrt();
            let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
            RegimeSummary {
                regime,
                metric,
                place,
                split,
                weeks: v.len(),
                mean: r3(mean),
                low: r3((mean - half).max(0.0)),
                high: r3(mean + half),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (
            order.get(a.regime.as_str()).unwrap_or(&usize::MAX),
            a.metric,
            &a.place,
            &a.split,
        )
            .cmp(&(
                order.get(b.regime.as_str()).unwrap_or(&usize::MAX),
                b.metric,
                &b.place,
                &b.split,
            ))
    });
    out
}

/// Reads an incident file: CSV with the header `time,place,vessel,description` (`time`
/// RFC 3339 or `YYYY-MM-DD`; `place` a registry port id or empty; `place`, `vessel` and
/// `description` may be left out). Errors name the file, the line and the field.
pub fn read_incidents(path: &Path) -> Result<Vec<Incident>, MonitorError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| MonitorError::Incidents(format!("{name}: {e}")))?;
    let rows = shadowfleet_places::table::rows(&name, &text)
        .map_err(|e| MonitorError::Incidents(e.to_string()))?;
    let mut out = Vec::new();
    for r in rows {
        let t = r
            .text("time")
            .map_err(|e| MonitorError::Incidents(e.to_string()))?
            .trim();
        let time = Timestamp::parse_rfc3339(t)
            .ok()
            .or_else(|| Timestamp::parse_day(t))
            .map(|t| t.unix_millis() / 1000)
            .ok_or_else(|| {
                MonitorError::Incidents(format!(
                    "{name}:{}: time: {t:?} is neither RFC 3339 nor YYYY-MM-DD",
                    r.line
                ))
            })?;
        let get = |c: &str| r.text(c).map(|v| v.trim().to_owned()).unwrap_or_default();
        out.push(Incident {
            time,
            place: get("place"),
            vessel: get("vessel"),
            description: get("description"),
        });
    }
    if out.is_empty() {
        return Err(MonitorError::Incidents(format!(
            "{name}: no incident in the file (header time,place,vessel,description)"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::expect_used, reason = "tests fail loudly")]
    fn a_dark_approach_is_timed_from_the_last_report_before_the_silence() {
        let land = Land::natural_earth_10m().expect("land");
        // Odesa, and a point 20 nm (37 km) to the south-east at sea.
        let odesa = LatLon::new(46.4833, 30.7333);
        let off_at = offset_m(odesa, -26_200.0, 26_200.0);
        let off = 1_000_000;
        let first = off + 6 * HOUR;
        let gap = (off, off_at);
        let eta = dark_arrival(Some(&gap), |_| Some(10.0), odesa, first, &land);
        let expected = off + (haversine_m(off_at, odesa) / 1852.0 / 10.0 * 3600.0) as i64;
        assert_eq!(eta, expected);
        assert!(
            (eta - off - 2 * HOUR).abs() < 10 * 60,
            "about two hours at 10 kn"
        );
        // Never after the first report in port.
        assert_eq!(
            dark_arrival(Some(&gap), |_| Some(10.0), odesa, off + HOUR, &land),
            off + HOUR
        );
        // Dark for five days on a two-hour way in: it did something else first.
        assert_eq!(
            dark_arrival(Some(&gap), |_| Some(10.0), odesa, off + 120 * HOUR, &land),
            off + 120 * HOUR
        );
        // No gap, no speed, a vessel waiting: the first report in port.
        assert_eq!(
            dark_arrival(None, |_| Some(10.0), odesa, first, &land),
            first
        );
        assert_eq!(
            dark_arrival(Some(&gap), |_| None, odesa, first, &land),
            first
        );
        assert_eq!(
            dark_arrival(Some(&gap), |_| Some(0.5), odesa, first, &land),
            first
        );
        // From the other side of Crimea the way in bends round the southern coast: timed
        // along the way at sea, longer than the straight line across the peninsula.
        let kerch_side = (off, LatLon::new(44.9, 35.6));
        let sevastopol = LatLon::new(44.6167, 33.5333);
        let late = off + 48 * HOUR;
        let eta = dark_arrival(Some(&kerch_side), |_| Some(9.0), sevastopol, late, &land);
        let straight_h = haversine_m(kerch_side.1, sevastopol) / 1852.0 / 9.0;
        let hours = (eta - off) as f64 / HOUR as f64;
        assert!(
            hours > straight_h * 1.05 && hours < straight_h * 1.6,
            "{hours:.1} h round the coast, {straight_h:.1} h straight"
        );
        // Never after the first report in port.
        assert_eq!(
            dark_arrival(Some(&kerch_side), |_| Some(9.0), sevastopol, first, &land),
            first
        );
    }

    /// A tanker heard approaching on its track, then shown far away by interference (a
    /// track of its own), then heard in port on its first track: the report before the one
    /// in port is the last true one.
    #[test]
    fn the_report_before_is_the_last_on_the_same_track() {
        let (sea, krasnodar, port) = (
            LatLon::new(44.5, 37.7),
            LatLon::new(45.03, 39.17),
            LatLon::new(44.66, 37.6),
        );
        let mut tails = SegmentTails::default();
        assert_eq!(tails.hear(1, (0, sea, Some(11.0))), None);
        assert_eq!(
            tails.hear(1, (600, sea, Some(11.5))),
            Some((0, sea, Some(11.0)))
        );
        for t in (1200..30_000).step_by(600) {
            tails.hear(2, (t, krasnodar, Some(11.0)));
        }
        assert_eq!(
            tails.hear(1, (30_000, port, Some(0.1))),
            Some((600, sea, Some(11.5)))
        );
        // An older report read later (a day written in parts) does not replace it.
        assert_eq!(tails.hear(1, (100, sea, None)), None);
        assert_eq!(
            tails.hear(1, (30_600, port, None)),
            Some((30_000, port, Some(0.1)))
        );
    }

    #[test]
    fn an_arrival_heard_all_the_way_in_is_timed_where_it_crossed_into_the_circle() {
        let port = LatLon::new(45.113, 36.678);
        // Due south of the port, 3.6 km out and then 2.4 km out, a minute apart at about
        // 39 kn: the 3 km circle is crossed halfway, 30 s after the report before.
        let (a, b) = (offset_m(port, -3_600.0, 0.0), offset_m(port, -2_400.0, 0.0));
        let t = circle_entry((1_000, a), (1_060, b), port, 3_000.0);
        assert!((1_029..=1_031).contains(&t), "{t}");
        // Two minutes apart: a minute after.
        let t = circle_entry((1_000, a), (1_120, b), port, 3_000.0);
        assert!((1_059..=1_061).contains(&t), "{t}");
        // The report before inside the circle, or the first not inside: the first's time.
        assert_eq!(circle_entry((1_000, b), (1_060, b), port, 3_000.0), 1_060);
        assert_eq!(circle_entry((1_000, a), (1_060, a), port, 3_000.0), 1_060);
        assert_eq!(circle_entry((1_060, a), (1_060, b), port, 3_000.0), 1_060);
    }

    #[test]
    fn a_departure_after_a_silence_is_timed_back_from_the_first_report_outside() {
        let port = LatLon::new(44.707, 37.831);
        // First report outside 8.2 km south at 12 kn: about 22 minutes out.
        let out_at = offset_m(port, -8_200.0, 0.0);
        let (stop, end) = (1_000_000, 1_000_000 + 8 * HOUR);
        let d = PortCallDetails {
            last_stop: Some(stop),
            evidence: vec![
                shadowfleet_records::ReportRef::new(1, stop - DAY, port),
                shadowfleet_records::ReportRef::new(1, end, out_at),
            ],
            ..PortCallDetails::default()
        };
        let t = departure(&d, end, Some(12.0), None, port);
        assert!((end - t - 22 * 60).abs() < 60, "{} s before", end - t);
        // Speed unknown or slow: the last stop; heard leaving: the last stop.
        assert_eq!(departure(&d, end, None, None, port), stop);
        assert_eq!(departure(&d, end, Some(1.0), None, port), stop);
        assert_eq!(departure(&d, stop + 30 * 60, Some(12.0), None, port), stop);
        // Never before the last stop: first heard 50 km out at 12 kn (2.25 h) 2.1 h after it.
        let far = PortCallDetails {
            evidence: vec![
                d.evidence[0],
                shadowfleet_records::ReportRef::new(
                    1,
                    stop + 2 * HOUR + 360,
                    offset_m(port, -50_000.0, 0.0),
                ),
            ],
            ..d.clone()
        };
        assert_eq!(
            departure(&far, stop + 2 * HOUR + 360, Some(12.0), None, port),
            stop
        );
    }

    #[test]
    fn a_departure_heard_is_timed_when_the_vessel_set_off() {
        let port = LatLon::new(45.0167, 35.4333);
        let berth = offset_m(port, 4_000.0, 0.0);
        // Stopped at 23:58:08, 275 m on at 9 kn three minutes later: set off a minute
        // before that report (275 m at 4.63 m/s: 59 s).
        let (stood, next) = (1_000_000, 1_000_183);
        let moving = (next, offset_m(berth, 275.0, 0.0), Some(9.0));
        let t = set_off((stood, berth), moving);
        assert!((next - 60..=next - 58).contains(&t), "{}", next - t);
        // Slow or unknown speed: the report standing; never before it.
        assert_eq!(set_off((stood, berth), (next, moving.1, None)), stood);
        assert_eq!(set_off((stood, berth), (next, moving.1, Some(0.2))), stood);
        let far = (next, offset_m(berth, 20_000.0, 0.0), Some(9.0));
        assert_eq!(set_off((stood, berth), far), stood);
        // A port call heard leaving: the set-off, not the last stop.
        let d = PortCallDetails {
            last_stop: Some(stood),
            ..PortCallDetails::default()
        };
        let t = departure(&d, next + 600, None, Some((berth, moving)), port);
        assert!((next - 60..=next - 58).contains(&t), "{}", next - t);
    }

    #[test]
    fn a_cut_in_departures_is_found_within_a_day() {
        let mut c = vec![6.0; 60];
        for x in &mut c[30..40] {
            *x = 1.0;
        }
        let mut found = Vec::new();
        segment(&c, 0, c.len(), &Options::default(), 0, &mut found);
        found.sort_by_key(|f| f.0);
        let ks: Vec<usize> = found.iter().map(|f| f.0).collect();
        assert_eq!(ks, vec![30, 40]);
        // Steady Poisson-like noise gives none.
        let noisy: Vec<f64> = (0..60)
            .map(|i| [5.0, 7.0, 6.0, 4.0, 8.0, 6.0][i % 6])
            .collect();
        let mut none = Vec::new();
        segment(&noisy, 0, noisy.len(), &Options::default(), 0, &mut none);
        assert!(none.is_empty(), "{none:?}");
    }
}
