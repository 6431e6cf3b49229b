//! `shadowfleet watch`: live feeds → the same pipeline as [`mod@crate::ingest`] → the store, in
//! checkpoints, with alerts (`docs/alerts.md`).
//!
//! Each feed (`tcp://host:port`, `udp://addr:port`, a file followed as it grows, `-` for
//! standard input) is read and decoded on a thread of its own; the pipeline runs on the
//! calling thread on event time (the receive times), with a wall-clock idle flush: when no
//! message has come for [`WatchOptions::idle_flush`], event time moves on by as much, so
//! that a quiet feed still closes gaps, visits and encounters.
//!
//! Every [`WatchOptions::checkpoint_every`] the events found since the last checkpoint, the
//! positions (their files), the pipeline's state and each feed's health and read offset are
//! committed in one transaction (a run of the store). After `kill -9` the next `watch`
//! continues from the last checkpoint: its events are in the store, a followed file is read
//! again from the offset committed with the state, so no committed event is lost and none is
//! found twice. A stop (SIGINT, SIGTERM, [`WatchOptions::stop`]) ends with a last checkpoint
//! that also stores what is still open, as provisional, like the end of `analyze`.
//!
//! After each checkpoint the new events go through the alert rules; each alert is recorded in
//! the store once (by rule and event) and delivered to the NDJSON file and every webhook.

use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rustc_hash::FxHashMap;
use shadowfleet_alerts::sinks::{NdjsonSink, Webhook};
use shadowfleet_alerts::Rules;
use shadowfleet_decode::DecodeStats;
use shadowfleet_events::{PipelineOutput, PipelineStats};
use shadowfleet_ingest::{Backoff, SourceReport};
use shadowfleet_model::Timestamp;
use shadowfleet_records::{Confidence, DropCounts, Event, EventDetails, IdentityPeriod};
use shadowfleet_store::{FeedRecord, NewRun, StateUpdate, Store, WriteLock};

use crate::ingest::{pipeline, FileRead, IngestOptions};

mod feeds;
mod positions;
mod raise;

pub use feeds::Feed;
pub use raise::{alert_row, raise_event_alerts, raise_list_alerts};

use feeds::{read_feed, FeedMsg};
use positions::PositionSink;
use raise::{deliver_pending, start_webhooks, Webhooks};

/// How to watch.
#[derive(Clone)]
pub struct WatchOptions {
    /// Detector thresholds, ports, the position writer's bounds (as for `analyze`).
    pub ingest: IngestOptions,
    /// Wall-clock time between checkpoints.
    pub checkpoint_every: Duration,
    /// Wall-clock silence of every feed after which event time moves on by as much.
    pub idle_flush: Duration,
    /// Reconnecting a TCP feed.
    pub reconnect: Backoff,
    /// Alert rules (none: no alerts).
    pub rules: Option<Rules>,
    /// The NDJSON file alerts are appended to.
    pub alerts_file: Option<PathBuf>,
    /// Webhooks alerts are POSTed to.
    pub webhooks: Vec<Webhook>,
    /// Set to stop (the signal handlers set it): the run ends with a last checkpoint.
    pub stop: Arc<AtomicBool>,
    /// End when every feed has ended (files are then read to their end, not followed).
    pub exit_at_end: bool,
    /// Called after each checkpoint with each vessel's latest position (`watch --serve`
    /// shows them and reloads its analysis). Runs on the pipeline's thread: hand work on.
    pub on_checkpoint: Option<Arc<dyn Fn(Vec<LivePosition>) + Send + Sync>>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            ingest: IngestOptions::default(),
            checkpoint_every: Duration::from_secs(10),
            idle_flush: Duration::from_secs(300),
            reconnect: Backoff::default(),
            rules: None,
            alerts_file: None,
            webhooks: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
            exit_at_end: false,
            on_checkpoint: None,
        }
    }
}

/// A vessel's latest position as the pipeline last saw it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LivePosition {
    /// MMSI.
    pub mmsi: u32,
    /// Receive time, unix seconds.
    pub t: i64,
    /// WGS84 degrees.
    pub lat: f64,
    /// WGS84 degrees.
    pub lon: f64,
}

/// What a watch did.
#[derive(Debug, Clone, Default)]
pub struct WatchReport {
    /// Messages decoded from every feed.
    pub messages: u64,
    /// Checkpoints committed.
    pub checkpoints: u64,
    /// Events committed (final and, at the stop, provisional).
    pub events: u64,
    /// Alerts raised (new in the store).
    pub alerts: u64,
    /// The run whose state the watch continued, when it did.
    pub continued_from: Option<i64>,
    /// Why a stored state was not continued.
    pub state_note: Option<String>,
}

#[allow(
    clippy::disallowed_methods,
    reason = "a live feed's health and alerts are stamped with the wall clock"
)]
fn now() -> Timestamp {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// A feed's health as the pipeline thread sees it.
#[derive(Debug, Clone, Default)]
struct Health {
    name: String,
    messages: u64,
    since_checkpoint: u64,
    last_message: Option<Timestamp>,
    last_time: Option<i64>,
    offset: u64,
    connected: bool,
    /// Receive time the current outage began (the last message before it).
    down_since: Option<i64>,
    outages: VecDeque<(i64, i64)>,
    stats: DecodeStats,
    stats_committed: DecodeStats,
    ended: bool,
}

const OUTAGES_KEPT: usize = 100;

/// Watches `feeds` into the store in `dir` until stopped (or, with
/// [`WatchOptions::exit_at_end`], until every feed has ended).
pub fn watch(dir: &Path, feeds: &[Feed], options: &WatchOptions) -> anyhow::Result<WatchReport> {
    anyhow::ensure!(!feeds.is_empty(), "no feed to watch");
    for f in feeds {
        if let Feed::File(p) = f {
            if shadowfleet_ingest::open_reader(&shadowfleet_ingest::Source::File(p.clone())).is_ok()
            {
                let mut head = [0u8; 4];
                let n = std::fs::File::open(p)
                    .and_then(|mut f| f.read(&mut head))
                    .unwrap_or(0);
                anyhow::ensure!(
                    !(n >= 2 && (head[..2] == [0x1f, 0x8b] || head[..4] == [0x28, 0xb5, 0x2f, 0xfd])),
                    "{}: a compressed file cannot be followed as it grows; give `analyze` the file, or `watch` the plain text",
                    p.display()
                );
            }
        }
    }
    let _lock = WriteLock::acquire(dir)?;
    let mut store = Store::open(dir)?;
    store.recover_positions()?;
    let mut report = WatchReport::default();
    let ingest = &options.ingest;
    let detector_config = toml::to_string(&ingest.detectors)
        .context("writing the detector configuration for the run record")?;
    let mut pipeline = pipeline(ingest)?;
    let mut continued = false;
    if let Some(saved) = store.saved_state()?.filter(|_| !ingest.fresh) {
        if saved.detector_config != detector_config {
            report.state_note = Some(format!(
                "the detector configuration differs from run {}'s: its state not continued",
                saved.run
            ));
        } else {
            match pipeline.load_state(&saved.state) {
                Ok(()) => {
                    continued = true;
                    report.continued_from = Some(saved.run);
                }
                Err(e) => {
                    pipeline = self::pipeline(ingest)?;
                    report.state_note = Some(format!(
                        "the state of run {} could not be read ({e}): the detectors start afresh",
                        saved.run
                    ));
                }
            }
        }
    }
    // Where each followed file was read up to, as committed with that state.
    let committed: FxHashMap<String, FeedRecord> = store
        .feeds()?
        .into_iter()
        .map(|f| (f.name.clone(), f))
        .collect();
    let mut health: Vec<Health> = feeds
        .iter()
        .map(|f| {
            let name = f.name();
            let old = committed.get(&name);
            Health {
                messages: old.map_or(0, |o| o.messages),
                offset: if continued {
                    old.map_or(0, |o| o.offset)
                } else {
                    0
                },
                outages: old.map_or_else(VecDeque::new, |o| o.outages.iter().copied().collect()),
                name,
                ..Health::default()
            }
        })
        .collect();

    let (tx, rx) = sync_channel::<(u16, Vec<FeedMsg>)>(64);
    let mut ndjson = match &options.alerts_file {
        Some(p) => Some(NdjsonSink::open(p).with_context(|| format!("opening {}", p.display()))?),
        None => None,
    };
    let webhooks = start_webhooks(dir, &options.webhooks)?;
    let result = std::thread::scope(|scope| -> anyhow::Result<()> {
        for (k, feed) in feeds.iter().enumerate() {
            let tx = tx.clone();
            let resume = health[k].offset;
            let k = u16::try_from(k).unwrap_or(u16::MAX);
            std::thread::Builder::new()
                .name(format!("sf-feed-{k}"))
                .spawn_scoped(scope, move || read_feed(feed, k, resume, options, &tx))
                .context("starting a feed thread")?;
        }
        drop(tx);
        let mut loop_state = Loop {
            options,
            detector_config: &detector_config,
            events: Vec::new(),
            identities: Vec::new(),
            last_feed: FxHashMap::default(),
            positions: PositionSink::start(dir, options.ingest.positions)?,
            stats_committed: PipelineStats::default(),
            continued,
        };
        let result = loop_state.run(
            &mut pipeline,
            &rx,
            &mut store,
            &mut health,
            &mut report,
            &mut ndjson,
            &webhooks,
        );
        // Whatever happened, the feed threads stop.
        options.stop.store(true, Ordering::Relaxed);
        // Drain so that no feed thread blocks on a full channel.
        while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
        result
    });
    drop(webhooks);
    result?;
    Ok(report)
}

/// The pipeline thread's state between checkpoints.
struct Loop<'a> {
    options: &'a WatchOptions,
    detector_config: &'a str,
    events: Vec<Event>,
    identities: Vec<IdentityPeriod>,
    /// The feed that last heard each MMSI (whose outages excuse its silences).
    last_feed: FxHashMap<u32, u16>,
    /// Positions on their way to the writer's thread.
    positions: PositionSink,
    stats_committed: PipelineStats,
    /// Whether the store's state is this stream's (the next checkpoint replaces its
    /// provisional rows).
    continued: bool,
}

impl Loop<'_> {
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        pipeline: &mut shadowfleet_events::Pipeline,
        rx: &Receiver<(u16, Vec<FeedMsg>)>,
        store: &mut Store,
        health: &mut [Health],
        report: &mut WatchReport,
        ndjson: &mut Option<NdjsonSink>,
        webhooks: &Webhooks,
    ) -> anyhow::Result<()> {
        // Alerts raised before a crash but not delivered go out first.
        self.raise_and_deliver(pipeline, store, report, ndjson, webhooks)?;
        let mut last_checkpoint = Instant::now();
        let mut last_message = Instant::now();
        let mut idle_from: Option<i64> = None;
        let mut since_rate = Instant::now();
        loop {
            let stop = self.options.stop.load(Ordering::Relaxed);
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok((k, batch)) => {
                    let h = &mut health[usize::from(k)];
                    for m in batch {
                        match m {
                            FeedMsg::Msg(d, end) => {
                                last_message = Instant::now();
                                idle_from = None;
                                h.messages += 1;
                                h.since_checkpoint += 1;
                                h.last_message = Some(now());
                                if let Some(t) = d.meta.received {
                                    let t = t.unix_millis().div_euclid(1000);
                                    if let Some(from) = h.down_since.take() {
                                        if h.outages.len() >= OUTAGES_KEPT {
                                            h.outages.pop_front();
                                        }
                                        h.outages.push_back((from, t));
                                    }
                                    h.last_time = Some(t);
                                }
                                if d.message.position().is_some() {
                                    self.last_feed.insert(d.message.header.mmsi, k);
                                }
                                h.offset = h.offset.max(end);
                                let Loop {
                                    events,
                                    identities,
                                    positions,
                                    ..
                                } = self;
                                pipeline
                                    .push(&d, &mut |o| output(o, events, identities, positions));
                            }
                            FeedMsg::Up => h.connected = true,
                            FeedMsg::Down => {
                                h.connected = false;
                                if h.down_since.is_none() {
                                    h.down_since = h.last_time;
                                }
                            }
                            FeedMsg::Stats(s) => h.stats = *s,
                            FeedMsg::End => h.ended = true,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if stop {
                break;
            }
            // A quiet feed: event time moves on with the wall clock.
            let idle = last_message.elapsed();
            if idle >= self.options.idle_flush && pipeline.clock() != i64::MIN {
                let from = *idle_from.get_or_insert(pipeline.clock());
                let t = from + i64::try_from(idle.as_secs()).unwrap_or(0);
                let Loop {
                    events,
                    identities,
                    positions,
                    ..
                } = self;
                pipeline.advance_clock(t, &mut |o| output(o, events, identities, positions));
            }
            if last_checkpoint.elapsed() >= self.options.checkpoint_every {
                let secs = since_rate.elapsed().as_secs_f64().max(1e-3);
                since_rate = Instant::now();
                self.checkpoint(pipeline, store, health, secs, false, report)?;
                self.raise_and_deliver(pipeline, store, report, ndjson, webhooks)?;
                last_checkpoint = Instant::now();
            }
        }
        let secs = since_rate.elapsed().as_secs_f64().max(1e-3);
        self.checkpoint(pipeline, store, health, secs, true, report)?;
        self.raise_and_deliver(pipeline, store, report, ndjson, webhooks)?;
        Ok(())
    }

    /// Commits what was found since the last checkpoint with the pipeline's state; at the
    /// end (`last`) also what is still open, as provisional.
    fn checkpoint(
        &mut self,
        pipeline: &mut shadowfleet_events::Pipeline,
        store: &mut Store,
        health: &mut [Health],
        secs: f64,
        last: bool,
        report: &mut WatchReport,
    ) -> anyhow::Result<()> {
        let fresh_data = health.iter().any(|h| h.since_checkpoint > 0);
        if !fresh_data && self.events.is_empty() && !last {
            return Ok(());
        }
        let state = pipeline
            .save_state(last)
            .context("saving the pipeline state")?;
        let watermark = pipeline.watermark();
        let mut open_events = Vec::new();
        let mut open_identities = Vec::new();
        if last {
            let positions = &mut self.positions;
            pipeline.finish(&mut |o| output(o, &mut open_events, &mut open_identities, positions));
        }
        let files = self.positions.files().context("writing positions")?;
        let mut events = std::mem::take(&mut self.events);
        let identities = std::mem::take(&mut self.identities);
        for e in events.iter_mut().chain(open_events.iter_mut()) {
            self.excuse_outage(e, health);
        }
        events.sort_by_key(|e| (e.start, e.mmsi, e.kind()));
        // What was left out since the last checkpoint.
        let stats = pipeline.stats();
        let mut dropped = DropCounts::default();
        for h in health.iter_mut() {
            let d = FileRead {
                report: SourceReport {
                    stats: stats_delta(&h.stats, &h.stats_committed),
                    ..SourceReport::default()
                },
                ..FileRead::default()
            }
            .dropped();
            dropped.add(&d);
            h.stats_committed = h.stats.clone();
        }
        let before = &self.stats_committed;
        dropped.add(&DropCounts {
            duplicates: stats.tracks.duplicates - before.tracks.duplicates,
            untimed_positions: stats.untimed_positions - before.untimed_positions,
            untimed_statics: stats.untimed_statics - before.untimed_statics,
            not_vessels: stats.not_vessels - before.not_vessels,
            invalid: stats.tracks.invalid - before.tracks.invalid,
            late: stats.tracks.late - before.tracks.late,
            clock_errors: stats.tracks.clock_errors - before.tracks.clock_errors,
            stale_relays: stats.tracks.stale_relays - before.tracks.stale_relays,
            ..DropCounts::default()
        });
        self.stats_committed = stats;
        let feeds: Vec<FeedRecord> = health
            .iter_mut()
            .map(|h| {
                let rate = h.since_checkpoint as f64 / secs;
                h.since_checkpoint = 0;
                let mut outages: Vec<(i64, i64)> = h.outages.iter().copied().collect();
                if let Some(from) = h.down_since {
                    outages.push((from, watermark.max(from)));
                }
                FeedRecord {
                    name: h.name.clone(),
                    messages: h.messages,
                    last_message: h.last_message.map(|t| t.to_string()),
                    last_time: h.last_time,
                    offset: h.offset,
                    connected: h.connected && !h.ended,
                    rate,
                    outages,
                }
            })
            .collect();
        let stations: Vec<(shadowfleet_records::StationId, String)> = pipeline
            .stations()
            .iter()
            .map(|(id, n)| (*id, n.clone()))
            .collect();
        let started = now().to_string();
        store.write_run(&NewRun {
            started_at: &started,
            inputs: &[],
            events: &events,
            identities: &identities,
            positions: &files,
            dropped: &dropped,
            stations: &stations,
            detector_config: self.detector_config,
            program_version: env!("CARGO_PKG_VERSION"),
            open_events: &open_events,
            open_identities: &open_identities,
            state: StateUpdate::Replace {
                continued: self.continued,
                state: &state,
                format: shadowfleet_records::state::FORMAT,
                watermark,
            },
            feeds: &feeds,
        })?;
        self.continued = true;
        report.checkpoints += 1;
        report.events += (events.len() + open_events.len()) as u64;
        report.messages = health.iter().map(|h| h.messages).sum();
        if let Some(f) = &self.options.on_checkpoint {
            f(pipeline
                .latest_positions()
                .map(|(mmsi, t, p)| LivePosition {
                    mmsi,
                    t,
                    lat: p.lat,
                    lon: p.lon,
                })
                .collect());
        }
        Ok(())
    }

    /// A gap that overlaps an outage of the feed that last heard the vessel is not dark.
    fn excuse_outage(&self, e: &mut Event, health: &[Health]) {
        let Some(&k) = self.last_feed.get(&e.mmsi) else {
            return;
        };
        let Some(h) = health.get(usize::from(k)) else {
            return;
        };
        let open = h.down_since.map(|from| (from, i64::MAX));
        let Some((from, to)) = h
            .outages
            .iter()
            .copied()
            .chain(open)
            .find(|&(a, b)| a < e.end && b > e.start)
        else {
            return;
        };
        let EventDetails::Gap(d) = &mut e.details else {
            return;
        };
        let to_text = if to == i64::MAX {
            "still down".to_owned()
        } else {
            Timestamp::from_unix_seconds(to).to_string()
        };
        let why = format!(
            "{} had an outage from {} to {to_text}: the silence may be the feed's, not the ship's",
            h.name,
            Timestamp::from_unix_seconds(from)
        );
        d.feed_outage = Some(why.clone());
        d.likely_dark = false;
        d.intentional = false;
        let mut reasons = e.confidence.reasons.clone();
        reasons.push(why);
        e.confidence = Confidence::low(reasons);
    }

    /// Raises the alerts of the events committed since the last time, records them, and
    /// delivers every alert not yet delivered.
    fn raise_and_deliver(
        &mut self,
        pipeline: &shadowfleet_events::Pipeline,
        store: &mut Store,
        report: &mut WatchReport,
        ndjson: &mut Option<NdjsonSink>,
        webhooks: &Webhooks,
    ) -> anyhow::Result<()> {
        let Some(rules) = &self.options.rules else {
            return Ok(());
        };
        let current: Vec<IdentityPeriod> = pipeline.current_identities().cloned().collect();
        report.alerts += raise_event_alerts(store, rules, &current)? as u64;
        deliver_pending(store, ndjson, webhooks)
    }
}

/// The counters of `now` less those of `before`.
fn stats_delta(now: &DecodeStats, before: &DecodeStats) -> DecodeStats {
    now.minus(before)
}

fn output(
    o: PipelineOutput,
    events: &mut Vec<Event>,
    identities: &mut Vec<IdentityPeriod>,
    positions: &mut PositionSink,
) {
    match o {
        PipelineOutput::Event(e) => events.push(*e),
        PipelineOutput::Identity(i) => identities.push(i),
        PipelineOutput::Position(p) => positions.push(shadowfleet_store::Position {
            position: p.position,
            segment: p.segment,
        }),
    }
}
