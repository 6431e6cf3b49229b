//! `shadowfleet watch`: live feeds → the same pipeline as [`crate::ingest`] → the store, in
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
use std::io::{Read, Seek, SeekFrom};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rustc_hash::FxHashMap;
use shadowfleet_alerts::sinks::{Delivery, NdjsonSink, Webhook};
use shadowfleet_alerts::{Alert, Facts, Rules, When};
use shadowfleet_decode::{DecodeStats, Decoded, Decoder, Sink};
use shadowfleet_events::{PipelineOutput, PipelineStats};
use shadowfleet_ingest::{Backoff, SourceReport};
use shadowfleet_model::Timestamp;
use shadowfleet_records::{Confidence, DropCounts, Event, EventDetails, IdentityPeriod};
use shadowfleet_store::{
    FeedRecord, MatchKey, NewAlert, NewRun, PositionWriter, StateUpdate, Store, StoredEvent,
    WriteLock,
};

use crate::ingest::{pipeline, FileRead, IngestOptions};

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

/// What a feed thread hands the pipeline.
#[allow(
    clippy::large_enum_variant,
    reason = "messages go in reused batches: boxing would allocate per message"
)]
enum FeedMsg {
    /// A decoded message; the byte offset just after it (files: where to resume).
    Msg(Decoded, u64),
    /// Connected (or the file opened).
    Up,
    /// Disconnected (or the file gone).
    Down,
    /// The decoder's counters so far.
    Stats(Box<DecodeStats>),
    /// The feed ended (a file read to its end without following, stdin closed).
    End,
}

/// A feed given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// `tcp://host:port`.
    Tcp(String),
    /// `udp://addr:port`.
    Udp(String),
    /// A file, followed as it grows.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

impl Feed {
    /// Parses `tcp://host:port`, `udp://addr:port`, `-` or a path.
    pub fn parse(spec: &str) -> Feed {
        if spec == "-" {
            Feed::Stdin
        } else if let Some(a) = spec.strip_prefix("tcp://") {
            Feed::Tcp(a.to_owned())
        } else if let Some(a) = spec.strip_prefix("udp://") {
            Feed::Udp(a.to_owned())
        } else {
            Feed::File(PathBuf::from(spec))
        }
    }

    /// The feed as given.
    pub fn name(&self) -> String {
        match self {
            Feed::Tcp(a) => format!("tcp://{a}"),
            Feed::Udp(a) => format!("udp://{a}"),
            Feed::File(p) => p.display().to_string(),
            Feed::Stdin => "-".into(),
        }
    }
}

/// Sends decoded messages in batches to the pipeline.
struct FeedSink<'a> {
    tx: &'a SyncSender<(u16, Vec<FeedMsg>)>,
    feed: u16,
    base: u64,
    batch: Vec<FeedMsg>,
    /// The latest receive time the feed's own lines carried (not stamped on arrival).
    own_time: Option<Timestamp>,
}

/// A feed whose own receive times lie further than this from the wall clock is a replay of
/// older data: its untimed lines are not stamped with their arrival (that would put them
/// months ahead of the rest and make everything after late); they stay untimed, counted.
const REPLAY_SKEW_MS: i64 = 3_600_000;

impl Sink for FeedSink<'_> {
    fn message(&mut self, msg: &Decoded) {
        let end = self.base + msg.meta.offset + u64::from(msg.meta.length) + 1;
        let mut msg = *msg;
        if msg
            .meta
            .flags
            .contains(shadowfleet_decode::Flags::ARRIVAL_TIME)
        {
            let replay = match (self.own_time, msg.meta.received) {
                (Some(own), Some(arrived)) => {
                    (arrived.unix_millis() - own.unix_millis()).abs() > REPLAY_SKEW_MS
                }
                _ => false,
            };
            if replay {
                msg.meta.received = None;
            }
        } else if msg.meta.received.is_some() {
            self.own_time = msg.meta.received;
        }
        self.batch.push(FeedMsg::Msg(msg, end));
        if self.batch.len() >= 512 {
            self.flush();
        }
    }
}

impl FeedSink<'_> {
    fn send(&mut self, m: FeedMsg) {
        self.batch.push(m);
        self.flush();
    }

    fn flush(&mut self) {
        if !self.batch.is_empty() {
            let _ = self.tx.send((self.feed, std::mem::take(&mut self.batch)));
        }
    }
}

/// Reads one feed until `stop`, decoding on this thread.
fn read_feed(
    feed: &Feed,
    k: u16,
    resume_at: u64,
    options: &WatchOptions,
    tx: &SyncSender<(u16, Vec<FeedMsg>)>,
) {
    let stop = &options.stop;
    let mut config = options.ingest.detectors.decoder_config();
    config.input = k;
    config.stamp_arrival = matches!(feed, Feed::Tcp(_) | Feed::Udp(_));
    let mut sink = FeedSink {
        tx,
        feed: k,
        base: 0,
        batch: Vec::new(),
        own_time: None,
    };
    let mut buf = vec![0u8; 1 << 16];
    let stats_every = Duration::from_millis(500);
    let mut last_stats = Instant::now();
    let mut report_stats = |decoder: &Decoder, sink: &mut FeedSink<'_>, force: bool| {
        if force || last_stats.elapsed() >= stats_every {
            last_stats = Instant::now();
            sink.send(FeedMsg::Stats(Box::new(decoder.stats().clone())));
        }
    };
    match feed {
        Feed::File(path) => {
            let mut decoder = Decoder::new(config.clone());
            let mut pos = resume_at;
            let mut file: Option<std::fs::File> = None;
            loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let f = match &mut file {
                    Some(f) => f,
                    None => match std::fs::File::open(path) {
                        Ok(mut f) => {
                            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                            if len < pos {
                                // Truncated or replaced: read it again from its start.
                                pos = 0;
                            }
                            if f.seek(SeekFrom::Start(pos)).is_err() {
                                pos = 0;
                            }
                            decoder = Decoder::new(config.clone());
                            sink.base = pos;
                            sink.send(FeedMsg::Up);
                            file.insert(f)
                        }
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(200));
                            continue;
                        }
                    },
                };
                match f.read(&mut buf) {
                    Ok(0) => {
                        sink.flush();
                        report_stats(&decoder, &mut sink, false);
                        if options.exit_at_end {
                            break;
                        }
                        // Followed: wait for it to grow; notice truncation or rotation.
                        let len = std::fs::metadata(path).map(|m| m.len()).ok();
                        let here = sink.base + decoder_pos(&decoder);
                        if len.is_none_or(|l| l < here) {
                            file = None;
                            pos = 0;
                            sink.send(FeedMsg::Down);
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Ok(n) => {
                        decoder.push(&buf[..n], &mut sink);
                        report_stats(&decoder, &mut sink, false);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        file = None;
                        sink.send(FeedMsg::Down);
                    }
                }
            }
            decoder.finish(&mut sink);
            report_stats(&decoder, &mut sink, true);
        }
        Feed::Stdin => {
            let mut decoder = Decoder::new(config);
            sink.send(FeedMsg::Up);
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            loop {
                match lock.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        decoder.push(&buf[..n], &mut sink);
                        sink.flush();
                        report_stats(&decoder, &mut sink, false);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            decoder.finish(&mut sink);
            report_stats(&decoder, &mut sink, true);
        }
        Feed::Tcp(addr) => {
            let mut decoder = Decoder::new(config);
            let mut failures = 0u32;
            while !stop.load(Ordering::Relaxed) {
                match TcpStream::connect(addr) {
                    Ok(mut stream) => {
                        failures = 0;
                        let _ = stream.set_nodelay(true);
                        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                        sink.send(FeedMsg::Up);
                        loop {
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            match stream.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => {
                                    decoder.set_arrival_time(now());
                                    decoder.push(&buf[..n], &mut sink);
                                    sink.flush();
                                    report_stats(&decoder, &mut sink, false);
                                }
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                            | std::io::ErrorKind::Interrupted
                                    ) => {}
                                Err(_) => break,
                            }
                        }
                        // A dropped connection ends a line: never glue two sessions.
                        decoder.push(b"\n", &mut sink);
                        sink.send(FeedMsg::Down);
                    }
                    Err(_) => failures += 1,
                }
                let wait = options.reconnect.delay(failures);
                let until = Instant::now() + wait;
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            report_stats(&decoder, &mut sink, true);
        }
        Feed::Udp(addr) => {
            let mut decoder = Decoder::new(config);
            match UdpSocket::bind(addr) {
                Ok(socket) => {
                    let _ = socket.set_read_timeout(Some(Duration::from_millis(200)));
                    sink.send(FeedMsg::Up);
                    while !stop.load(Ordering::Relaxed) {
                        match socket.recv(&mut buf) {
                            Ok(n) => {
                                decoder.set_arrival_time(now());
                                decoder.push(&buf[..n], &mut sink);
                                if n > 0 && buf[n - 1] != b'\n' {
                                    decoder.push(b"\n", &mut sink);
                                }
                                sink.flush();
                                report_stats(&decoder, &mut sink, false);
                            }
                            Err(_) => sink.flush(),
                        }
                    }
                }
                Err(_) => sink.send(FeedMsg::Down),
            }
            report_stats(&decoder, &mut sink, true);
        }
    }
    sink.send(FeedMsg::End);
}

/// Bytes the decoder has consumed (its position in the stream it was given).
fn decoder_pos(d: &Decoder) -> u64 {
    d.position()
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

/// The webhooks' delivery threads: alerts are handed over by store sequence number.
struct Webhooks {
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

fn start_webhooks(dir: &Path, hooks: &[Webhook]) -> anyhow::Result<Webhooks> {
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

/// What the position writer's thread takes.
enum ToWriter {
    /// Positions, in the order the pipeline released them.
    Positions(Vec<shadowfleet_store::Position>),
    /// Close the files written so far and hand them back (a checkpoint).
    Files(SyncSender<Result<Vec<shadowfleet_store::PositionFile>, shadowfleet_store::StoreError>>),
}

/// Positions handed in batches to a thread of their own that writes them (the pipeline does
/// not wait for the Parquet encoder), and the files written collected at each checkpoint.
struct PositionSink {
    tx: Option<SyncSender<ToWriter>>,
    batch: Vec<shadowfleet_store::Position>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Positions per batch handed to the writer's thread.
const POSITION_BATCH: usize = 4096;

impl PositionSink {
    fn start(dir: &Path, config: shadowfleet_store::PositionWriterConfig) -> anyhow::Result<Self> {
        let (tx, rx) = sync_channel::<ToWriter>(8);
        let dir = dir.to_owned();
        let thread = std::thread::Builder::new()
            .name("sf-positions".into())
            .spawn(move || {
                let mut writer: Option<PositionWriter> = None;
                let mut failed: Option<shadowfleet_store::StoreError> = None;
                let mut seq = 0u64;
                for msg in rx {
                    match msg {
                        ToWriter::Positions(batch) => {
                            if failed.is_some() {
                                continue;
                            }
                            if writer.is_none() {
                                seq += 1;
                                let token = format!("watch-{}-{seq}", now().unix_millis());
                                match PositionWriter::new(&dir, &token, config) {
                                    Ok(w) => writer = Some(w),
                                    Err(e) => failed = Some(e),
                                }
                            }
                            if let Some(w) = writer.as_mut() {
                                for p in batch {
                                    if let Err(e) = w.push(p) {
                                        failed = Some(e);
                                        break;
                                    }
                                }
                            }
                        }
                        ToWriter::Files(reply) => {
                            let result = match failed.take() {
                                Some(e) => Err(e),
                                None => writer.take().map_or(Ok(Vec::new()), |w| w.finish()),
                            };
                            let _ = reply.send(result);
                        }
                    }
                }
            })
            .context("starting the position writer")?;
        Ok(PositionSink {
            tx: Some(tx),
            batch: Vec::with_capacity(POSITION_BATCH),
            thread: Some(thread),
        })
    }

    fn push(&mut self, p: shadowfleet_store::Position) {
        self.batch.push(p);
        if self.batch.len() >= POSITION_BATCH {
            self.send();
        }
    }

    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(POSITION_BATCH));
        if let Some(tx) = &self.tx {
            let _ = tx.send(ToWriter::Positions(batch));
        }
    }

    /// The files written since the last call (every position pushed is in them).
    fn files(&mut self) -> anyhow::Result<Vec<shadowfleet_store::PositionFile>> {
        self.send();
        let (reply, answer) = sync_channel(1);
        let tx = self
            .tx
            .as_ref()
            .context("the position writer has stopped")?;
        tx.send(ToWriter::Files(reply))
            .map_err(|_| anyhow::anyhow!("the position writer has stopped"))?;
        Ok(answer
            .recv()
            .map_err(|_| anyhow::anyhow!("the position writer has stopped"))??)
    }
}

impl Drop for PositionSink {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
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
fn deliver_pending(
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
