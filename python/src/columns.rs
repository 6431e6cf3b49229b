//! Decoded AIS as Arrow columns (gpsd's field names, scaled units, "not available" as null),
//! and back into the pipeline's inputs.
//!
//! One row per decoded message. Position fields are set for messages that report a valid
//! position, static fields for types 5, 19 and 24; a type 5 always has a `destination` (an
//! empty string is a blank destination), other types never. Receive times are
//! `timestamp[ms, UTC]`; the detectors work on whole seconds, as the native run does.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float32Builder, Float64Builder, RecordBatch,
    StringBuilder, TimestampMillisecondBuilder, UInt16Builder, UInt32Builder, UInt64Builder,
    UInt8Builder,
};
use arrow::datatypes::{
    DataType, Field, Float32Type, Float64Type, Schema, SchemaRef, TimeUnit,
    TimestampMillisecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow::error::ArrowError;
use shadowfleet_decode::{AisText, Body, Decoded};
use shadowfleet_events::Input;
use shadowfleet_geo::LatLon;
use shadowfleet_identities::StaticReport;
use shadowfleet_records::{Provenance, StationId};
use shadowfleet_tracks::Position;

/// The schema of decoded messages.
pub fn schema() -> SchemaRef {
    let ts = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let f = |name: &str, t: DataType| Field::new(name, t, true);
    Arc::new(Schema::new(vec![
        Field::new("type", DataType::UInt8, false),
        f("repeat", DataType::UInt8),
        Field::new("mmsi", DataType::UInt32, false),
        f("received", ts),
        f("station", DataType::Utf8),
        f("channel", DataType::Utf8),
        f("line", DataType::UInt64),
        f("offset", DataType::UInt64),
        f("bytes", DataType::UInt32),
        f("input", DataType::UInt16),
        f("flags", DataType::UInt16),
        f("lat", DataType::Float64),
        f("lon", DataType::Float64),
        f("speed", DataType::Float32),
        f("course", DataType::Float32),
        f("heading", DataType::UInt16),
        f("status", DataType::UInt8),
        f("turn", DataType::Float32),
        f("accuracy", DataType::Boolean),
        f("second", DataType::UInt8),
        f("imo", DataType::UInt32),
        f("shipname", DataType::Utf8),
        f("callsign", DataType::Utf8),
        f("shiptype", DataType::UInt8),
        f("to_bow", DataType::UInt16),
        f("to_stern", DataType::UInt16),
        f("to_port", DataType::UInt16),
        f("to_starboard", DataType::UInt16),
        f("draught", DataType::Float32),
        f("destination", DataType::Utf8),
        f("eta", DataType::Utf8),
    ]))
}

/// Column builders for decoded messages; [`DecodedColumns::push`] takes one message.
pub struct DecodedColumns {
    typ: UInt8Builder,
    repeat: UInt8Builder,
    mmsi: UInt32Builder,
    received: TimestampMillisecondBuilder,
    station: StringBuilder,
    channel: StringBuilder,
    line: UInt64Builder,
    offset: UInt64Builder,
    bytes: UInt32Builder,
    input: UInt16Builder,
    flags: UInt16Builder,
    lat: Float64Builder,
    lon: Float64Builder,
    speed: Float32Builder,
    course: Float32Builder,
    heading: UInt16Builder,
    status: UInt8Builder,
    turn: Float32Builder,
    accuracy: BooleanBuilder,
    second: UInt8Builder,
    imo: UInt32Builder,
    shipname: StringBuilder,
    callsign: StringBuilder,
    shiptype: UInt8Builder,
    to_bow: UInt16Builder,
    to_stern: UInt16Builder,
    to_port: UInt16Builder,
    to_starboard: UInt16Builder,
    draught: Float32Builder,
    destination: StringBuilder,
    eta: StringBuilder,
    rows: usize,
    /// Added to each message's byte offset (the start of a split within its file).
    pub base_offset: u64,
}

impl Default for DecodedColumns {
    fn default() -> Self {
        DecodedColumns {
            typ: UInt8Builder::new(),
            repeat: UInt8Builder::new(),
            mmsi: UInt32Builder::new(),
            received: TimestampMillisecondBuilder::new().with_timezone("UTC"),
            station: StringBuilder::new(),
            channel: StringBuilder::new(),
            line: UInt64Builder::new(),
            offset: UInt64Builder::new(),
            bytes: UInt32Builder::new(),
            input: UInt16Builder::new(),
            flags: UInt16Builder::new(),
            lat: Float64Builder::new(),
            lon: Float64Builder::new(),
            speed: Float32Builder::new(),
            course: Float32Builder::new(),
            heading: UInt16Builder::new(),
            status: UInt8Builder::new(),
            turn: Float32Builder::new(),
            accuracy: BooleanBuilder::new(),
            second: UInt8Builder::new(),
            imo: UInt32Builder::new(),
            shipname: StringBuilder::new(),
            callsign: StringBuilder::new(),
            shiptype: UInt8Builder::new(),
            to_bow: UInt16Builder::new(),
            to_stern: UInt16Builder::new(),
            to_port: UInt16Builder::new(),
            to_starboard: UInt16Builder::new(),
            draught: Float32Builder::new(),
            destination: StringBuilder::new(),
            eta: StringBuilder::new(),
            rows: 0,
            base_offset: 0,
        }
    }
}

/// The raw dimensions a message carries (to bow, stern, port, starboard), metres.
fn dimensions(d: &Decoded) -> Option<(u16, u16, u16, u16)> {
    use shadowfleet_decode::messages::StaticDataReport;
    match &d.message.body {
        Body::StaticAndVoyageData(m) => Some((
            m.to_bow,
            m.to_stern,
            u16::from(m.to_port),
            u16::from(m.to_starboard),
        )),
        Body::StaticDataReport(StaticDataReport::PartB(b)) => Some((
            b.dim.to_bow,
            b.dim.to_stern,
            u16::from(b.dim.to_port),
            u16::from(b.dim.to_starboard),
        )),
        Body::ExtendedClassBPositionReport(m) => Some((
            m.to_bow,
            m.to_stern,
            u16::from(m.to_port),
            u16::from(m.to_starboard),
        )),
        _ => None,
    }
}

impl DecodedColumns {
    /// Rows so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Appends one message.
    pub fn push(&mut self, d: &Decoded) {
        let m = &d.message;
        self.rows += 1;
        self.typ.append_value(m.header.msg_type);
        self.repeat.append_value(m.header.repeat);
        self.mmsi.append_value(m.header.mmsi);
        self.received
            .append_option(d.meta.received.map(|t| t.unix_millis()));
        let station = d.meta.station.as_str();
        self.station
            .append_option((!station.is_empty()).then_some(station));
        match d.meta.channel {
            Some(c) if c.is_ascii_graphic() => {
                let c = [c];
                self.channel.append_option(std::str::from_utf8(&c).ok());
            }
            _ => self.channel.append_null(),
        }
        self.line.append_value(d.meta.line);
        self.offset.append_value(d.meta.offset + self.base_offset);
        self.bytes.append_value(d.meta.length);
        self.input.append_value(d.meta.input);
        self.flags.append_value(d.meta.flags.0);
        match m.position() {
            Some(p) => {
                self.lat.append_value(p.lat);
                self.lon.append_value(p.lon);
                self.speed.append_option(p.sog_knots);
                self.course.append_option(p.cog_deg);
                self.heading.append_option(p.heading_deg);
                self.status.append_option(p.nav_status);
                self.turn.append_option(p.rot_deg_min);
                self.accuracy.append_value(p.high_accuracy);
                self.second.append_option(p.second);
            }
            None => {
                self.lat.append_null();
                self.lon.append_null();
                self.speed.append_null();
                self.course.append_null();
                self.heading.append_null();
                self.status.append_null();
                self.turn.append_null();
                self.accuracy.append_null();
                self.second.append_null();
            }
        }
        match m.static_data() {
            Some(s) => {
                self.imo.append_option(s.imo);
                self.shipname.append_option(s.name.map(str::trim));
                self.callsign.append_option(s.callsign.map(str::trim));
                self.shiptype.append_option(s.ship_type);
                self.draught.append_option(s.draught_m);
                if m.header.msg_type == 5 {
                    self.destination
                        .append_value(s.destination.map_or("", str::trim));
                } else {
                    self.destination.append_null();
                }
                match s.eta {
                    Some((mo, day, h, mi)) => self
                        .eta
                        .append_value(format!("{mo:02}-{day:02}T{h:02}:{mi:02}Z")),
                    None => self.eta.append_null(),
                }
            }
            None => {
                self.imo.append_null();
                self.shipname.append_null();
                self.callsign.append_null();
                self.shiptype.append_null();
                self.draught.append_null();
                self.destination.append_null();
                self.eta.append_null();
            }
        }
        match dimensions(d) {
            Some((b, s, p, sb)) => {
                self.to_bow.append_value(b);
                self.to_stern.append_value(s);
                self.to_port.append_value(p);
                self.to_starboard.append_value(sb);
            }
            None => {
                self.to_bow.append_null();
                self.to_stern.append_null();
                self.to_port.append_null();
                self.to_starboard.append_null();
            }
        }
    }

    /// The rows so far as a batch; the builders start empty again.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        self.rows = 0;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.typ.finish()),
            Arc::new(self.repeat.finish()),
            Arc::new(self.mmsi.finish()),
            Arc::new(self.received.finish()),
            Arc::new(self.station.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.line.finish()),
            Arc::new(self.offset.finish()),
            Arc::new(self.bytes.finish()),
            Arc::new(self.input.finish()),
            Arc::new(self.flags.finish()),
            Arc::new(self.lat.finish()),
            Arc::new(self.lon.finish()),
            Arc::new(self.speed.finish()),
            Arc::new(self.course.finish()),
            Arc::new(self.heading.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.turn.finish()),
            Arc::new(self.accuracy.finish()),
            Arc::new(self.second.finish()),
            Arc::new(self.imo.finish()),
            Arc::new(self.shipname.finish()),
            Arc::new(self.callsign.finish()),
            Arc::new(self.shiptype.finish()),
            Arc::new(self.to_bow.finish()),
            Arc::new(self.to_stern.finish()),
            Arc::new(self.to_port.finish()),
            Arc::new(self.to_starboard.finish()),
            Arc::new(self.draught.finish()),
            Arc::new(self.destination.finish()),
            Arc::new(self.eta.finish()),
        ];
        RecordBatch::try_new(schema(), columns)
    }
}

/// A batch of decoded messages (the schema of [`schema`]; columns other than `type`, `mmsi`
/// and `received` may be missing), read back into the pipeline's inputs.
pub struct InputColumns<'a> {
    batch: &'a RecordBatch,
}

/// A column that must be there.
fn required<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, String> {
    batch
        .column_by_name(name)
        .ok_or_else(|| format!("column {name:?} is missing (the schema of shadowfleet.decode)"))
}

/// Typed access to an optional column: `None` when it is missing, an error when it has
/// another type.
macro_rules! column {
    ($batch:expr, $name:literal, $t:ty) => {
        match $batch.column_by_name($name) {
            None => None,
            Some(c) => Some(c.as_primitive_opt::<$t>().ok_or_else(|| {
                format!(
                    "column {:?} is {}, not {}",
                    $name,
                    c.data_type(),
                    stringify!($t)
                )
            })?),
        }
    };
}

fn string_column<'a>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<Option<&'a arrow::array::StringArray>, String> {
    match batch.column_by_name(name) {
        None => Ok(None),
        Some(c) => c
            .as_string_opt::<i32>()
            .map(Some)
            .ok_or_else(|| format!("column {name:?} is {}, not utf8", c.data_type())),
    }
}

fn get<T: arrow::datatypes::ArrowPrimitiveType>(
    c: Option<&arrow::array::PrimitiveArray<T>>,
    i: usize,
) -> Option<T::Native> {
    c.filter(|c| c.is_valid(i)).map(|c| c.value(i))
}

fn get_str(c: Option<&arrow::array::StringArray>, i: usize) -> Option<&str> {
    c.filter(|c| c.is_valid(i)).map(|c| c.value(i))
}

impl<'a> InputColumns<'a> {
    /// Reads `batch`.
    pub fn new(batch: &'a RecordBatch) -> InputColumns<'a> {
        InputColumns { batch }
    }

    /// Hands the inputs of every row to `out` in row order (static before position, as
    /// [`Input::of`] does for a decoded message); returns the rows read.
    pub fn each(&self, out: &mut dyn FnMut(Input)) -> Result<usize, String> {
        let b = self.batch;
        let typ = required(b, "type")?
            .as_primitive_opt::<UInt8Type>()
            .ok_or("column \"type\" is not uint8")?;
        let mmsi = required(b, "mmsi")?
            .as_primitive_opt::<UInt32Type>()
            .ok_or("column \"mmsi\" is not uint32")?;
        let received = required(b, "received")?
            .as_primitive_opt::<TimestampMillisecondType>()
            .ok_or("column \"received\" is not timestamp[ms]")?;
        let lat = column!(b, "lat", Float64Type);
        let lon = column!(b, "lon", Float64Type);
        let speed = column!(b, "speed", Float32Type);
        let course = column!(b, "course", Float32Type);
        let status = column!(b, "status", UInt8Type);
        let second = column!(b, "second", UInt8Type);
        let offset = column!(b, "offset", UInt64Type);
        let bytes = column!(b, "bytes", UInt32Type);
        let input = column!(b, "input", UInt16Type);
        let imo = column!(b, "imo", UInt32Type);
        let shiptype = column!(b, "shiptype", UInt8Type);
        let to_bow = column!(b, "to_bow", UInt16Type);
        let to_stern = column!(b, "to_stern", UInt16Type);
        let to_port = column!(b, "to_port", UInt16Type);
        let to_starboard = column!(b, "to_starboard", UInt16Type);
        let draught = column!(b, "draught", Float32Type);
        let station = string_column(b, "station")?;
        let shipname = string_column(b, "shipname")?;
        let callsign = string_column(b, "callsign")?;
        let destination = string_column(b, "destination")?;
        for i in 0..b.num_rows() {
            let t = typ.value(i);
            let has_static = matches!(t, 5 | 19 | 24);
            let pos = get(lat, i).zip(get(lon, i));
            if !received.is_valid(i) {
                if has_static {
                    out(Input::Untimed { position: false });
                }
                if pos.is_some() {
                    out(Input::Untimed { position: true });
                }
                continue;
            }
            let t_s = received.value(i).div_euclid(1000);
            let m = mmsi.value(i);
            if has_static {
                let sum = |a: Option<u16>, b: Option<u16>| match (a, b) {
                    (Some(a), Some(b)) if a + b > 0 => Some(a + b),
                    _ => None,
                };
                out(Input::Static(StaticReport {
                    mmsi: m,
                    t: t_s,
                    imo: get(imo, i).filter(|&x| x != 0),
                    name: AisText::from_printable_lossy(get_str(shipname, i).unwrap_or("")),
                    callsign: AisText::from_printable_lossy(get_str(callsign, i).unwrap_or("")),
                    ship_type: get(shiptype, i).filter(|&x| x != 0),
                    length_m: sum(get(to_bow, i), get(to_stern, i)),
                    beam_m: sum(get(to_port, i), get(to_starboard, i)),
                    draught_m: get(draught, i).filter(|&d| d > 0.0),
                    destination: (t == 5).then(|| {
                        AisText::from_printable_lossy(get_str(destination, i).unwrap_or(""))
                    }),
                }));
            }
            let Some((la, lo)) = pos else {
                continue;
            };
            if matches!(t, 4 | 9 | 21) {
                out(Input::NotVessel);
                continue;
            }
            let st = get_str(station, i).unwrap_or("");
            out(Input::Position(Position {
                mmsi: m,
                t: t_s,
                pos: LatLon { lat: la, lon: lo },
                sog_knots: get(speed, i),
                cog_deg: get(course, i),
                nav_status: get(status, i),
                second: get(second, i),
                station: StationId::of_bytes(st.as_bytes()),
                source: Provenance {
                    offset: get(offset, i).unwrap_or(0),
                    length: get(bytes, i).unwrap_or(0),
                    input: get(input, i).unwrap_or(0),
                },
            }));
        }
        Ok(b.num_rows())
    }
}
