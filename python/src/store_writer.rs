//! A run assembled elsewhere (the Spark job's stages) written into a store as one run:
//! events, identity periods and track points come in as Arrow batches of the schemas of
//! [`crate::tables`]; the run is committed in one transaction, as `shadowfleet analyze`
//! commits its own, under the store's write lock.

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    Float32Type, Float64Type, Int64Type, TimestampSecondType, UInt32Type, UInt8Type,
};
use shadowfleet_geo::LatLon;
use shadowfleet_records::{
    Confidence, ConfidenceLevel, DropCounts, Event, EventDetails, EventKind, IdentityPeriod,
    Provenance, StationId,
};
use shadowfleet_store::{
    InputRecord, NewRun, Position, PositionFile, PositionWriter, StateUpdate, Store, WriteLock,
};

/// The open run.
pub struct RunWriter {
    dir: PathBuf,
    _lock: WriteLock,
    store: Store,
    positions: PositionWriter,
    events: Vec<Event>,
    identities: Vec<IdentityPeriod>,
    points: u64,
}

fn col<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a dyn Array, String> {
    b.column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| format!("column {name:?} is missing"))
}

macro_rules! prim {
    ($b:expr, $name:literal, $t:ty) => {{
        let c = col($b, $name)?;
        c.as_primitive_opt::<$t>().ok_or_else(|| {
            format!(
                "column {:?} is {}, not {}",
                $name,
                c.data_type(),
                stringify!($t)
            )
        })?
    }};
}

fn strings<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a arrow::array::StringArray, String> {
    let c = col(b, name)?;
    c.as_string_opt::<i32>()
        .ok_or_else(|| format!("column {name:?} is {}, not utf8", c.data_type()))
}

fn opt<T: arrow::datatypes::ArrowPrimitiveType>(
    c: &arrow::array::PrimitiveArray<T>,
    i: usize,
) -> Option<T::Native> {
    c.is_valid(i).then(|| c.value(i))
}

impl RunWriter {
    /// Opens (or creates) the store in `dir` for one run.
    pub fn open(dir: &Path) -> anyhow::Result<RunWriter> {
        let lock = WriteLock::acquire(dir)?;
        let store = Store::open(dir)?;
        store.recover_positions()?;
        let token = format!("run-{}-external", store.run_count()? + 1);
        let positions = PositionWriter::new(dir, &token, Default::default())?;
        Ok(RunWriter {
            dir: dir.to_owned(),
            _lock: lock,
            store,
            positions,
            events: Vec::new(),
            identities: Vec::new(),
            points: 0,
        })
    }

    /// Takes a batch of events.
    pub fn events(&mut self, b: &RecordBatch) -> Result<(), String> {
        self.events.extend(events_of(b)?);
        Ok(())
    }

    /// Takes a batch of identity periods.
    pub fn identities(&mut self, b: &RecordBatch) -> Result<(), String> {
        let mmsi = prim!(b, "mmsi", UInt32Type);
        let imo = prim!(b, "imo", UInt32Type);
        let name = strings(b, "shipname")?;
        let callsign = strings(b, "callsign")?;
        let flag = strings(b, "flag")?;
        let shiptype = prim!(b, "shiptype", UInt8Type);
        let length = prim!(b, "length", arrow::datatypes::UInt16Type);
        let beam = prim!(b, "beam", arrow::datatypes::UInt16Type);
        let first = prim!(b, "first_seen", TimestampSecondType);
        let last = prim!(b, "last_seen", TimestampSecondType);
        for i in 0..b.num_rows() {
            self.identities.push(IdentityPeriod {
                mmsi: mmsi.value(i),
                imo: opt(imo, i),
                name: name.value(i).to_owned(),
                callsign: callsign.value(i).to_owned(),
                flag: flag.is_valid(i).then(|| flag.value(i).to_owned()),
                ship_type: opt(shiptype, i),
                length_m: opt(length, i),
                beam_m: opt(beam, i),
                first_seen: first.value(i),
                last_seen: last.value(i),
            });
        }
        Ok(())
    }

    /// Takes a batch of track points (the store's position columns).
    pub fn points(&mut self, b: &RecordBatch) -> Result<(), String> {
        let mmsi = prim!(b, "mmsi", UInt32Type);
        let time = prim!(b, "time", TimestampSecondType);
        let lon = prim!(b, "lon", Float64Type);
        let lat = prim!(b, "lat", Float64Type);
        let sog = prim!(b, "sog", Float32Type);
        let cog = prim!(b, "cog", Float32Type);
        let status = prim!(b, "nav_status", UInt8Type);
        let segment = prim!(b, "segment", Int64Type);
        let station = prim!(b, "station", UInt32Type);
        let second = prim!(b, "second", UInt8Type);
        let input = prim!(b, "input", UInt32Type);
        let offset = prim!(b, "offset", Int64Type);
        let length = prim!(b, "length", UInt32Type);
        for i in 0..b.num_rows() {
            let p = Position {
                position: shadowfleet_tracks::Position {
                    mmsi: mmsi.value(i),
                    t: time.value(i),
                    pos: LatLon {
                        lat: lat.value(i),
                        lon: lon.value(i),
                    },
                    sog_knots: opt(sog, i),
                    cog_deg: opt(cog, i),
                    nav_status: opt(status, i),
                    second: opt(second, i),
                    station: opt(station, i).and_then(StationId::from_stored),
                    source: Provenance {
                        offset: opt(offset, i).map_or(0, |o| o as u64),
                        length: opt(length, i).unwrap_or(0),
                        input: opt(input, i).map_or(0, |x| x as u16),
                    },
                },
                segment: segment.value(i) as u64,
            };
            self.positions.push(p).map_err(|e| e.to_string())?;
            self.points += 1;
        }
        Ok(())
    }

    /// Commits the run: its inputs (name, path, messages decoded), what was left out, the
    /// receiving stations named, the detector configuration and the wall-clock start. Returns
    /// the run id and the positions stored.
    pub fn commit(
        mut self,
        inputs: &[(String, PathBuf, u64)],
        dropped: &DropCounts,
        stations: &[String],
        detector_config: &str,
        started_at: i64,
    ) -> anyhow::Result<(i64, u64)> {
        let files: Vec<PositionFile> = self.positions.finish()?;
        let mut records = Vec::new();
        for (name, path, messages) in inputs {
            let (hash, bytes) = shadowfleet_run::ingest::content_hash(path)?;
            if self.store.has_input(&hash)? {
                anyhow::bail!(
                    "{name}: already in the store {} (same content): nothing written",
                    self.dir.display()
                );
            }
            records.push(InputRecord {
                name: name.clone(),
                content_hash: hash,
                bytes,
                messages: *messages,
            });
        }
        self.events.sort_by_key(|e| (e.start, e.mmsi, e.kind()));
        let stations: Vec<(StationId, String)> = stations
            .iter()
            .filter_map(|s| StationId::of(s).map(|id| (id, s.clone())))
            .collect();
        let started = shadowfleet_model::Timestamp::from_unix_seconds(started_at).to_string();
        let run = self.store.write_run(&NewRun {
            started_at: &started,
            inputs: &records,
            events: &self.events,
            identities: &self.identities,
            positions: &files,
            dropped,
            stations: &stations,
            detector_config,
            program_version: env!("CARGO_PKG_VERSION"),
            open_events: &[],
            open_identities: &[],
            state: StateUpdate::Keep,
            feeds: &[],
        })?;
        Ok((run, self.points))
    }
}

/// The events of a batch of the events schema ([`crate::tables::event_schema`]).
pub fn events_of(b: &RecordBatch) -> Result<Vec<Event>, String> {
    let mut out = Vec::with_capacity(b.num_rows());
    let kind = strings(b, "kind")?;
    let mmsi = prim!(b, "mmsi", UInt32Type);
    let imo = prim!(b, "imo", UInt32Type);
    let other = prim!(b, "other_mmsi", UInt32Type);
    let start = prim!(b, "start", TimestampSecondType);
    let end = prim!(b, "end", TimestampSecondType);
    let lat = prim!(b, "lat", Float64Type);
    let lon = prim!(b, "lon", Float64Type);
    let level = strings(b, "confidence")?;
    let reasons = col(b, "confidence_reasons")?
        .as_list_opt::<i32>()
        .ok_or("column \"confidence_reasons\" is not a list")?;
    let tstart = col(b, "truncated_start")?
        .as_boolean_opt()
        .ok_or("column \"truncated_start\" is not boolean")?;
    let tend = col(b, "truncated_end")?
        .as_boolean_opt()
        .ok_or("column \"truncated_end\" is not boolean")?;
    let details = strings(b, "details")?;
    for i in 0..b.num_rows() {
        let k = EventKind::parse(kind.value(i))
            .ok_or_else(|| format!("row {i}: {:?} is not an event kind", kind.value(i)))?;
        let d = EventDetails::from_json(k, details.value(i))
            .map_err(|e| format!("row {i}: details of a {}: {e}", k.as_str()))?;
        let lv = ConfidenceLevel::parse(level.value(i))
            .ok_or_else(|| format!("row {i}: {:?} is not a confidence level", level.value(i)))?;
        let why = reasons.value(i);
        let why = why
            .as_string_opt::<i32>()
            .ok_or("confidence_reasons is not a list of utf8")?;
        out.push(Event {
            mmsi: mmsi.value(i),
            imo: opt(imo, i),
            other_mmsi: opt(other, i),
            start: start.value(i),
            end: end.value(i),
            lat: opt(lat, i).unwrap_or(f64::NAN),
            lon: opt(lon, i).unwrap_or(f64::NAN),
            confidence: Confidence::new(
                lv,
                why.iter().map(|s| s.unwrap_or("").to_owned()).collect(),
            ),
            truncated_start: tstart.value(i),
            truncated_end: tend.value(i),
            details: d,
        });
    }
    Ok(out)
}
