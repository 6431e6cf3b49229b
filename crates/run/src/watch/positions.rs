//! Positions on their way to the store: batched to a writer thread, collected as files at
//! each checkpoint.

use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};

use anyhow::Context;
use shadowfleet_store::PositionWriter;

use super::now;

/// What the position writer's thread takes.
enum ToWriter {
    /// Positions, in the order the pipeline released them.
    Positions(Vec<shadowfleet_store::Position>),
    /// Close the files written so far and hand them back (a checkpoint).
    Files(SyncSender<Result<Vec<shadowfleet_store::PositionFile>, shadowfleet_store::StoreError>>),
}

/// Positions handed in batches to a thread of their own that writes them (the pipeline does
/// not wait for the Parquet encoder), and the files written collected at each checkpoint.
pub(super) struct PositionSink {
    tx: Option<SyncSender<ToWriter>>,
    batch: Vec<shadowfleet_store::Position>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Positions per batch handed to the writer's thread.
const POSITION_BATCH: usize = 4096;

impl PositionSink {
    pub(super) fn start(
        dir: &Path,
        config: shadowfleet_store::PositionWriterConfig,
    ) -> anyhow::Result<Self> {
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

    pub(super) fn push(&mut self, p: shadowfleet_store::Position) {
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
    pub(super) fn files(&mut self) -> anyhow::Result<Vec<shadowfleet_store::PositionFile>> {
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
