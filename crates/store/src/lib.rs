//! The embedded store: one directory holding `shadowfleet.sqlite` (SQLite in WAL mode), with
//! the manifest of ingested inputs, the events, the identity timelines, reference lists and
//! screening results, and `positions/`, the vessels' positions as GeoParquet files
//! partitioned by day ([`positions`]). No server.
//!
//! Every analysed batch of inputs is written in one transaction together with its manifest
//! rows (inputs and position files), so an interrupted run leaves the store as it was before,
//! and re-running it neither loses nor duplicates anything. An input already in the manifest
//! (same content hash) is skipped. Events are indexed in space by an R*Tree and vessel names
//! by FTS5. One writer at a time: [`WriteLock`]. See `docs/formats.md`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub mod parquet;
pub mod positions;

pub use positions::{Position, PositionFile, PositionQuery, PositionWriter, PositionWriterConfig};

use rusqlite::{params, Connection, OptionalExtension};
use shadowfleet_records::{
    Confidence, ConfidenceLevel, DropCounts, Event, EventDetails, EventKind, IdentityPeriod,
    StationId,
};

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("{path}: {error}")]
    Sqlite {
        /// Database file.
        path: PathBuf,
        /// Cause.
        error: rusqlite::Error,
    },
    /// The directory could not be created.
    #[error("{path}: {error}")]
    Io {
        /// Directory.
        path: PathBuf,
        /// Cause.
        error: std::io::Error,
    },
    /// A Parquet file could not be written or read.
    #[error("{path}: {reason}")]
    Parquet {
        /// File.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Another process is writing to the store.
    #[error("{path}: another shadowfleet process is writing to this store; try again when it has finished")]
    Busy {
        /// The lock file.
        path: PathBuf,
    },
    /// A stored row is not what this version expects.
    #[error("{path}: event {id}: {reason}")]
    Corrupt {
        /// Database file.
        path: PathBuf,
        /// Event id.
        id: i64,
        /// What is wrong.
        reason: String,
    },
    /// A stored run record is not what this version expects.
    #[error("{path}: run {id}: {reason}")]
    CorruptRun {
        /// Database file.
        path: PathBuf,
        /// Run id.
        id: i64,
        /// What is wrong.
        reason: String,
    },
}

/// Schema version written to `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 6;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS inputs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    bytes INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    run INTEGER
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    inputs TEXT NOT NULL,
    messages INTEGER NOT NULL,
    events INTEGER NOT NULL,
    dropped TEXT NOT NULL DEFAULT '{}',
    detector_config TEXT NOT NULL DEFAULT '',
    program_version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL REFERENCES runs(id),
    kind TEXT NOT NULL,
    mmsi INTEGER NOT NULL,
    imo INTEGER,
    other_mmsi INTEGER,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    lat REAL,
    lon REAL,
    details TEXT NOT NULL,
    confidence TEXT NOT NULL DEFAULT 'medium',
    confidence_reasons TEXT NOT NULL DEFAULT '[]',
    truncated_start INTEGER NOT NULL DEFAULT 0,
    truncated_end INTEGER NOT NULL DEFAULT 0,
    provisional INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_kind_start ON events(kind, start);
CREATE INDEX IF NOT EXISTS events_mmsi ON events(mmsi, start);
CREATE INDEX IF NOT EXISTS events_other_mmsi ON events(other_mmsi, start);
CREATE TABLE IF NOT EXISTS identities (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL REFERENCES runs(id),
    mmsi INTEGER NOT NULL,
    imo INTEGER,
    name TEXT NOT NULL,
    callsign TEXT NOT NULL,
    flag TEXT,
    ship_type INTEGER,
    length_m INTEGER,
    beam_m INTEGER,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    provisional INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS identities_mmsi ON identities(mmsi, first_seen);
CREATE INDEX IF NOT EXISTS identities_imo ON identities(imo, first_seen);
CREATE TABLE IF NOT EXISTS reference_lists (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    entries INTEGER NOT NULL,
    loaded_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS screen_matches (
    id INTEGER PRIMARY KEY,
    mmsi INTEGER NOT NULL,
    imo INTEGER,
    list TEXT NOT NULL,
    entry TEXT NOT NULL,
    score REAL NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS screen_matches_mmsi ON screen_matches(mmsi);
CREATE INDEX IF NOT EXISTS screen_matches_imo ON screen_matches(imo);
CREATE TABLE IF NOT EXISTS position_files (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL REFERENCES runs(id),
    day TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    staging TEXT NOT NULL,
    rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    min_time INTEGER NOT NULL,
    max_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS position_files_day ON position_files(day);
CREATE TABLE IF NOT EXISTS position_vessels (
    mmsi INTEGER NOT NULL,
    file INTEGER NOT NULL REFERENCES position_files(id),
    rows INTEGER NOT NULL,
    min_time INTEGER NOT NULL,
    max_time INTEGER NOT NULL,
    PRIMARY KEY (mmsi, file)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pipeline_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    run INTEGER NOT NULL REFERENCES runs(id),
    format INTEGER NOT NULL,
    watermark INTEGER NOT NULL,
    detector_config TEXT NOT NULL,
    program_version TEXT NOT NULL,
    state BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS feeds (
    name TEXT PRIMARY KEY,
    messages INTEGER NOT NULL,
    last_message TEXT,
    last_time INTEGER,
    offset INTEGER NOT NULL DEFAULT 0,
    connected INTEGER NOT NULL DEFAULT 0,
    rate REAL NOT NULL DEFAULT 0,
    outages TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_id INTEGER,
    mmsi INTEGER NOT NULL,
    time TEXT NOT NULL,
    body TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    delivered TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS events_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat);
CREATE VIRTUAL TABLE IF NOT EXISTS names_fts USING fts5(name, content='identities', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
";

/// Fills the indexes of schema 3 for rows written by an older version.
const MIGRATE_TO_3: &str = "
INSERT INTO events_rtree (id, min_lon, max_lon, min_lat, max_lat)
    SELECT id, lon, lon, lat, lat FROM events WHERE lat IS NOT NULL AND lon IS NOT NULL;
INSERT INTO names_fts(names_fts) VALUES ('rebuild');
";

/// Schema 4 for stores of schema 1 to 3: what each run left out, each event's confidence
/// and whether the data cut it; events stored before are `medium`, with the reason.
const MIGRATE_TO_4: &str = "
ALTER TABLE runs ADD COLUMN dropped TEXT NOT NULL DEFAULT '{}';
ALTER TABLE events ADD COLUMN confidence TEXT NOT NULL DEFAULT 'medium';
ALTER TABLE events ADD COLUMN confidence_reasons TEXT NOT NULL DEFAULT '[\"found by a version that did not grade confidence (store schema 3)\"]';
ALTER TABLE events ADD COLUMN truncated_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN truncated_end INTEGER NOT NULL DEFAULT 0;
";

/// Schema 5 for stores of schema 1 to 4: each run's detector configuration and program
/// version (empty for runs recorded before), and the run that read each input (filled from
/// the start time both record).
const MIGRATE_TO_5: &str = "
ALTER TABLE runs ADD COLUMN detector_config TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN program_version TEXT NOT NULL DEFAULT '';
ALTER TABLE inputs ADD COLUMN run INTEGER;
UPDATE inputs SET run = (SELECT min(id) FROM runs WHERE runs.started_at = inputs.ingested_at);
";

/// Schema 6 for stores of schema 1 to 5: events and identity periods still open at the end
/// of the data its run saw (`provisional`), replaced when the next run continues its state.
const MIGRATE_TO_6: &str = "
ALTER TABLE events ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
";

/// An exclusive lock on a store for writing (`write.lock` in the directory), held until
/// dropped. The operating system releases it when the process dies, `kill -9` included.
pub struct WriteLock {
    _file: std::fs::File,
}

impl WriteLock {
    /// Takes the lock, or [`StoreError::Busy`] when another process holds it.
    pub fn acquire(dir: &Path) -> Result<WriteLock, StoreError> {
        std::fs::create_dir_all(dir).map_err(|error| StoreError::Io {
            path: dir.to_owned(),
            error,
        })?;
        let path = dir.join("write.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|error| StoreError::Io {
                path: path.clone(),
                error,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(WriteLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Busy { path }),
            Err(std::fs::TryLockError::Error(error)) => Err(StoreError::Io { path, error }),
        }
    }
}

/// What [`Store::recover_positions`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Committed files moved from staging into place (a crash between commit and move).
    pub published: usize,
    /// Uncommitted staging directories removed (a crash before commit).
    pub discarded: usize,
}

/// One run to record: what [`Store::write_run`] writes in one transaction.
#[derive(Clone, Copy)]
pub struct NewRun<'a> {
    /// Wall-clock start, RFC 3339.
    pub started_at: &'a str,
    /// Its inputs.
    pub inputs: &'a [InputRecord],
    /// Its events.
    pub events: &'a [Event],
    /// Identity periods.
    pub identities: &'a [IdentityPeriod],
    /// Position files written to staging.
    pub positions: &'a [PositionFile],
    /// What it left out, by reason.
    pub dropped: &'a DropCounts,
    /// The receiving stations its positions name.
    pub stations: &'a [(StationId, String)],
    /// The detector configuration it ran with (TOML), for evidence packs to re-run.
    pub detector_config: &'a str,
    /// The program's version.
    pub program_version: &'a str,
    /// Events still open at the end of the data (emitted when the pipeline was finished
    /// after its state was saved): stored as provisional.
    pub open_events: &'a [Event],
    /// Identity periods still open at the end of the data: stored as provisional.
    pub open_identities: &'a [IdentityPeriod],
    /// What becomes of the stored pipeline state.
    pub state: StateUpdate<'a>,
    /// The live feeds' health and where each was read up to (`shadowfleet watch`), written
    /// with the state so that a restart resumes a file feed where the state stops.
    pub feeds: &'a [FeedRecord],
}

/// A live feed as `shadowfleet watch` last committed it.
#[derive(
    Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct FeedRecord {
    /// The feed as given (`tcp://host:port`, `udp://addr:port`, a path, `-`).
    pub name: String,
    /// Messages decoded from it in all.
    pub messages: u64,
    /// Wall-clock time of its last message, RFC 3339.
    pub last_message: Option<String>,
    /// Receive time of its last message, unix seconds.
    pub last_time: Option<i64>,
    /// Bytes of a followed file analysed (where a restart resumes it).
    pub offset: u64,
    /// Connected (or the file open) at the last checkpoint.
    pub connected: bool,
    /// Messages per second over the last checkpoint interval.
    pub rate: f64,
    /// Its outages: (from, to) receive times, unix seconds, of the silences while it was
    /// disconnected (the last 100).
    pub outages: Vec<(i64, i64)>,
}

/// A screening match by (MMSI, IMO, list, entry key).
pub type MatchKey = (u32, Option<u32>, String, String);

/// What identifies a list entry across versions of the list: its IMO number when it gives
/// one, else its name, else its id (some formats number entries by line).
pub fn entry_key(entry_imo: Option<u32>, entry_name: &str, entry: &str) -> String {
    match entry_imo {
        Some(i) => format!("IMO {i}"),
        None if !entry_name.is_empty() => entry_name.to_owned(),
        None => entry.to_owned(),
    }
}

/// An alert to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// Unique per rule and event.
    pub alert_id: String,
    /// The rule's name.
    pub rule: String,
    /// What raised it.
    pub kind: String,
    /// The event, when an event raised it.
    pub event_id: Option<i64>,
    /// The vessel.
    pub mmsi: u32,
    /// When it happened, RFC 3339.
    pub time: String,
    /// The alert as JSON.
    pub body: String,
}

/// An alert as stored: its JSON body is `shadowfleet_alerts::Alert`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    /// Order of raising, from 1.
    pub seq: i64,
    /// Unique per rule and event.
    pub alert_id: String,
    /// The alert as JSON.
    pub body: String,
    /// Sinks it was delivered to (`ndjson`, webhook URLs).
    pub delivered: Vec<String>,
}

/// What a run does with the store's pipeline state (the working state of the detectors at
/// the end of the data of the run that continued the stream last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateUpdate<'a> {
    /// Leaves it, and the provisional rows of its run, as they are (a run over older data,
    /// analysed on its own: its events are final).
    Keep,
    /// Replaces it with this run's.
    Replace {
        /// Whether this run continued from the stored state: the provisional events and
        /// identity periods of that state's run are then replaced by this run's; otherwise
        /// they become final (the stream was restarted).
        continued: bool,
        /// The state ([`shadowfleet_records::state`] frames).
        state: &'a [u8],
        /// Its format version.
        format: u32,
        /// The event-time watermark it reached, unix seconds.
        watermark: i64,
    },
}

/// The pipeline state a store holds, to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedState {
    /// The run that saved it.
    pub run: i64,
    /// Its format version.
    pub format: u32,
    /// The event-time watermark it reached, unix seconds.
    pub watermark: i64,
    /// The detector configuration of that run (TOML).
    pub detector_config: String,
    /// The program version that wrote it.
    pub program_version: String,
    /// The state.
    pub state: Vec<u8>,
}

/// A recorded run, as evidence packs need it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Run id.
    pub id: i64,
    /// Wall-clock start, RFC 3339.
    pub started_at: String,
    /// Its inputs, in the order read.
    pub inputs: Vec<InputRecord>,
    /// The detector configuration (TOML); empty for runs recorded before store schema 5.
    pub detector_config: String,
    /// The program's version; empty before store schema 5.
    pub program_version: String,
}

/// One screening result as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMatch {
    /// MMSI of the identity matched.
    pub mmsi: u32,
    /// IMO it broadcast.
    pub imo: Option<u32>,
    /// List name.
    pub list: String,
    /// Entry id in the list.
    pub entry: String,
    /// Score, 0–1.
    pub score: f64,
    /// The whole match as JSON (properties matched, explanation).
    pub details: serde_json::Value,
}

/// A reference list as stored: its JSON body is [`shadowfleet_refdata::RefList`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredList {
    /// List name (unique in the store; loading a list of the same name replaces it).
    pub name: String,
    /// Content hash of the file it was loaded from.
    pub content_hash: String,
    /// When it was loaded, RFC 3339.
    pub loaded_at: String,
    /// The list.
    pub list: shadowfleet_refdata::RefList,
}

/// An input as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRecord {
    /// Name given (path or `-`).
    pub name: String,
    /// Content hash (hex).
    pub content_hash: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Messages decoded from it.
    pub messages: u64,
}

/// A stored event with its id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Id, unique in the store.
    pub id: i64,
    /// The event.
    pub event: Event,
}

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    /// Only this kind.
    pub kind: Option<EventKind>,
    /// Only events ending at or after this unix second.
    pub since: Option<i64>,
    /// Only this MMSI.
    pub mmsi: Option<u32>,
    /// Only events of at least this confidence.
    pub min_confidence: Option<ConfidenceLevel>,
    /// Only the event with this id.
    pub id: Option<i64>,
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Database file name inside the store directory.
pub const DATABASE: &str = "shadowfleet.sqlite";

impl Store {
    /// Opens (creating when needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|error| StoreError::Io {
            path: dir.to_owned(),
            error,
        })?;
        let path = dir.join(DATABASE);
        let err = |error| StoreError::Sqlite {
            path: path.clone(),
            error,
        };
        let conn = Connection::open(&path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt {
                path,
                id: 0,
                reason: format!(
                    "schema version {version} is newer than this program's {SCHEMA_VERSION}"
                ),
            });
        }
        let tx = conn.unchecked_transaction().map_err(err)?;
        tx.execute_batch(SCHEMA).map_err(err)?;
        if (1..3).contains(&version) {
            tx.execute_batch(MIGRATE_TO_3).map_err(err)?;
        }
        if (1..4).contains(&version) {
            tx.execute_batch(MIGRATE_TO_4).map_err(err)?;
        }
        if (1..5).contains(&version) {
            tx.execute_batch(MIGRATE_TO_5).map_err(err)?;
        }
        if (1..6).contains(&version) {
            tx.execute_batch(MIGRATE_TO_6).map_err(err)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Store { conn, path })
    }

    /// Opens an existing store; an error naming the directory when there is none.
    pub fn open_existing(dir: &Path) -> Result<Store, StoreError> {
        if !dir.join(DATABASE).is_file() {
            return Err(StoreError::Io {
                path: dir.to_owned(),
                error: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no store here (no {DATABASE}); run `shadowfleet analyze` first"),
                ),
            });
        }
        Store::open(dir)
    }

    fn err(&self, error: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            error,
        }
    }

    /// The live feeds as last committed.
    pub fn feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, messages, last_message, last_time, offset, connected, rate, outages FROM feeds ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FeedRecord {
                    name: r.get(0)?,
                    messages: r.get::<_, i64>(1)? as u64,
                    last_message: r.get(2)?,
                    last_time: r.get(3)?,
                    offset: r.get::<_, i64>(4)? as u64,
                    connected: r.get(5)?,
                    rate: r.get(6)?,
                    outages: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A value of the store's own bookkeeping (`meta` table).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records alerts (those already recorded, by id, are left as they are) and sets the
    /// `meta` value `key` to `value` in the same transaction; returns how many were new.
    pub fn put_alerts(
        &mut self,
        alerts: &[NewAlert],
        raised_at: &str,
        key: &str,
        value: &str,
    ) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let err = |error| StoreError::Sqlite {
            path: path.clone(),
            error,
        };
        let tx = self.conn.transaction().map_err(err)?;
        let mut new = 0;
        {
            let mut ins = tx
                .prepare("INSERT OR IGNORE INTO alerts (alert_id, rule, kind, event_id, mmsi, time, body, raised_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
                .map_err(err)?;
            for a in alerts {
                new += ins
                    .execute(params![
                        a.alert_id, a.rule, a.kind, a.event_id, a.mmsi, a.time, a.body, raised_at
                    ])
                    .map_err(err)?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(new)
    }

    /// Alerts after `after_seq`, oldest first, at most `limit`.
    pub fn alerts(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredAlert>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, alert_id, body, delivered FROM alerts WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![after_seq, limit as i64], |r| {
                Ok(StoredAlert {
                    seq: r.get(0)?,
                    alert_id: r.get(1)?,
                    body: r.get(2)?,
                    delivered: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Records that the alert `seq` was delivered to `sink`.
    pub fn alert_delivered(&self, seq: i64, sink: &str) -> Result<(), StoreError> {
        let delivered: String = self
            .conn
            .query_row("SELECT delivered FROM alerts WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        let mut list: Vec<String> = serde_json::from_str(&delivered).unwrap_or_default();
        if !list.iter().any(|s| s == sink) {
            list.push(sink.to_owned());
        }
        self.conn
            .execute(
                "UPDATE alerts SET delivered = ?1 WHERE seq = ?2",
                params![serde_json::to_string(&list).unwrap_or_default(), seq],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Events with an id above `after`, not provisional, oldest first, at most `limit`.
    pub fn final_events_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let ids: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT id FROM events WHERE id > ?1 AND provisional = 0 ORDER BY id LIMIT ?2",
                )
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![after, limit as i64], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some((e, _)) = self.event(id)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// The pipeline state the last run that continued the stream left, if any.
    pub fn saved_state(&self) -> Result<Option<SavedState>, StoreError> {
        self.conn
            .query_row(
                "SELECT run, format, watermark, detector_config, program_version, state FROM pipeline_state WHERE id = 1",
                [],
                |r| {
                    Ok(SavedState {
                        run: r.get(0)?,
                        format: r.get(1)?,
                        watermark: r.get(2)?,
                        detector_config: r.get(3)?,
                        program_version: r.get(4)?,
                        state: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Whether an input with this content hash was ingested.
    pub fn has_input(&self, content_hash: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT 1 FROM inputs WHERE content_hash = ?1",
                [content_hash],
                |_| Ok(()),
            )
            .optional()
            .map(|x| x.is_some())
            .map_err(|e| self.err(e))
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Writes one analysis run atomically: its inputs, events, identity periods and the
    /// manifest rows of its position files (written beforehand to staging by a
    /// [`PositionWriter`]); once committed, moves the files into place.
    pub fn write_run(&mut self, new: &NewRun<'_>) -> Result<i64, StoreError> {
        let NewRun {
            started_at,
            inputs,
            events,
            identities,
            positions,
            dropped,
            stations,
            detector_config,
            program_version,
            open_events,
            open_identities,
            state,
            feeds,
        } = *new;
        let path = self.path.clone();
        let err = |error| StoreError::Sqlite {
            path: path.clone(),
            error,
        };
        let tx = self.conn.transaction().map_err(err)?;
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        let messages: u64 = inputs.iter().map(|i| i.messages).sum();
        tx.execute(
            "INSERT INTO runs (started_at, inputs, messages, events, dropped, detector_config, program_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                started_at,
                serde_json::to_string(&names).unwrap_or_default(),
                messages as i64,
                events.len() as i64,
                serde_json::to_string(dropped).unwrap_or_default(),
                detector_config,
                program_version
            ],
        )
        .map_err(err)?;
        let run = tx.last_insert_rowid();
        if let StateUpdate::Replace { continued, .. } = state {
            if continued {
                tx.execute_batch(
                    "DELETE FROM events_rtree WHERE id IN (SELECT id FROM events WHERE provisional = 1);
                     DELETE FROM events WHERE provisional = 1;
                     INSERT INTO names_fts(names_fts, rowid, name) SELECT 'delete', id, name FROM identities WHERE provisional = 1;
                     DELETE FROM identities WHERE provisional = 1;",
                )
                .map_err(err)?;
            } else {
                tx.execute_batch(
                    "UPDATE events SET provisional = 0 WHERE provisional = 1;
                     UPDATE identities SET provisional = 0 WHERE provisional = 1;",
                )
                .map_err(err)?;
            }
        }
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO inputs (name, content_hash, bytes, messages, ingested_at, run) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            for i in inputs {
                ins.execute(params![
                    i.name,
                    i.content_hash,
                    i.bytes as i64,
                    i.messages as i64,
                    started_at,
                    run
                ])
                .map_err(err)?;
            }
            let mut ev = tx
                .prepare(
                    "INSERT INTO events (run, kind, mmsi, imo, other_mmsi, start, end, lat, lon, details, confidence, confidence_reasons, truncated_start, truncated_end, provisional) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .map_err(err)?;
            let mut rtree = tx
                .prepare("INSERT INTO events_rtree (id, min_lon, max_lon, min_lat, max_lat) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(err)?;
            // Final and provisional events in one time order, so that ids follow time
            // within a run whatever is still open.
            let mut all: Vec<(&Event, bool)> = events
                .iter()
                .map(|e| (e, false))
                .chain(open_events.iter().map(|e| (e, true)))
                .collect();
            all.sort_by_key(|(e, _)| (e.start, e.mmsi, e.kind()));
            for (e, provisional) in all {
                let coord = |x: f64| x.is_finite().then_some(x);
                ev.execute(params![
                    run,
                    e.kind().as_str(),
                    e.mmsi,
                    e.imo,
                    e.other_mmsi,
                    e.start,
                    e.end,
                    coord(e.lat),
                    coord(e.lon),
                    e.details.to_json().map_err(|error| StoreError::Corrupt {
                        path: path.clone(),
                        id: 0,
                        reason: format!("event details: {error}"),
                    })?,
                    e.confidence.level.as_str(),
                    serde_json::to_string(&e.confidence.reasons).unwrap_or_default(),
                    e.truncated_start,
                    e.truncated_end,
                    provisional
                ])
                .map_err(err)?;
                if let Some(b) = e.extent() {
                    rtree
                        .execute(params![tx.last_insert_rowid(), b[0], b[1], b[2], b[3]])
                        .map_err(err)?;
                }
            }
            let mut id = tx
                .prepare(
                    "INSERT INTO identities (run, mmsi, imo, name, callsign, flag, ship_type, length_m, beam_m, first_seen, last_seen, provisional) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .map_err(err)?;
            let all = identities
                .iter()
                .map(|i| (i, false))
                .chain(open_identities.iter().map(|i| (i, true)));
            for (i, provisional) in all {
                id.execute(params![
                    run,
                    i.mmsi,
                    i.imo,
                    i.name,
                    i.callsign,
                    i.flag,
                    i.ship_type,
                    i.length_m,
                    i.beam_m,
                    i.first_seen,
                    i.last_seen,
                    provisional
                ])
                .map_err(err)?;
            }
            tx.execute(
                "INSERT INTO names_fts (rowid, name) SELECT id, name FROM identities WHERE run = ?1",
                [run],
            )
            .map_err(err)?;
            let mut station = tx
                .prepare("INSERT OR IGNORE INTO stations (id, name) VALUES (?1, ?2)")
                .map_err(err)?;
            for (id, name) in stations {
                station.execute(params![id.get(), name]).map_err(err)?;
            }
            let mut file = tx
                .prepare("INSERT INTO position_files (run, day, path, staging, rows, bytes, min_time, max_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
                .map_err(err)?;
            let mut vessel = tx
                .prepare("INSERT INTO position_vessels (mmsi, file, rows, min_time, max_time) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(err)?;
            for f in positions {
                file.execute(params![
                    run,
                    f.day,
                    f.path,
                    f.staging,
                    f.rows as i64,
                    f.bytes as i64,
                    f.time.0,
                    f.time.1
                ])
                .map_err(err)?;
                let id = tx.last_insert_rowid();
                for (mmsi, rows, lo, hi) in &f.vessels {
                    vessel
                        .execute(params![mmsi, id, *rows as i64, lo, hi])
                        .map_err(err)?;
                }
            }
        }
        if let StateUpdate::Replace {
            state,
            format,
            watermark,
            ..
        } = state
        {
            tx.execute(
                "INSERT OR REPLACE INTO pipeline_state (id, run, format, watermark, detector_config, program_version, state) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                params![run, format, watermark, detector_config, program_version, state],
            )
            .map_err(err)?;
        }
        for f in feeds {
            tx.execute(
                "INSERT OR REPLACE INTO feeds (name, messages, last_message, last_time, offset, connected, rate, outages, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    f.name,
                    f.messages as i64,
                    f.last_message,
                    f.last_time,
                    f.offset as i64,
                    f.connected,
                    f.rate,
                    serde_json::to_string(&f.outages).unwrap_or_default(),
                    started_at
                ],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        self.recover_positions()?;
        Ok(run)
    }

    /// Moves committed position files still in staging into place (a crash between a run's
    /// commit and its moves), and removes staging directories no committed run refers to (a
    /// crash before the commit). Call with the [`WriteLock`] held.
    pub fn recover_positions(&self) -> Result<Recovery, StoreError> {
        let dir = self.dir().to_owned();
        let io = |path: &Path| {
            let path = path.to_owned();
            move |error| StoreError::Io { path, error }
        };
        let mut stmt = self
            .conn
            .prepare("SELECT path, staging FROM position_files")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Recovery::default();
        let mut referenced = HashSet::new();
        for row in rows {
            let (path, staging) = row.map_err(|e| self.err(e))?;
            let (path, staging) = (dir.join(path), dir.join(staging));
            if let Some(token) = staging.parent() {
                referenced.insert(token.to_owned());
            }
            if path.exists() {
                continue;
            }
            if staging.exists() {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                }
                std::fs::rename(&staging, &path).map_err(io(&staging))?;
                // The move is durable once the directory entry is.
                if let Some(parent) = path.parent() {
                    std::fs::File::open(parent)
                        .and_then(|d| d.sync_all())
                        .map_err(io(parent))?;
                }
                out.published += 1;
            } else {
                return Err(StoreError::Corrupt {
                    path: path.clone(),
                    id: 0,
                    reason: "a position file listed in the manifest is missing".into(),
                });
            }
        }
        let staging_root = dir
            .join(positions::POSITIONS_DIR)
            .join(positions::STAGING_DIR);
        if let Ok(entries) = std::fs::read_dir(&staging_root) {
            for entry in entries.flatten() {
                let p = entry.path();
                if referenced.contains(&p) {
                    // Published files have left; what remains of a committed run is nothing.
                    if std::fs::read_dir(&p)
                        .map(|mut d| d.next().is_none())
                        .unwrap_or(false)
                    {
                        std::fs::remove_dir(&p).map_err(io(&p))?;
                    }
                    continue;
                }
                std::fs::remove_dir_all(&p).map_err(io(&p))?;
                out.discarded += 1;
            }
        }
        Ok(out)
    }

    /// Position files (absolute paths, by day) that may hold positions of `query`: those
    /// whose manifest says they hold one of its MMSIs (any when empty) within its times.
    pub fn position_files(&self, query: &PositionQuery) -> Result<Vec<PathBuf>, StoreError> {
        let from = query.from.unwrap_or(i64::MIN);
        let to = query.to.unwrap_or(i64::MAX);
        let mut out = Vec::new();
        if query.mmsis.is_empty() {
            let mut stmt = self
                .conn
                .prepare("SELECT path FROM position_files WHERE max_time >= ?1 AND min_time <= ?2 ORDER BY day, id")
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![from, to], |r| r.get::<_, String>(0))
                .map_err(|e| self.err(e))?;
            for r in rows {
                out.push(self.dir().join(r.map_err(|e| self.err(e))?));
            }
            return Ok(out);
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT DISTINCT f.path, f.day, f.id FROM position_vessels v JOIN position_files f ON f.id = v.file
                 WHERE v.mmsi = ?1 AND v.max_time >= ?2 AND v.min_time <= ?3",
            )
            .map_err(|e| self.err(e))?;
        let mut found: Vec<(String, String, i64)> = Vec::new();
        for m in &query.mmsis {
            let rows = stmt
                .query_map(params![m, from, to], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(|e| self.err(e))?;
            for r in rows {
                found.push(r.map_err(|e| self.err(e))?);
            }
        }
        found.sort_by(|a, b| (&a.1, a.2).cmp(&(&b.1, b.2)));
        found.dedup();
        Ok(found
            .into_iter()
            .map(|(p, _, _)| self.dir().join(p))
            .collect())
    }

    /// Reads the positions `query` asks for, file by file (by day), each file by MMSI then
    /// time.
    pub fn read_positions(
        &self,
        query: &PositionQuery,
        f: &mut dyn FnMut(Position),
    ) -> Result<(), StoreError> {
        for path in self.position_files(query)? {
            positions::read_file(&path, query, f)?;
        }
        Ok(())
    }

    /// The earliest stored position of `mmsi` at or before `until` (unix seconds): the files
    /// are read day by day until one holds it.
    pub fn first_position(&self, mmsi: u32, until: i64) -> Result<Option<Position>, StoreError> {
        let query = PositionQuery {
            mmsis: vec![mmsi],
            from: None,
            to: Some(until),
        };
        // A day may be written in several parts (a run whose positions did not come in time
        // order, or that spilled): every part of the first day that holds one is read.
        let mut first: Option<Position> = None;
        let mut day: Option<PathBuf> = None;
        for path in self.position_files(&query)? {
            let this_day = path.parent().map(Path::to_owned);
            if first.is_some() && this_day != day {
                break;
            }
            positions::read_file(&path, &query, &mut |p| {
                if first.as_ref().is_none_or(|f| p.position.t < f.position.t) {
                    first = Some(p);
                }
            })?;
            if first.is_some() && day.is_none() {
                day = this_day;
            }
        }
        Ok(first)
    }

    /// Number of stored positions, from the manifest.
    pub fn position_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT coalesce(sum(rows), 0) FROM position_files",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Ids of events whose bounding box meets `[west, south, east, north]` (R*Tree).
    pub fn events_in_bbox(&self, bbox: [f64; 4]) -> Result<HashSet<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id FROM events_rtree WHERE max_lon >= ?1 AND min_lon <= ?3 AND max_lat >= ?2 AND min_lat <= ?4",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![bbox[0], bbox[1], bbox[2], bbox[3]], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<HashSet<i64>, _>>()
            .map_err(|e| self.err(e))
    }

    /// `(mmsi, imo)` of identity periods whose name matches every word of `q` as a prefix
    /// (FTS5, case and accents ignored), best match first, at most `limit`.
    pub fn search_names(
        &self,
        q: &str,
        limit: usize,
    ) -> Result<Vec<(u32, Option<u32>)>, StoreError> {
        let words: Vec<String> = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| format!("\"{w}\"*"))
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT i.mmsi, i.imo FROM names_fts JOIN identities i ON i.id = names_fts.rowid
                 WHERE names_fts MATCH ?1 ORDER BY rank LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![words.join(" "), limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Events matching `filter`, by start time then id.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, kind, mmsi, imo, other_mmsi, start, end, lat, lon, details, confidence, confidence_reasons, truncated_start, truncated_end FROM events
                 WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR end >= ?2) AND (?3 IS NULL OR mmsi = ?3 OR other_mmsi = ?3) AND (?4 IS NULL OR id = ?4)
                 ORDER BY start, id",
            )
            .map_err(|e| self.err(e))?;
        /// A row before its text columns are parsed.
        struct Row {
            id: i64,
            kind: String,
            details: String,
            confidence: String,
            reasons: String,
            event: Event,
        }
        let rows = stmt
            .query_map(
                params![
                    filter.kind.map(|k| k.as_str()),
                    filter.since,
                    filter.mmsi,
                    filter.id
                ],
                |r| {
                    Ok(Row {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        details: r.get(9)?,
                        confidence: r.get(10)?,
                        reasons: r.get(11)?,
                        event: Event {
                            mmsi: r.get(2)?,
                            imo: r.get(3)?,
                            other_mmsi: r.get(4)?,
                            start: r.get(5)?,
                            end: r.get(6)?,
                            lat: r.get::<_, Option<f64>>(7)?.unwrap_or(f64::NAN),
                            lon: r.get::<_, Option<f64>>(8)?.unwrap_or(f64::NAN),
                            confidence: Confidence::default(),
                            truncated_start: r.get(12)?,
                            truncated_end: r.get(13)?,
                            details: EventDetails::Gap(Default::default()),
                        },
                    })
                },
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let mut row = row.map_err(|e| self.err(e))?;
            let id = row.id;
            let corrupt = |reason: String| StoreError::Corrupt {
                path: self.path.clone(),
                id,
                reason,
            };
            let kind = EventKind::parse(&row.kind)
                .ok_or_else(|| corrupt(format!("unknown kind {:?}", row.kind)))?;
            row.event.details = EventDetails::from_json(kind, &row.details)
                .map_err(|e| corrupt(format!("details of a {kind} event: {e}")))?;
            let level = ConfidenceLevel::parse(&row.confidence);
            if filter
                .min_confidence
                .is_some_and(|min| level.is_some_and(|l| l < min))
            {
                continue;
            }
            row.event.confidence = Confidence {
                level: ConfidenceLevel::parse(&row.confidence).ok_or_else(|| {
                    corrupt(format!(
                        "confidence {:?} is not low, medium or high",
                        row.confidence
                    ))
                })?,
                reasons: serde_json::from_str(&row.reasons)
                    .map_err(|e| corrupt(format!("confidence reasons: {e}")))?,
            };
            out.push(StoredEvent {
                id,
                event: row.event,
            });
        }
        Ok(out)
    }

    /// Every identity period, by MMSI then first sight.
    pub fn identities(&self) -> Result<Vec<IdentityPeriod>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT mmsi, imo, name, callsign, flag, ship_type, length_m, beam_m, first_seen, last_seen
                 FROM identities ORDER BY mmsi, first_seen, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(IdentityPeriod {
                    mmsi: r.get(0)?,
                    imo: r.get(1)?,
                    name: r.get(2)?,
                    callsign: r.get(3)?,
                    flag: r.get(4)?,
                    ship_type: r.get(5)?,
                    length_m: r.get(6)?,
                    beam_m: r.get(7)?,
                    first_seen: r.get(8)?,
                    last_seen: r.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Stores a reference list, replacing one of the same name, in one transaction.
    pub fn put_list(
        &mut self,
        list: &shadowfleet_refdata::RefList,
        content_hash: &str,
        loaded_at: &str,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(list).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            id: 0,
            reason: format!("list {}: {e}", list.name),
        })?;
        let kind = serde_json::to_value(list.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        self.conn
            .execute(
                "INSERT OR REPLACE INTO reference_lists (name, kind, format, source, content_hash, entries, loaded_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![list.name, kind, list.format.as_str(), list.source.display().to_string(), content_hash, list.entries.len() as i64, loaded_at, body],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Every stored reference list, by name.
    pub fn lists(&self) -> Result<Vec<StoredList>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, content_hash, loaded_at, body FROM reference_lists ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, content_hash, loaded_at, body) = row.map_err(|e| self.err(e))?;
            let list = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                id: 0,
                reason: format!("reference list {name}: {e}"),
            })?;
            out.push(StoredList {
                name,
                content_hash,
                loaded_at,
                list,
            });
        }
        Ok(out)
    }

    /// The stored screening results as (MMSI, IMO, list, entry key), and whether any
    /// screening was stored (`meta` `screened`). The entry key is [`entry_key`]: stable across
    /// versions of a list, unlike ids that number its lines.
    pub fn match_keys(&self) -> Result<(Vec<MatchKey>, bool), StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT mmsi, imo, list, entry, details FROM screen_matches")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let details: String = r.get(4)?;
                let v: serde_json::Value = serde_json::from_str(&details).unwrap_or_default();
                let entry: String = r.get(3)?;
                let key = entry_key(
                    v["entry_imo"].as_u64().and_then(|i| u32::try_from(i).ok()),
                    v["entry_name"].as_str().unwrap_or(""),
                    &entry,
                );
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, key))
            })
            .map_err(|e| self.err(e))?;
        let keys = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        let screened = self.meta("screened")?.is_some();
        Ok((keys, screened))
    }

    /// Replaces the screening results, in one transaction.
    pub fn replace_matches(&mut self, matches: &[StoredMatch]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |error| StoreError::Sqlite {
            path: path.clone(),
            error,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM screen_matches", []).map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('screened', '1')",
            [],
        )
        .map_err(err)?;
        {
            let mut ins = tx
                .prepare("INSERT INTO screen_matches (mmsi, imo, list, entry, score, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(err)?;
            for m in matches {
                ins.execute(params![
                    m.mmsi,
                    m.imo,
                    m.list,
                    m.entry,
                    m.score,
                    m.details.to_string()
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Number of runs recorded.
    pub fn run_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM runs", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// What every run left out, summed over the runs (see [`DropCounts`]).
    pub fn dropped_total(&self) -> Result<DropCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, dropped FROM runs ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut total = DropCounts::default();
        for row in rows {
            let (id, text) = row.map_err(|e| self.err(e))?;
            let d: DropCounts =
                serde_json::from_str(&text).map_err(|e| StoreError::CorruptRun {
                    path: self.path.clone(),
                    id,
                    reason: format!("its record of what was left out: {e}"),
                })?;
            total.add(&d);
        }
        Ok(total)
    }

    /// The event with this id and the run that found it, if there is one.
    pub fn event(&self, id: i64) -> Result<Option<(StoredEvent, i64)>, StoreError> {
        let Some(event) = self
            .events(&EventFilter {
                id: Some(id),
                ..EventFilter::default()
            })?
            .pop()
        else {
            return Ok(None);
        };
        let run = self.run_of_event(id)?.ok_or_else(|| StoreError::Corrupt {
            path: self.path.clone(),
            id,
            reason: "the event vanished while read".into(),
        })?;
        Ok(Some((event, run)))
    }

    /// The run that found the event with this id, if there is one.
    pub fn run_of_event(&self, id: i64) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT run FROM events WHERE id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// A recorded run: its inputs (in the order read), detector configuration and version.
    pub fn run_record(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT started_at, inputs, detector_config, program_version FROM runs WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((started_at, names, detector_config, program_version)) = row else {
            return Ok(None);
        };
        let names: Vec<String> =
            serde_json::from_str(&names).map_err(|e| StoreError::CorruptRun {
                path: self.path.clone(),
                id,
                reason: format!("its list of inputs: {e}"),
            })?;
        let mut stmt = self
            .conn
            .prepare("SELECT name, content_hash, bytes, messages FROM inputs WHERE run = ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(InputRecord {
                    name: r.get(0)?,
                    content_hash: r.get(1)?,
                    bytes: r.get::<_, i64>(2)? as u64,
                    messages: r.get::<_, i64>(3)? as u64,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut found = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        // In the order the run read them.
        found.sort_by_key(|i| {
            names
                .iter()
                .position(|n| *n == i.name)
                .unwrap_or(usize::MAX)
        });
        Ok(Some(RunRecord {
            id,
            started_at,
            inputs: found,
            detector_config,
            program_version,
        }))
    }

    /// Number of inputs in the manifest.
    pub fn input_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM inputs", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }
}
