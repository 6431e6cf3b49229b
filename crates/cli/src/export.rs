//! `shadowfleet export`: a store's events, tracks, vessels or cargo flows as GeoJSON, CSV or
//! GeoParquet, for GIS tools, spreadsheets and data frames. Tracks stream from the position
//! files, so an export of a month of positions never holds it in memory.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use shadowfleet_api::views::{flow_json, flow_path, vessel_json};
use shadowfleet_model::Timestamp;
use shadowfleet_run::analysis::Analysis;
use shadowfleet_run::config::load_analysis_config as load_config;
use shadowfleet_store::parquet::{ColumnSpec, ColumnType, TableWriter};
use shadowfleet_store::positions::{put_position, POSITION_COLUMNS, ROW_GROUP_ROWS};
use shadowfleet_store::{EventFilter, Position, PositionQuery, Store};

use crate::screen::csv_field;

/// What to export.
#[derive(Clone, Copy, ValueEnum)]
pub enum What {
    /// Every event (as `shadowfleet events`).
    Events,
    /// Every tanker scored, with its risk and main indicators; GeoJSON points at its latest
    /// event.
    Vessels,
    /// Cargo flows; GeoJSON lines from the load through each hand-off to the discharge.
    Flows,
    /// Vessel positions: GeoJSON lines per vessel, track segment and day (each with the
    /// time of every vertex); CSV and GeoParquet a row per position.
    Tracks,
}

/// Output format.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// A GeoJSON FeatureCollection.
    Geojson,
    /// CSV with a header.
    Csv,
    /// GeoParquet (WKB geometry, GeoParquet 1.1 metadata); needs `--out`.
    Parquet,
}

/// Arguments of `shadowfleet export`.
#[derive(Args)]
pub struct ExportArgs {
    /// Store directory.
    #[arg(long)]
    store: PathBuf,
    /// What to export.
    #[arg(long, value_enum)]
    what: What,
    /// Output format.
    #[arg(long, value_enum, default_value = "geojson")]
    format: Format,
    /// Analysis configuration (TOML; see docs/formats.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output file (standard output when absent; required for parquet).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Tracks only: these MMSIs (repeat or comma-separate).
    #[arg(long, value_delimiter = ',')]
    mmsi: Vec<u32>,
    /// Tracks only: positions at or after this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    from: Option<i64>,
    /// Tracks only: positions at or before this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    to: Option<i64>,
    /// Events only: those of at least this confidence.
    #[arg(long, value_enum, default_value = "medium")]
    min_confidence: crate::events::MinConfidence,
}

fn parse_time(s: &str) -> Result<i64, String> {
    Timestamp::parse_rfc3339(s)
        .map(|t| t.unix_millis().div_euclid(1000))
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

/// Where text goes: the file given or standard output.
fn text_out(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

/// Writes a Parquet file through a temporary name, renamed into place once complete.
fn parquet_out(
    path: Option<&Path>,
    columns: &[ColumnSpec],
    sorted_by: &[usize],
    rows: impl FnOnce(&mut TableWriter) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Some(path) = path else {
        anyhow::bail!("--format parquet needs --out FILE (Parquet is not written to a terminal)");
    };
    let tmp = path.with_extension("parquet.partial");
    let mut w = TableWriter::create(&tmp, columns, sorted_by, ROW_GROUP_ROWS)?;
    rows(&mut w)?;
    w.finish()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Tracks: positions of the store, filtered.
fn tracks(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(&args.store)?;
    let query = PositionQuery {
        mmsis: args.mmsi.clone(),
        from: args.from,
        to: args.to,
    };
    let out = args.out.as_deref();
    match args.format {
        Format::Parquet => parquet_out(out, &POSITION_COLUMNS, &[], |w| {
            let mut error = None;
            store.read_positions(&query, &mut |p| {
                if error.is_none() {
                    if let Err(e) = put_position(w, &p) {
                        error = Some(e);
                    }
                }
            })?;
            error.map_or(Ok(()), |e| Err(e.into()))
        })?,
        Format::Csv => {
            let mut w = text_out(out)?;
            writeln!(
                w,
                "mmsi,time,lat,lon,sog,cog,nav_status,segment,input,offset,length"
            )?;
            let mut error = None;
            let opt = |x: Option<f32>| x.map_or(String::new(), |v| v.to_string());
            store.read_positions(&query, &mut |p| {
                if error.is_none() {
                    if let Err(e) = writeln!(
                        w,
                        "{},{},{},{},{},{},{},{}{}",
                        p.position.mmsi,
                        Timestamp::from_unix_seconds(p.position.t),
                        p.position.pos.lat,
                        p.position.pos.lon,
                        opt(p.position.sog_knots),
                        opt(p.position.cog_deg),
                        p.position
                            .nav_status
                            .map_or(String::new(), |n| n.to_string()),
                        p.segment,
                        if p.position.source.is_known() {
                            let s = p.position.source;
                            format!(",{},{},{}", s.input, s.offset, s.length)
                        } else {
                            ",,,".to_owned()
                        }
                    ) {
                        error = Some(e);
                    }
                }
            })?;
            if let Some(e) = error {
                return Err(e).context("writing the export");
            }
            w.flush().context("writing the export")?;
        }
        Format::Geojson => {
            // Streamed: a feature per vessel, segment and day file.
            let mut w = text_out(out)?;
            write!(w, "{{\"type\":\"FeatureCollection\",\"features\":[")?;
            let mut first = true;
            let mut vessel: Vec<Position> = Vec::new();
            let mut error: Option<io::Error> = None;
            let mut flush = |rows: &mut Vec<Position>, w: &mut Box<dyn Write>| -> io::Result<()> {
                rows.sort_by_key(|p| (p.segment, p.position.t));
                for seg in rows.chunk_by(|a, b| a.segment == b.segment) {
                    let coords: Vec<[f64; 2]> = seg
                        .iter()
                        .map(|p| [p.position.pos.lon, p.position.pos.lat])
                        .collect();
                    let times: Vec<i64> = seg.iter().map(|p| p.position.t).collect();
                    let geometry = if coords.len() == 1 {
                        json!({"type": "Point", "coordinates": coords[0]})
                    } else {
                        json!({"type": "LineString", "coordinates": coords})
                    };
                    let f = json!({"type": "Feature", "geometry": geometry, "properties": {
                        "mmsi": seg[0].position.mmsi, "segment": seg[0].segment,
                        "start": Timestamp::from_unix_seconds(seg[0].position.t).to_string(),
                        "end": Timestamp::from_unix_seconds(seg[seg.len() - 1].position.t).to_string(),
                        "points": seg.len(), "times": times}});
                    if !first {
                        w.write_all(b",")?;
                    }
                    first = false;
                    serde_json::to_writer(&mut *w, &f)?;
                }
                rows.clear();
                Ok(())
            };
            for file in store.position_files(&query)? {
                shadowfleet_store::positions::read_file(&file, &query, &mut |p| {
                    if error.is_some() {
                        return;
                    }
                    if vessel
                        .last()
                        .is_some_and(|l| l.position.mmsi != p.position.mmsi)
                    {
                        if let Err(e) = flush(&mut vessel, &mut w) {
                            error = Some(e);
                        }
                    }
                    vessel.push(p);
                })?;
                if let Err(e) = flush(&mut vessel, &mut w) {
                    error = Some(e);
                }
                if let Some(e) = error.take() {
                    return Err(e).context("writing the export");
                }
            }
            writeln!(w, "]}}")?;
            w.flush().context("writing the export")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

const EVENT_COLUMNS: [ColumnSpec; 15] = [
    ColumnSpec::required("id", ColumnType::Int64),
    ColumnSpec::required("kind", ColumnType::Utf8),
    ColumnSpec::required("mmsi", ColumnType::UInt32),
    ColumnSpec::optional("imo", ColumnType::UInt32),
    ColumnSpec::optional("other_mmsi", ColumnType::UInt32),
    ColumnSpec::required("start", ColumnType::Timestamp),
    ColumnSpec::required("end", ColumnType::Timestamp),
    ColumnSpec::optional("lat", ColumnType::Float64),
    ColumnSpec::optional("lon", ColumnType::Float64),
    ColumnSpec::required("details", ColumnType::Utf8),
    ColumnSpec::optional("geometry", ColumnType::Geometry),
    ColumnSpec::required("confidence", ColumnType::Utf8),
    ColumnSpec::required("confidence_reasons", ColumnType::Utf8),
    ColumnSpec::required("truncated_start", ColumnType::Boolean),
    ColumnSpec::required("truncated_end", ColumnType::Boolean),
];

const VESSEL_COLUMNS: [ColumnSpec; 9] = [
    ColumnSpec::required("vessel", ColumnType::Utf8),
    ColumnSpec::optional("imo", ColumnType::UInt32),
    ColumnSpec::required("mmsis", ColumnType::Utf8),
    ColumnSpec::required("names", ColumnType::Utf8),
    ColumnSpec::required("score", ColumnType::Float64),
    ColumnSpec::required("shadow", ColumnType::Boolean),
    ColumnSpec::required("indicators", ColumnType::Utf8),
    ColumnSpec::optional("geometry", ColumnType::Geometry),
    ColumnSpec::optional("hull", ColumnType::Utf8),
];

const FLOW_COLUMNS: [ColumnSpec; 13] = [
    ColumnSpec::required("id", ColumnType::Int64),
    ColumnSpec::optional("origin_country", ColumnType::Utf8),
    ColumnSpec::optional("origin_place", ColumnType::Utf8),
    ColumnSpec::optional("discharge_country", ColumnType::Utf8),
    ColumnSpec::optional("discharge_place", ColumnType::Utf8),
    ColumnSpec::optional("discharged", ColumnType::Utf8),
    ColumnSpec::required("chain", ColumnType::Utf8),
    ColumnSpec::required("volume_bbl", ColumnType::Float64),
    ColumnSpec::required("low_bbl", ColumnType::Float64),
    ColumnSpec::required("high_bbl", ColumnType::Float64),
    ColumnSpec::optional("confidence", ColumnType::Float64),
    ColumnSpec::required("flow", ColumnType::Utf8),
    ColumnSpec::optional("geometry", ColumnType::Geometry),
];

/// Runs the command.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    if !matches!(args.what, What::Tracks)
        && (!args.mmsi.is_empty() || args.from.is_some() || args.to.is_some())
    {
        anyhow::bail!("--mmsi, --from and --to filter tracks only");
    }
    match (args.what, args.format) {
        (What::Tracks, _) => return tracks(&args),
        (What::Events, Format::Parquet) => {
            let store = Store::open_existing(&args.store)?;
            let events = store.events(&EventFilter {
                min_confidence: Some(args.min_confidence.level()),
                ..EventFilter::default()
            })?;
            parquet_out(args.out.as_deref(), &EVENT_COLUMNS, &[5], |w| {
                for s in &events {
                    let e = &s.event;
                    w.put_int(0, Some(s.id));
                    w.put_text(1, Some(e.kind().as_str()));
                    w.put_int(2, Some(i64::from(e.mmsi)));
                    w.put_int(3, e.imo.map(i64::from));
                    w.put_int(4, e.other_mmsi.map(i64::from));
                    w.put_int(5, Some(e.start));
                    w.put_int(6, Some(e.end));
                    w.put_float(7, Some(e.lat));
                    w.put_float(8, Some(e.lon));
                    w.put_text(9, Some(&e.details.to_json().unwrap_or_default()));
                    w.put_point(10, e.lon, e.lat);
                    w.put_text(11, Some(e.confidence.level.as_str()));
                    w.put_text(
                        12,
                        Some(&serde_json::to_string(&e.confidence.reasons).unwrap_or_default()),
                    );
                    w.put_bool(13, Some(e.truncated_start));
                    w.put_bool(14, Some(e.truncated_end));
                    w.end_row()?;
                }
                Ok(())
            })?;
            return Ok(ExitCode::SUCCESS);
        }
        (What::Events, format) => {
            if args.out.is_some() {
                anyhow::bail!("--out: events as GeoJSON or CSV go to standard output; redirect it");
            }
            return crate::events::run(crate::events::EventsArgs {
                store: args.store,
                kind: None,
                since: None,
                mmsi: None,
                min_confidence: args.min_confidence,
                format: match format {
                    Format::Csv => crate::events::Format::Csv,
                    _ => crate::events::Format::Geojson,
                },
            });
        }
        (What::Vessels | What::Flows, _) => {}
    }
    let store = Store::open_existing(&args.store)?;
    let a = Analysis::run(&store, load_config(args.config.as_ref(), None)?)?;
    let pos = |id: i64| {
        a.events
            .iter()
            .find(|e| e.id == id)
            .map(|e| (e.event.lon, e.event.lat))
            .filter(|p| p.0.is_finite() && p.1.is_finite())
    };
    if matches!(args.format, Format::Parquet) {
        return parquet_tables(&args, &a, &pos);
    }
    let mut out = text_out(args.out.as_deref())?;
    match (args.what, args.format) {
        (What::Vessels, Format::Csv) => {
            writeln!(out, "vessel,mmsis,names,score,shadow,indicators,hull")?;
            for r in &a.risks {
                let ind: Vec<String> = r
                    .indicators
                    .iter()
                    .map(|i| format!("{}:{:.0}", i.name, i.weight * i.strength))
                    .collect();
                writeln!(
                    out,
                    "{},{},{},{},{},{},{}",
                    r.vessel,
                    r.mmsis
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                    csv_field(&r.names.join(" / ")),
                    r.score,
                    a.is_shadow(r.vessel),
                    ind.join(" "),
                    hull_id(&a, &r.mmsis)
                )?;
            }
        }
        (What::Vessels, Format::Geojson) => {
            let features: Vec<Value> = a
                .risks
                .iter()
                .map(|r| {
                    let latest = a.events.iter().filter(|e| r.mmsis.contains(&e.event.mmsi)).max_by_key(|e| e.event.end);
                    let geometry = latest
                        .filter(|e| e.event.lat.is_finite() && e.event.lon.is_finite())
                        .map_or(Value::Null, |e| json!({"type": "Point", "coordinates": [e.event.lon, e.event.lat]}));
                    let ind: Vec<Value> = r.indicators.iter().map(|i| json!({"name": i.name, "points": (i.weight * i.strength * 10.0).round() / 10.0})).collect();
                    json!({"type": "Feature", "geometry": geometry, "properties": {
                        "vessel": vessel_json(r.vessel), "mmsis": r.mmsis, "names": r.names, "score": r.score,
                        "shadow": a.is_shadow(r.vessel), "indicators": ind, "position_from_event": latest.map(|e| e.id),
                        "hull": hull_id(&a, &r.mmsis),
                    }})
                })
                .collect();
            crate::events::write_features(&mut out, features)?;
        }
        (What::Flows, Format::Csv) => {
            writeln!(out, "id,origin_country,origin_place,discharge_country,discharge_place,discharged,chain,volume_bbl,low_bbl,high_bbl,confidence")?;
            for f in a.traced.flows.iter().filter(|f| f.share > 0.0) {
                let Some(c) = a.traced.cargoes.get(f.cargo) else {
                    continue;
                };
                let j = flow_json(f, c);
                let chain: Vec<String> = f.chain.iter().map(|h| h.mmsi.to_string()).collect();
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{:.0},{:.0},{:.0},{}",
                    f.id,
                    c.origin.as_ref().map_or("", |o| o.country.as_str()),
                    c.origin
                        .as_ref()
                        .and_then(|o| o.place.as_deref())
                        .unwrap_or(""),
                    f.discharge.as_ref().map_or("", |d| d.country.as_str()),
                    f.discharge.as_ref().map_or("", |d| d.place.as_str()),
                    j["discharge"]["time"].as_str().unwrap_or(""),
                    chain.join(">"),
                    j["volume_bbl"].as_f64().unwrap_or(0.0),
                    j["low_bbl"].as_f64().unwrap_or(0.0),
                    j["high_bbl"].as_f64().unwrap_or(0.0),
                    j["confidence"]
                )?;
            }
        }
        (What::Flows, Format::Geojson) => {
            let features: Vec<Value> = a
                .traced
                .flows
                .iter()
                .filter(|f| f.share > 0.0)
                .filter_map(|f| a.traced.cargoes.get(f.cargo).map(|c| (f, c)))
                .map(|(f, c)| {
                    // Load, each hand-off, discharge: the places of the events the flow rests on.
                    let line = flow_path(f, c, &|id| pos(id).map(|(lon, lat)| [lon, lat]));
                    let geometry = match line.len() {
                        0 => Value::Null,
                        1 => json!({"type": "Point", "coordinates": line[0]}),
                        _ => json!({"type": "LineString", "coordinates": line}),
                    };
                    json!({"type": "Feature", "geometry": geometry, "properties": flow_json(f, c)})
                })
                .collect();
            crate::events::write_features(&mut out, features)?;
        }
        _ => {}
    }
    out.flush().context("writing the export")?;
    Ok(ExitCode::SUCCESS)
}

/// Vessels and flows as GeoParquet.
fn parquet_tables(
    args: &ExportArgs,
    a: &Analysis,
    pos: &dyn Fn(i64) -> Option<(f64, f64)>,
) -> anyhow::Result<ExitCode> {
    let out = args.out.as_deref();
    if matches!(args.what, What::Vessels) {
        parquet_out(out, &VESSEL_COLUMNS, &[], |w| {
            for r in &a.risks {
                let latest = a
                    .events
                    .iter()
                    .filter(|e| r.mmsis.contains(&e.event.mmsi))
                    .max_by_key(|e| e.event.end);
                let ind: Vec<Value> = r.indicators.iter().map(|i| json!({"name": i.name, "points": (i.weight * i.strength * 10.0).round() / 10.0})).collect();
                w.put_text(0, Some(&r.vessel.to_string()));
                w.put_int(
                    1,
                    match r.vessel {
                        shadowfleet_voyages::VesselKey::Imo(i) => Some(i64::from(i)),
                        shadowfleet_voyages::VesselKey::Mmsi(_) => None,
                    },
                );
                let mmsis: Vec<String> = r.mmsis.iter().map(u32::to_string).collect();
                w.put_text(2, Some(&mmsis.join(" ")));
                w.put_text(3, Some(&r.names.join(" / ")));
                w.put_float(4, Some(r.score));
                w.put_bool(5, Some(a.is_shadow(r.vessel)));
                w.put_text(6, Some(&Value::Array(ind).to_string()));
                match latest {
                    Some(e) => w.put_point(7, e.event.lon, e.event.lat),
                    None => w.put_point(7, f64::NAN, f64::NAN),
                }
                w.put_text(8, Some(&hull_id(a, &r.mmsis)));
                w.end_row()?;
            }
            Ok(())
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    parquet_out(out, &FLOW_COLUMNS, &[], |w| {
        for f in a.traced.flows.iter().filter(|f| f.share > 0.0) {
            let Some(c) = a.traced.cargoes.get(f.cargo) else {
                continue;
            };
            let j = flow_json(f, c);
            let chain: Vec<String> = f.chain.iter().map(|h| h.mmsi.to_string()).collect();
            let line = flow_path(f, c, &|id| pos(id).map(|(lon, lat)| [lon, lat]));
            w.put_int(0, Some(f.id as i64));
            w.put_text(1, c.origin.as_ref().map(|o| o.country.as_str()));
            w.put_text(2, c.origin.as_ref().and_then(|o| o.place.as_deref()));
            w.put_text(3, f.discharge.as_ref().map(|d| d.country.as_str()));
            w.put_text(4, f.discharge.as_ref().map(|d| d.place.as_str()));
            w.put_text(5, j["discharge"]["time"].as_str());
            w.put_text(6, Some(&chain.join(">")));
            w.put_float(7, j["volume_bbl"].as_f64());
            w.put_float(8, j["low_bbl"].as_f64());
            w.put_float(9, j["high_bbl"].as_f64());
            w.put_float(10, j["confidence"].as_f64());
            w.put_text(11, Some(&j.to_string()));
            match line.len() {
                0 => w.put_point(12, f64::NAN, f64::NAN),
                1 => w.put_point(12, line[0][0], line[0][1]),
                _ => w.put_line(12, &line.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>()),
            }
            w.end_row()?;
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The hull id of a vessel with these MMSIs (`docs/formats.md`).
fn hull_id(a: &Analysis, mmsis: &[u32]) -> String {
    mmsis
        .iter()
        .find_map(|&m| a.hull_of(m))
        .map(|h| h.id.clone())
        .unwrap_or_default()
}
