//! Ingest: AIS inputs → decode → detection pipeline → store (events, identities, positions),
//! as one run. `shadowfleet analyze` and the API's `POST /api/ingest` both call [`ingest`].
//!
//! A run holds the store's [`WriteLock`], first finishes or discards what an interrupted run
//! left ([`Store::recover_positions`]), skips inputs already in the manifest (same content
//! hash), streams positions into day-partitioned GeoParquet files in staging while the
//! detectors run, and commits inputs, events, identities and the position manifest in one
//! transaction, after which the files are moved into place.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cpu::{thread_cpu_s, thread_cpu_since, StageCpu};
use crate::threaded::{batch_channel, receive, run_threaded_timed};
use anyhow::Context;
use sha2::{Digest, Sha256};
use shadowfleet_decode::RejectReason;
use shadowfleet_events::{DetectorConfig, Pipeline, PipelineOutput, Reference};
use shadowfleet_ingest::csv_columns::Role;
use shadowfleet_ingest::SourceReport;
use shadowfleet_ingest::{open_reader, read_source_with, Backoff, Source};
use shadowfleet_places::Place;
use shadowfleet_records::{DropCounts, Event, EventKind, IdentityPeriod};
use shadowfleet_store::{
    InputRecord, NewRun, Position, PositionWriter, PositionWriterConfig, Recovery, StateUpdate,
    Store, WriteLock,
};

/// One input file and the name the manifest records for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestInput {
    /// File to read (NMEA with tag blocks, gzip or zstd, DMA/NOAA CSV).
    pub path: PathBuf,
    /// Name in the manifest (the path as given, or `api:<hash>` for a posted body).
    pub name: String,
}

impl IngestInput {
    /// An input named by its path.
    pub fn file(path: &Path) -> IngestInput {
        IngestInput {
            path: path.to_owned(),
            name: path.display().to_string(),
        }
    }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Detector thresholds.
    pub detectors: DetectorConfig,
    /// Ports added to the embedded places for port calls.
    pub extra_ports: Vec<Place>,
    /// Where relative paths in the detector configuration are read from.
    pub config_dir: PathBuf,
    /// Wall-clock time of the run, unix seconds (recorded in the manifest and naming the
    /// run's staging directory; the detectors never see it).
    pub started_at: i64,
    /// Bounds of the position writer.
    pub positions: PositionWriterConfig,
    /// Counts the bytes of the inputs read as the run goes (for a progress bar).
    pub bytes_read: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// Analyse the timed reports of an input whose position reports are mostly without a
    /// receive time (else that is an error: the untimed ones cannot be placed in time).
    pub allow_untimed: bool,
    /// CSV columns named by the user (`--columns role=HEADER`).
    pub columns: Vec<(Role, String)>,
    /// Measure where the detection stage's time goes, per detector
    /// ([`StageCpu::detectors`]; costs about 1 %).
    pub profile: bool,
    /// Start the detectors afresh instead of continuing from the state the store's last run
    /// left (`analyze --fresh`); this run's state then becomes the store's.
    pub fresh: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    /// Inputs analysed and recorded.
    pub inputs: Vec<InputRecord>,
    /// Inputs skipped because the manifest already has them.
    pub skipped: Vec<String>,
    /// Messages decoded.
    pub messages: u64,
    /// Positions stored.
    pub positions: u64,
    /// Messages dropped as repeats of one transmission (by the decoder) and position reports
    /// dropped as duplicates (by the track builder).
    pub duplicates: u64,
    /// Position reports dropped by the track builder for arriving after the reorder window
    /// had closed on their time.
    pub late: u64,
    /// Position reports dropped for a position that is not available or out of range, or a
    /// receive time before 1990 or after 2106.
    pub invalid: u64,
    /// Position reports dropped for a receive time far ahead of every other (a receiver's
    /// wrong clock).
    pub clock_errors: u64,
    /// Everything the run left out, by reason (the fields above among them).
    pub dropped: DropCounts,
    /// The first CSV rows rejected, each with its file, line, column and why.
    pub csv_errors: Vec<String>,
    /// Events found, per kind.
    pub events: Vec<(EventKind, usize)>,
    /// Identity periods recorded.
    pub identities: usize,
    /// Position files written.
    pub position_files: usize,
    /// Seconds spent decoding and detecting.
    pub elapsed_s: f64,
    /// The run's id, when there was anything new.
    pub run: Option<i64>,
    /// What an interrupted earlier run left and this one finished or discarded.
    pub recovered: Recovery,
    /// CPU seconds per stage (per detector too when [`IngestOptions::profile`] is set).
    pub cpu: StageCpu,
    /// Vessels (track builder slots) the run saw.
    pub vessels: u64,
    /// The run whose pipeline state this one continued (its open gaps, visits, meetings,
    /// tracks and identities), when it did.
    pub continued_from: Option<i64>,
    /// Why a stored state was not continued, when there was one and it was not.
    pub state_note: Option<String>,
    /// Events still open at the end of the data, stored as provisional (replaced by the
    /// next run that continues this one's state).
    pub open_events: usize,
    /// Bytes of the pipeline state saved with the run (0: none saved).
    pub state_bytes: usize,
}

impl IngestReport {
    /// Events found in all.
    pub fn event_count(&self) -> usize {
        self.events.iter().map(|(_, n)| n).sum()
    }
}

/// SHA-256 (hex) and size of a file, read in blocks.
pub fn content_hash(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex(&h.finalize()), bytes))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn position_of(p: &shadowfleet_tracks::TrackPoint) -> Position {
    Position {
        position: p.position,
        segment: p.segment,
    }
}

/// The detection pipeline `options` describe: its detector configuration over the embedded
/// land, places and MIDs, with the ports `options` add and relative paths read from
/// `options.config_dir`.
pub fn pipeline(options: &IngestOptions) -> anyhow::Result<Pipeline> {
    let mut reference = Reference::embedded()?;
    if !options.extra_ports.is_empty() {
        reference = reference.with_ports(options.extra_ports.clone(), 3_000.0).0;
    }
    reference.base_dir = options.config_dir.clone();
    Ok(Pipeline::new(&options.detectors, &reference)?)
}

/// What reading one file yielded: messages decoded (repeats included) and what the decoder
/// and the CSV reader left out.
#[derive(Debug, Clone, Default)]
pub struct FileRead {
    /// Messages decoded, repeats of one transmission included.
    pub messages: u64,
    /// The reader's counts.
    pub report: SourceReport,
    /// CPU seconds of decoding, the track stage and detection on this file.
    pub cpu: StageCpu,
}

impl FileRead {
    /// What the decoder and the CSV reader left out of this file, by reason.
    pub fn dropped(&self) -> DropCounts {
        let s = &self.report.stats;
        let mut d = DropCounts {
            not_ais_lines: s.rejected(RejectReason::NotAis),
            csv_rows: self.report.csv_rejected,
            duplicates: s.repeats,
            ..DropCounts::default()
        };
        for r in RejectReason::ALL {
            let n = s.rejected(r);
            if r != RejectReason::NotAis && n > 0 {
                d.rejected_sentences.insert(r.code().to_owned(), n);
            }
        }
        // CSV rows rejected are counted by the decoder as `not_ais` lines too.
        d.not_ais_lines = d.not_ais_lines.saturating_sub(self.report.csv_rejected);
        d
    }
}

/// Fails on an input of which nothing could be read, and on one whose position reports are
/// mostly untimed (unless allowed): both say what was found and what was expected.
fn check_readable(
    path: &Path,
    read: &FileRead,
    before: &shadowfleet_events::PipelineStats,
    after: &shadowfleet_events::PipelineStats,
    options: &IngestOptions,
) -> anyhow::Result<()> {
    let s = &read.report.stats;
    if read.messages == 0 {
        let d = read.dropped();
        let mut why = vec![format!("{} lines", s.lines)];
        why.extend(d.lines());
        if !read.report.csv_errors.is_empty() {
            why.push(format!(
                "first CSV errors: {}",
                read.report.csv_errors[..read.report.csv_errors.len().min(3)].join("; ")
            ));
        }
        anyhow::bail!(
            "{}: no AIS message could be read ({}). Expected NMEA 0183 (!AIVDM/!AIVDO sentences, with tag blocks, $PGHP headers or trailing epoch times for the receive time) or a CSV export with MMSI, time, latitude and longitude columns (see docs/formats.md)",
            path.display(),
            why.join(", ")
        );
    }
    let untimed = after.untimed_positions - before.untimed_positions;
    let timed = after.positions - before.positions;
    if untimed > timed && !options.allow_untimed {
        anyhow::bail!(
            "{}: {untimed} of {} position reports have no receive time (no tag block c:, $PGHP header, trailing epoch or CSV time column), so they cannot be placed in time and would be left out. Give a log that carries receive times (most receivers and loggers can write NMEA 4.10 tag blocks with c:), or pass --allow-untimed to analyse the {timed} timed ones",
            path.display(),
            untimed + timed
        );
    }
    Ok(())
}

/// Reads one file through `pipeline` on its threads (reading, decoding, the track stage,
/// detection on this one) and hands what it emits to `out`. The pipeline is not finished:
/// more files may follow.
pub fn run_file(
    pipeline: &mut Pipeline,
    path: &Path,
    decoder: &shadowfleet_decode::DecoderConfig,
    bytes_read: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    columns: &[(Role, String)],
    out: &mut dyn FnMut(PipelineOutput),
) -> anyhow::Result<FileRead> {
    let backoff = Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(60),
        max_attempts: Some(1),
    };
    let source = Source::File(path.to_owned());
    run_threaded_timed(
        pipeline,
        |sink| {
            read_source_with(&source, decoder, backoff, sink, bytes_read, columns).map(|r| {
                FileRead {
                    messages: sink.messages + r.stats.repeats,
                    report: r,
                    cpu: StageCpu::default(),
                }
            })
        },
        out,
    )
    .map(|(read, cpu)| FileRead { cpu, ..read })
    .with_context(|| format!("reading {}", path.display()))
}

/// The median receive time of the first position reports of an NMEA input (up to 1 000 of
/// them in its first 4 MB; the median, so that a late relay at the start does not count), to
/// tell a continuation of the stream from older data; `None` when none is found there (a CSV
/// export, an untimed log: the run then continues the stream).
pub fn first_receive_time(path: &Path, detectors: &DetectorConfig) -> Option<i64> {
    use std::io::BufRead;
    let mut reader = open_reader(&Source::File(path.to_owned())).ok()?;
    let mut decoder = shadowfleet_decode::Decoder::new(detectors.decoder_config());
    let mut times: Vec<i64> = Vec::new();
    let mut line = Vec::new();
    let mut read = 0usize;
    while read < 4 << 20 && times.len() < 1000 {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        decoder.push_line(
            text,
            &mut shadowfleet_decode::FnSink(|d: &shadowfleet_decode::Decoded| {
                if let (Some(t), Some(_)) = (d.meta.received, d.message.position()) {
                    times.push(t.unix_millis().div_euclid(1000));
                }
            }),
        );
    }
    times.sort_unstable();
    times.get(times.len() / 2).copied()
}

/// Analyses `inputs` into the store in `dir` (created when missing) as one run, continuing
/// the pipeline state the store's last run left (see [`IngestOptions::fresh`]).
pub fn ingest(
    dir: &Path,
    inputs: &[IngestInput],
    options: &IngestOptions,
) -> anyhow::Result<IngestReport> {
    let _lock = WriteLock::acquire(dir)?;
    let mut store = Store::open(dir)?;
    let mut report = IngestReport {
        recovered: store.recover_positions()?,
        ..IngestReport::default()
    };
    let started = shadowfleet_model::Timestamp::from_unix_seconds(options.started_at).to_string();

    let mut new_inputs: Vec<(&IngestInput, String, u64)> = Vec::new();
    for input in inputs {
        let (hash, bytes) = content_hash(&input.path)?;
        if store.has_input(&hash)? || new_inputs.iter().any(|(_, h, _)| *h == hash) {
            report.skipped.push(input.name.clone());
            continue;
        }
        // Fail early on an unreadable or empty input, before any work.
        open_reader(&Source::File(input.path.clone()))
            .with_context(|| format!("opening {}", input.path.display()))?;
        new_inputs.push((input, hash, bytes));
    }
    if new_inputs.is_empty() {
        return Ok(report);
    }

    let mut pipeline = pipeline(options)?;
    if options.profile {
        pipeline.stages().1.profile();
    }
    let detector_config = toml::to_string(&options.detectors)
        .context("writing the detector configuration for the run record")?;
    // Continue the stream the store's state left, unless told not to or this run is not its
    // continuation (another configuration; data that begins before the state's watermark
    // less the reorder window: a backfill, analysed on its own so that none of it is late).
    let mut save_state = true;
    if let Some(saved) = store.saved_state()?.filter(|_| !options.fresh) {
        let window = options.detectors.tracks.reorder_window_s;
        let first = first_receive_time(&new_inputs[0].0.path, &options.detectors);
        if saved.detector_config != detector_config {
            report.state_note = Some(format!(
                "the detector configuration differs from run {}'s: its state not continued, the detectors start afresh (its open events are kept as they were)",
                saved.run
            ));
        } else if let Some(t) = first.filter(|&t| t < saved.watermark.saturating_sub(window)) {
            save_state = false;
            report.state_note = Some(format!(
                "{} begins at {}, before the end of the data already analysed ({}, run {}): analysed on its own as older data; the store's state stays with run {}",
                new_inputs[0].0.name,
                shadowfleet_model::Timestamp::from_unix_seconds(t),
                shadowfleet_model::Timestamp::from_unix_seconds(saved.watermark),
                saved.run,
                saved.run
            ));
        } else {
            match pipeline.load_state(&saved.state) {
                Ok(()) => report.continued_from = Some(saved.run),
                Err(e) => {
                    // A half-loaded pipeline is not trusted: build it again.
                    pipeline = self::pipeline(options)?;
                    if options.profile {
                        pipeline.stages().1.profile();
                    }
                    report.state_note = Some(format!(
                        "the state of run {} (written by shadowfleet {}) could not be read ({e}): the detectors start afresh",
                        saved.run, saved.program_version
                    ));
                }
            }
        }
    }
    // Unique per run: the next run id (after recovery, no staging of an uncommitted run is
    // left) and the first input's hash.
    let token = format!("run-{}-{}", store.run_count()? + 1, &new_inputs[0].1[..12]);
    let positions = PositionWriter::new(dir, &token, options.positions)?;
    let mut stored = 0u64;
    let mut events: Vec<Event> = Vec::new();
    let mut identities: Vec<IdentityPeriod> = Vec::new();
    let (mut open_events, mut open_identities) = (Vec::new(), Vec::new());
    let mut state: Vec<u8> = Vec::new();
    let mut watermark = i64::MIN;
    let clock = Instant::now();
    let decoder = options.detectors.decoder_config();
    // Positions are written on a thread of their own (handed over in batches) while the
    // pipeline runs on its three.
    let files = std::thread::scope(|scope| -> anyhow::Result<_> {
        let (mut to_writer, writer_full, writer_empty) = batch_channel::<Position>();
        let writer = std::thread::Builder::new()
            .name("sf-positions".into())
            .spawn_scoped(scope, move || {
                let cpu = thread_cpu_s();
                let mut positions = positions;
                let mut result = Ok(());
                receive(&writer_full, &writer_empty, |p| {
                    if result.is_ok() {
                        result = positions.push(*p);
                    }
                });
                let files = result.and_then(|()| positions.finish());
                (files, thread_cpu_since(cpu))
            })
            .context("starting the position writer")?;
        // What finishing emits is still open at the end of the data: provisional when the
        // state is kept, for the next run to continue.
        let finishing = std::cell::Cell::new(false);
        let mut out = |o: PipelineOutput| match o {
            PipelineOutput::Event(e) if finishing.get() => open_events.push(*e),
            PipelineOutput::Event(e) => events.push(*e),
            PipelineOutput::Identity(i) if finishing.get() => open_identities.push(i),
            PipelineOutput::Identity(i) => identities.push(i),
            PipelineOutput::Position(p) => {
                stored += 1;
                to_writer.push(position_of(&p));
            }
        };
        for (k, (input, hash, bytes)) in new_inputs.iter().enumerate() {
            let before = pipeline.stats();
            // Each position keeps the input's place among the run's (`input` column).
            let decoder = shadowfleet_decode::DecoderConfig {
                input: u16::try_from(k).unwrap_or(u16::MAX),
                ..decoder.clone()
            };
            let read = run_file(
                &mut pipeline,
                &input.path,
                &decoder,
                options.bytes_read.clone(),
                &options.columns,
                &mut out,
            )?;
            let n = read.messages;
            check_readable(&input.path, &read, &before, &pipeline.stats(), options)?;
            report.messages += n;
            report.cpu.add(&read.cpu);
            report.duplicates += read.report.stats.repeats;
            report.dropped.add(&read.dropped());
            for e in &read.report.csv_errors {
                if report.csv_errors.len() < 20 {
                    report.csv_errors.push(e.clone());
                }
            }
            report.inputs.push(InputRecord {
                name: input.name.clone(),
                content_hash: hash.clone(),
                bytes: *bytes,
                messages: n,
            });
        }
        let finish_cpu = thread_cpu_s();
        if save_state {
            state = pipeline
                .save_state(true)
                .context("saving the pipeline state")?;
            watermark = pipeline.watermark();
            finishing.set(true);
        }
        pipeline.finish(&mut out);
        report.cpu.detect_s += thread_cpu_since(finish_cpu);
        to_writer.send();
        drop(to_writer);
        let (files, writer_cpu) = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        report.cpu.positions_s = writer_cpu;
        files.context("writing positions")
    })?;
    events.sort_by_key(|e| (e.start, e.mmsi, e.kind()));
    open_events.sort_by_key(|e| (e.start, e.mmsi, e.kind()));
    let stats = pipeline.stats();
    report.elapsed_s = clock.elapsed().as_secs_f64();
    let stations: Vec<(shadowfleet_records::StationId, String)> = pipeline
        .stations()
        .iter()
        .map(|(id, name)| (*id, name.clone()))
        .collect();
    report.positions = stored;
    report.duplicates += stats.tracks.duplicates;
    report.late = stats.tracks.late;
    report.invalid = stats.tracks.invalid;
    report.clock_errors = stats.tracks.clock_errors;
    report.dropped.add(&DropCounts {
        duplicates: stats.tracks.duplicates,
        untimed_positions: stats.untimed_positions,
        untimed_statics: stats.untimed_statics,
        not_vessels: stats.not_vessels,
        invalid: stats.tracks.invalid,
        late: stats.tracks.late,
        clock_errors: stats.tracks.clock_errors,
        stale_relays: stats.tracks.stale_relays,
        ..DropCounts::default()
    });
    if let Some(p) = pipeline.stages().1.profiled() {
        report.cpu.detectors = p.detectors.clone();
        report.cpu.identities_s = p.identities_s;
    }
    report.vessels = stats.tracks.vessels;
    let commit = Instant::now();
    report.run = Some(store.write_run(&NewRun {
        started_at: &started,
        inputs: &report.inputs,
        events: &events,
        identities: &identities,
        positions: &files,
        dropped: &report.dropped,
        stations: &stations,
        detector_config: &detector_config,
        program_version: env!("CARGO_PKG_VERSION"),
        open_events: &open_events,
        open_identities: &open_identities,
        state: if save_state {
            StateUpdate::Replace {
                continued: report.continued_from.is_some(),
                state: &state,
                format: shadowfleet_records::state::FORMAT,
                watermark,
            }
        } else {
            StateUpdate::Keep
        },
        feeds: &[],
    })?);
    report.open_events = open_events.len();
    report.state_bytes = state.len();
    report.cpu.commit_s = commit.elapsed().as_secs_f64();
    report.events = EventKind::ALL
        .iter()
        .map(|k| {
            let n = events.iter().chain(&open_events);
            (*k, n.filter(|e| e.kind() == *k).count())
        })
        .collect();
    report.identities = identities.len() + open_identities.len();
    report.position_files = files.len();
    Ok(report)
}
