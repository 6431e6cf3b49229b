//! The pipeline on two threads: decoding and the track stage on a second thread, the
//! detection stage on the caller's. The second thread hands over the [`Step`]s of the track
//! stage in batches, in the order a single thread would take them, so the events are the same
//! as [`Pipeline::push`]'s. Batches go back to the second thread once used, so nothing is
//! allocated per message.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};

use shadowfleet_decode::{Decoded, Rejection, Sink};

use crate::pipeline::{Step, TrackStage};
use crate::{Pipeline, PipelineOutput};

/// Steps per batch handed from the second thread to the detection stage.
pub const BATCH: usize = 4096;
/// Batches in flight between the threads (bounds the memory between them).
const IN_FLIGHT: usize = 4;

/// The decoder side: a [`Sink`] that runs the track stage on each message and sends its steps
/// to the detection thread in batches.
pub struct BatchSink<'t> {
    track: &'t mut TrackStage,
    batch: Vec<Step>,
    full: SyncSender<Vec<Step>>,
    empty: Receiver<Vec<Step>>,
    /// Messages handed over so far.
    pub messages: u64,
    hung_up: bool,
}

impl BatchSink<'_> {
    fn send(&mut self) {
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

impl Sink for BatchSink<'_> {
    fn message(&mut self, msg: &Decoded) {
        self.messages += 1;
        let batch = &mut self.batch;
        self.track.push(msg, &mut |s| batch.push(s));
        if self.batch.len() >= BATCH {
            self.send();
        }
    }

    fn rejected(&mut self, _r: &Rejection) {}
}

/// Runs `decode` and the track stage on a second thread, and the detection stage on this one,
/// in order; the pipeline's output goes to `out`. Returns what `decode` returned. The
/// pipeline is not finished: call [`Pipeline::finish`] after the last input.
pub fn run_on_two_threads<T: Send, E: Send>(
    pipeline: &mut Pipeline<'_>,
    decode: impl FnOnce(&mut BatchSink<'_>) -> Result<T, E> + Send,
    out: &mut dyn FnMut(PipelineOutput),
) -> Result<T, E> {
    let (track, detect) = pipeline.stages();
    let (full_tx, full_rx) = sync_channel::<Vec<Step>>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Vec<Step>>(IN_FLIGHT + 2);
    std::thread::scope(|scope| {
        let decoder = scope.spawn(move || {
            let mut sink = BatchSink {
                track,
                batch: Vec::with_capacity(BATCH),
                full: full_tx,
                empty: empty_rx,
                messages: 0,
                hung_up: false,
            };
            let result = decode(&mut sink);
            sink.send();
            result
        });
        for mut batch in full_rx.iter() {
            for step in &batch {
                detect.step(step, out);
            }
            batch.clear();
            // The decoder may have stopped taking batches back; then drop this one.
            let _ = empty_tx.try_send(batch);
        }
        decoder
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
