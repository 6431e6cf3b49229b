//! Records as Arrow batches: events, identity periods and track points with fixed schemas,
//! and any serialisable rows (flows, exposure, risks) through arrow-json with an inferred
//! schema. Times become `timestamp[s, UTC]`.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float32Builder, Float64Builder, Int64Builder, ListBuilder,
    RecordBatch, StringBuilder, TimestampSecondBuilder, UInt16Builder, UInt32Builder, UInt8Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use shadowfleet_records::{Event, IdentityPeriod};
use shadowfleet_tracks::TrackPoint;

fn seconds() -> DataType {
    DataType::Timestamp(TimeUnit::Second, Some("UTC".into()))
}

fn ts_builder() -> TimestampSecondBuilder {
    TimestampSecondBuilder::new().with_timezone("UTC")
}

/// The schema of events: the common fields as columns, the kind's own facts as JSON text in
/// `details` (see docs/detectors/), `id` the store's id (null for events not stored).
pub fn event_schema() -> SchemaRef {
    let f = |name: &str, t: DataType, null: bool| Field::new(name, t, null);
    Arc::new(Schema::new(vec![
        f("id", DataType::Int64, true),
        f("kind", DataType::Utf8, false),
        f("mmsi", DataType::UInt32, false),
        f("imo", DataType::UInt32, true),
        f("other_mmsi", DataType::UInt32, true),
        f("start", seconds(), false),
        f("end", seconds(), false),
        f("lat", DataType::Float64, true),
        f("lon", DataType::Float64, true),
        f("confidence", DataType::Utf8, false),
        f(
            "confidence_reasons",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
        f("truncated_start", DataType::Boolean, false),
        f("truncated_end", DataType::Boolean, false),
        f("details", DataType::Utf8, false),
    ]))
}

/// Events (with their store ids where they have one) as a batch.
pub fn events<'a>(
    rows: impl Iterator<Item = (Option<i64>, &'a Event)>,
) -> Result<RecordBatch, ArrowError> {
    let mut id = Int64Builder::new();
    let mut kind = StringBuilder::new();
    let mut mmsi = UInt32Builder::new();
    let mut imo = UInt32Builder::new();
    let mut other = UInt32Builder::new();
    let mut start = ts_builder();
    let mut end = ts_builder();
    let mut lat = Float64Builder::new();
    let mut lon = Float64Builder::new();
    let mut level = StringBuilder::new();
    let mut reasons = ListBuilder::new(StringBuilder::new());
    let mut tstart = BooleanBuilder::new();
    let mut tend = BooleanBuilder::new();
    let mut details = StringBuilder::new();
    for (i, e) in rows {
        id.append_option(i);
        kind.append_value(e.kind().as_str());
        mmsi.append_value(e.mmsi);
        imo.append_option(e.imo);
        other.append_option(e.other_mmsi);
        start.append_value(e.start);
        end.append_value(e.end);
        lat.append_option(e.lat.is_finite().then_some(e.lat));
        lon.append_option(e.lon.is_finite().then_some(e.lon));
        level.append_value(e.confidence.level.as_str());
        for r in &e.confidence.reasons {
            reasons.values().append_value(r);
        }
        reasons.append(true);
        tstart.append_value(e.truncated_start);
        tend.append_value(e.truncated_end);
        let json = e
            .details
            .to_json()
            .map_err(|x| ArrowError::ExternalError(Box::new(x)))?;
        details.append_value(json);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(kind.finish()),
        Arc::new(mmsi.finish()),
        Arc::new(imo.finish()),
        Arc::new(other.finish()),
        Arc::new(start.finish()),
        Arc::new(end.finish()),
        Arc::new(lat.finish()),
        Arc::new(lon.finish()),
        Arc::new(level.finish()),
        Arc::new(reasons.finish()),
        Arc::new(tstart.finish()),
        Arc::new(tend.finish()),
        Arc::new(details.finish()),
    ];
    RecordBatch::try_new(event_schema(), columns)
}

/// The schema of identity periods.
pub fn identity_schema() -> SchemaRef {
    let f = |name: &str, t: DataType, null: bool| Field::new(name, t, null);
    Arc::new(Schema::new(vec![
        f("mmsi", DataType::UInt32, false),
        f("imo", DataType::UInt32, true),
        f("shipname", DataType::Utf8, false),
        f("callsign", DataType::Utf8, false),
        f("flag", DataType::Utf8, true),
        f("shiptype", DataType::UInt8, true),
        f("length", DataType::UInt16, true),
        f("beam", DataType::UInt16, true),
        f("first_seen", seconds(), false),
        f("last_seen", seconds(), false),
    ]))
}

/// Identity periods as a batch.
pub fn identities<'a>(
    rows: impl Iterator<Item = &'a IdentityPeriod>,
) -> Result<RecordBatch, ArrowError> {
    let mut mmsi = UInt32Builder::new();
    let mut imo = UInt32Builder::new();
    let mut name = StringBuilder::new();
    let mut callsign = StringBuilder::new();
    let mut flag = StringBuilder::new();
    let mut shiptype = UInt8Builder::new();
    let mut length = UInt16Builder::new();
    let mut beam = UInt16Builder::new();
    let mut first = ts_builder();
    let mut last = ts_builder();
    for p in rows {
        mmsi.append_value(p.mmsi);
        imo.append_option(p.imo);
        name.append_value(&p.name);
        callsign.append_value(&p.callsign);
        flag.append_option(p.flag.as_deref());
        shiptype.append_option(p.ship_type);
        length.append_option(p.length_m);
        beam.append_option(p.beam_m);
        first.append_value(p.first_seen);
        last.append_value(p.last_seen);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(mmsi.finish()),
        Arc::new(imo.finish()),
        Arc::new(name.finish()),
        Arc::new(callsign.finish()),
        Arc::new(flag.finish()),
        Arc::new(shiptype.finish()),
        Arc::new(length.finish()),
        Arc::new(beam.finish()),
        Arc::new(first.finish()),
        Arc::new(last.finish()),
    ];
    RecordBatch::try_new(identity_schema(), columns)
}

/// The schema of track points: the store's position columns (docs/formats.md), without the
/// WKB geometry.
pub fn point_schema() -> SchemaRef {
    let f = |name: &str, t: DataType, null: bool| Field::new(name, t, null);
    Arc::new(Schema::new(vec![
        f("mmsi", DataType::UInt32, false),
        f("time", seconds(), false),
        f("lon", DataType::Float64, false),
        f("lat", DataType::Float64, false),
        f("sog", DataType::Float32, true),
        f("cog", DataType::Float32, true),
        f("nav_status", DataType::UInt8, true),
        f("segment", DataType::Int64, false),
        f("station", DataType::UInt32, true),
        f("second", DataType::UInt8, true),
        f("input", DataType::UInt32, true),
        f("offset", DataType::Int64, true),
        f("length", DataType::UInt32, true),
    ]))
}

/// Track points as a batch.
pub fn points(rows: &[TrackPoint]) -> Result<RecordBatch, ArrowError> {
    let n = rows.len();
    let mut mmsi = UInt32Builder::with_capacity(n);
    let mut time = ts_builder();
    let mut lon = Float64Builder::with_capacity(n);
    let mut lat = Float64Builder::with_capacity(n);
    let mut sog = Float32Builder::with_capacity(n);
    let mut cog = Float32Builder::with_capacity(n);
    let mut status = UInt8Builder::with_capacity(n);
    let mut segment = Int64Builder::with_capacity(n);
    let mut station = UInt32Builder::with_capacity(n);
    let mut second = UInt8Builder::with_capacity(n);
    let mut input = UInt32Builder::with_capacity(n);
    let mut offset = Int64Builder::with_capacity(n);
    let mut length = UInt32Builder::with_capacity(n);
    for p in rows {
        let r = &p.position;
        mmsi.append_value(r.mmsi);
        time.append_value(r.t);
        lon.append_value(r.pos.lon);
        lat.append_value(r.pos.lat);
        sog.append_option(r.sog_knots);
        cog.append_option(r.cog_deg);
        status.append_option(r.nav_status);
        segment.append_value(p.segment as i64);
        station.append_option(r.station.map(|s| s.get()));
        second.append_option(r.second);
        let known = r.source.is_known();
        input.append_option(known.then_some(u32::from(r.source.input)));
        offset.append_option(known.then_some(r.source.offset as i64));
        length.append_option(known.then_some(r.source.length));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(mmsi.finish()),
        Arc::new(time.finish()),
        Arc::new(lon.finish()),
        Arc::new(lat.finish()),
        Arc::new(sog.finish()),
        Arc::new(cog.finish()),
        Arc::new(status.finish()),
        Arc::new(segment.finish()),
        Arc::new(station.finish()),
        Arc::new(second.finish()),
        Arc::new(input.finish()),
        Arc::new(offset.finish()),
        Arc::new(length.finish()),
    ];
    RecordBatch::try_new(point_schema(), columns)
}

/// Serialisable rows (JSON objects) as a batch, with the schema arrow-json infers from them
/// (nested objects become structs, arrays lists).
pub fn json_rows(rows: &[serde_json::Value]) -> Result<RecordBatch, ArrowError> {
    let schema = Arc::new(arrow::json::reader::infer_json_schema_from_iterator(
        rows.iter().map(|v| Ok(v.clone())),
    )?);
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.len().max(1))
        .build_decoder()?;
    decoder.serialize(rows)?;
    Ok(decoder
        .flush()?
        .unwrap_or_else(|| RecordBatch::new_empty(schema)))
}
