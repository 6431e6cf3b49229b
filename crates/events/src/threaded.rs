//! Decoding and detection on two threads: the decoder fills batches of messages on a second
//! thread while the pipeline consumes them on the caller's, so the two stages overlap. Batches
//! go back to the decoder once used, so nothing is allocated per message.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};

use shadowfleet_decode::{Decoded, Rejection, Sink};

use crate::{Pipeline, PipelineOutput};

/// Messages per batch handed from the decoder thread to the pipeline.
pub const BATCH: usize = 4096;
/// Batches in flight between the threads (bounds the memory between them).
const IN_FLIGHT: usize = 4;

/// The decoder side: a [`Sink`] that fills batches and sends them to the pipeline thread.
pub struct BatchSink {
    batch: Vec<Decoded>,
    full: SyncSender<Vec<Decoded>>,
    empty: Receiver<Vec<Decoded>>,
    /// Messages handed over so far.
    pub messages: u64,
    hung_up: bool,
}

impl BatchSink {
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

impl Sink for BatchSink {
    fn message(&mut self, msg: &Decoded) {
        self.messages += 1;
        self.batch.push(*msg);
        if self.batch.len() >= BATCH {
            self.send();
        }
    }

    fn rejected(&mut self, _r: &Rejection) {}
}

/// Runs `decode` on a second thread, feeding every message it hands to its sink through
/// `pipeline` on this thread, in order; the pipeline's output goes to `out`. Returns what
/// `decode` returned. The pipeline is not finished: call [`Pipeline::finish`] after the last
/// input.
pub fn run_on_two_threads<T: Send, E: Send>(
    pipeline: &mut Pipeline<'_>,
    decode: impl FnOnce(&mut BatchSink) -> Result<T, E> + Send,
    out: &mut dyn FnMut(PipelineOutput),
) -> Result<T, E> {
    let (full_tx, full_rx) = sync_channel::<Vec<Decoded>>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Vec<Decoded>>(IN_FLIGHT + 2);
    std::thread::scope(|scope| {
        let decoder = scope.spawn(move || {
            let mut sink = BatchSink {
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
            for d in &batch {
                pipeline.push(d, out);
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
