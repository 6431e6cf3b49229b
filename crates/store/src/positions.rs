//! Positions as GeoParquet files partitioned by UTC day, sorted by vessel (MMSI) and time:
//! `positions/day=YYYY-MM-DD/part-<run token>-<n>.parquet`, readable as they are with hive
//! partitioning by DuckDB (`read_parquet('positions/*/*.parquet', hive_partitioning=1)`),
//! pandas/GeoPandas, QGIS and Spark.
//!
//! [`PositionWriter`] takes track points as the pipeline releases them (nearly in time
//! order), keeps each open day in memory up to a bound and spills sorted runs to disk beyond
//! it, and writes a day's file once the stream has moved `close_after_s` past the day's end
//! (a late point for a written day opens a new part). Files are written under
//! `positions/_staging/<token>/` and moved into place only after the run's transaction
//! (which lists them in the `position_files` manifest) has committed: a reader that follows
//! the manifest, or globs `positions/day=*/`, never sees a half-written or uncommitted file,
//! and [`crate::Store::recover_positions`] finishes or discards what a crash left in staging.

use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use parquet::data_type::{DoubleType, FloatType, Int32Type, Int64Type};
use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};
use parquet::file::statistics::Statistics;

use crate::parquet::{ColumnSpec, ColumnType, TableWriter};
use crate::StoreError;

/// Directory of the position files inside a store.
pub const POSITIONS_DIR: &str = "positions";
/// Staging directory (inside [`POSITIONS_DIR`]) of files not yet committed.
pub const STAGING_DIR: &str = "_staging";

const SECONDS_PER_DAY: i64 = 86_400;

/// One stored position report (a point of a track, after de-duplication and reordering),
/// with its track segment.
pub use shadowfleet_records::TrackPosition as Position;
use shadowfleet_records::{LatLon, Position as Record, Provenance, StationId};

/// The columns of a position file, in order.
pub const POSITION_COLUMNS: [ColumnSpec; 14] = [
    ColumnSpec::required("mmsi", ColumnType::UInt32),
    ColumnSpec::required("time", ColumnType::Timestamp),
    ColumnSpec::required("lon", ColumnType::Float64),
    ColumnSpec::required("lat", ColumnType::Float64),
    ColumnSpec::optional("sog", ColumnType::Float32),
    ColumnSpec::optional("cog", ColumnType::Float32),
    ColumnSpec::optional("nav_status", ColumnType::UInt8),
    ColumnSpec::required("segment", ColumnType::Int64),
    ColumnSpec::required("geometry", ColumnType::Geometry),
    ColumnSpec::optional("station", ColumnType::UInt32),
    ColumnSpec::optional("second", ColumnType::UInt8),
    ColumnSpec::optional("input", ColumnType::UInt32),
    ColumnSpec::optional("offset", ColumnType::Int64),
    ColumnSpec::optional("length", ColumnType::UInt32),
];

/// The columns of the files written before the receiving station and the report's UTC
/// second were kept (read as they are: their positions have neither).
const POSITION_COLUMNS_V1: usize = 9;

/// The columns of the files written before each position kept where it was read (`input`,
/// `offset`, `length`: read as unknown).
const POSITION_COLUMNS_V2: usize = 11;

/// Rows per row group: small enough that a vessel's track reads few groups (row-group
/// statistics on `mmsi` and `time` let readers skip the others).
pub const ROW_GROUP_ROWS: usize = 4_096;

/// Bounds of the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionWriterConfig {
    /// Positions held in memory over all open days before the largest day spills a sorted run
    /// to disk (about 80 bytes each: the default bounds the writer near 80 MB whatever the
    /// fleet, at the price of one spilled run per million positions of a day).
    pub max_buffered: usize,
    /// A day is written once a position this many seconds after its end has arrived.
    pub close_after_s: i64,
    /// A day still open when the input ends with at least this many positions is written as
    /// two parts split by MMSI, on two threads: nothing else runs then, and sorting, merging
    /// and encoding a day of a large fleet on one core was the last seconds of every run (a
    /// day closes during the run only once the stream is `close_after_s` past its end, which
    /// a one-day file never reaches).
    pub two_parts_min_rows: usize,
}

impl Default for PositionWriterConfig {
    fn default() -> Self {
        PositionWriterConfig {
            max_buffered: 1_000_000,
            close_after_s: 6 * 3600,
            two_parts_min_rows: 1 << 19,
        }
    }
}

/// A written position file, as the manifest (`position_files`) records it.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionFile {
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Path relative to the store directory once published.
    pub path: String,
    /// Path relative to the store directory while staged.
    pub staging: String,
    /// Rows.
    pub rows: u64,
    /// File size, bytes.
    pub bytes: u64,
    /// Earliest and latest time, unix seconds.
    pub time: (i64, i64),
    /// Per MMSI: rows, earliest and latest time.
    pub vessels: Vec<(u32, u64, i64, i64)>,
}

#[derive(Default)]
struct DayBuffer {
    rows: Vec<Position>,
    spills: Vec<PathBuf>,
    /// Rows in `spills`.
    spilled: usize,
}

/// Streams positions into day-partitioned GeoParquet files in a staging directory.
pub struct PositionWriter {
    store: PathBuf,
    token: String,
    staging: PathBuf,
    config: PositionWriterConfig,
    open: BTreeMap<i64, DayBuffer>,
    parts: BTreeMap<i64, u32>,
    buffered: usize,
    latest: i64,
    spill_seq: u64,
    files: Vec<PositionFile>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.to_owned(),
        error,
    }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
fn day_name(day: i64) -> String {
    // Civil from days (H. Hinnant's algorithm).
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

impl PositionWriter {
    /// A writer for the store in `store`, staging under a directory named by `token` (unique
    /// per run).
    pub fn new(
        store: &Path,
        token: &str,
        config: PositionWriterConfig,
    ) -> Result<PositionWriter, StoreError> {
        let staging = store.join(POSITIONS_DIR).join(STAGING_DIR).join(token);
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        Ok(PositionWriter {
            store: store.to_owned(),
            token: token.to_owned(),
            staging,
            config,
            open: BTreeMap::new(),
            parts: BTreeMap::new(),
            buffered: 0,
            latest: i64::MIN,
            spill_seq: 0,
            files: Vec::new(),
        })
    }

    /// Adds a position. Writes the days the stream has left behind, and spills when over the
    /// memory bound.
    pub fn push(&mut self, p: Position) -> Result<(), StoreError> {
        let day = p.position.t.div_euclid(SECONDS_PER_DAY);
        self.open.entry(day).or_default().rows.push(p);
        self.buffered += 1;
        if p.position.t > self.latest {
            self.latest = p.position.t;
            while let Some((&first, _)) = self.open.first_key_value() {
                if (first + 1) * SECONDS_PER_DAY + self.config.close_after_s > self.latest {
                    break;
                }
                self.close_day(first)?;
            }
        }
        if self.buffered > self.config.max_buffered {
            self.spill_largest()?;
        }
        Ok(())
    }

    fn spill_largest(&mut self) -> Result<(), StoreError> {
        let Some((&day, _)) = self.open.iter().max_by_key(|(_, b)| b.rows.len()) else {
            return Ok(());
        };
        let path = self.staging.join(format!("spill-{}.bin", self.spill_seq));
        self.spill_seq += 1;
        if let Some(buf) = self.open.get_mut(&day) {
            sort(&mut buf.rows);
            let mut w = BufWriter::new(File::create(&path).map_err(io(&path))?);
            for p in &buf.rows {
                w.write_all(&encode(p)).map_err(io(&path))?;
            }
            w.flush().map_err(io(&path))?;
            self.buffered -= buf.rows.len();
            buf.spilled += buf.rows.len();
            buf.rows = Vec::new();
            buf.spills.push(path);
        }
        Ok(())
    }

    fn close_day(&mut self, day: i64) -> Result<(), StoreError> {
        self.close_day_in(day, false)
    }

    /// Writes day `day` as one part, or as two split by MMSI on two threads when `split`
    /// and it is large enough (see [`PositionWriterConfig::two_parts_min_rows`]).
    fn close_day_in(&mut self, day: i64, split: bool) -> Result<(), StoreError> {
        let Some(mut buf) = self.open.remove(&day) else {
            return Ok(());
        };
        self.buffered -= buf.rows.len();
        sort(&mut buf.rows);
        // The MMSI that splits the day in two: the median of those in memory (the spilled
        // runs are earlier stretches of the same stream, so they share its mix of vessels).
        let middle = buf.rows.get(buf.rows.len() / 2).map(|p| p.position.mmsi);
        let bounds: Vec<(u32, Option<u32>)> = match middle {
            Some(m)
                if split
                    && buf.rows.len() + buf.spilled >= self.config.two_parts_min_rows
                    && buf.rows.first().is_some_and(|p| p.position.mmsi < m) =>
            {
                vec![(0, Some(m)), (m, None)]
            }
            _ => vec![(0, None)],
        };
        let name = day_name(day);
        let mut parts = Vec::new();
        for bound in bounds {
            let part = self.parts.entry(day).or_insert(0);
            let file_name = format!("part-{}-{}.parquet", self.token, *part);
            *part += 1;
            let staged = self.staging.join(format!("day={name}-{file_name}"));
            parts.push((file_name, staged, bound));
        }
        let (rows, spills) = (&buf.rows, &buf.spills);
        // The first part on this thread, the others on threads of their own (or here, when
        // a thread cannot be had).
        let written: Vec<Result<(u64, FileStats), StoreError>> = std::thread::scope(|scope| {
            let others: Vec<_> = parts
                .iter()
                .skip(1)
                .map(|(_, staged, bound)| {
                    let write = move || write_part(staged, rows, spills, *bound);
                    std::thread::Builder::new()
                        .name("sf-positions-part".into())
                        .spawn_scoped(scope, write)
                        .map_err(|_| write)
                })
                .collect();
            let mut out: Vec<_> = parts
                .first()
                .map(|(_, staged, bound)| write_part(staged, rows, spills, *bound))
                .into_iter()
                .collect();
            for other in others {
                out.push(match other {
                    Ok(h) => h
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(write) => write(),
                });
            }
            out
        });
        let rel = |p: &Path| {
            p.strip_prefix(&self.store)
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/")
        };
        for ((file_name, staged, _), result) in parts.into_iter().zip(written) {
            let (rows, stats) = result?;
            let bytes = std::fs::metadata(&staged).map_err(io(&staged))?.len();
            self.files.push(PositionFile {
                day: name.clone(),
                path: format!("{POSITIONS_DIR}/day={name}/{file_name}"),
                staging: rel(&staged),
                rows,
                bytes,
                time: (stats.min_t, stats.max_t),
                vessels: stats.vessels,
            });
        }
        for s in &buf.spills {
            std::fs::remove_file(s).map_err(io(s))?;
        }
        Ok(())
    }

    /// Writes every open day and returns the files written, all still in staging.
    pub fn finish(mut self) -> Result<Vec<PositionFile>, StoreError> {
        while let Some((&first, _)) = self.open.first_key_value() {
            self.close_day_in(first, true)?;
        }
        Ok(self.files)
    }
}

#[derive(Default)]
struct FileStats {
    min_t: i64,
    max_t: i64,
    vessels: Vec<(u32, u64, i64, i64)>,
    current: Option<(u32, u64, i64, i64)>,
}

impl FileStats {
    fn add(&mut self, p: &Position) {
        if self.vessels.is_empty() && self.current.is_none() {
            self.min_t = p.position.t;
            self.max_t = p.position.t;
        }
        self.min_t = self.min_t.min(p.position.t);
        self.max_t = self.max_t.max(p.position.t);
        match &mut self.current {
            Some((m, n, lo, hi)) if *m == p.position.mmsi => {
                *n += 1;
                *lo = (*lo).min(p.position.t);
                *hi = (*hi).max(p.position.t);
            }
            _ => {
                self.close_vessel();
                self.current = Some((p.position.mmsi, 1, p.position.t, p.position.t));
            }
        }
    }

    fn close_vessel(&mut self) {
        if let Some(v) = self.current.take() {
            self.vessels.push(v);
        }
    }
}

/// Writes the positions with an MMSI in `[lo, hi)` (`hi` None: no upper bound) of a day,
/// in memory (`rows`, sorted) and in its spilled runs, merged in (MMSI, time) order, to
/// `staged`; returns the rows written and the file's statistics.
fn write_part(
    staged: &Path,
    rows: &[Position],
    spills: &[PathBuf],
    (lo, hi): (u32, Option<u32>),
) -> Result<(u64, FileStats), StoreError> {
    let below = |m: u32| hi.is_none_or(|h| m < h);
    let from = rows.partition_point(|p| p.position.mmsi < lo);
    let to = rows.partition_point(|p| below(p.position.mmsi));
    let mut writer = TableWriter::create(staged, &POSITION_COLUMNS, &[0, 1], ROW_GROUP_ROWS)?;
    let mut stats = FileStats::default();
    let memory = rows.get(from..to.max(from)).unwrap_or(&[]);
    if spills.is_empty() {
        for p in memory {
            write_row(&mut writer, &mut stats, p)?;
        }
    } else {
        let mut runs = Vec::new();
        for s in spills {
            runs.push(Run::File(open_run_at(s, lo)?, s));
        }
        runs.push(Run::Memory(memory.iter()));
        let mut heap = BinaryHeap::new();
        for (i, r) in runs.iter_mut().enumerate() {
            if let Some(p) = r.next()?.filter(|p| below(p.position.mmsi)) {
                heap.push(Head(p, i));
            }
        }
        while let Some(Head(p, i)) = heap.pop() {
            write_row(&mut writer, &mut stats, &p)?;
            if let Some(next) = runs[i].next()?.filter(|p| below(p.position.mmsi)) {
                heap.push(Head(next, i));
            }
        }
    }
    let written = writer.finish()?;
    stats.close_vessel();
    Ok((written, stats))
}

/// A spilled run (fixed-size records sorted by MMSI and time) opened at its first record
/// with an MMSI of at least `lo` (found by bisection over the records).
fn open_run_at(path: &Path, lo: u32) -> Result<BufReader<File>, StoreError> {
    let mut f = File::open(path).map_err(io(path))?;
    let records = f.metadata().map_err(io(path))?.len() / RECORD as u64;
    let mmsi_at = |f: &mut File, i: u64| -> Result<u32, StoreError> {
        let mut b = [0u8; 4];
        f.seek(SeekFrom::Start(i * RECORD as u64))
            .and_then(|_| f.read_exact(&mut b))
            .map_err(io(path))?;
        Ok(u32::from_le_bytes(b))
    };
    let (mut a, mut b) = (0u64, records);
    while a < b {
        let mid = a + (b - a) / 2;
        if mmsi_at(&mut f, mid)? < lo {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    f.seek(SeekFrom::Start(a * RECORD as u64))
        .map_err(io(path))?;
    Ok(BufReader::new(f))
}

fn write_row(w: &mut TableWriter, stats: &mut FileStats, p: &Position) -> Result<(), StoreError> {
    stats.add(p);
    put_position(w, p)
}

/// Writes `p` as a row of a table with [`POSITION_COLUMNS`].
pub fn put_position(w: &mut TableWriter, p: &Position) -> Result<(), StoreError> {
    w.put_int(0, Some(i64::from(p.position.mmsi)));
    w.put_int(1, Some(p.position.t));
    w.put_float(2, Some(p.position.pos.lon));
    w.put_float(3, Some(p.position.pos.lat));
    w.put_float(4, p.position.sog_knots.map(f64::from));
    w.put_float(5, p.position.cog_deg.map(f64::from));
    w.put_int(6, p.position.nav_status.map(i64::from));
    w.put_int(7, Some(p.segment as i64));
    w.put_point(8, p.position.pos.lon, p.position.pos.lat);
    w.put_int(9, p.position.station.map(|s| i64::from(s.get())));
    w.put_int(10, p.position.second.map(i64::from));
    let source = p.position.source;
    let known = source.is_known();
    w.put_int(11, known.then_some(i64::from(source.input)));
    w.put_int(12, known.then_some(source.offset as i64));
    w.put_int(13, known.then_some(i64::from(source.length)));
    w.end_row()
}

fn sort(rows: &mut [Position]) {
    rows.sort_by_key(|p| (p.position.mmsi, p.position.t));
}

const RECORD: usize = 72;

fn encode(p: &Position) -> [u8; RECORD] {
    let mut b = [0u8; RECORD];
    b[0..4].copy_from_slice(&p.position.mmsi.to_le_bytes());
    b[4] = p.position.nav_status.unwrap_or(u8::MAX);
    b[5] = u8::from(p.position.sog_knots.is_some()) | (u8::from(p.position.cog_deg.is_some()) << 1);
    b[8..16].copy_from_slice(&p.position.t.to_le_bytes());
    b[16..24].copy_from_slice(&p.position.pos.lat.to_le_bytes());
    b[24..32].copy_from_slice(&p.position.pos.lon.to_le_bytes());
    b[32..36].copy_from_slice(&p.position.sog_knots.unwrap_or(0.0).to_le_bytes());
    b[36..40].copy_from_slice(&p.position.cog_deg.unwrap_or(0.0).to_le_bytes());
    b[40..48].copy_from_slice(&p.segment.to_le_bytes());
    b[6] = p.position.second.unwrap_or(u8::MAX);
    b[48..52].copy_from_slice(&p.position.station.map_or(0, |s| s.get()).to_le_bytes());
    b[52..56].copy_from_slice(&p.position.source.length.to_le_bytes());
    b[56..64].copy_from_slice(&p.position.source.offset.to_le_bytes());
    b[64..66].copy_from_slice(&p.position.source.input.to_le_bytes());
    b
}

fn decode(b: &[u8; RECORD]) -> Position {
    let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let u64_at = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(a)
    };
    Position {
        position: Record {
            mmsi: u32_at(0),
            nav_status: (b[4] != u8::MAX).then_some(b[4]),
            second: (b[6] != u8::MAX).then_some(b[6]),
            station: StationId::from_stored(u32_at(48)),
            sog_knots: (b[5] & 1 != 0).then(|| f32::from_bits(u32_at(32))),
            cog_deg: (b[5] & 2 != 0).then(|| f32::from_bits(u32_at(36))),
            t: u64_at(8) as i64,
            pos: LatLon {
                lat: f64::from_bits(u64_at(16)),
                lon: f64::from_bits(u64_at(24)),
            },
            source: Provenance {
                length: u32_at(52),
                offset: u64_at(56),
                input: u16::from_le_bytes([b[64], b[65]]),
            },
        },
        segment: u64_at(40),
    }
}

enum Run<'a> {
    File(BufReader<File>, &'a Path),
    Memory(std::slice::Iter<'a, Position>),
}

impl Run<'_> {
    fn next(&mut self) -> Result<Option<Position>, StoreError> {
        match self {
            Run::Memory(it) => Ok(it.next().copied()),
            Run::File(r, path) => {
                let mut b = [0u8; RECORD];
                match r.read_exact(&mut b) {
                    Ok(()) => Ok(Some(decode(&b))),
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(io(path)(e)),
                }
            }
        }
    }
}

/// A run's head in the k-way merge: smallest (mmsi, time) first, then the earlier run.
struct Head(Position, usize);

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap.
        (o.0.position.mmsi, o.0.position.t, o.1).cmp(&(
            self.0.position.mmsi,
            self.0.position.t,
            self.1,
        ))
    }
}

/// Which positions to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PositionQuery {
    /// Only these MMSIs (all when empty).
    pub mmsis: Vec<u32>,
    /// Only at or after this unix second.
    pub from: Option<i64>,
    /// Only at or before this unix second.
    pub to: Option<i64>,
}

impl PositionQuery {
    fn wants(&self, p: &Position) -> bool {
        (self.mmsis.is_empty() || self.mmsis.contains(&p.position.mmsi))
            && self.from.is_none_or(|f| p.position.t >= f)
            && self.to.is_none_or(|t| p.position.t <= t)
    }
}

fn int_range(stats: Option<&Statistics>) -> Option<(i64, i64)> {
    match stats? {
        Statistics::Int32(s) => Some((i64::from(*s.min_opt()?), i64::from(*s.max_opt()?))),
        Statistics::Int64(s) => Some((*s.min_opt()?, *s.max_opt()?)),
        _ => None,
    }
}

/// Reads the positions of one file that `query` wants, in file order (by MMSI, then time),
/// passing each to `f`. Row groups whose statistics rule them out are not read.
pub fn read_file(
    path: &Path,
    query: &PositionQuery,
    f: &mut dyn FnMut(Position),
) -> Result<(), StoreError> {
    let perr = |e: parquet::errors::ParquetError| StoreError::Parquet {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let file = File::open(path).map_err(io(path))?;
    let reader = SerializedFileReader::new(file).map_err(perr)?;
    let meta = reader.metadata();
    let names: Vec<&str> = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name())
        .collect();
    let expected: Vec<&str> = POSITION_COLUMNS.iter().map(|c| c.name).collect();
    let has_source = names == expected;
    let has_station = has_source || names[..] == expected[..POSITION_COLUMNS_V2];
    if !has_station && names[..] != expected[..POSITION_COLUMNS_V1] {
        return Err(StoreError::Parquet {
            path: path.to_owned(),
            reason: format!("columns {names:?}, expected {expected:?}"),
        });
    }
    for g in 0..meta.num_row_groups() {
        let rg = meta.row_group(g);
        if let Some((lo, hi)) = int_range(rg.column(0).statistics()) {
            if !query.mmsis.is_empty()
                && !query
                    .mmsis
                    .iter()
                    .any(|&m| i64::from(m) >= lo && i64::from(m) <= hi)
            {
                continue;
            }
        }
        if let Some((lo, hi)) = int_range(rg.column(1).statistics()) {
            if query.from.is_some_and(|f| hi < f.saturating_mul(1000))
                || query.to.is_some_and(|t| lo > t.saturating_mul(1000))
            {
                continue;
            }
        }
        let n = rg.num_rows() as usize;
        let group = reader.get_row_group(g).map_err(perr)?;
        let mmsi = read_i32(group.as_ref(), 0, n).map_err(perr)?;
        let time = read_i64(group.as_ref(), 1, n).map_err(perr)?;
        let lon = read_f64(group.as_ref(), 2, n).map_err(perr)?;
        let lat = read_f64(group.as_ref(), 3, n).map_err(perr)?;
        let sog = read_f32(group.as_ref(), 4, n).map_err(perr)?;
        let cog = read_f32(group.as_ref(), 5, n).map_err(perr)?;
        let nav = read_i32(group.as_ref(), 6, n).map_err(perr)?;
        let seg = read_i64(group.as_ref(), 7, n).map_err(perr)?;
        let (station, second) = if has_station {
            (
                read_i32(group.as_ref(), 9, n).map_err(perr)?,
                read_i32(group.as_ref(), 10, n).map_err(perr)?,
            )
        } else {
            (vec![None; n], vec![None; n])
        };
        let (input, offset, length) = if has_source {
            (
                read_i32(group.as_ref(), 11, n).map_err(perr)?,
                read_i64(group.as_ref(), 12, n).map_err(perr)?,
                read_i32(group.as_ref(), 13, n).map_err(perr)?,
            )
        } else {
            (vec![None; n], vec![None; n], vec![None; n])
        };
        for i in 0..n {
            let p = Position {
                position: Record {
                    mmsi: mmsi[i].unwrap_or(0) as u32,
                    t: time[i].unwrap_or(0).div_euclid(1000),
                    pos: LatLon {
                        lon: lon[i].unwrap_or(f64::NAN),
                        lat: lat[i].unwrap_or(f64::NAN),
                    },
                    sog_knots: sog[i],
                    cog_deg: cog[i],
                    nav_status: nav[i].map(|x| x as u8),
                    second: second[i].map(|x| x as u8),
                    station: station[i].and_then(|s| StationId::from_stored(s as u32)),
                    source: match (input[i], offset[i], length[i]) {
                        (Some(input), Some(offset), Some(length)) => Provenance {
                            input: input as u16,
                            offset: offset as u64,
                            length: length as u32,
                        },
                        _ => Provenance::default(),
                    },
                },
                segment: seg[i].unwrap_or(0) as u64,
            };
            if query.wants(&p) {
                f(p);
            }
        }
    }
    Ok(())
}

macro_rules! column_reader {
    ($name:ident, $ty:ty, $dt:ty) => {
        fn $name(
            group: &dyn RowGroupReader,
            col: usize,
            n: usize,
        ) -> parquet::errors::Result<Vec<Option<$ty>>> {
            let mut reader = parquet::column::reader::get_typed_column_reader::<$dt>(
                group.get_column_reader(col)?,
            );
            let mut values: Vec<$ty> = Vec::with_capacity(n);
            let mut defs: Vec<i16> = Vec::with_capacity(n);
            let nullable = group.metadata().column(col).column_descr().max_def_level() > 0;
            while defs.len() < n && values.len() < n {
                let (records, _, _) = reader.read_records(
                    n - if nullable { defs.len() } else { values.len() },
                    nullable.then_some(&mut defs),
                    None,
                    &mut values,
                )?;
                if records == 0 {
                    break;
                }
            }
            if !nullable {
                return Ok(values.into_iter().map(Some).collect());
            }
            let mut it = values.into_iter();
            Ok(defs
                .iter()
                .map(|&d| if d > 0 { it.next() } else { None })
                .collect())
        }
    };
}

column_reader!(read_i32, i32, Int32Type);
column_reader!(read_i64, i64, Int64Type);
column_reader!(read_f32, f32, FloatType);
column_reader!(read_f64, f64, DoubleType);

#[cfg(test)]
mod tests {
    use super::*;

    fn p(mmsi: u32, t: i64) -> Position {
        Position {
            position: Record {
                mmsi,
                t,
                pos: LatLon {
                    lat: 59.0 + t as f64 * 1e-6,
                    lon: 24.0,
                },
                sog_knots: (t % 2 == 0).then_some(11.5),
                cog_deg: None,
                nav_status: Some(0),
                second: Some((t % 60) as u8),
                station: StationId::of("2190047"),
                source: Provenance {
                    offset: t as u64 * 90,
                    length: 88,
                    input: 1,
                },
            },
            segment: 7,
        }
    }

    #[test]
    fn day_names() {
        assert_eq!(day_name(0), "1970-01-01");
        assert_eq!(day_name(20_454), "2026-01-01");
        assert_eq!(day_name(11_016), "2000-02-29");
    }

    #[test]
    fn spill_record_round_trips() {
        let a = p(273_000_001, 1_700_000_001);
        assert_eq!(decode(&encode(&a)), a);
        let b = Position {
            position: Record {
                sog_knots: None,
                nav_status: None,
                second: None,
                station: None,
                source: Provenance::default(),
                ..a.position
            },
            ..a
        };
        assert_eq!(decode(&encode(&b)), b);
    }

    /// Days, spills and parts: every position comes back, sorted by vessel then time within
    /// each file, whatever the memory bound.
    #[test]
    fn writes_sorted_days_with_spills() {
        let dir = std::env::temp_dir().join(format!("sf-pos-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut all = Vec::new();
        for bound in [10, 1_000_000] {
            let mut w = PositionWriter::new(
                &dir,
                &format!("t{bound}"),
                PositionWriterConfig {
                    max_buffered: bound,
                    close_after_s: 3600,
                    two_parts_min_rows: usize::MAX,
                },
            )
            .unwrap();
            let base = 20_454 * SECONDS_PER_DAY;
            let mut pushed = Vec::new();
            for i in 0..300i64 {
                for m in [3u32, 1, 2] {
                    let q = p(m, base + i * 1000 + i64::from(m));
                    w.push(q).unwrap();
                    pushed.push(q);
                }
            }
            // A late point for the first day, after it was written: a second part.
            let late = p(9, base + 5);
            w.push(late).unwrap();
            pushed.push(late);
            let files = w.finish().unwrap();
            assert_eq!(files.len(), 5, "{files:?}");
            assert_eq!(files.iter().map(|f| f.rows).sum::<u64>(), 901);
            let mut got = Vec::new();
            for f in &files {
                let mut rows = Vec::new();
                read_file(&dir.join(&f.staging), &PositionQuery::default(), &mut |x| {
                    rows.push(x)
                })
                .unwrap();
                assert!(rows
                    .windows(2)
                    .all(|w| (w[0].position.mmsi, w[0].position.t)
                        <= (w[1].position.mmsi, w[1].position.t)));
                assert_eq!(rows.len() as u64, f.rows);
                assert_eq!(
                    f.vessels.iter().map(|v| v.1).sum::<u64>(),
                    f.rows,
                    "per-vessel counts"
                );
                got.extend(rows);
            }
            let key = |x: &Position| (x.position.mmsi, x.position.t);
            pushed.sort_by_key(key);
            got.sort_by_key(key);
            assert_eq!(got, pushed);
            all.push(got);
            // Filtering by vessel and time.
            let q = PositionQuery {
                mmsis: vec![2],
                from: Some(base + 10_000),
                to: Some(base + 20_000),
            };
            let mut n = 0;
            for f in &files {
                read_file(&dir.join(&f.staging), &q, &mut |x| {
                    assert_eq!(x.position.mmsi, 2);
                    n += 1;
                })
                .unwrap();
            }
            assert_eq!(n, 10);
        }
        assert_eq!(all[0], all[1]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The last day, still open at the end, large enough: two parts split by MMSI (every
    /// vessel of the first below every vessel of the second), written on two threads, with
    /// and without spilled runs; every position comes back once, sorted within each part.
    #[test]
    fn a_large_last_day_is_written_as_two_parts_split_by_vessel() {
        let dir = std::env::temp_dir().join(format!("sf-pos-split-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for bound in [37, 1_000_000] {
            let mut w = PositionWriter::new(
                &dir,
                &format!("s{bound}"),
                PositionWriterConfig {
                    max_buffered: bound,
                    close_after_s: 3600,
                    two_parts_min_rows: 100,
                },
            )
            .unwrap();
            let base = 20_454 * SECONDS_PER_DAY;
            let mut pushed = Vec::new();
            for i in 0..10i64 {
                for m in (1..=40u32).rev() {
                    let q = p(273_000_000 + m, base + i * 600 + i64::from(m));
                    w.push(q).unwrap();
                    pushed.push(q);
                }
            }
            let files = w.finish().unwrap();
            assert_eq!(files.len(), 2, "{files:?}");
            let mut got = Vec::new();
            let mut mmsis = Vec::new();
            for f in &files {
                let mut rows = Vec::new();
                read_file(&dir.join(&f.staging), &PositionQuery::default(), &mut |x| {
                    rows.push(x)
                })
                .unwrap();
                assert!(!rows.is_empty());
                assert!(rows
                    .windows(2)
                    .all(|w| (w[0].position.mmsi, w[0].position.t)
                        <= (w[1].position.mmsi, w[1].position.t)));
                assert_eq!(rows.len() as u64, f.rows);
                assert_eq!(f.vessels.iter().map(|v| v.1).sum::<u64>(), f.rows);
                mmsis.push((rows[0].position.mmsi, rows[rows.len() - 1].position.mmsi));
                got.extend(rows);
            }
            assert!(mmsis[0].1 < mmsis[1].0, "{mmsis:?}");
            let key = |x: &Position| (x.position.mmsi, x.position.t);
            pushed.sort_by_key(key);
            got.sort_by_key(key);
            assert_eq!(got, pushed);
            // The spilled runs are gone.
            let left: Vec<_> = std::fs::read_dir(
                dir.join(POSITIONS_DIR)
                    .join(STAGING_DIR)
                    .join(format!("s{bound}")),
            )
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("spill-"))
            .collect();
            assert!(left.is_empty());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
