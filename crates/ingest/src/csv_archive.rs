//! Decoded AIS archives in CSV: the Danish Maritime Authority's daily files
//! (the 22-column layout used until 2020 and the 26-column one since, which adds
//! the antenna offsets `A,B,C,D`), NOAA MarineCadastre (17 columns), and any other
//! position CSV whose columns [`crate::csv_columns`] recognises (or the user names).
//!
//! Each row becomes one or two [`Decoded`] messages — a position (type 1 for
//! Class A, 18 for Class B, 4 for base stations, 21 for AtoN, 9 for SAR
//! aircraft) when the row has a valid position, and static data (type 5, or
//! type 24 parts A and B for Class B) when it carries any — flagged
//! `FROM_CSV`, with the row's timestamp as receive time. A bad row is
//! reported with its line and field and never stops the file.

use std::io::BufRead;

use shadowfleet_decode::messages::{
    AidToNavigationFields, BaseStationReport, ClassBPositionReport, Dimensions, PositionReport,
    SarAircraftPositionReport, StaticAndVoyageData, StaticDataPartA, StaticDataPartB,
    StaticDataPartBCommon, StaticDataReport,
};
use shadowfleet_decode::{AisMessage, AisText, Body, Decoded, Flags, Header, Meta, Sink};
use shadowfleet_model::Timestamp;

use crate::csv_columns::{
    looks_like_positions_csv, parse_time, ship_type, ColumnMap, MissingColumns, Role,
};
use crate::report::{IngestError, SourceReport};

/// A CSV layout we can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvLayout {
    /// DMA, 22 columns (`# Timestamp,Type of mobile,MMSI,...,Data source type`).
    Dma22,
    /// DMA, 26 columns (the above plus `A,B,C,D`).
    Dma26,
    /// NOAA MarineCadastre, 17 columns (`MMSI,BaseDateTime,LAT,LON,...`).
    Noaa,
    /// Any other position CSV: its columns by role.
    Columns(Box<ColumnMap>),
}

impl CsvLayout {
    fn columns(&self) -> usize {
        match self {
            CsvLayout::Dma22 => 22,
            CsvLayout::Dma26 => 26,
            CsvLayout::Noaa => 17,
            CsvLayout::Columns(m) => m.header.len(),
        }
    }
}

/// Recognises a CSV of positions from the start of a file: a DMA or NOAA archive, any CSV
/// whose header names an MMSI and a position column, or — when the user named columns in
/// `columns` — any CSV. `Ok(None)` when it is not a CSV (NMEA); an error when it is one
/// without the columns a position needs.
pub fn detect_csv(
    head: &[u8],
    columns: &[(Role, String)],
) -> Result<Option<CsvLayout>, MissingColumns> {
    if columns.is_empty() {
        if let Some(l) = detect_csv_layout(head) {
            return Ok(Some(l));
        }
    }
    let first = head.split(|&c| c == b'\n').next().unwrap_or_default();
    let Ok(first) = std::str::from_utf8(first) else {
        return Ok(None);
    };
    let first = first.trim_start_matches('\u{feff}');
    if first.starts_with(['!', '$', '\\', '#']) || first.trim().is_empty() {
        return Ok(None);
    }
    if columns.is_empty() && !looks_like_positions_csv(first) {
        // A header of delimited names that are not the ones we know: a CSV without the
        // columns a position needs (the error says which), not NMEA.
        let d = crate::csv_columns::delimiter_of(first);
        let fields = first.bytes().filter(|&c| c == d).count();
        let texty = first
            .bytes()
            .all(|c| c.is_ascii_graphic() || c == b' ' || c == b'\t' || c == b'\r');
        if fields < 2 || !texty {
            return Ok(None);
        }
    }
    ColumnMap::from_header(first, columns).map(|m| Some(CsvLayout::Columns(Box::new(m))))
}

/// Recognises a DMA or NOAA CSV archive from the start of a file.
pub fn detect_csv_layout(head: &[u8]) -> Option<CsvLayout> {
    let first = head.split(|&c| c == b'\n').next()?;
    let first = std::str::from_utf8(first)
        .ok()?
        .trim_start_matches('\u{feff}')
        .trim();
    let lower = first.to_ascii_lowercase();
    let cols = first.split(',').count();
    if lower.starts_with("# timestamp,type of mobile,mmsi")
        || lower.starts_with("timestamp,type of mobile,mmsi")
    {
        match cols {
            22 => Some(CsvLayout::Dma22),
            26 => Some(CsvLayout::Dma26),
            _ => None,
        }
    } else if lower.starts_with("mmsi,basedatetime,lat,lon") && cols == 17 {
        Some(CsvLayout::Noaa)
    } else {
        None
    }
}

/// A rejected CSV row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {}: {reason} (got {value:?})", if self.column.is_empty() { *field } else { self.column.as_str() })]
pub struct CsvRowError {
    /// Line number in the file, from 1 (the header is line 1).
    pub line: u64,
    /// The column name of the fixed layouts.
    pub field: &'static str,
    /// The column name as the file's header gives it (recognised layouts).
    pub column: String,
    /// The value found (cut to 40 characters).
    pub value: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Reads one CSV archive layout.
pub struct CsvReader {
    layout: CsvLayout,
    /// Sort the rows by time before handing them on (the file is not in time order).
    sort: bool,
    sort_bytes: usize,
}

const DMA_FIELDS: [&str; 26] = [
    "Timestamp",
    "Type of mobile",
    "MMSI",
    "Latitude",
    "Longitude",
    "Navigational status",
    "ROT",
    "SOG",
    "COG",
    "Heading",
    "IMO",
    "Callsign",
    "Name",
    "Ship type",
    "Cargo type",
    "Width",
    "Length",
    "Type of position fixing device",
    "Draught",
    "Destination",
    "ETA",
    "Data source type",
    "A",
    "B",
    "C",
    "D",
];
const NOAA_FIELDS: [&str; 17] = [
    "MMSI",
    "BaseDateTime",
    "LAT",
    "LON",
    "SOG",
    "COG",
    "Heading",
    "VesselName",
    "IMO",
    "CallSign",
    "VesselType",
    "Status",
    "Length",
    "Width",
    "Draft",
    "Cargo",
    "TransceiverClass",
];

/// Everything a row can tell, before it becomes messages.
#[derive(Default)]
struct Row<'a> {
    time: Option<Timestamp>,
    class: &'a str,
    mmsi: u32,
    lat: Option<f64>,
    lon: Option<f64>,
    status: Option<u8>,
    rot: Option<f64>,
    sog: Option<f64>,
    cog: Option<f64>,
    heading: Option<u16>,
    imo: Option<u32>,
    callsign: &'a str,
    name: &'a str,
    ship_type: Option<u8>,
    width: Option<f64>,
    length: Option<f64>,
    epfd: Option<u8>,
    draught: Option<f64>,
    destination: &'a str,
    eta: Option<(u8, u8, u8, u8)>,
    abcd: Option<[u16; 4]>,
}

impl CsvReader {
    /// A reader for `layout`.
    pub fn new(layout: CsvLayout) -> Self {
        CsvReader {
            layout,
            sort: false,
            sort_bytes: crate::sort::DEFAULT_SORT_BYTES,
        }
    }

    /// The same reader handing rows on in time order (rows held in memory up to `bytes`,
    /// sorted runs spilled to disk beyond).
    pub fn sorted(mut self, bytes: usize) -> Self {
        self.sort = true;
        self.sort_bytes = bytes;
        self
    }

    fn reader<R: std::io::Read>(&self, input: R) -> csv::Reader<R> {
        let delimiter = match &self.layout {
            CsvLayout::Columns(m) => m.delimiter,
            _ => b',',
        };
        csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(input)
    }

    /// The time of a row, unix ms, when it reads.
    fn time_of(&self, rec: &csv::StringRecord) -> Option<i64> {
        let t = match &self.layout {
            CsvLayout::Dma22 | CsvLayout::Dma26 => parse_dma_time(rec.get(0)?.trim()),
            CsvLayout::Noaa => Timestamp::parse_rfc3339(rec.get(1)?.trim()).ok(),
            CsvLayout::Columns(m) => parse_time(rec.get(m.column(Role::Time)?)?),
        };
        t.map(|t| t.unix_millis())
    }

    /// Whether the rows of `input` are in time order (rows whose time does not read are
    /// passed over): a first pass over a file, to decide whether to sort it.
    pub fn is_time_ordered(&self, input: impl BufRead) -> bool {
        let mut reader = self.reader(input);
        let mut record = csv::StringRecord::new();
        let mut last = i64::MIN;
        while let Ok(true) = reader.read_record(&mut record) {
            if let Some(t) = self.time_of(&record) {
                if t < last {
                    return false;
                }
                last = t;
            }
        }
        true
    }

    /// Reads every row of `input` into `sink`; `name` names the input in errors.
    pub fn read_all(
        &self,
        input: impl BufRead,
        name: &str,
        sink: &mut dyn Sink,
    ) -> Result<SourceReport, IngestError> {
        let mut reader = self.reader(input);
        let mut record = csv::StringRecord::new();
        let mut report = SourceReport::default();
        let mut sorter = self
            .sort
            .then(|| crate::sort::TimeSorter::new(self.sort_bytes));
        let io_err = |e: std::io::Error| IngestError::Io {
            source_name: name.into(),
            error: e,
        };
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    if let csv::ErrorKind::Io(_) = e.kind() {
                        return Err(IngestError::Format {
                            source_name: name.into(),
                            reason: e.to_string(),
                        });
                    }
                    self.note_error(&mut report, name, format!("line {line}: {e}"));
                    continue;
                }
            }
            let line = record.position().map_or(0, |p| p.line());
            report.stats.lines += 1;
            match &mut sorter {
                Some(s) => s
                    .push(self.time_of(&record).unwrap_or(i64::MIN), line, &record)
                    .map_err(io_err)?,
                None => self.take_row(&record, line, name, &mut report, sink),
            }
        }
        if let Some(s) = sorter {
            s.finish(&mut |line, rec| self.take_row(rec, line, name, &mut report, sink))
                .map_err(io_err)?;
        }
        Ok(report)
    }

    fn take_row(
        &self,
        record: &csv::StringRecord,
        line: u64,
        name: &str,
        report: &mut SourceReport,
        sink: &mut dyn Sink,
    ) {
        match self.parse_row(record, line) {
            Ok(row) => {
                let n = emit_row(&row, line, sink);
                report.stats.messages += n;
            }
            Err(e) => self.note_error(report, name, e.to_string()),
        }
    }

    fn note_error(&self, report: &mut SourceReport, name: &str, message: String) {
        report.csv_rejected += 1;
        if report.csv_errors.len() < 100 {
            report.csv_errors.push(format!("{name}: {message}"));
        }
    }

    fn parse_row<'r>(&self, rec: &'r csv::StringRecord, line: u64) -> Result<Row<'r>, CsvRowError> {
        if let CsvLayout::Columns(m) = &self.layout {
            return parse_columns(m, rec, line);
        }
        let fields: &[&'static str] = match self.layout {
            CsvLayout::Noaa => &NOAA_FIELDS,
            _ => &DMA_FIELDS,
        };
        if rec.len() != self.layout.columns() {
            return Err(CsvRowError {
                line,
                column: String::new(),
                field: "(row)",
                value: format!("{} columns", rec.len()),
                reason: "wrong number of columns",
            });
        }
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let err = |i: usize, reason| CsvRowError {
            line,
            column: String::new(),
            field: fields[i],
            value: get(i).chars().take(40).collect(),
            reason,
        };
        let num = |i: usize| -> Result<Option<f64>, CsvRowError> {
            let v = get(i);
            if v.is_empty() || v.eq_ignore_ascii_case("unknown") || v.eq_ignore_ascii_case("nan") {
                return Ok(None);
            }
            v.parse::<f64>()
                .map(Some)
                .map_err(|_| err(i, "not a number"))
        };
        let mut row = Row::default();
        match &self.layout {
            CsvLayout::Dma22 | CsvLayout::Dma26 => {
                row.time = Some(
                    parse_dma_time(get(0)).ok_or_else(|| err(0, "expected dd/mm/yyyy HH:MM:SS"))?,
                );
                row.class = get(1);
                row.mmsi = get(2)
                    .parse()
                    .map_err(|_| err(2, "MMSI must be an integer"))?;
                row.lat = num(3)?.filter(|v| v.abs() <= 90.0);
                row.lon = num(4)?.filter(|v| v.abs() <= 180.0);
                row.status = nav_status_code(get(5));
                row.rot = num(6)?;
                row.sog = num(7)?;
                row.cog = num(8)?;
                row.heading = num(9)?
                    .filter(|h| (0.0..360.0).contains(h))
                    .map(|h| h as u16);
                row.imo = num(10)?.filter(|v| *v > 0.0).map(|v| v as u32);
                row.callsign = get(11);
                row.name = get(12);
                row.ship_type = dma_ship_type_code(get(13));
                row.width = num(15)?;
                row.length = num(16)?;
                row.epfd = epfd_code(get(17));
                row.draught = num(18)?;
                row.destination = get(19);
                row.eta = parse_dma_time(get(20)).map(|t| {
                    let (_, mo, d, h, mi, _, _) = t.to_utc();
                    (mo as u8, d as u8, h as u8, mi as u8)
                });
                if self.layout == CsvLayout::Dma26 {
                    let (a, b, c, d) = (num(22)?, num(23)?, num(24)?, num(25)?);
                    if let (Some(a), Some(b), Some(c), Some(d)) = (a, b, c, d) {
                        row.abcd = Some([a as u16, b as u16, c as u16, d as u16]);
                    }
                }
            }
            CsvLayout::Columns(_) => {}
            CsvLayout::Noaa => {
                row.mmsi = get(0)
                    .parse()
                    .map_err(|_| err(0, "MMSI must be an integer"))?;
                row.time = Some(
                    Timestamp::parse_rfc3339(get(1))
                        .map_err(|_| err(1, "expected YYYY-MM-DDTHH:MM:SS"))?,
                );
                row.lat = num(2)?.filter(|v| v.abs() <= 90.0);
                row.lon = num(3)?.filter(|v| v.abs() <= 180.0);
                row.sog = num(4)?;
                row.cog = num(5)?;
                row.heading = num(6)?
                    .filter(|h| (0.0..360.0).contains(h))
                    .map(|h| h as u16);
                row.name = get(7);
                row.imo = get(8)
                    .trim_start_matches("IMO")
                    .parse()
                    .ok()
                    .filter(|v| *v > 0);
                row.callsign = get(9);
                row.ship_type = num(10)?
                    .filter(|v| (1.0..=99.0).contains(v))
                    .map(|v| v as u8);
                row.status = num(11)?
                    .filter(|v| (0.0..=15.0).contains(v))
                    .map(|v| v as u8);
                row.length = num(12)?;
                row.width = num(13)?;
                row.draught = num(14)?;
                row.class = match get(16) {
                    "B" => "Class B",
                    _ => "Class A",
                };
            }
        }
        Ok(row)
    }
}

/// A row of a CSV read by its column roles.
fn parse_columns<'r>(
    m: &ColumnMap,
    rec: &'r csv::StringRecord,
    line: u64,
) -> Result<Row<'r>, CsvRowError> {
    let get = |r: Role| m.column(r).and_then(|i| rec.get(i)).unwrap_or("").trim();
    let err = |r: Role, reason| {
        CsvRowError {
            line,
            column: String::new(),
            field: "",
            value: get(r).chars().take(40).collect(),
            reason,
        }
        .in_column(m.name(r))
    };
    // A semicolon-separated file may write decimal commas ("55,71"): no field holds a comma
    // otherwise, so it is read as a point.
    let decimal_comma = m.delimiter == b';';
    let num = |r: Role| -> Result<Option<f64>, CsvRowError> {
        let v = get(r);
        // Empty, and the words exports write for "no value".
        if v.is_empty()
            || ["nan", "null", "none", "unknown", "n/a", "na", "-"]
                .iter()
                .any(|w| v.eq_ignore_ascii_case(w))
        {
            return Ok(None);
        }
        let owned;
        let v = if decimal_comma && v.contains(',') {
            owned = v.replace(',', ".");
            owned.as_str()
        } else {
            v
        };
        v.parse::<f64>()
            .map(Some)
            .map_err(|_| err(r, "not a number"))
    };
    let mut row = Row {
        class: "Class A",
        ..Row::default()
    };
    row.mmsi = match num(Role::Mmsi)? {
        Some(v) if v.fract() == 0.0 && (1.0..=999_999_999.0).contains(&v) => v as u32,
        _ => {
            return Err(err(
                Role::Mmsi,
                "an MMSI is an integer of up to nine digits",
            ))
        }
    };
    row.time = Some(parse_time(get(Role::Time)).ok_or_else(|| {
        err(
            Role::Time,
            "expected a time: ISO 8601, YYYY-MM-DD HH:MM:SS, dd/mm/yyyy HH:MM:SS, YYYYMMDD_HHMMSS, or epoch seconds or milliseconds (in scientific notation only with digits to the second)",
        )
    })?);
    // 91 and 181 are AIS's "not available" (ITU-R M.1371): no position, not an error.
    row.lat = match num(Role::Lat)? {
        Some(v) if v.abs() <= 90.0 => Some(v),
        Some(91.0) => None,
        Some(_) => return Err(err(Role::Lat, "a latitude lies within ±90")),
        None => None,
    };
    row.lon = match num(Role::Lon)? {
        Some(v) if v.abs() <= 180.0 => Some(v),
        Some(181.0) => None,
        Some(_) => return Err(err(Role::Lon, "a longitude lies within ±180")),
        None => None,
    };
    row.sog = match (num(Role::Sog)?, num(Role::SogTenths)?) {
        (Some(v), _) => Some(v),
        (None, Some(t)) => Some(t / 10.0),
        _ => None,
    };
    row.cog = num(Role::Cog)?;
    row.heading = num(Role::Heading)?
        .filter(|h| (0.0..360.0).contains(h))
        .map(|h| h as u16);
    row.imo = get(Role::Imo)
        .trim_start_matches("IMO")
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|v| (1..=9_999_999).contains(v))
        .map(|v| v as u32);
    row.name = get(Role::Name);
    row.callsign = get(Role::Callsign);
    row.ship_type = ship_type(get(Role::ShipType));
    row.draught = num(Role::Draught).ok().flatten();
    row.status = match get(Role::NavStatus) {
        "" => None,
        s => s
            .parse::<u8>()
            .ok()
            .filter(|v| *v <= 15)
            .or_else(|| nav_status_code(s)),
    };
    row.length = num(Role::Length).ok().flatten();
    row.width = num(Role::Width).ok().flatten();
    row.destination = get(Role::Destination);
    let class = get(Role::Class).to_ascii_lowercase();
    if class == "b" || class.ends_with(" b") || class.starts_with("class b") {
        row.class = "Class B";
    }
    Ok(row)
}

impl CsvRowError {
    fn in_column(mut self, name: &str) -> CsvRowError {
        self.column = name.chars().take(40).collect();
        self
    }
}

fn parse_dma_time(s: &str) -> Option<Timestamp> {
    // dd/mm/yyyy HH:MM:SS
    let b = s.as_bytes();
    if b.len() != 19 || b[2] != b'/' || b[5] != b'/' || b[10] != b' ' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    Timestamp::from_utc(
        n(6..10)? as i64,
        n(3..5)?,
        n(0..2)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
        0,
    )
}

/// Navigational status from its text (DMA writes the ITU-R M.1371 wording).
fn nav_status_code(s: &str) -> Option<u8> {
    let l = s.to_ascii_lowercase();
    let code = match l.as_str() {
        "under way using engine" => 0,
        "at anchor" => 1,
        "not under command" => 2,
        "restricted maneuverability"
        | "restricted manoeuverability"
        | "restricted manoeuvrability" => 3,
        "constrained by her draught" => 4,
        "moored" => 5,
        "aground" => 6,
        "engaged in fishing" => 7,
        "under way sailing" => 8,
        "reserved for future amendment [hsc]" => 9,
        "reserved for future amendment [wig]" => 10,
        "power-driven vessel towing astern" => 11,
        "power-driven vessel pushing ahead or towing alongside" => 12,
        "reserved for future use" => 13,
        "ais-sart" => 14,
        _ => return None,
    };
    Some(code)
}

/// DMA ship type words to a representative ITU-R M.1371 Table 53 code.
fn dma_ship_type_code(s: &str) -> Option<u8> {
    let code = match s.to_ascii_lowercase().as_str() {
        "wig" => 20,
        "fishing" => 30,
        "towing" => 31,
        "towing long/wide" => 32,
        "dredging" => 33,
        "diving" => 34,
        "military" => 35,
        "sailing" => 36,
        "pleasure" => 37,
        "hsc" => 40,
        "passenger" => 60,
        "cargo" => 70,
        "tanker" => 80,
        "pilot" => 50,
        "sar" => 51,
        "tug" => 52,
        "port tender" => 53,
        "anti-pollution" => 54,
        "law enforcement" => 55,
        "medical" => 58,
        "not party to conflict" => 59,
        "other" => 90,
        _ => return None,
    };
    Some(code)
}

fn epfd_code(s: &str) -> Option<u8> {
    let code = match s.to_ascii_lowercase().as_str() {
        "gps" => 1,
        "glonass" => 2,
        "combined gps/glonass" => 3,
        "loran-c" => 4,
        "chayka" => 5,
        "integrated navigation system" => 6,
        "surveyed" => 7,
        "galileo" => 8,
        _ => return None,
    };
    Some(code)
}

/// ROT in degrees per minute back to ROT_AIS (ITU-R M.1371-5 Table 48).
fn rot_ais(rot: f64) -> i8 {
    let v = (4.733 * rot.abs().sqrt()).round().min(126.0) as i8;
    if rot < 0.0 {
        -v
    } else {
        v
    }
}

fn emit_row(row: &Row<'_>, line: u64, sink: &mut dyn Sink) -> u64 {
    let mut meta = Meta {
        received: row.time,
        flags: Flags::FROM_CSV,
        line,
        fragments: 1,
        ..Default::default()
    };
    let mut n = 0;
    let mut send = |msg_type: u8, body: Body, bits: u16, meta: &mut Meta| {
        meta.bits = bits;
        let message = AisMessage {
            header: Header {
                msg_type,
                repeat: 0,
                mmsi: row.mmsi,
            },
            body,
        };
        sink.message(&Decoded {
            message,
            meta: *meta,
        });
        n += 1;
    };
    let lat = row.lat.map(|v| (v * 600_000.0).round() as i32);
    let lon = row.lon.map(|v| (v * 600_000.0).round() as i32);
    let speed = row
        .sog
        .map_or(1023, |v| ((v * 10.0).round() as u16).min(1022));
    let course = row
        .cog
        .filter(|c| (0.0..360.0).contains(c))
        .map_or(3600, |v| (v * 10.0).round() as u16);
    let heading = row.heading.unwrap_or(511);
    let class_b = row.class.eq_ignore_ascii_case("Class B");
    if let (Some(lat), Some(lon)) = (lat, lon) {
        let class = row.class.to_ascii_lowercase();
        match class.as_str() {
            "base station" => send(
                4,
                Body::BaseStationReport(BaseStationReport {
                    lat,
                    lon,
                    epfd: row.epfd.unwrap_or(0),
                    ..Default::default()
                }),
                168,
                &mut meta,
            ),
            "aton" => send(
                21,
                Body::AidToNavigation(shadowfleet_decode::messages::AidToNavigation {
                    fields: AidToNavigationFields {
                        lat,
                        lon,
                        epfd: row.epfd.unwrap_or(0),
                        second: 60,
                        ..Default::default()
                    },
                    name: AisText::from_str_lossy(row.name),
                }),
                272,
                &mut meta,
            ),
            "sar airborne" => send(
                9,
                Body::SarAircraftPositionReport(SarAircraftPositionReport {
                    alt: 4095,
                    speed: row.sog.map_or(1023, |v| (v.round() as u16).min(1022)),
                    lat,
                    lon,
                    course,
                    second: 60,
                    ..Default::default()
                }),
                168,
                &mut meta,
            ),
            _ if class_b => send(
                18,
                Body::ClassBPositionReport(ClassBPositionReport {
                    speed,
                    lat,
                    lon,
                    course,
                    heading,
                    second: 60,
                    ..Default::default()
                }),
                168,
                &mut meta,
            ),
            _ => send(
                1,
                Body::PositionReport(PositionReport {
                    status: row.status.unwrap_or(15),
                    turn: row.rot.map_or(-128, rot_ais),
                    speed,
                    lat,
                    lon,
                    course,
                    heading,
                    second: 60,
                    ..Default::default()
                }),
                168,
                &mut meta,
            ),
        }
    }
    let has_static = row.imo.is_some()
        || !row.name.is_empty()
        || !row.callsign.is_empty()
        || row.ship_type.is_some()
        || row.length.is_some()
        || row.draught.is_some()
        || !row.destination.is_empty();
    let is_vessel = row.class.eq_ignore_ascii_case("Class A") || class_b;
    if has_static && is_vessel {
        // Without antenna offsets the reference point is unknown: put it mid-ship.
        let dims = match row.abcd {
            Some([a, b, c, d]) => (a, b, c.min(63) as u8, d.min(63) as u8),
            None => {
                let len = row.length.unwrap_or(0.0).clamp(0.0, 1022.0) as u16;
                let wid = row.width.unwrap_or(0.0).clamp(0.0, 126.0) as u16;
                (
                    len / 2,
                    len - len / 2,
                    (wid / 2) as u8,
                    (wid - wid / 2) as u8,
                )
            }
        };
        if class_b {
            send(
                24,
                Body::StaticDataReport(StaticDataReport::PartA(StaticDataPartA {
                    shipname: AisText::from_str_lossy(row.name),
                })),
                160,
                &mut meta,
            );
            let part_b = StaticDataPartB {
                common: StaticDataPartBCommon {
                    shiptype: row.ship_type.unwrap_or(0),
                    callsign: AisText::from_str_lossy(row.callsign),
                    ..Default::default()
                },
                dim: Dimensions {
                    to_bow: dims.0,
                    to_stern: dims.1,
                    to_port: dims.2,
                    to_starboard: dims.3,
                },
                mothership_mmsi: 0,
            };
            send(
                24,
                Body::StaticDataReport(StaticDataReport::PartB(part_b)),
                168,
                &mut meta,
            );
        } else {
            let (month, day, hour, minute) = row.eta.unwrap_or((0, 0, 24, 60));
            send(
                5,
                Body::StaticAndVoyageData(StaticAndVoyageData {
                    imo: row.imo.unwrap_or(0),
                    callsign: AisText::from_str_lossy(row.callsign),
                    shipname: AisText::from_str_lossy(row.name),
                    shiptype: row.ship_type.unwrap_or(0),
                    to_bow: dims.0,
                    to_stern: dims.1,
                    to_port: dims.2,
                    to_starboard: dims.3,
                    epfd: row.epfd.unwrap_or(0),
                    month,
                    day,
                    hour,
                    minute,
                    draught: row
                        .draught
                        .map_or(0, |d| (d * 10.0).round().clamp(0.0, 255.0) as u8),
                    destination: AisText::from_str_lossy(row.destination),
                    ..Default::default()
                }),
                424,
                &mut meta,
            );
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_layouts() {
        assert_eq!(
            detect_csv_layout(b"# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,ETA,Data source type\n"),
            Some(CsvLayout::Dma22)
        );
        assert_eq!(
            detect_csv_layout(b"MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass\n"),
            Some(CsvLayout::Noaa)
        );
        assert_eq!(detect_csv_layout(b"!AIVDM,1,1,,A,xx,0*00\n"), None);
    }

    #[test]
    fn dma_row_becomes_position_and_static() {
        let csv = "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,ETA,Data source type,A,B,C,D\n\
                   01/06/2021 00:00:05,Class A,266220000,55.500000,10.250000,Moored,0.0,0.1,12.3,90,9320063,SHZA,ASTINA,Tanker,Category X,20,130,GPS,5.9,FREDERICIA,31/05/2021 04:00:00,AIS,100,30,10,10\n\
                   01/06/2021 00:00:06,Class A,notanumber,55.5,10.2,Moored,,,,,,,,,,,,,,,,AIS,,,,\n";
        let mut out: Vec<Decoded> = Vec::new();
        let report = CsvReader::new(CsvLayout::Dma26)
            .read_all(csv.as_bytes(), "t.csv", &mut out)
            .unwrap();
        assert_eq!(out.len(), 2);
        let pos = out[0].message.position().unwrap();
        assert!((pos.lat - 55.5).abs() < 1e-6 && (pos.lon - 10.25).abs() < 1e-6);
        assert_eq!(pos.nav_status, Some(5));
        let st = out[1].message.static_data().unwrap();
        assert_eq!(st.imo, Some(9320063));
        assert_eq!(st.draught_m, Some(5.9));
        assert_eq!(st.length_m, Some(130));
        assert_eq!(st.ship_type, Some(80));
        assert_eq!(
            out[0].meta.received.unwrap().to_string(),
            "2021-06-01T00:00:05Z"
        );
        assert_eq!(report.csv_rejected, 1);
        assert!(
            report.csv_errors[0].contains("line 3, column MMSI"),
            "{:?}",
            report.csv_errors
        );
    }

    /// A portal export: semicolons, quoted values, an epoch-ms time (a few rows in
    /// scientific notation), `LONG` for longitude, speed in tenths, the type as words,
    /// rows shuffled; and a bad row reported by line and column.
    #[test]
    fn a_portal_export_is_read_in_time_order() {
        let csv = "\"MMSI\";\"TIMESTAMP\";\"LAT\";\"LONG\";\"SPEED (0.1 KN)\";\"COURSE\";\"SHIPTYPE\";\"NAME\"\n\
                   \"273000001\";\"1767225900000\";\"59,9\";\"29,1\";\"123\";\"90\";\"Crude Oil Tanker\";\"ONE\"\n\
                   \"273000001\";\"1.767225600000E12\";\"59,8\";\"29,0\";\"120\";\"90\";\"Crude Oil Tanker\";\"ONE\"\n\
                   \"273000002\";\"yesterday\";\"59,8\";\"29,0\";\"0\";\"0\";\"Tug\";\"TWO\"\n\
                   \"273000001\";\"1767226200000\";\"60,0\";\"29,2\";\"124\";\"90\";\"Crude Oil Tanker\";\"ONE\"\n";
        let Ok(Some(layout)) = detect_csv(csv.as_bytes(), &[]) else {
            panic!("not recognised");
        };
        let reader = CsvReader::new(layout);
        assert!(!reader.is_time_ordered(csv.as_bytes()));
        let mut out: Vec<Decoded> = Vec::new();
        let report = reader
            .sorted(1 << 20)
            .read_all(csv.as_bytes(), "export.csv", &mut out)
            .unwrap();
        let positions: Vec<_> = out
            .iter()
            .filter_map(|d| {
                d.message
                    .position()
                    .map(|p| (d.meta.received.unwrap().unix_millis(), p.lat, p.sog_knots))
            })
            .collect();
        assert_eq!(positions.len(), 3);
        assert!(
            positions.windows(2).all(|w| w[0].0 <= w[1].0),
            "{positions:?}"
        );
        assert_eq!(positions[0].0, 1_767_225_600_000);
        assert!((positions[0].1 - 59.8).abs() < 1e-6);
        assert_eq!(positions[0].2, Some(12.0));
        let st = out.iter().find_map(|d| d.message.static_data()).unwrap();
        assert_eq!(st.ship_type, Some(80));
        assert_eq!(report.csv_rejected, 1);
        assert!(
            report.csv_errors[0].contains("line 4, column TIMESTAMP"),
            "{:?}",
            report.csv_errors
        );
    }

    #[test]
    fn a_csv_without_the_columns_a_position_needs_names_them() {
        let e = detect_csv(b"ship;when;y;x\n1;2;3;4\n", &[]).unwrap_err();
        assert_eq!(e.missing, "mmsi, time");
        assert!(
            detect_csv(b"# a comment, with, commas\n!AIVDM,1,1,,A,xx,0*00\n", &[])
                .unwrap()
                .is_none()
        );
        let named = [
            (Role::Mmsi, "ship".to_owned()),
            (Role::Time, "when".to_owned()),
            (Role::Lat, "y".to_owned()),
            (Role::Lon, "x".to_owned()),
        ];
        assert!(matches!(
            detect_csv(b"ship;when;y;x\n", &named),
            Ok(Some(CsvLayout::Columns(_)))
        ));
    }
}
