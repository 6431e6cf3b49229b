//! The native part of the `shadowfleet` Python package (`shadowfleet._native`): decoding AIS
//! into Arrow record batches, the detection pipeline over Arrow batches of decoded messages,
//! `analyze` as the command line runs it, and a store opened read-only whose events,
//! identities, flows, exposure and risks come back as Arrow. Batches cross into Python
//! through the Arrow C data interface (no copy); the Python package (`python/shadowfleet`)
//! wraps them into `pyarrow.Table`s and documents the API.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::pyarrow::PyArrowType;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use shadowfleet_decode::{DecodeStats, Decoded, DecoderConfig, RejectReason, Rejection, Sink};
use shadowfleet_events::{DetectorConfig, PipelineOutput, Reference};
use shadowfleet_ingest::{read_source, Backoff, Source, SourceReport};
use shadowfleet_records::{Event, IdentityPeriod};
use shadowfleet_tracks::TrackPoint;

mod columns;
mod splits;
mod store_writer;
mod tables;

/// Rows per record batch handed to Python.
const BATCH_ROWS: usize = 1 << 16;

type Batches = Vec<PyArrowType<RecordBatch>>;

fn arrow_err(e: arrow::error::ArrowError) -> PyErr {
    PyRuntimeError::new_err(format!("building the Arrow batch: {e}"))
}

fn any_err(e: anyhow::Error) -> PyErr {
    PyRuntimeError::new_err(format!("{e:#}"))
}

/// The decoder's counts, as JSON (`lines`, `messages`, `rejected` by reason, ...).
fn stats_json(s: &DecodeStats, report: Option<&SourceReport>) -> serde_json::Value {
    let rejected: serde_json::Map<String, serde_json::Value> = RejectReason::ALL
        .iter()
        .filter(|r| s.rejected(**r) > 0)
        .map(|r| (r.code().to_owned(), s.rejected(*r).into()))
        .collect();
    serde_json::json!({
        "lines": s.lines,
        "sentences": s.sentences,
        "messages": s.messages,
        "comments": s.comments,
        "repeats": s.repeats,
        "bad_checksum_accepted": s.bad_checksum_accepted,
        "missing_checksum": s.missing_checksum,
        "rejected": rejected,
        "csv_rejected": report.map_or(0, |r| r.csv_rejected),
        "csv_errors": report.map(|r| r.csv_errors.iter().take(10).collect::<Vec<_>>()),
    })
}

/// Collects decoded messages into batches of [`BATCH_ROWS`].
struct BatchSink {
    columns: columns::DecodedColumns,
    batches: Vec<RecordBatch>,
    error: Option<arrow::error::ArrowError>,
    line_base: u64,
}

impl BatchSink {
    fn new(base_offset: u64, line_base: u64) -> BatchSink {
        let mut columns = columns::DecodedColumns::default();
        columns.base_offset = base_offset;
        BatchSink {
            columns,
            batches: Vec::new(),
            error: None,
            line_base,
        }
    }

    fn flush(&mut self) {
        if self.columns.len() == 0 {
            return;
        }
        match self.columns.finish() {
            Ok(b) => self.batches.push(b),
            Err(e) => self.error = Some(e),
        }
    }

    fn done(mut self) -> PyResult<Vec<RecordBatch>> {
        self.flush();
        match self.error {
            Some(e) => Err(arrow_err(e)),
            None => Ok(self.batches),
        }
    }
}

impl Sink for BatchSink {
    fn message(&mut self, msg: &Decoded) {
        if self.line_base != 0 {
            let mut m = *msg;
            m.meta.line += self.line_base;
            self.columns.push(&m);
        } else {
            self.columns.push(msg);
        }
        if self.columns.len() >= BATCH_ROWS {
            self.flush();
        }
    }

    fn rejected(&mut self, _r: &Rejection) {}
}

/// The decoder settings a run with `detectors` decodes with (its repeat window), as
/// `analyze` sets them, for input number `input`.
fn decoder_config(
    detectors: &DetectorConfig,
    accept_bad_checksum: bool,
    input: u16,
) -> DecoderConfig {
    DecoderConfig {
        accept_bad_checksum,
        input,
        ..detectors.decoder_config()
    }
}

/// Decodes files (plain, gzip or zstd NMEA with tag blocks, `$PGHP` headers or trailing
/// times; DMA/NOAA CSV exports) into record batches of the decoded-message schema, with the
/// decoder's counts per file (JSON). A file of which nothing could be read is an error that
/// names it. Repeats of one transmission heard by several receivers are dropped (counted as
/// `repeats`), as `shadowfleet analyze` does.
#[pyfunction]
#[pyo3(signature = (paths, accept_bad_checksum = false))]
fn decode_files(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    accept_bad_checksum: bool,
) -> PyResult<(Batches, String)> {
    let (batches, stats) = py.detach(move || -> PyResult<_> {
        let mut batches = Vec::new();
        let mut stats = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let input = u16::try_from(i).map_err(|_| {
                PyValueError::new_err("at most 65 536 inputs can be decoded at once")
            })?;
            let mut sink = BatchSink::new(0, 0);
            let report = read_source(
                &Source::File(path.clone()),
                &decoder_config(&DetectorConfig::default(), accept_bad_checksum, input),
                Backoff {
                    max_attempts: Some(1),
                    ..Backoff::default()
                },
                &mut sink,
            )
            .map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))?;
            if report.stats.messages == 0 {
                return Err(PyValueError::new_err(format!(
                    "{}: no AIS message could be read ({} lines; {})",
                    path.display(),
                    report.stats.lines,
                    stats_json(&report.stats, Some(&report))
                )));
            }
            let mut s = stats_json(&report.stats, Some(&report));
            s["path"] = path.display().to_string().into();
            stats.push(s);
            batches.extend(sink.done()?);
        }
        Ok((batches, serde_json::Value::Array(stats).to_string()))
    })?;
    Ok((batches.into_iter().map(PyArrowType).collect(), stats))
}

/// Decodes NMEA text given in memory (lines separated by `\n`), as one input numbered
/// `input`. Returns the batches and the decoder's counts (JSON); nothing decoded is an
/// error.
#[pyfunction]
#[pyo3(signature = (data, accept_bad_checksum = false, input = 0))]
fn decode_bytes(
    py: Python<'_>,
    data: Vec<u8>,
    accept_bad_checksum: bool,
    input: u16,
) -> PyResult<(Batches, String)> {
    let (batches, stats) = py.detach(move || -> PyResult<_> {
        let mut decoder = shadowfleet_decode::Decoder::new(decoder_config(
            &DetectorConfig::default(),
            accept_bad_checksum,
            input,
        ));
        let mut sink = BatchSink::new(0, 0);
        decoder.push(&data, &mut sink);
        decoder.finish(&mut sink);
        let stats = decoder.stats().clone();
        if stats.messages == 0 {
            return Err(PyValueError::new_err(format!(
                "no AIS message could be read ({} lines; {})",
                stats.lines,
                stats_json(&stats, None)
            )));
        }
        Ok((sink.done()?, stats_json(&stats, None).to_string()))
    })?;
    Ok((batches.into_iter().map(PyArrowType).collect(), stats))
}

/// Splits a file into byte ranges that can be decoded apart (each starts a message: never
/// inside a multipart message or between a `$PGHP` header and its sentence), about
/// `target_bytes` each: `(start, end, first_line)`. Compressed files and CSV exports are one
/// range.
#[pyfunction]
#[pyo3(signature = (path, target_bytes = 128 << 20))]
fn split_file(py: Python<'_>, path: PathBuf, target_bytes: u64) -> PyResult<Vec<(u64, u64, u64)>> {
    py.detach(move || splits::split(&path, target_bytes))
        .map_err(|e| PyOSError::new_err(e.to_string()))
}

/// Decodes the byte range `[start, end)` of a plain NMEA file (a range of [`split_file`]),
/// as input number `input`; offsets and line numbers are the file's. Returns the batches and
/// the decoder's counts (JSON). A range of which nothing could be read is not an error here
/// (the caller sums the counts of all ranges of a file). `config` is the run's detector
/// configuration (TOML text): its duplicate window is the decoder's repeat window, as in
/// `analyze`.
#[pyfunction]
#[pyo3(signature = (path, start, end, first_line, input = 0, accept_bad_checksum = false, config = None))]
#[allow(
    clippy::too_many_arguments,
    reason = "mirrors the Python keyword arguments"
)]
fn decode_range(
    py: Python<'_>,
    path: PathBuf,
    start: u64,
    end: u64,
    first_line: u64,
    input: u16,
    accept_bad_checksum: bool,
    config: Option<&str>,
) -> PyResult<(Batches, String)> {
    let detectors = detector_config(config)?;
    let (batches, stats) = py.detach(move || -> PyResult<_> {
        let mut sink = BatchSink::new(start, first_line.saturating_sub(1));
        let mut decoder = shadowfleet_decode::Decoder::new(decoder_config(
            &detectors,
            accept_bad_checksum,
            input,
        ));
        splits::read_range(&path, start, end, &mut |chunk| {
            decoder.push(chunk, &mut sink)
        })
        .map_err(|e| PyOSError::new_err(e.to_string()))?;
        decoder.finish(&mut sink);
        let stats = decoder.stats().clone();
        Ok((sink.done()?, stats_json(&stats, None).to_string()))
    })?;
    Ok((batches.into_iter().map(PyArrowType).collect(), stats))
}

/// The embedded land, places and MIDs, loaded once per process (every pipeline shares them).
fn reference() -> PyResult<Reference> {
    static REFERENCE: std::sync::OnceLock<Result<Reference, String>> = std::sync::OnceLock::new();
    REFERENCE
        .get_or_init(|| Reference::embedded().map_err(|e| e.to_string()))
        .clone()
        .map_err(PyRuntimeError::new_err)
}

fn detector_config(config: Option<&str>) -> PyResult<DetectorConfig> {
    match config {
        None => Ok(DetectorConfig::default()),
        Some(text) => toml::from_str(text)
            .map_err(|e| PyValueError::new_err(format!("not a valid detector configuration: {e}"))),
    }
}

/// What a pipeline released: events, closed identity periods, track points.
#[derive(Default)]
struct Released {
    events: Vec<Event>,
    identities: Vec<IdentityPeriod>,
    points: Vec<TrackPoint>,
}

impl Released {
    fn take(&mut self, o: PipelineOutput) {
        match o {
            PipelineOutput::Event(e) => self.events.push(*e),
            PipelineOutput::Identity(p) => self.identities.push(p),
            PipelineOutput::Position(p) => self.points.push(p),
        }
    }

    fn into_batches(self) -> PyResult<(RecordBatch, RecordBatch, RecordBatch)> {
        Ok((
            tables::events(self.events.iter().map(|e| (None, e))).map_err(arrow_err)?,
            tables::identities(self.identities.iter()).map_err(arrow_err)?,
            tables::points(&self.points).map_err(arrow_err)?,
        ))
    }
}

type Outputs = (
    PyArrowType<RecordBatch>,
    PyArrowType<RecordBatch>,
    PyArrowType<RecordBatch>,
);

fn outputs(r: Released) -> PyResult<Outputs> {
    let (e, i, p) = r.into_batches()?;
    Ok((PyArrowType(e), PyArrowType(i), PyArrowType(p)))
}

/// The detection pipeline (tracks, identities, every detector) over batches of decoded
/// messages in arrival order. Each `push` returns what it released: events, closed identity
/// periods and track points as batches.
#[pyclass(module = "shadowfleet._native")]
struct Pipeline {
    inner: Mutex<(shadowfleet_events::Pipeline, bool)>,
}

impl Pipeline {
    /// Runs `f` on the pipeline unless it is finished; `finishing` marks it finished.
    fn open<R>(
        &self,
        finishing: bool,
        f: impl FnOnce(&mut shadowfleet_events::Pipeline) -> PyResult<R>,
    ) -> PyResult<R> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the pipeline failed earlier"))?;
        let (pipeline, finished) = &mut *guard;
        if *finished {
            return Err(PyRuntimeError::new_err("the pipeline is finished"));
        }
        *finished = finishing;
        f(pipeline)
    }
}

#[pymethods]
impl Pipeline {
    /// A pipeline with the detector configuration `config` (TOML text; defaults when None),
    /// running the detectors of the configuration sections `detectors` (all when None).
    #[new]
    #[pyo3(signature = (config = None, detectors = None))]
    fn new(config: Option<&str>, detectors: Option<Vec<String>>) -> PyResult<Self> {
        let config = detector_config(config)?;
        let reference = reference()?;
        let only: Vec<&str> = match &detectors {
            Some(d) => d.iter().map(String::as_str).collect(),
            None => shadowfleet_events::detectors::SECTIONS.to_vec(),
        };
        let p = shadowfleet_events::Pipeline::with_detectors(&config, &reference, &only)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Pipeline {
            inner: Mutex::new((p, false)),
        })
    }

    /// Takes a batch of decoded messages (the schema of `decode`); returns (events,
    /// identities, points) released.
    fn push(&self, py: Python<'_>, batch: PyArrowType<RecordBatch>) -> PyResult<Outputs> {
        let batch = batch.0;
        let released = py.detach(|| {
            self.open(false, |pipeline| {
                let mut out = Released::default();
                let rows = {
                    let (track, detect) = pipeline.stages();
                    columns::InputColumns::new(&batch)
                        .each(&mut |input| {
                            track.take(input, &mut |step| detect.step(&step, &mut |o| out.take(o)))
                        })
                        .map_err(PyValueError::new_err)?
                };
                pipeline.count_messages(rows as u64);
                Ok(out)
            })
        })?;
        outputs(released)
    }

    /// Takes events found by another run over the same data (a batch of the events schema)
    /// as side input: encounters and interference areas, which the per-vessel detectors
    /// consult (see `shadowfleet.spark`). Call it before the first `push`.
    fn know(&self, batch: PyArrowType<RecordBatch>) -> PyResult<()> {
        let events = store_writer::events_of(&batch.0).map_err(PyValueError::new_err)?;
        self.open(false, |pipeline| {
            pipeline.know(&events);
            Ok(())
        })
    }

    /// Ends the input: releases every point held and closes every open event.
    fn finish(&self, py: Python<'_>) -> PyResult<Outputs> {
        let released = py.detach(|| {
            self.open(true, |pipeline| {
                let mut out = Released::default();
                pipeline.finish(&mut |o| out.take(o));
                Ok(out)
            })
        })?;
        outputs(released)
    }

    /// The pipeline's counters (JSON): messages, positions, statics, reports left out by
    /// reason, events per kind.
    fn stats(&self) -> PyResult<String> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the pipeline failed earlier"))?;
        let s = guard.0.stats();
        let events: serde_json::Map<String, serde_json::Value> =
            shadowfleet_records::EventKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), s.events[k.index()].into()))
                .collect();
        Ok(serde_json::json!({
            "messages": s.messages,
            "positions": s.positions,
            "statics": s.statics,
            "untimed_positions": s.untimed_positions,
            "untimed_statics": s.untimed_statics,
            "not_vessels": s.not_vessels,
            "tracks": s.tracks,
            "events": events,
        })
        .to_string())
    }
}

/// Wall-clock time for the manifest's "ingested at" (never used by the detectors).
#[allow(
    clippy::disallowed_methods,
    reason = "the manifest records when a run happened"
)]
fn wall_clock_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Analyses files into the store at `store` as one run, as `shadowfleet analyze` does
/// (continuing the state of the store's last run unless `fresh`). Returns the run's report
/// (JSON).
#[pyfunction]
#[pyo3(signature = (paths, store, config = None, fresh = false, allow_untimed = false))]
fn analyze(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    store: PathBuf,
    config: Option<PathBuf>,
    fresh: bool,
    allow_untimed: bool,
) -> PyResult<String> {
    py.detach(move || -> anyhow::Result<String> {
        use shadowfleet_run::config::{config_dir, load_detector_config};
        let options = shadowfleet_run::IngestOptions {
            detectors: load_detector_config(config.as_deref())?,
            config_dir: config_dir(config.as_deref()),
            started_at: wall_clock_seconds(),
            fresh,
            allow_untimed,
            ..Default::default()
        };
        let inputs: Vec<_> = paths
            .iter()
            .map(|p| shadowfleet_run::IngestInput::file(p))
            .collect();
        let r = shadowfleet_run::ingest(&store, &inputs, &options)?;
        let events: serde_json::Map<String, serde_json::Value> = r
            .events
            .iter()
            .map(|(k, n)| (k.as_str().to_owned(), (*n as u64).into()))
            .collect();
        Ok(serde_json::json!({
            "run": r.run,
            "inputs": r.inputs.iter().map(|i| &i.name).collect::<Vec<_>>(),
            "skipped": r.skipped,
            "messages": r.messages,
            "positions": r.positions,
            "vessels": r.vessels,
            "events": events,
            "identities": r.identities,
            "open_events": r.open_events,
            "dropped": r.dropped,
            "continued_from": r.continued_from,
            "state_note": r.state_note,
            "elapsed_s": r.elapsed_s,
        })
        .to_string())
    })
    .map_err(any_err)
}

/// A store opened read-only. The analysis (screening, cargo tracing, risk, exposure) is run
/// once, on first use, with the configuration given.
#[pyclass(module = "shadowfleet._native")]
struct Store {
    dir: PathBuf,
    config: shadowfleet_run::AnalysisConfig,
    analysis: Mutex<Option<Arc<shadowfleet_run::Analysis>>>,
}

impl Store {
    fn open(&self) -> PyResult<shadowfleet_store::Store> {
        shadowfleet_store::Store::open_existing(&self.dir)
            .map_err(|e| PyOSError::new_err(format!("{}: {e}", self.dir.display())))
    }

    fn analysis(&self) -> PyResult<Arc<shadowfleet_run::Analysis>> {
        let mut guard = self
            .analysis
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the analysis failed earlier"))?;
        if let Some(a) = guard.as_ref() {
            return Ok(a.clone());
        }
        let store = self.open()?;
        let a =
            Arc::new(shadowfleet_run::Analysis::run(&store, self.config.clone()).map_err(any_err)?);
        *guard = Some(a.clone());
        Ok(a)
    }
}

fn json_batch<T: serde::Serialize>(rows: &[T]) -> PyResult<PyArrowType<RecordBatch>> {
    let values: Vec<serde_json::Value> = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    tables::json_rows(&values)
        .map(PyArrowType)
        .map_err(arrow_err)
}

#[pymethods]
impl Store {
    /// Opens the store in `path` (an error when there is none); `config` is the analysis
    /// configuration file (TOML), defaults when None.
    #[new]
    #[pyo3(signature = (path, config = None))]
    fn new(path: PathBuf, config: Option<PathBuf>) -> PyResult<Self> {
        shadowfleet_store::Store::open_existing(&path)
            .map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))?;
        let config = shadowfleet_run::config::load_analysis_config(config.as_ref(), None)
            .map_err(any_err)?;
        Ok(Store {
            dir: path,
            config,
            analysis: Mutex::new(None),
        })
    }

    /// Events, optionally of one kind and one MMSI.
    #[pyo3(signature = (kind = None, mmsi = None))]
    fn events(&self, kind: Option<&str>, mmsi: Option<u32>) -> PyResult<PyArrowType<RecordBatch>> {
        let kind = kind
            .map(|k| {
                shadowfleet_records::EventKind::parse(k).ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "kind: {k:?} is not an event kind ({})",
                        shadowfleet_records::EventKind::ALL
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
            })
            .transpose()?;
        let store = self.open()?;
        let rows = store
            .events(&shadowfleet_store::EventFilter {
                kind,
                mmsi,
                ..Default::default()
            })
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        tables::events(rows.iter().map(|s| (Some(s.id), &s.event)))
            .map(PyArrowType)
            .map_err(arrow_err)
    }

    /// Identity periods (what each MMSI broadcast, and when).
    fn identities(&self) -> PyResult<PyArrowType<RecordBatch>> {
        let rows = self
            .open()?
            .identities()
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        tables::identities(rows.iter())
            .map(PyArrowType)
            .map_err(arrow_err)
    }

    /// Cargo flows, one row per flow, as `shadowfleet flows --format ndjson` prints them.
    fn flows(&self) -> PyResult<PyArrowType<RecordBatch>> {
        let a = self.analysis()?;
        let rows: Vec<serde_json::Value> = a
            .traced
            .flows
            .iter()
            .filter(|f| f.share > 0.0)
            .filter_map(|f| {
                a.traced
                    .cargoes
                    .get(f.cargo)
                    .map(|c| shadowfleet_api::views::flow_json(f, c))
            })
            .collect();
        tables::json_rows(&rows).map(PyArrowType).map_err(arrow_err)
    }

    /// The exposure by destination country and month, as `shadowfleet exposure` computes it
    /// (months `from_`..`to`, `YYYY-MM`, both optional).
    #[pyo3(signature = (from_ = None, to = None))]
    fn exposure(
        &self,
        from_: Option<&str>,
        to: Option<&str>,
    ) -> PyResult<PyArrowType<RecordBatch>> {
        let a = self.analysis()?;
        json_batch(&a.exposure(from_, to))
    }

    /// Risk per vessel, highest first, with its indicators.
    fn risks(&self) -> PyResult<PyArrowType<RecordBatch>> {
        json_batch(&self.analysis()?.risks)
    }

    /// Screening matches of the store's identities against its lists.
    fn matches(&self) -> PyResult<PyArrowType<RecordBatch>> {
        json_batch(&self.analysis()?.matches)
    }

    /// The position files (GeoParquet, by day) that may hold positions of `mmsi` between
    /// `start` and `end` (unix seconds; all when None).
    #[pyo3(signature = (mmsi = None, start = None, end = None))]
    fn position_files(
        &self,
        mmsi: Option<u32>,
        start: Option<i64>,
        end: Option<i64>,
    ) -> PyResult<Vec<PathBuf>> {
        self.open()?
            .position_files(&shadowfleet_store::PositionQuery {
                mmsis: mmsi.into_iter().collect(),
                from: start,
                to: end,
            })
            .map_err(|e| PyOSError::new_err(e.to_string()))
    }
}

/// One run assembled elsewhere (the Spark job's stages), written into a store: push
/// events, identities and points as batches, then commit once.
#[pyclass(module = "shadowfleet._native")]
struct RunWriter {
    inner: Mutex<Option<store_writer::RunWriter>>,
}

impl RunWriter {
    fn with<R>(
        &self,
        f: impl FnOnce(&mut store_writer::RunWriter) -> Result<R, String>,
    ) -> PyResult<R> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the run writer failed earlier"))?;
        let w = guard
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("the run is committed"))?;
        f(w).map_err(PyValueError::new_err)
    }
}

#[pymethods]
impl RunWriter {
    /// Opens (or creates) the store in `path` for one run, holding its write lock.
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        let w = store_writer::RunWriter::open(&path).map_err(any_err)?;
        Ok(RunWriter {
            inner: Mutex::new(Some(w)),
        })
    }

    /// Takes a batch of events (the schema of `Store.events`).
    fn events(&self, py: Python<'_>, batch: PyArrowType<RecordBatch>) -> PyResult<()> {
        py.detach(|| self.with(|w| w.events(&batch.0)))
    }

    /// Takes a batch of identity periods.
    fn identities(&self, py: Python<'_>, batch: PyArrowType<RecordBatch>) -> PyResult<()> {
        py.detach(|| self.with(|w| w.identities(&batch.0)))
    }

    /// Takes a batch of track points (the store's position columns).
    fn points(&self, py: Python<'_>, batch: PyArrowType<RecordBatch>) -> PyResult<()> {
        py.detach(|| self.with(|w| w.points(&batch.0)))
    }

    /// Commits the run: `inputs` as (name, path, messages), `dropped` what was left out by
    /// reason (JSON, the fields of a run report's `dropped`), the receiving stations named,
    /// the detector configuration (TOML) and the wall-clock start (unix seconds; now when
    /// None). Returns (run id, positions stored).
    #[pyo3(signature = (inputs, dropped, stations, detector_config, started_at = None))]
    fn commit(
        &self,
        py: Python<'_>,
        inputs: Vec<(String, PathBuf, u64)>,
        dropped: &str,
        stations: Vec<String>,
        detector_config: &str,
        started_at: Option<i64>,
    ) -> PyResult<(i64, u64)> {
        let dropped: shadowfleet_records::DropCounts = serde_json::from_str(dropped)
            .map_err(|e| PyValueError::new_err(format!("dropped: {e}")))?;
        let w = self
            .inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the run writer failed earlier"))?
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("the run is committed"))?;
        let started = started_at.unwrap_or_else(wall_clock_seconds);
        py.detach(move || w.commit(&inputs, &dropped, &stations, detector_config, started))
            .map_err(any_err)
    }
}

/// The default detector configuration, as TOML.
#[pyfunction]
#[pyo3(signature = (config = None))]
fn detector_config_toml(config: Option<&str>) -> PyResult<String> {
    toml::to_string(&detector_config(config)?).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// Each detector's configuration section, the event kind it emits and how its state is
/// keyed (`vessel`, `cell` or `global`, from `Detector::partition`), in pipeline order: how a
/// distributed run splits the work.
#[pyfunction]
fn detector_partitions() -> PyResult<Vec<(String, String, String)>> {
    let reference = reference()?;
    let mut p = shadowfleet_events::Pipeline::new(&DetectorConfig::default(), &reference)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(shadowfleet_events::detectors::SECTIONS
        .iter()
        .zip(p.stages().1.detectors())
        .map(|(section, d)| {
            let partition = match d.partition() {
                shadowfleet_events::Partition::Vessel => "vessel",
                shadowfleet_events::Partition::Cell => "cell",
                shadowfleet_events::Partition::Global => "global",
            };
            (
                (*section).to_owned(),
                d.kind().as_str().to_owned(),
                partition.to_owned(),
            )
        })
        .collect())
}

/// The schema of decoded messages (an empty batch).
#[pyfunction]
fn decoded_schema() -> PyArrowType<RecordBatch> {
    PyArrowType(RecordBatch::new_empty(columns::schema()))
}

/// The package's native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_files, m)?)?;
    m.add_function(wrap_pyfunction!(decode_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(split_file, m)?)?;
    m.add_function(wrap_pyfunction!(decode_range, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(decoded_schema, m)?)?;
    m.add_class::<Pipeline>()?;
    m.add_class::<Store>()?;
    m.add_class::<RunWriter>()?;
    m.add_function(wrap_pyfunction!(detector_config_toml, m)?)?;
    m.add_function(wrap_pyfunction!(detector_partitions, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "DETECTORS",
        shadowfleet_events::detectors::SECTIONS.to_vec(),
    )?;
    Ok(())
}
