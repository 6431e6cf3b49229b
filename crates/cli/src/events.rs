//! `shadowfleet events`: list stored events.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use shadowfleet_api::views::event_json;
use shadowfleet_model::Timestamp;
use shadowfleet_records::{ConfidenceLevel, EventKind};
use shadowfleet_store::{EventFilter, Store};

use crate::screen::csv_field;

/// Output format.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// CSV with a header; `details` as a JSON string.
    Csv,
    /// A GeoJSON FeatureCollection of points.
    Geojson,
}

/// The lowest confidence shown.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MinConfidence {
    /// Everything, noise included.
    Low,
    /// The usual evidence and stronger.
    Medium,
    /// Strong, independent support only.
    High,
}

impl MinConfidence {
    /// The level.
    pub fn level(self) -> ConfidenceLevel {
        match self {
            MinConfidence::Low => ConfidenceLevel::Low,
            MinConfidence::Medium => ConfidenceLevel::Medium,
            MinConfidence::High => ConfidenceLevel::High,
        }
    }
}

/// Arguments of `shadowfleet events`.
#[derive(Args)]
pub struct EventsArgs {
    /// Store directory.
    #[arg(long)]
    pub(crate) store: PathBuf,
    /// Only this kind.
    #[arg(long, value_parser = kind_parser())]
    pub(crate) kind: Option<EventKind>,
    /// Only events ending at or after this instant (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub(crate) since: Option<i64>,
    /// Only this MMSI.
    #[arg(long)]
    pub(crate) mmsi: Option<u32>,
    /// Only events of at least this confidence: low (everything), medium, high.
    #[arg(long, value_enum, default_value = "medium")]
    pub(crate) min_confidence: MinConfidence,
    /// Output format.
    #[arg(long, value_enum, default_value = "ndjson")]
    pub(crate) format: Format,
}

/// Parses an event kind; `--help` and errors list every kind of [`EventKind::ALL`].
pub(crate) fn kind_parser() -> impl clap::builder::TypedValueParser<Value = EventKind> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(EventKind::ALL.map(|k| k.as_str()))
        .try_map(|s: String| EventKind::parse(&s).ok_or_else(|| format!("unknown kind {s:?}")))
}

fn parse_time(s: &str) -> Result<i64, String> {
    Timestamp::parse_rfc3339(s)
        .map(|t| t.unix_millis().div_euclid(1000))
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

fn time(t: i64) -> String {
    Timestamp::from_unix_seconds(t).to_string()
}

/// Writes `features` as one GeoJSON FeatureCollection and a newline.
pub(crate) fn write_features(out: &mut impl Write, features: Vec<Value>) -> anyhow::Result<()> {
    serde_json::to_writer(
        &mut *out,
        &json!({"type": "FeatureCollection", "features": features}),
    )?;
    writeln!(out)?;
    Ok(())
}

/// Runs the command.
pub fn run(args: EventsArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(&args.store)?;
    let events = store.events(&EventFilter {
        kind: args.kind,
        since: args.since,
        mmsi: args.mmsi,
        min_confidence: Some(args.min_confidence.level()),
        id: None,
    })?;
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        Format::Ndjson => {
            for e in &events {
                writeln!(out, "{}", event_json(e))?;
            }
        }
        Format::Csv => {
            writeln!(
                out,
                "id,kind,mmsi,imo,other_mmsi,start,end,lat,lon,details,confidence,confidence_reasons,truncated_start,truncated_end"
            )?;
            let opt = |v: Option<u32>| v.map_or(String::new(), |v| v.to_string());
            for s in &events {
                let e = &s.event;
                let coord = |x: f64| {
                    if x.is_finite() {
                        x.to_string()
                    } else {
                        String::new()
                    }
                };
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    s.id,
                    e.kind(),
                    e.mmsi,
                    opt(e.imo),
                    opt(e.other_mmsi),
                    time(e.start),
                    time(e.end),
                    coord(e.lat),
                    coord(e.lon),
                    csv_field(&e.details.to_json().unwrap_or_default()),
                    e.confidence.level.as_str(),
                    csv_field(&serde_json::to_string(&e.confidence.reasons).unwrap_or_default()),
                    e.truncated_start,
                    e.truncated_end
                )?;
            }
        }
        Format::Geojson => {
            let features: Vec<Value> = events
                .iter()
                .map(|s| {
                    let mut props = event_json(s);
                    let geometry = if s.event.lat.is_finite() && s.event.lon.is_finite() {
                        json!({"type": "Point", "coordinates": [s.event.lon, s.event.lat]})
                    } else {
                        Value::Null
                    };
                    if let Some(o) = props.as_object_mut() {
                        o.remove("lat");
                        o.remove("lon");
                    }
                    json!({"type": "Feature", "geometry": geometry, "properties": props})
                })
                .collect();
            write_features(&mut out, features)?;
        }
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}
