//! The feeds: each read and decoded on a thread of its own, its messages handed to the
//! pipeline in batches.

use std::io::{Read, Seek, SeekFrom};
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use shadowfleet_decode::{DecodeStats, Decoded, Decoder, Sink};
use shadowfleet_model::Timestamp;

use super::{now, WatchOptions};

/// What a feed thread hands the pipeline.
#[allow(
    clippy::large_enum_variant,
    reason = "messages go in reused batches: boxing would allocate per message"
)]
pub(super) enum FeedMsg {
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
pub(super) fn read_feed(
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
