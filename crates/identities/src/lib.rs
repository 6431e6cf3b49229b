//! Vessel identities: a timeline per MMSI of what the ship says it is (IMO, name, call sign,
//! flag from the MID, type, dimensions), its draught history, and the identity changes an
//! analyst cares about.
//!
//! The IMO number is the ship's permanent identity; the MMSI belongs to the radio and changes
//! with the flag. So the tracker links MMSIs through IMOs: an IMO that turns up under a new
//! MMSI is an MMSI change (a *reflag* when the new MID stands for another flag, *invalid MID*
//! when the MID is not allocated); an MMSI whose IMO changes is either two ships sharing one
//! MMSI (the old IMO comes back within [`IdentityConfig::confirm_hours`]: the GFW limitation
//! of one MMSI, two ships, told apart here) or a ship taking another identity (a *zombie IMO*
//! when the IMO was last broadcast by another MMSI). See `docs/detectors/identity.md`.
//!
//! State is bounded per MMSI ([`IdentityConfig::identities_per_mmsi`] identities,
//! [`IdentityConfig::draught_changes_kept`] draught changes) and per IMO (last MMSI).

mod by_mmsi;

use by_mmsi::ByMmsi;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Arc;

use shadowfleet_decode::{AisText, Decoded};
use shadowfleet_model::Imo;
use shadowfleet_places::Mids;
pub use shadowfleet_records::{ChangeKind, IdentityPeriod};

/// Thresholds; see `docs/detectors/identity.md`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// How long after an MMSI's IMO changes the old IMO may come back on that MMSI for the two
    /// to be told apart as two ships sharing one MMSI, hours.
    pub confirm_hours: f64,
    /// Identities remembered per MMSI (the least recently seen is closed first).
    pub identities_per_mmsi: usize,
    /// Draught changes remembered per MMSI.
    pub draught_changes_kept: usize,
    /// Changes of the AIS destination remembered per MMSI.
    pub destination_changes_kept: usize,
    /// After a shared-MMSI report, further evidence on that MMSI is folded into it as long
    /// as it keeps coming at most this long apart, hours: one sharing, one event.
    pub shared_quiet_hours: f64,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            confirm_hours: 24.0,
            identities_per_mmsi: 4,
            draught_changes_kept: 16,
            destination_changes_kept: 8,
            shared_quiet_hours: 7.0 * 24.0,
        }
    }
}

/// A static report as the identity stage needs it: owned and small (text inline), so that it
/// can be handed between threads without allocating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaticReport {
    /// Source MMSI.
    pub mmsi: u32,
    /// Receive time, unix seconds.
    pub t: i64,
    /// IMO number as sent (0 and absent are both `None`).
    pub imo: Option<u32>,
    /// Name, trimmed; empty when not sent.
    pub name: AisText<20>,
    /// Call sign, trimmed; empty when not sent.
    pub callsign: AisText<7>,
    /// Ship and cargo type.
    pub ship_type: Option<u8>,
    /// Length, metres.
    pub length_m: Option<u16>,
    /// Beam, metres.
    pub beam_m: Option<u16>,
    /// Draught, metres (0 = not available is `None`).
    pub draught_m: Option<f32>,
    /// Destination as sent (type 5), trimmed; `None` when the message carries none (type 24).
    pub destination: Option<AisText<20>>,
}

impl StaticReport {
    /// The static report of a decoded message with a receive time, if it carries one.
    pub fn of(d: &Decoded) -> Option<StaticReport> {
        let s = d.message.static_data()?;
        let t = d.meta.received?.unix_millis().div_euclid(1000);
        Some(StaticReport {
            mmsi: s.mmsi,
            t,
            imo: s.imo.filter(|&i| i != 0),
            name: text(s.name),
            callsign: text(s.callsign),
            ship_type: s.ship_type.filter(|&t| t != 0),
            length_m: s.length_m.filter(|&l| l != 0),
            beam_m: s.beam_m.filter(|&b| b != 0),
            draught_m: s.draught_m.filter(|&d| d > 0.0),
            // Type 5 always carries a destination field; an empty one is a blank destination.
            destination: (d.message.header.msg_type == 5).then(|| text(s.destination)),
        })
    }

    /// The name, when sent.
    pub fn name(&self) -> Option<&str> {
        (!self.name.is_empty()).then(|| self.name.as_str())
    }

    /// The call sign, when sent.
    pub fn callsign(&self) -> Option<&str> {
        (!self.callsign.is_empty()).then(|| self.callsign.as_str())
    }
}

/// Trimmed text (decoded text is printable ASCII, so nothing else is lost).
fn text<const N: usize>(v: Option<&str>) -> AisText<N> {
    AisText::from_printable_lossy(v.map_or("", str::trim))
}

/// An identity change.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityChange {
    /// When it was first seen, unix seconds.
    pub t: i64,
    /// The MMSI broadcast after the change.
    pub mmsi: u32,
    /// Kind.
    pub kind: ChangeKind,
    /// The identity before (absent for a first sighting, e.g. an invalid MID).
    pub from: Option<IdentityPeriod>,
    /// The identity after.
    pub to: IdentityPeriod,
    /// The other MMSI involved: the previous MMSI of the IMO, or the MMSI a zombie IMO was
    /// last seen on.
    pub other_mmsi: Option<u32>,
    /// Evidence in words.
    pub evidence: String,
}

/// What the tracker reports.
#[derive(Debug, Clone, PartialEq)]
pub enum IdentityOutput {
    /// A closed validity period (the identity was replaced, evicted, or the stream ended).
    Period(IdentityPeriod),
    /// An identity change.
    Change(IdentityChange),
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Pending {
    t: i64,
    from: IdentityPeriod,
    to_imo: u32,
    other_mmsi: Option<u32>,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct MmsiState {
    ids: Vec<IdentityPeriod>,
    current: usize,
    draught: VecDeque<(i64, f32)>,
    destination: VecDeque<(i64, Destination)>,
    pending: Option<Pending>,
    shared_reported: Option<i64>,
    /// Invalid IMO numbers already reported on this MMSI (once per identity: a few).
    invalid_imo_reported: Vec<u32>,
}

/// An AIS destination in the saved state: written as its text.
#[derive(Clone, Copy, PartialEq)]
struct Destination(AisText<20>);

impl serde::Serialize for Destination {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Destination {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Destination(AisText::from_printable_lossy(&s)))
    }
}

/// Builds identity timelines and finds identity changes. Feed static reports with
/// [`IdentityTracker::push`], advance time with [`IdentityTracker::advance`], and end with
/// [`IdentityTracker::finish`].
pub struct IdentityTracker {
    config: IdentityConfig,
    mids: Arc<Mids>,
    mmsis: ByMmsi<MmsiState>,
    /// IMO → (MMSI last broadcasting it, when).
    imos: FxHashMap<u32, (u32, i64)>,
    pending: Vec<u32>,
}

impl IdentityTracker {
    shadowfleet_records::persist_fields!(pub "identities"; mmsis, imos, pending);

    /// A tracker that reads flags from `mids`.
    pub fn new(config: IdentityConfig, mids: Arc<Mids>) -> Self {
        IdentityTracker {
            config,
            mids,
            mmsis: ByMmsi::default(),
            imos: FxHashMap::default(),
            pending: Vec::new(),
        }
    }

    /// The identity each MMSI broadcast last.
    pub fn current_all(&self) -> impl Iterator<Item = &IdentityPeriod> + '_ {
        self.mmsis.values().filter_map(|s| s.ids.get(s.current))
    }

    /// The identity an MMSI broadcast last.
    pub fn current(&self, mmsi: u32) -> Option<&IdentityPeriod> {
        let s = self.mmsis.get(&mmsi)?;
        s.ids.get(s.current)
    }

    /// The draught last reported at or before `t`, metres.
    pub fn draught_at(&self, mmsi: u32, t: i64) -> Option<f32> {
        let s = self.mmsis.get(&mmsi)?;
        s.draught
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map(|&(_, d)| d)
    }

    /// The AIS destination in force at `t`: the last one reported at or before `t`, else the
    /// first reported up to `until` (a ship first heard after `t`). Empty text is a blank
    /// destination; `None` is no destination report at all.
    pub fn destination_at(&self, mmsi: u32, t: i64, until: i64) -> Option<AisText<20>> {
        let s = self.mmsis.get(&mmsi)?;
        s.destination
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .or_else(|| s.destination.front().filter(|(at, _)| *at <= until))
            .map(|&(_, Destination(d))| d)
    }

    /// Whether the MMSI is a tanker by its last ship type; `None` when no type was reported.
    pub fn is_tanker(&self, mmsi: u32) -> Option<bool> {
        let id = self.current(mmsi)?;
        id.ship_type.map(|_| id.is_tanker())
    }

    /// Records evidence of two ships on one MMSI from positions (two places at once). Reports
    /// a [`ChangeKind::SharedMmsi`] unless one was reported for this MMSI recently.
    pub fn two_places(
        &mut self,
        mmsi: u32,
        t: i64,
        evidence: String,
        out: &mut dyn FnMut(IdentityOutput),
    ) {
        let quiet = (self.config.shared_quiet_hours * 3600.0) as i64;
        let state = self.mmsis.entry_or_default(mmsi);
        if state.shared_reported.is_some_and(|r| t - r < quiet) {
            // The same sharing, still going on.
            state.shared_reported = Some(t.max(state.shared_reported.unwrap_or(t)));
            return;
        }
        state.shared_reported = Some(t);
        let to = state
            .ids
            .get(state.current)
            .cloned()
            .unwrap_or_else(|| IdentityPeriod {
                mmsi,
                imo: None,
                name: String::new(),
                callsign: String::new(),
                flag: self.mids.flag_of(mmsi).map(str::to_owned),
                ship_type: None,
                length_m: None,
                beam_m: None,
                first_seen: t,
                last_seen: t,
            });
        out(IdentityOutput::Change(IdentityChange {
            t,
            mmsi,
            kind: ChangeKind::SharedMmsi,
            from: None,
            to,
            other_mmsi: None,
            evidence,
        }));
    }

    /// A hint that a static report of `mmsi` comes soon: loads the MMSI's state into the
    /// cache. Changes nothing but timing.
    pub fn prefetch(&self, mmsi: u32) {
        self.mmsis.prefetch(mmsi);
    }

    /// A second hint for the same report, given after [`IdentityTracker::prefetch`] once
    /// the state is likely in the cache: loads what [`IdentityTracker::push`] reads behind
    /// it (the current identity, the last draught and destination).
    pub fn prefetch_behind(&self, mmsi: u32) {
        use shadowfleet_model::cache::{prefetch, prefetch_back};
        if let Some(s) = self.mmsis.get(&mmsi) {
            prefetch(&s.ids, s.current);
            prefetch_back(&s.draught);
            prefetch_back(&s.destination);
        }
    }

    /// Takes the next static report.
    pub fn push(&mut self, s: &StaticReport, out: &mut dyn FnMut(IdentityOutput)) {
        let cfg = self.config;
        let flag = self.mids.flag_of(s.mmsi);
        let is_new = !self.mmsis.contains_key(&s.mmsi);
        let state = self.mmsis.entry_or_default(s.mmsi);

        if let Some(d) = s.draught_m {
            if state.draught.back().is_none_or(|&(_, last)| last != d) {
                if state.draught.len() >= cfg.draught_changes_kept {
                    state.draught.pop_front();
                }
                state.draught.push_back((s.t, d));
            }
        }
        if let Some(d) = s.destination {
            if state
                .destination
                .back()
                .is_none_or(|&(_, Destination(last))| last != d)
            {
                if state.destination.len() >= cfg.destination_changes_kept.max(1) {
                    state.destination.pop_front();
                }
                state.destination.push_back((s.t, Destination(d)));
            }
        }
        if let Some(imo) = s.imo {
            if Imo::try_from(imo).is_err() && !state.invalid_imo_reported.contains(&imo) {
                if state.invalid_imo_reported.len() >= cfg.identities_per_mmsi {
                    state.invalid_imo_reported.remove(0);
                }
                state.invalid_imo_reported.push(imo);
                let to = new_identity(s, flag);
                out(IdentityOutput::Change(IdentityChange {
                    t: s.t,
                    mmsi: s.mmsi,
                    kind: ChangeKind::InvalidImo,
                    from: None,
                    evidence: format!("IMO {imo} fails the check digit"),
                    to,
                    other_mmsi: None,
                }));
            }
        }

        // Which known identity of this MMSI the report belongs to: by IMO when both have one,
        // else the current one.
        let idx = match s.imo {
            Some(imo) => state
                .ids
                .iter()
                .position(|k| k.imo == Some(imo))
                .or_else(|| {
                    state
                        .ids
                        .get(state.current)
                        .filter(|k| k.imo.is_none())
                        .map(|_| state.current)
                }),
            None => (!state.ids.is_empty()).then_some(state.current),
        };

        match idx {
            Some(k) => {
                let switched = k != state.current;
                let prev_current = state.current;
                state.current = k;
                let known = &mut state.ids[k];
                if known.imo.is_none() {
                    known.imo = s.imo;
                }
                if let Some(n) = s.name() {
                    if known.name != n {
                        if !known.name.is_empty() && !switched {
                            let from = known.clone();
                            known.name = n.to_owned();
                            known.first_seen = s.t;
                            let mut to = known.clone();
                            to.last_seen = s.t;
                            let mut closed = from.clone();
                            closed.last_seen = closed.last_seen.max(closed.first_seen);
                            out(IdentityOutput::Period(closed));
                            out(IdentityOutput::Change(IdentityChange {
                                t: s.t,
                                mmsi: s.mmsi,
                                kind: ChangeKind::Rename,
                                evidence: format!(
                                    "name {:?} -> {n:?} on IMO {}",
                                    from.name,
                                    imo_text(to.imo)
                                ),
                                from: Some(from),
                                to,
                                other_mmsi: None,
                            }));
                        } else {
                            known.name = n.to_owned();
                        }
                    }
                }
                let known = &mut state.ids[k];
                update_details(known, s);
                // The old IMO is back on this MMSI while its replacement is pending: two
                // ships share the MMSI.
                if switched {
                    let shared = state.pending.as_ref().is_some_and(|p| {
                        p.from.imo == state.ids[k].imo
                            || state.ids[prev_current].imo == Some(p.to_imo)
                    });
                    if shared {
                        if let Some(p) = state.pending.take() {
                            let quiet = (cfg.shared_quiet_hours * 3600.0) as i64;
                            if state.shared_reported.is_some_and(|r| p.t - r < quiet) {
                                // The same sharing, still going on.
                                state.shared_reported = state.shared_reported.map(|r| r.max(p.t));
                            } else {
                                state.shared_reported = Some(p.t);
                                let to = state
                                    .ids
                                    .iter()
                                    .find(|i| i.imo == Some(p.to_imo))
                                    .cloned()
                                    .unwrap_or_else(|| state.ids[k].clone());
                                out(IdentityOutput::Change(IdentityChange {
                                    t: p.t,
                                    mmsi: s.mmsi,
                                    kind: ChangeKind::SharedMmsi,
                                    evidence: format!(
                                        "IMO {} ({}) and IMO {} ({}) both broadcast on this MMSI",
                                        imo_text(p.from.imo),
                                        p.from.name,
                                        p.to_imo,
                                        to.name
                                    ),
                                    from: Some(p.from),
                                    to,
                                    other_mmsi: p.other_mmsi,
                                }));
                            }
                        }
                    }
                }
            }
            None => {
                let id = new_identity(s, flag);
                if state.ids.len() >= cfg.identities_per_mmsi {
                    if let Some(old) = (0..state.ids.len()).min_by_key(|&i| state.ids[i].last_seen)
                    {
                        out(IdentityOutput::Period(state.ids.swap_remove(old)));
                    }
                }
                let before = state.ids.get(state.current).cloned();
                state.ids.push(id.clone());
                state.current = state.ids.len() - 1;
                let previous_of_imo = s
                    .imo
                    .and_then(|imo| self.imos.get(&imo).copied())
                    .filter(|&(m, _)| m != s.mmsi);
                if is_new {
                    let kind = match previous_of_imo {
                        Some((m, _)) if flag.is_none() => Some((ChangeKind::InvalidMid, Some(m))),
                        Some((m, _)) if self.mids.flag_of(m) != flag => {
                            Some((ChangeKind::Reflag, Some(m)))
                        }
                        Some((m, _)) => Some((ChangeKind::MmsiChange, Some(m))),
                        None if flag.is_none() && Mids::mid_of(s.mmsi).is_some() => {
                            Some((ChangeKind::InvalidMid, None))
                        }
                        None => None,
                    };
                    if let Some((kind, other)) = kind {
                        let from = other
                            .and_then(|m| self.mmsis.get(&m))
                            .and_then(|o| o.ids.iter().find(|i| i.imo == s.imo).cloned());
                        out(IdentityOutput::Change(IdentityChange {
                            t: s.t,
                            mmsi: s.mmsi,
                            kind,
                            evidence: match other {
                                Some(m) => format!(
                                    "IMO {} moved from MMSI {m:09} to {:09}",
                                    imo_text(s.imo),
                                    s.mmsi
                                ),
                                None => match Mids::mid_of(s.mmsi) {
                                    Some(mid) => format!("MID {mid} is not allocated"),
                                    None => format!("MMSI {:09} is not a ship's (no MID)", s.mmsi),
                                },
                            },
                            from,
                            to: id,
                            other_mmsi: other,
                        }));
                    }
                } else if let (Some(before), Some(imo)) = (before, s.imo) {
                    if before.imo.is_some() {
                        // IMO changed on an existing MMSI: wait to tell a shared MMSI from a
                        // change of identity.
                        let state = self.mmsis.entry_or_default(s.mmsi);
                        if state.pending.is_none() {
                            state.pending = Some(Pending {
                                t: s.t,
                                from: before,
                                to_imo: imo,
                                other_mmsi: previous_of_imo.map(|(m, _)| m),
                            });
                            self.pending.push(s.mmsi);
                        }
                    }
                }
            }
        }
        if let Some(imo) = s.imo {
            self.imos.insert(imo, (s.mmsi, s.t));
        }
    }

    /// Confirms pending IMO changes older than `now` minus [`IdentityConfig::confirm_hours`].
    pub fn advance(&mut self, now: i64, out: &mut dyn FnMut(IdentityOutput)) {
        let wait = (self.config.confirm_hours * 3600.0) as i64;
        let mut k = 0;
        while k < self.pending.len() {
            let mmsi = self.pending[k];
            let due = self
                .mmsis
                .get(&mmsi)
                .and_then(|s| s.pending.as_ref())
                .map(|p| p.t + wait <= now);
            match due {
                Some(true) => {
                    self.pending.swap_remove(k);
                    self.confirm(mmsi, out);
                }
                Some(false) => k += 1,
                None => {
                    self.pending.swap_remove(k);
                }
            }
        }
    }

    fn confirm(&mut self, mmsi: u32, out: &mut dyn FnMut(IdentityOutput)) {
        let Some(state) = self.mmsis.get_mut(&mmsi) else {
            return;
        };
        let Some(p) = state.pending.take() else {
            return;
        };
        let Some(to) = state.ids.iter().find(|i| i.imo == Some(p.to_imo)).cloned() else {
            return;
        };
        let kind = if p.other_mmsi.is_some() {
            ChangeKind::ZombieImo
        } else {
            ChangeKind::ImoChange
        };
        out(IdentityOutput::Change(IdentityChange {
            t: p.t,
            mmsi,
            kind,
            evidence: match p.other_mmsi {
                Some(m) => format!(
                    "IMO {} -> {} on this MMSI; IMO {} was last broadcast by MMSI {m:09}",
                    imo_text(p.from.imo),
                    p.to_imo,
                    p.to_imo
                ),
                None => format!("IMO {} -> {} on this MMSI", imo_text(p.from.imo), p.to_imo),
            },
            from: Some(p.from),
            to,
            other_mmsi: p.other_mmsi,
        }));
    }

    /// Confirms everything pending and closes every identity period.
    pub fn finish(&mut self, out: &mut dyn FnMut(IdentityOutput)) {
        self.advance(i64::MAX, out);
        let mut mmsis: Vec<u32> = self.mmsis.keys().collect();
        mmsis.sort_unstable();
        for m in mmsis {
            if let Some(s) = self.mmsis.get_mut(&m) {
                for id in s.ids.drain(..) {
                    out(IdentityOutput::Period(id));
                }
            }
        }
    }
}

fn new_identity(s: &StaticReport, flag: Option<&str>) -> IdentityPeriod {
    let mut id = IdentityPeriod {
        mmsi: s.mmsi,
        imo: s.imo,
        name: s.name().unwrap_or("").to_owned(),
        callsign: String::new(),
        flag: flag.map(str::to_owned),
        ship_type: None,
        length_m: None,
        beam_m: None,
        first_seen: s.t,
        last_seen: s.t,
    };
    update_details(&mut id, s);
    id
}

fn update_details(id: &mut IdentityPeriod, s: &StaticReport) {
    id.last_seen = id.last_seen.max(s.t);
    if let Some(c) = s.callsign() {
        if id.callsign != c {
            c.clone_into(&mut id.callsign);
        }
    }
    if s.ship_type.is_some() {
        id.ship_type = s.ship_type;
    }
    if s.length_m.is_some() {
        id.length_m = s.length_m;
    }
    if s.beam_m.is_some() {
        id.beam_m = s.beam_m;
    }
}

/// An IMO number as evidence words say it.
fn imo_text(imo: Option<u32>) -> String {
    imo.map_or_else(|| "none".to_owned(), |i| i.to_string())
}
