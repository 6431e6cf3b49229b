//! A small columnar writer of (Geo)Parquet tables, on the `parquet` crate's low-level API
//! (no Arrow). Columns are declared once; values are put row by row into column buffers that
//! are flushed as a row group every `group_rows` rows. A geometry column is WKB (`Point` or
//! `LineString`, WGS84 longitude/latitude) and the file carries GeoParquet 1.1 metadata
//! (`geo` key: encoding, geometry types, bounding box), so DuckDB, GeoPandas, QGIS and Spark
//! read it as it is.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{
    Compression, IntType, LogicalType, Repetition, TimeUnit, TimestampType, Type as PhysicalType,
    ZstdLevel,
};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DoubleType, FloatType, Int32Type, Int64Type,
};
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, Type};

use crate::StoreError;

/// The type of a column, as readers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// True or false.
    Boolean,
    /// Unsigned 32-bit integer (MMSI, IMO).
    UInt32,
    /// Unsigned 8-bit integer stored as INT32 (navigational status).
    UInt8,
    /// Signed 64-bit integer (ids, segment numbers).
    Int64,
    /// Instant, UTC, millisecond precision; put as unix seconds.
    Timestamp,
    /// 32-bit float.
    Float32,
    /// 64-bit float.
    Float64,
    /// UTF-8 text (JSON details are text too).
    Utf8,
    /// WKB geometry in WGS84 longitude/latitude: the GeoParquet primary column.
    Geometry,
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Column name.
    pub name: &'static str,
    /// Type.
    pub ty: ColumnType,
    /// Whether values may be missing.
    pub nullable: bool,
}

impl ColumnSpec {
    /// A column that always has a value.
    pub const fn required(name: &'static str, ty: ColumnType) -> ColumnSpec {
        ColumnSpec {
            name,
            ty,
            nullable: false,
        }
    }

    /// A column whose values may be missing.
    pub const fn optional(name: &'static str, ty: ColumnType) -> ColumnSpec {
        ColumnSpec {
            name,
            ty,
            nullable: true,
        }
    }
}

enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    /// Byte strings of a row group, end to end, and where each ends (no allocation per value).
    Bytes {
        data: Vec<u8>,
        ends: Vec<usize>,
    },
}

/// Appends a byte string to a column of byte strings.
fn push_bytes(values: &mut Values, b: &[u8]) -> bool {
    match values {
        Values::Bytes { data, ends } => {
            data.extend_from_slice(b);
            ends.push(data.len());
            true
        }
        _ => false,
    }
}

struct Column {
    spec: ColumnSpec,
    values: Values,
    defs: Vec<i16>,
}

/// Writes one Parquet file, row by row. Call [`TableWriter::finish`] to write the footer; a
/// writer dropped without it leaves an unreadable file (callers write to a staging path and
/// make the file visible only once finished).
pub struct TableWriter {
    path: PathBuf,
    writer: Option<SerializedFileWriter<BufWriter<File>>>,
    columns: Vec<Column>,
    rows_in_group: usize,
    rows: u64,
    group_rows: usize,
    bbox: [f64; 4],
    geometry_types: BTreeSet<&'static str>,
    misuse: Option<String>,
}

fn parquet_error(path: &Path, e: parquet::errors::ParquetError) -> StoreError {
    StoreError::Parquet {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

fn column_type(spec: &ColumnSpec) -> Result<Type, parquet::errors::ParquetError> {
    let (physical, logical) = match spec.ty {
        ColumnType::Boolean => (PhysicalType::BOOLEAN, None),
        ColumnType::UInt32 => (
            PhysicalType::INT32,
            Some(LogicalType::Integer(IntType {
                bit_width: 32,
                is_signed: false,
            })),
        ),
        ColumnType::UInt8 => (
            PhysicalType::INT32,
            Some(LogicalType::Integer(IntType {
                bit_width: 8,
                is_signed: false,
            })),
        ),
        ColumnType::Int64 => (PhysicalType::INT64, None),
        ColumnType::Timestamp => (
            PhysicalType::INT64,
            Some(LogicalType::Timestamp(TimestampType {
                is_adjusted_to_u_t_c: true,
                unit: TimeUnit::MILLIS,
            })),
        ),
        ColumnType::Float32 => (PhysicalType::FLOAT, None),
        ColumnType::Float64 => (PhysicalType::DOUBLE, None),
        ColumnType::Utf8 => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
        ColumnType::Geometry => (PhysicalType::BYTE_ARRAY, None),
    };
    Type::primitive_type_builder(spec.name, physical)
        .with_logical_type(logical)
        .with_repetition(if spec.nullable {
            Repetition::OPTIONAL
        } else {
            Repetition::REQUIRED
        })
        .build()
}

impl TableWriter {
    /// Creates `path` (truncating it) for a table of `columns`, declared sorted by the
    /// columns at `sorted_by` (in that order), with row groups of `group_rows` rows.
    pub fn create(
        path: &Path,
        columns: &[ColumnSpec],
        sorted_by: &[usize],
        group_rows: usize,
    ) -> Result<TableWriter, StoreError> {
        let perr = |e| parquet_error(path, e);
        let fields = columns
            .iter()
            .map(|c| column_type(c).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(perr)?;
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(perr)?;
        let sorting: Vec<SortingColumn> = sorted_by
            .iter()
            .map(|&i| SortingColumn {
                column_idx: i as i32,
                descending: false,
                nulls_first: false,
            })
            .collect();
        // Dictionaries only where values repeat (identifiers, codes); coordinates, times and
        // geometries are nearly all distinct, and a dictionary only costs time there.
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).map_err(perr)?))
            .set_dictionary_enabled(false);
        for c in columns {
            if matches!(
                c.ty,
                ColumnType::UInt32 | ColumnType::UInt8 | ColumnType::Int64 | ColumnType::Utf8
            ) {
                props = props.set_column_dictionary_enabled(ColumnPath::from(c.name), true);
            }
        }
        let props = props
            .set_sorting_columns((!sorting.is_empty()).then_some(sorting))
            .set_created_by(format!("shadowfleet {}", env!("CARGO_PKG_VERSION")))
            .build();
        let file = File::create(path).map_err(|error| StoreError::Io {
            path: path.to_owned(),
            error,
        })?;
        let writer =
            SerializedFileWriter::new(BufWriter::new(file), Arc::new(schema), Arc::new(props))
                .map_err(perr)?;
        let columns = columns
            .iter()
            .map(|&spec| Column {
                spec,
                values: match spec.ty {
                    ColumnType::Boolean => Values::Bool(Vec::new()),
                    ColumnType::UInt32 | ColumnType::UInt8 => Values::I32(Vec::new()),
                    ColumnType::Int64 | ColumnType::Timestamp => Values::I64(Vec::new()),
                    ColumnType::Float32 => Values::F32(Vec::new()),
                    ColumnType::Float64 => Values::F64(Vec::new()),
                    ColumnType::Utf8 | ColumnType::Geometry => Values::Bytes {
                        data: Vec::new(),
                        ends: Vec::new(),
                    },
                },
                defs: Vec::new(),
            })
            .collect();
        Ok(TableWriter {
            path: path.to_owned(),
            writer: Some(writer),
            columns,
            rows_in_group: 0,
            rows: 0,
            group_rows: group_rows.max(1),
            bbox: [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ],
            geometry_types: BTreeSet::new(),
            misuse: None,
        })
    }

    fn column(&mut self, col: usize, present: bool) -> Option<&mut Values> {
        let Some(c) = self.columns.get_mut(col) else {
            self.misuse = Some(format!("no column {col}"));
            return None;
        };
        if !present && !c.spec.nullable {
            self.misuse = Some(format!("column {}: a value is required", c.spec.name));
            return None;
        }
        if c.spec.nullable {
            c.defs.push(i16::from(present));
        }
        present.then_some(&mut c.values)
    }

    fn wrong_type(&mut self, col: usize) {
        let name = self.columns.get(col).map_or("?", |c| c.spec.name);
        self.misuse = Some(format!("column {name}: value of the wrong type"));
    }

    /// Puts `v` into column `col` of the current row through `push`, which says whether the
    /// column holds values of that type; a mismatch is reported by [`TableWriter::finish`].
    fn put<T>(&mut self, col: usize, v: Option<T>, push: impl FnOnce(&mut Values, T) -> bool) {
        let ok = match (self.column(col, v.is_some()), v) {
            (Some(values), Some(x)) => push(values, x),
            _ => true,
        };
        if !ok {
            self.wrong_type(col);
        }
    }

    /// Puts an integer (or a time, in unix seconds) into column `col` of the current row.
    pub fn put_int(&mut self, col: usize, v: Option<i64>) {
        let is_time = self
            .columns
            .get(col)
            .is_some_and(|c| c.spec.ty == ColumnType::Timestamp);
        self.put(col, v, |values, x| match values {
            Values::I32(vals) => {
                vals.push(x as i32);
                true
            }
            Values::I64(vals) => {
                vals.push(if is_time { x.saturating_mul(1000) } else { x });
                true
            }
            _ => false,
        });
    }

    /// Puts a truth value.
    pub fn put_bool(&mut self, col: usize, v: Option<bool>) {
        self.put(col, v, |values, x| match values {
            Values::Bool(vals) => {
                vals.push(x);
                true
            }
            _ => false,
        });
    }

    /// Puts a floating-point value (NaN counts as missing).
    pub fn put_float(&mut self, col: usize, v: Option<f64>) {
        self.put(col, v.filter(|x| x.is_finite()), |values, x| match values {
            Values::F32(vals) => {
                vals.push(x as f32);
                true
            }
            Values::F64(vals) => {
                vals.push(x);
                true
            }
            _ => false,
        });
    }

    /// Puts text.
    pub fn put_text(&mut self, col: usize, v: Option<&str>) {
        self.put(col, v.map(str::as_bytes), push_bytes);
    }

    fn put_geometry(&mut self, col: usize, wkb: Option<&[u8]>, kind: &'static str) {
        if wkb.is_some() && !self.geometry_types.contains(kind) {
            self.geometry_types.insert(kind);
        }
        self.put(col, wkb, push_bytes);
    }

    fn grow_bbox(&mut self, lon: f64, lat: f64) {
        self.bbox[0] = self.bbox[0].min(lon);
        self.bbox[1] = self.bbox[1].min(lat);
        self.bbox[2] = self.bbox[2].max(lon);
        self.bbox[3] = self.bbox[3].max(lat);
    }

    /// Puts a point geometry (missing when either coordinate is not finite).
    pub fn put_point(&mut self, col: usize, lon: f64, lat: f64) {
        if !(lon.is_finite() && lat.is_finite()) {
            return self.put_geometry(col, None, "Point");
        }
        self.grow_bbox(lon, lat);
        let mut b = [0u8; 21];
        b[0] = 1; // little endian
        b[1..5].copy_from_slice(&1u32.to_le_bytes());
        b[5..13].copy_from_slice(&lon.to_le_bytes());
        b[13..].copy_from_slice(&lat.to_le_bytes());
        self.put_geometry(col, Some(&b), "Point");
    }

    /// Puts a line geometry through `(lon, lat)` vertices (missing with fewer than two).
    pub fn put_line(&mut self, col: usize, vertices: &[(f64, f64)]) {
        let good: Vec<(f64, f64)> = vertices
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        if good.len() < 2 {
            return self.put_geometry(col, None, "LineString");
        }
        let mut b = Vec::with_capacity(9 + 16 * good.len());
        b.push(1u8);
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&(good.len() as u32).to_le_bytes());
        for (x, y) in good {
            self.grow_bbox(x, y);
            b.extend_from_slice(&x.to_le_bytes());
            b.extend_from_slice(&y.to_le_bytes());
        }
        self.put_geometry(col, Some(&b), "LineString");
    }

    /// Ends the current row; every column must have had a value (or a null) put.
    pub fn end_row(&mut self) -> Result<(), StoreError> {
        self.rows_in_group += 1;
        self.rows += 1;
        if self.rows_in_group >= self.group_rows {
            self.flush_group()?;
        }
        Ok(())
    }

    fn flush_group(&mut self) -> Result<(), StoreError> {
        if self.rows_in_group == 0 {
            return Ok(());
        }
        let path = self.path.clone();
        let perr = |e| parquet_error(&path, e);
        if let Some(m) = self.misuse.take() {
            return Err(StoreError::Parquet { path, reason: m });
        }
        let n = self.rows_in_group;
        for c in &self.columns {
            let len = if c.spec.nullable {
                c.defs.len()
            } else {
                match &c.values {
                    Values::Bool(v) => v.len(),
                    Values::I32(v) => v.len(),
                    Values::I64(v) => v.len(),
                    Values::F32(v) => v.len(),
                    Values::F64(v) => v.len(),
                    Values::Bytes { ends, .. } => ends.len(),
                }
            };
            if len != n {
                return Err(StoreError::Parquet {
                    path,
                    reason: format!("column {}: {len} values for {n} rows", c.spec.name),
                });
            }
        }
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let mut group = writer.next_row_group().map_err(perr)?;
        for c in &mut self.columns {
            let Some(mut cw) = group.next_column().map_err(perr)? else {
                break;
            };
            let defs = c.spec.nullable.then_some(c.defs.as_slice());
            match &mut c.values {
                Values::Bool(v) => {
                    cw.typed::<BoolType>()
                        .write_batch(v, defs, None)
                        .map_err(perr)?;
                    v.clear();
                }
                Values::I32(v) => {
                    cw.typed::<Int32Type>()
                        .write_batch(v, defs, None)
                        .map_err(perr)?;
                    v.clear();
                }
                Values::I64(v) => {
                    cw.typed::<Int64Type>()
                        .write_batch(v, defs, None)
                        .map_err(perr)?;
                    v.clear();
                }
                Values::F32(v) => {
                    cw.typed::<FloatType>()
                        .write_batch(v, defs, None)
                        .map_err(perr)?;
                    v.clear();
                }
                Values::F64(v) => {
                    cw.typed::<DoubleType>()
                        .write_batch(v, defs, None)
                        .map_err(perr)?;
                    v.clear();
                }
                Values::Bytes { data, ends } => {
                    // One shared buffer, sliced per value.
                    let all = bytes::Bytes::from(std::mem::take(data));
                    let mut start = 0;
                    let values: Vec<ByteArray> = ends
                        .iter()
                        .map(|&end| {
                            let v = ByteArray::from(all.slice(start..end));
                            start = end;
                            v
                        })
                        .collect();
                    cw.typed::<ByteArrayType>()
                        .write_batch(&values, defs, None)
                        .map_err(perr)?;
                    ends.clear();
                }
            }
            c.defs.clear();
            cw.close().map_err(perr)?;
        }
        group.close().map_err(perr)?;
        self.rows_in_group = 0;
        Ok(())
    }

    /// Writes the last row group, the GeoParquet metadata and the footer, and syncs the file
    /// to disk. Returns the number of rows.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        self.flush_group()?;
        let path = self.path.clone();
        let perr = |e| parquet_error(&path, e);
        let Some(mut writer) = self.writer.take() else {
            return Ok(self.rows);
        };
        if let Some(geom) = self
            .columns
            .iter()
            .find(|c| c.spec.ty == ColumnType::Geometry)
        {
            let bbox = if self.bbox[0].is_finite() {
                serde_json::json!(self.bbox)
            } else {
                serde_json::Value::Null
            };
            let mut column = serde_json::json!({
                "encoding": "WKB",
                "geometry_types": self.geometry_types.iter().collect::<Vec<_>>(),
            });
            if !bbox.is_null() {
                column["bbox"] = bbox;
            }
            let geo = serde_json::json!({
                "version": "1.1.0",
                "primary_column": geom.spec.name,
                "columns": { geom.spec.name: column },
            });
            writer.append_key_value_metadata(KeyValue::new("geo".to_owned(), geo.to_string()));
        }
        let buf = writer.into_inner().map_err(perr)?;
        let file = buf.into_inner().map_err(|e| StoreError::Io {
            path: path.clone(),
            error: e.into_error(),
        })?;
        file.sync_all().map_err(|error| StoreError::Io {
            path: path.clone(),
            error,
        })?;
        Ok(self.rows)
    }
}
