//! `shadowfleet export`: a store's events, vessels or cargo flows as GeoJSON or CSV, for
//! GIS tools and spreadsheets.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use shadowfleet_api::analysis::{load_config, Analysis};
use shadowfleet_api::views::{flow_json, flow_path, vessel_json};
use shadowfleet_store::Store;

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
    /// Vessel tracks (positions): not stored yet.
    Tracks,
}

/// Output format.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// A GeoJSON FeatureCollection.
    Geojson,
    /// CSV with a header.
    Csv,
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
}

/// Runs the command.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Tracks => anyhow::bail!("tracks: positions are not stored yet (the GeoParquet position store comes next); export events, vessels or flows"),
        What::Events => {
            return crate::events::run(crate::events::EventsArgs {
                store: args.store,
                kind: None,
                since: None,
                mmsi: None,
                format: match args.format {
                    Format::Geojson => crate::events::Format::Geojson,
                    Format::Csv => crate::events::Format::Csv,
                },
            })
        }
        What::Vessels | What::Flows => {}
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
    let mut out = BufWriter::new(io::stdout().lock());
    match (args.what, args.format) {
        (What::Vessels, Format::Csv) => {
            writeln!(out, "vessel,mmsis,names,score,shadow,indicators")?;
            for r in &a.risks {
                let ind: Vec<String> = r
                    .indicators
                    .iter()
                    .map(|i| format!("{}:{:.0}", i.name, i.weight * i.strength))
                    .collect();
                writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    r.vessel,
                    r.mmsis
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                    csv_field(&r.names.join(" / ")),
                    r.score,
                    a.is_shadow(r.vessel),
                    ind.join(" ")
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
        (What::Events | What::Tracks, _) => {}
    }
    out.flush().context("writing the export")?;
    Ok(ExitCode::SUCCESS)
}
