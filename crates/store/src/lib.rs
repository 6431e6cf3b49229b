//! The embedded store: one directory holding `shadowfleet.sqlite` (SQLite in WAL mode), with
//! the manifest of ingested inputs, the events and the identity timelines. No server.
//!
//! Every analysed batch of inputs is written in one transaction together with its manifest
//! rows, so an interrupted run leaves the store as it was before, and re-running it neither
//! loses nor duplicates anything. An input already in the manifest (same content hash) is
//! skipped. See `docs/formats.md`.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use shadowfleet_events::{Event, EventKind};
use shadowfleet_identities::Identity;

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
}

/// Schema version written to `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS inputs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    bytes INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    inputs TEXT NOT NULL,
    messages INTEGER NOT NULL,
    events INTEGER NOT NULL
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
    details TEXT NOT NULL
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
    last_seen INTEGER NOT NULL
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
";

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
        conn.execute_batch(SCHEMA).map_err(err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(err)?;
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

    /// Writes one analysis run atomically: its inputs, events and identity periods.
    pub fn write_run(
        &mut self,
        started_at: &str,
        inputs: &[InputRecord],
        events: &[Event],
        identities: &[Identity],
    ) -> Result<i64, StoreError> {
        let path = self.path.clone();
        let err = |error| StoreError::Sqlite {
            path: path.clone(),
            error,
        };
        let tx = self.conn.transaction().map_err(err)?;
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        let messages: u64 = inputs.iter().map(|i| i.messages).sum();
        tx.execute(
            "INSERT INTO runs (started_at, inputs, messages, events) VALUES (?1, ?2, ?3, ?4)",
            params![
                started_at,
                serde_json::to_string(&names).unwrap_or_default(),
                messages as i64,
                events.len() as i64
            ],
        )
        .map_err(err)?;
        let run = tx.last_insert_rowid();
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO inputs (name, content_hash, bytes, messages, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for i in inputs {
                ins.execute(params![
                    i.name,
                    i.content_hash,
                    i.bytes as i64,
                    i.messages as i64,
                    started_at
                ])
                .map_err(err)?;
            }
            let mut ev = tx
                .prepare(
                    "INSERT INTO events (run, kind, mmsi, imo, other_mmsi, start, end, lat, lon, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(err)?;
            for e in events {
                let coord = |x: f64| x.is_finite().then_some(x);
                ev.execute(params![
                    run,
                    e.kind.as_str(),
                    e.mmsi,
                    e.imo,
                    e.other_mmsi,
                    e.start,
                    e.end,
                    coord(e.lat),
                    coord(e.lon),
                    e.details.to_string()
                ])
                .map_err(err)?;
            }
            let mut id = tx
                .prepare(
                    "INSERT INTO identities (run, mmsi, imo, name, callsign, flag, ship_type, length_m, beam_m, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(err)?;
            for i in identities {
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
                    i.last_seen
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(run)
    }

    /// Events matching `filter`, by start time then id.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, kind, mmsi, imo, other_mmsi, start, end, lat, lon, details FROM events
                 WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR end >= ?2) AND (?3 IS NULL OR mmsi = ?3 OR other_mmsi = ?3)
                 ORDER BY start, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![filter.kind.map(|k| k.as_str()), filter.since, filter.mmsi],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, u32>(2)?,
                        r.get::<_, Option<u32>>(3)?,
                        r.get::<_, Option<u32>>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, i64>(6)?,
                        r.get::<_, Option<f64>>(7)?,
                        r.get::<_, Option<f64>>(8)?,
                        r.get::<_, String>(9)?,
                    ))
                },
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, mmsi, imo, other_mmsi, start, end, lat, lon, details) =
                row.map_err(|e| self.err(e))?;
            let corrupt = |reason: String| StoreError::Corrupt {
                path: self.path.clone(),
                id,
                reason,
            };
            let kind =
                EventKind::parse(&kind).ok_or_else(|| corrupt(format!("unknown kind {kind:?}")))?;
            let details = serde_json::from_str(&details)
                .map_err(|e| corrupt(format!("details are not JSON: {e}")))?;
            out.push(StoredEvent {
                id,
                event: Event {
                    kind,
                    mmsi,
                    imo,
                    other_mmsi,
                    start,
                    end,
                    lat: lat.unwrap_or(f64::NAN),
                    lon: lon.unwrap_or(f64::NAN),
                    details,
                },
            });
        }
        Ok(out)
    }

    /// Every identity period, by MMSI then first sight.
    pub fn identities(&self) -> Result<Vec<Identity>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT mmsi, imo, name, callsign, flag, ship_type, length_m, beam_m, first_seen, last_seen
                 FROM identities ORDER BY mmsi, first_seen, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Identity {
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

    /// Replaces the screening results, in one transaction.
    pub fn replace_matches(&mut self, matches: &[StoredMatch]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |error| StoreError::Sqlite {
            path: path.clone(),
            error,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM screen_matches", []).map_err(err)?;
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

    /// Number of inputs in the manifest.
    pub fn input_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM inputs", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }
}
