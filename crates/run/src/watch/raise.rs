//! Raising alerts from what was committed (events, list changes, risk) and delivering them
//! to the NDJSON file and the webhooks' threads.

use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};

use anyhow::Context;
use rustc_hash::FxHashMap;
use shadowfleet_alerts::sinks::{Delivery, NdjsonSink, Webhook};
use shadowfleet_alerts::{Alert, Facts, Rules, When};
use shadowfleet_records::IdentityPeriod;
use shadowfleet_store::{MatchKey, NewAlert, Store, StoredEvent};

use super::now;

/// The webhooks' delivery threads: alerts are handed over by store sequence number.
pub(super) struct Webhooks {
    senders: Vec<(String, SyncSender<(i64, Alert)>)>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// (alert seq, webhook) handed to a delivery thread by this process: not handed again
    /// while it is being delivered (its retries take longer than a checkpoint).
    handed: std::cell::RefCell<std::collections::HashSet<(i64, usize)>>,
}

impl Drop for Webhooks {
    fn drop(&mut self) {
        self.senders.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

pub(super) fn start_webhooks(dir: &Path, hooks: &[Webhook]) -> anyhow::Result<Webhooks> {
    let mut w = Webhooks {
        senders: Vec::new(),
        threads: Vec::new(),
        handed: Default::default(),
    };
    for hook in hooks {
        let (tx, rx) = sync_channel::<(i64, Alert)>(10_000);
        let url = hook.url.clone();
        let hook = hook.clone();
        let store = Store::open(dir)?;
        let t = std::thread::Builder::new()
            .name("sf-webhook".into())
            .spawn(move || {
                for (seq, alert) in rx {
                    match hook.deliver(&alert) {
                        Ok(Delivery::Delivered(_)) | Ok(Delivery::DeadLetter(_)) => {
                            let _ = store.alert_delivered(seq, &hook.url);
                        }
                        Err(e) => eprintln!(
                            "webhook {}: alert {} not delivered nor dead-lettered: {e}",
                            hook.url, alert.alert_id
                        ),
                    }
                }
            })
            .context("starting a webhook thread")?;
        w.senders.push((url, tx));
        w.threads.push(t);
    }
    Ok(w)
}

/// The `meta` key of the last event id alerts were raised for.
const ALERTED_UNTIL: &str = "alerts.event_id";

/// Raises the alerts of the final events stored since the last call (by event id) and
/// records them with the new mark in one transaction; returns how many were new. `current`:
/// the identities the pipeline holds open (not yet in the store), for names and lists.
pub fn raise_event_alerts(
    store: &mut Store,
    rules: &Rules,
    current: &[IdentityPeriod],
) -> anyhow::Result<usize> {
    let mut after: i64 = store
        .meta(ALERTED_UNTIL)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut new = 0;
    let mut facts: Option<FactsTable> = None;
    loop {
        let events = store.final_events_after(after, 10_000)?;
        let Some(last) = events.last().map(|e| e.id) else {
            break;
        };
        let table = match &facts {
            Some(t) => t,
            None => facts.insert(FactsTable::of(store, rules.need_risk(), current)?),
        };
        let alerts: Vec<Alert> = events
            .iter()
            .flat_map(|StoredEvent { id, event }| {
                rules.alerts_for_event(*id, event, &|m| table.get(m))
            })
            .collect();
        new += store.put_alerts(
            &alerts.iter().map(alert_row).collect::<Vec<_>>(),
            &now().to_string(),
            ALERTED_UNTIL,
            &last.to_string(),
        )?;
        after = last;
    }
    // Risk scores move only with new events: `risk_above` rules are checked when there were
    // some (each vessel and level alerts once: the alert's id is its key).
    if let (Some(table), true) = (
        &facts,
        rules.rules.iter().any(|r| r.when == When::RiskAbove),
    ) {
        let t = now().unix_millis().div_euclid(1000);
        let alerts: Vec<Alert> = table
            .by_mmsi
            .iter()
            .filter_map(|(m, f)| Some((*m, f.risk?, f)))
            .flat_map(|(m, score, f)| rules.alerts_for_risk(m, score, None, t, f))
            .collect();
        let mark = store.meta(ALERTED_UNTIL)?.unwrap_or_else(|| "0".into());
        new += store.put_alerts(
            &alerts.iter().map(alert_row).collect::<Vec<_>>(),
            &now().to_string(),
            ALERTED_UNTIL,
            &mark,
        )?;
    }
    Ok(new)
}

/// Raises the `list_match` alerts of a new screening: the matches (MMSI, IMO, list, entry)
/// in `after` not in `before` appeared, those in `before` not in `after` disappeared (none
/// when `screened_before` is false: a first screening is the baseline). Records them in the
/// store and, when given, appends them to the NDJSON file `alerts_file`; returns how many
/// were new.
#[allow(clippy::too_many_arguments)]
pub fn raise_list_alerts(
    store: &mut Store,
    rules: &Rules,
    before: &[MatchKey],
    after: &[MatchKey],
    screened_before: bool,
    identities: &[IdentityPeriod],
    t: i64,
    alerts_file: Option<&Path>,
) -> anyhow::Result<usize> {
    if !screened_before {
        return Ok(0);
    }
    let key = |m: &MatchKey| (m.0, m.2.clone(), m.3.clone());
    let old: std::collections::HashSet<_> = before.iter().map(key).collect();
    let new: std::collections::HashSet<_> = after.iter().map(key).collect();
    let mut names: FxHashMap<u32, &IdentityPeriod> = FxHashMap::default();
    for i in identities {
        names.insert(i.mmsi, i);
    }
    let mut alerts = Vec::new();
    let changes = after
        .iter()
        .filter(|m| !old.contains(&key(m)))
        .map(|m| (m, true))
        .chain(
            before
                .iter()
                .filter(|m| !new.contains(&key(m)))
                .map(|m| (m, false)),
        );
    for ((mmsi, imo, list, entry), appeared) in changes {
        let id = names.get(mmsi);
        let facts = Facts {
            imo: imo.or(id.and_then(|i| i.imo)),
            name: id.map(|i| i.name.clone()).filter(|n| !n.is_empty()),
            lists: vec![list.clone()],
            risk: None,
        };
        let change = shadowfleet_alerts::rules::ListChange {
            mmsi: *mmsi,
            imo: *imo,
            list: list.clone(),
            entry: entry.clone(),
            appeared,
            t,
        };
        alerts.extend(rules.alerts_for_list_change(&change, &facts));
    }
    let mark = store.meta(ALERTED_UNTIL)?.unwrap_or_else(|| "0".into());
    let n = store.put_alerts(
        &alerts.iter().map(alert_row).collect::<Vec<_>>(),
        &now().to_string(),
        ALERTED_UNTIL,
        &mark,
    )?;
    if let Some(path) = alerts_file {
        let sink = NdjsonSink::open(path).with_context(|| format!("opening {}", path.display()))?;
        let webhooks = Webhooks {
            senders: Vec::new(),
            threads: Vec::new(),
            handed: Default::default(),
        };
        deliver_pending(store, &mut Some(sink), &webhooks)?;
    }
    Ok(n)
}

/// An alert as the store's row.
pub fn alert_row(a: &Alert) -> NewAlert {
    NewAlert {
        alert_id: a.alert_id.clone(),
        rule: a.rule.clone(),
        kind: a.kind.clone(),
        event_id: a.event_id,
        mmsi: a.mmsi,
        time: a.time.clone(),
        body: serde_json::to_string(a).unwrap_or_default(),
    }
}

/// Delivers every alert of the store not yet delivered to a sink.
pub(super) fn deliver_pending(
    store: &Store,
    ndjson: &mut Option<NdjsonSink>,
    webhooks: &Webhooks,
) -> anyhow::Result<()> {
    let mut after = 0;
    loop {
        let batch = store.alerts(after, 10_000)?;
        let Some(last) = batch.last().map(|a| a.seq) else {
            break;
        };
        for a in &batch {
            let Ok(alert) = serde_json::from_str::<Alert>(&a.body) else {
                continue;
            };
            if let Some(sink) = ndjson.as_mut() {
                let name = format!("ndjson:{}", sink.path().display());
                if !a.delivered.contains(&name) {
                    sink.deliver(&alert)
                        .with_context(|| format!("writing {}", sink.path().display()))?;
                    store.alert_delivered(a.seq, &name)?;
                }
            }
            for (k, (url, tx)) in webhooks.senders.iter().enumerate() {
                if !a.delivered.iter().any(|d| d == url)
                    && webhooks.handed.borrow_mut().insert((a.seq, k))
                {
                    let _ = tx.send((a.seq, alert.clone()));
                }
            }
        }
        after = last;
    }
    Ok(())
}

/// What the rules may ask of each MMSI, from the store.
struct FactsTable {
    by_mmsi: FxHashMap<u32, Facts>,
}

impl FactsTable {
    fn of(
        store: &Store,
        with_risk: bool,
        current: &[IdentityPeriod],
    ) -> anyhow::Result<FactsTable> {
        let mut by_mmsi: FxHashMap<u32, Facts> = FxHashMap::default();
        if with_risk {
            let a = crate::Analysis::run(store, crate::AnalysisConfig::default())?;
            for i in &a.identities {
                let f = by_mmsi.entry(i.mmsi).or_default();
                f.imo = i.imo.or(f.imo);
                f.name = Some(i.name.clone())
                    .filter(|n| !n.is_empty())
                    .or(f.name.take());
            }
            for m in &a.matches {
                let f = by_mmsi.entry(m.mmsi).or_default();
                if !f.lists.contains(&m.list) {
                    f.lists.push(m.list.clone());
                }
            }
            for r in &a.risks {
                for m in &r.mmsis {
                    by_mmsi.entry(*m).or_default().risk = Some(r.score);
                }
            }
            for i in current {
                let f = by_mmsi.entry(i.mmsi).or_default();
                f.imo = i.imo.or(f.imo);
                f.name = Some(i.name.clone())
                    .filter(|n| !n.is_empty())
                    .or(f.name.take());
            }
        } else {
            let mut identities = store.identities()?;
            identities.extend_from_slice(current);
            let lists: Vec<shadowfleet_refdata::RefList> =
                store.lists()?.into_iter().map(|l| l.list).collect();
            for i in &identities {
                let f = by_mmsi.entry(i.mmsi).or_default();
                f.imo = i.imo.or(f.imo);
                f.name = Some(i.name.clone())
                    .filter(|n| !n.is_empty())
                    .or(f.name.take());
            }
            if !lists.is_empty() {
                let matches = shadowfleet_risk::screen(
                    &identities,
                    &lists,
                    &shadowfleet_risk::ScreenConfig::default(),
                );
                for m in &matches {
                    let f = by_mmsi.entry(m.mmsi).or_default();
                    if !f.lists.contains(&m.list) {
                        f.lists.push(m.list.clone());
                    }
                }
            }
        }
        Ok(FactsTable { by_mmsi })
    }

    fn get(&self, mmsi: u32) -> Facts {
        self.by_mmsi.get(&mmsi).cloned().unwrap_or_default()
    }
}
