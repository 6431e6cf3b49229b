//! The pipeline on three threads: decoding (and picking out what the track stage takes from
//! each message) on one, the track stage on a second, the detection stage on the caller's.
//! Each hands its output to the next in batches, in the order a single thread would take
//! them, so the events are the same as [`Pipeline::push`]'s; the operating system shares the
//! cores between the three, so no stage has to be hand-balanced against another. Batches go
//! back to their sender once used, so nothing is allocated per message.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};

use shadowfleet_decode::{Decoded, Rejection, Sink};

use shadowfleet_events::{Input, Pipeline, PipelineOutput, Step};
use shadowfleet_records::StationId;

use crate::cpu::{thread_cpu_s, thread_cpu_since, StageCpu};

/// Items per batch handed from one thread to the next.
pub const BATCH: usize = 4096;
/// Batches in flight between two threads (bounds the memory between them).
const IN_FLIGHT: usize = 4;

/// The sending end of a batch channel: fills a batch, sends it when full, reuses the batches
/// the receiver gives back. Made with [`batch_channel`].
pub struct Batcher<T> {
    batch: Vec<T>,
    full: SyncSender<Vec<T>>,
    empty: Receiver<Vec<T>>,
    hung_up: bool,
}

impl<T> Batcher<T> {
    /// Adds an item; sends the batch when it is full. Items are dropped once the receiver
    /// has hung up.
    pub fn push(&mut self, item: T) {
        self.batch.push(item);
        if self.batch.len() >= BATCH {
            self.send();
        }
    }

    /// Sends what the batch holds (call it after the last item).
    pub fn send(&mut self) {
        if self.batch.is_empty() || self.hung_up {
            return;
        }
        let next = match self.empty.try_recv() {
            Ok(v) => v,
            Err(TryRecvError::Empty) => Vec::with_capacity(BATCH),
            Err(TryRecvError::Disconnected) => {
                self.hung_up = true;
                return;
            }
        };
        let full = std::mem::replace(&mut self.batch, next);
        if self.full.send(full).is_err() {
            self.hung_up = true;
        }
    }
}

/// A batch channel between two threads: the sender, and the receiving end (full batches in,
/// used ones back; see [`receive`]). At most a few batches are in flight, so memory between
/// the threads is bounded and nothing is allocated per item once the batches exist.
pub fn batch_channel<T>() -> (Batcher<T>, Receiver<Vec<T>>, SyncSender<Vec<T>>) {
    let (full_tx, full_rx) = sync_channel::<Vec<T>>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Vec<T>>(IN_FLIGHT + 2);
    let batcher = Batcher {
        batch: Vec::with_capacity(BATCH),
        full: full_tx,
        empty: empty_rx,
        hung_up: false,
    };
    (batcher, full_rx, empty_tx)
}

/// Takes every item of every batch until the sender hangs up, giving the batches back.
pub fn receive<T>(full: &Receiver<Vec<T>>, empty: &SyncSender<Vec<T>>, mut f: impl FnMut(&T)) {
    for mut batch in full.iter() {
        batch.iter().for_each(&mut f);
        batch.clear();
        // The sender may have stopped taking batches back; then drop this one.
        let _ = empty.try_send(batch);
    }
}

/// How many items ahead of the one being taken [`receive_ahead`] gives its hint: far enough
/// for memory to answer (a few hundred nanoseconds) while the items between are taken.
pub const AHEAD: usize = 8;

/// What [`receive_ahead`] asks of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// It comes 2 × [`AHEAD`] items later: a first hint (load its state's entry).
    Early,
    /// It comes [`AHEAD`] items later: a second hint (load what it will need, reading the
    /// entry the first hint loaded), nothing more.
    Soon,
    /// Take it now.
    Now,
}

/// [`receive`], also calling `f` with [`Take::Early`] on the item 2 × [`AHEAD`] places
/// after the one being taken and with [`Take::Soon`] on the item [`AHEAD`] places after:
/// a stage loads the next vessels' state while it works.
pub fn receive_ahead<T>(
    full: &Receiver<Vec<T>>,
    empty: &SyncSender<Vec<T>>,
    mut f: impl FnMut(Take, &T),
) {
    for mut batch in full.iter() {
        for item in batch.iter().take(2 * AHEAD) {
            f(Take::Early, item);
        }
        for item in batch.iter().take(AHEAD) {
            f(Take::Soon, item);
        }
        for (i, item) in batch.iter().enumerate() {
            if let Some(next) = batch.get(i + 2 * AHEAD) {
                f(Take::Early, next);
            }
            if let Some(next) = batch.get(i + AHEAD) {
                f(Take::Soon, next);
            }
            f(Take::Now, item);
        }
        batch.clear();
        // The sender may have stopped taking batches back; then drop this one.
        let _ = empty.try_send(batch);
    }
}

/// The decoder's [`Sink`]: picks out the track stage's inputs of each message and sends them
/// on in batches.
pub struct BatchSink {
    inputs: Batcher<Input>,
    /// Messages handed over so far.
    pub messages: u64,
    /// The receiving stations named so far, by id.
    stations: std::collections::BTreeMap<StationId, String>,
    last_station: shadowfleet_decode::AisText<24>,
}

impl Sink for BatchSink {
    fn message(&mut self, msg: &Decoded) {
        self.messages += 1;
        let station = &msg.meta.station;
        if !station.is_empty() && *station != self.last_station {
            self.last_station = *station;
            if let Some(id) = StationId::of_bytes(station.as_bytes()) {
                self.stations
                    .entry(id)
                    .or_insert_with(|| station.as_str().to_owned());
            }
        }
        Input::of(msg, &mut |i| self.inputs.push(i));
    }

    fn rejected(&mut self, _r: &Rejection) {}
}

/// Runs `decode` on one thread, the track stage on a second and the detection stage on this
/// one; the pipeline's output goes to `out`. Returns what `decode` returned. The pipeline is
/// not finished: call [`Pipeline::finish`] after the last input. A thread that cannot be
/// started is an error (`E` from the [`std::io::Error`]).
pub fn run_threaded<T: Send, E: Send + From<std::io::Error>>(
    pipeline: &mut Pipeline,
    decode: impl FnOnce(&mut BatchSink) -> Result<T, E> + Send,
    out: &mut dyn FnMut(PipelineOutput),
) -> Result<T, E> {
    run_threaded_timed(pipeline, decode, out).map(|(t, _)| t)
}

/// [`run_threaded`], also returning the CPU time of each of the three threads (decoding, the
/// track stage, detection).
pub fn run_threaded_timed<T: Send, E: Send + From<std::io::Error>>(
    pipeline: &mut Pipeline,
    decode: impl FnOnce(&mut BatchSink) -> Result<T, E> + Send,
    out: &mut dyn FnMut(PipelineOutput),
) -> Result<(T, StageCpu), E> {
    let detect_cpu = thread_cpu_s();
    let (track, detect) = pipeline.stages();
    let (inputs, inputs_full, inputs_empty) = batch_channel::<Input>();
    let (mut steps, steps_full, steps_empty) = batch_channel::<Step>();
    let (result, messages, stations, decode_s, tracks_s) =
        std::thread::scope(|scope| -> Result<_, E> {
            // Named threads: `top -H` and profilers tell the stages apart. The consumer first:
            // should the decoding thread fail to start, its batcher is dropped with it and the
            // track thread ends.
            let tracker = std::thread::Builder::new()
                .name("sf-track".into())
                .spawn_scoped(scope, move || {
                    let cpu = thread_cpu_s();
                    receive_ahead(&inputs_full, &inputs_empty, |take, i| match take {
                        Take::Early => {}
                        Take::Soon => track.prefetch(i),
                        Take::Now => track.take(*i, &mut |s| steps.push(s)),
                    });
                    steps.send();
                    thread_cpu_since(cpu)
                })?;
            let decoder = std::thread::Builder::new()
                .name("sf-decode".into())
                .spawn_scoped(scope, move || {
                    let cpu = thread_cpu_s();
                    let mut sink = BatchSink {
                        inputs,
                        messages: 0,
                        stations: Default::default(),
                        last_station: Default::default(),
                    };
                    let result = decode(&mut sink);
                    sink.inputs.send();
                    (result, sink.messages, sink.stations, thread_cpu_since(cpu))
                })?;
            receive_ahead(&steps_full, &steps_empty, |take, s| match take {
                Take::Early => detect.prefetch_early(s),
                Take::Soon => detect.prefetch(s),
                Take::Now => detect.step(s, out),
            });
            let (result, messages, stations, decode_s) = decoder
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            let tracks_s = tracker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok((result, messages, stations, decode_s, tracks_s))
        })?;
    pipeline.count_messages(messages);
    pipeline.note_stations(stations);
    let cpu = StageCpu {
        decode_s,
        tracks_s,
        detect_s: thread_cpu_since(detect_cpu),
        ..StageCpu::default()
    };
    result.map(|t| (t, cpu))
}
