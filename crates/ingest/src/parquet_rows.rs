//! (Geo)Parquet position files, read by the same path as position CSVs: each row becomes a
//! CSV line under a header of the file's column names, so that the column recognition,
//! `--columns`, the time forms, the row errors by line and column and the sort into time
//! order are the CSV reader's. Timestamps become epoch milliseconds; a WKB point geometry
//! (GeoParquet's `geometry` column, as our own exports and GeoPandas, DuckDB or QGIS write
//! it) gives `lat` and `lon` when the file has no such columns. Line numbers in errors count
//! the header as line 1, so row *k* of the file is line *k* + 1.
//!
//! The rows are read with the `parquet` crate's record API, which builds each row as values:
//! an allocation per row, accepted for a file format read once (the NMEA path, which carries
//! live feeds and the bulk of the data, allocates nothing per message).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::reader::RowIter;
use parquet::record::Field;

/// Whether `head` (a file's first bytes) is a Parquet file.
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(b"PAR1")
}

/// Names of a geometry column (WKB).
const GEOMETRY: [&str; 4] = ["geometry", "geom", "wkb_geometry", "the_geom"];

/// A Parquet file read as CSV text (see the module documentation).
pub struct ParquetAsCsv {
    rows: RowIter<'static>,
    /// Index of the WKB geometry column to turn into `lat`, `lon`, if any.
    geometry: Option<usize>,
    /// CSV text made and not yet read.
    out: Vec<u8>,
    at: usize,
    done: bool,
}

/// Why a Parquet file cannot be read.
fn bad(path: &Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: not a readable Parquet file: {e}", path.display()),
    )
}

impl ParquetAsCsv {
    /// Opens `path`; the header line is ready to be read.
    pub fn open(path: &Path) -> io::Result<ParquetAsCsv> {
        let file = File::open(path)?;
        let reader = SerializedFileReader::new(file).map_err(|e| bad(path, e))?;
        let names: Vec<String> = reader
            .metadata()
            .file_metadata()
            .schema()
            .get_fields()
            .iter()
            .map(|f| f.name().to_owned())
            .collect();
        let has = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
        let positioned = ["lat", "latitude", "y"].iter().any(|n| has(n))
            && ["lon", "long", "longitude", "lng", "x"]
                .iter()
                .any(|n| has(n));
        let geometry = if positioned {
            None
        } else {
            names
                .iter()
                .position(|n| GEOMETRY.iter().any(|g| n.eq_ignore_ascii_case(g)))
        };
        let rows = RowIter::from_file_into(Box::new(reader) as Box<dyn FileReader>);
        let mut header: Vec<String> = names.clone();
        if geometry.is_some() {
            header.push("lat".into());
            header.push("lon".into());
        }
        let mut out = Vec::new();
        write_line(&mut out, header.iter().map(String::as_str));
        Ok(ParquetAsCsv {
            rows,
            geometry,
            out,
            at: 0,
            done: false,
        })
    }

    /// Makes the CSV lines of the next rows; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.at = 0;
        for _ in 0..1024 {
            let Some(row) = self.rows.next() else {
                self.done = true;
                break;
            };
            let row = row.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            let mut fields: Vec<String> = Vec::with_capacity(row.len() + 2);
            let mut point = None;
            for (k, (_, f)) in row.get_column_iter().enumerate() {
                if Some(k) == self.geometry {
                    if let Field::Bytes(b) = f {
                        point = wkb_point(b.data());
                    }
                    fields.push(String::new());
                } else {
                    fields.push(text(f));
                }
            }
            if self.geometry.is_some() {
                let (lat, lon) = point.map_or((String::new(), String::new()), |(lon, lat)| {
                    (lat.to_string(), lon.to_string())
                });
                fields.push(lat);
                fields.push(lon);
            }
            write_line(&mut self.out, fields.iter().map(String::as_str));
        }
        Ok(!self.out.is_empty())
    }
}

impl Read for ParquetAsCsv {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at >= self.out.len() && (self.done || !self.refill()?) {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// One CSV line of `fields`, quoted where needed.
fn write_line<'a>(out: &mut Vec<u8>, fields: impl Iterator<Item = &'a str>) {
    for (k, f) in fields.enumerate() {
        if k > 0 {
            out.push(b',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            out.push(b'"');
            out.extend_from_slice(f.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(f.as_bytes());
        }
    }
    out.push(b'\n');
}

/// A value as the CSV reader reads it: timestamps as epoch milliseconds.
fn text(f: &Field) -> String {
    match f {
        Field::Null => String::new(),
        Field::Bool(b) => b.to_string(),
        Field::Byte(v) => v.to_string(),
        Field::Short(v) => v.to_string(),
        Field::Int(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::UByte(v) => v.to_string(),
        Field::UShort(v) => v.to_string(),
        Field::UInt(v) => v.to_string(),
        Field::ULong(v) => v.to_string(),
        Field::Float(v) => v.to_string(),
        Field::Double(v) => v.to_string(),
        Field::Str(s) => s.clone(),
        Field::TimestampMillis(ms) => ms.to_string(),
        Field::TimestampMicros(us) => us.div_euclid(1000).to_string(),
        // Days since the epoch: a date is not a time to the second.
        _ => String::new(),
    }
}

/// (longitude, latitude) of a WKB point (ISO or EWKB, either byte order, 2D or with Z/M).
fn wkb_point(b: &[u8]) -> Option<(f64, f64)> {
    let little = match b.first()? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let u32_at = |at: usize| -> Option<u32> {
        let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    let f64_at = |at: usize| -> Option<f64> {
        let w: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
        Some(if little {
            f64::from_le_bytes(w)
        } else {
            f64::from_be_bytes(w)
        })
    };
    let ty = u32_at(1)?;
    // EWKB flags: Z, M, SRID; ISO: 1001, 2001, 3001.
    let srid = ty & 0x2000_0000 != 0;
    if (ty & 0x0fff_ffff) % 1000 != 1 {
        return None;
    }
    let at = if srid { 9 } else { 5 };
    let (x, y) = (f64_at(at)?, f64_at(at + 8)?);
    (x.is_finite() && y.is_finite()).then_some((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkb_points_in_either_byte_order() {
        let mut le = vec![1u8];
        le.extend_from_slice(&1u32.to_le_bytes());
        le.extend_from_slice(&20.5f64.to_le_bytes());
        le.extend_from_slice(&55.25f64.to_le_bytes());
        assert_eq!(wkb_point(&le), Some((20.5, 55.25)));
        let mut be = vec![0u8];
        be.extend_from_slice(&1u32.to_be_bytes());
        be.extend_from_slice(&(-3.0f64).to_be_bytes());
        be.extend_from_slice(&40.0f64.to_be_bytes());
        assert_eq!(wkb_point(&be), Some((-3.0, 40.0)));
        // A line string is not a position.
        let mut line = vec![1u8];
        line.extend_from_slice(&2u32.to_le_bytes());
        assert_eq!(wkb_point(&line), None);
        assert_eq!(wkb_point(&[]), None);
    }

    #[test]
    fn values_as_the_csv_reader_reads_them() {
        let mut out = Vec::new();
        write_line(&mut out, ["a", "b,c", "say \"hi\""].into_iter());
        assert_eq!(out, b"a,\"b,c\",\"say \"\"hi\"\"\"\n");
        assert_eq!(
            text(&Field::TimestampMicros(1_767_225_600_123_456)),
            "1767225600123"
        );
        assert_eq!(text(&Field::Null), "");
    }
}
