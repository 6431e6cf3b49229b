//! `shadowfleet ceasefire`: the Black Sea maritime-ceasefire monitor's weekly metrics
//! (`docs/ceasefire.md`).

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use shadowfleet_ceasefire::{monitor, read_incidents, Inputs, Options, Registry, Report};
use shadowfleet_model::Timestamp;
use shadowfleet_places::Places;
use shadowfleet_run::analysis::Analysis;
use shadowfleet_run::config::load_analysis_config as load_config;
use shadowfleet_store::Store;

use crate::screen::csv_field;

/// Output format of `ceasefire`.
#[derive(Clone, Copy, ValueEnum)]
pub enum CeasefireFormat {
    /// CSV, the table `--table` names.
    Csv,
    /// The whole report as one JSON object.
    Json,
    /// A self-contained HTML report.
    Html,
}

/// Which table `--format csv` writes.
#[derive(Clone, Copy, ValueEnum)]
pub enum CeasefireTable {
    /// One row per week × metric × place × split.
    Weekly,
    /// Mean and interval of each metric per regime.
    Regimes,
    /// Change points in daily departures.
    Changes,
    /// Spoofing clusters.
    Clusters,
    /// Calls at occupied ports.
    Occupied,
    /// Traffic after each incident.
    Incidents,
}

/// Arguments of `shadowfleet ceasefire`.
#[derive(Args)]
pub struct CeasefireArgs {
    /// Store directory (analysed AIS of the Black Sea).
    #[arg(long)]
    store: PathBuf,
    /// First day, `YYYY-MM-DD` (default: the first day of the store's events in the box).
    #[arg(long)]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD`, inclusive (default: the last day of the events).
    #[arg(long)]
    to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: CeasefireFormat,
    /// Which table CSV writes.
    #[arg(long, value_enum, default_value = "weekly")]
    table: CeasefireTable,
    /// Only this metric (weekly and regime tables).
    #[arg(long)]
    metric: Option<String>,
    /// Only this place (registry id or region).
    #[arg(long)]
    place: Option<String>,
    /// A registry file instead of the embedded Black Sea registry (TOML, docs/ceasefire.md).
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Incident file: CSV `time,place,vessel,description`.
    #[arg(long)]
    incidents: Option<PathBuf>,
    /// Analysis configuration (TOML; docs/formats.md), for the screening thresholds.
    #[arg(long)]
    config: Option<PathBuf>,
}

fn day(flag: &str, text: &str) -> anyhow::Result<i64> {
    Timestamp::parse_day(text)
        .map(|t| t.unix_millis() / 1000)
        .with_context(|| format!("--{flag} {text:?}: not a day (YYYY-MM-DD)"))
}

/// Runs `ceasefire`.
pub fn run(args: CeasefireArgs) -> anyhow::Result<ExitCode> {
    let land =
        shadowfleet_geo::Land::natural_earth_10m().context("loading the embedded land polygons")?;
    let places = Places::embedded(&land).context("loading the embedded places")?;
    let registry = match &args.registry {
        Some(p) => Registry::load(p, &places)?,
        None => Registry::black_sea(&places)?,
    };
    let mut options = Options {
        from: args.from.as_deref().map(|d| day("from", d)).transpose()?,
        to: args
            .to
            .as_deref()
            .map(|d| day("to", d).map(|t| t + 86_400))
            .transpose()?,
        ..Options::default()
    };
    if let Some(p) = &args.incidents {
        options.incidents = read_incidents(p)?;
    }
    let store = Store::open_existing(&args.store)?;
    let a = Analysis::run(&store, load_config(args.config.as_ref(), None)?)?;
    let report = monitor(
        &store,
        &registry,
        &Inputs {
            events: &a.events,
            identities: &a.identities,
            matches: &a.matches,
            land: &land,
            port_entry_km: shadowfleet_run::config::port_call_entry_km(&store, &a.events)?,
        },
        &options,
    )?;
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        CeasefireFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &filtered(report, &args))?;
            out.write_all(b"\n")?;
        }
        CeasefireFormat::Csv => write_csv(&mut out, &filtered(report, &args), args.table)?,
        CeasefireFormat::Html => {
            out.write_all(shadowfleet_ceasefire::html(&filtered(report, &args)).as_bytes())?
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn filtered(mut r: Report, args: &CeasefireArgs) -> Report {
    let keep = |metric: &str, place: &str| {
        args.metric.as_deref().is_none_or(|m| m == metric)
            && args.place.as_deref().is_none_or(|p| p == place)
    };
    r.rows.retain(|x| keep(x.metric, &x.place));
    r.regimes.retain(|x| keep(x.metric, &x.place));
    r
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join(" ")
}

fn write_csv(out: &mut dyn Write, r: &Report, table: CeasefireTable) -> anyhow::Result<()> {
    match table {
        CeasefireTable::Weekly => {
            writeln!(out, "week,week_start,metric,place,split,value,confidence,coverage,regimes,events,evidence,note")?;
            for x in &r.rows {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{},{}",
                    x.week,
                    x.week_start,
                    x.metric,
                    csv_field(&x.place),
                    csv_field(&x.split),
                    x.value,
                    x.confidence,
                    x.coverage,
                    join(&x.regimes),
                    join(&x.events),
                    csv_field(&join(&x.evidence)),
                    csv_field(&x.note)
                )?;
            }
        }
        CeasefireTable::Regimes => {
            writeln!(out, "regime,metric,place,split,weeks,mean,low,high")?;
            for x in &r.regimes {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{}",
                    x.regime,
                    x.metric,
                    csv_field(&x.place),
                    csv_field(&x.split),
                    x.weeks,
                    x.mean,
                    x.low,
                    x.high
                )?;
            }
        }
        CeasefireTable::Changes => {
            writeln!(
                out,
                "metric,place,date,before_per_day,after_per_day,llr,regimes"
            )?;
            for x in &r.change_points {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{}",
                    x.metric,
                    csv_field(&x.place),
                    x.date,
                    x.before_per_day,
                    x.after_per_day,
                    x.llr,
                    join(&x.regimes)
                )?;
            }
        }
        CeasefireTable::Clusters => {
            writeln!(
                out,
                "event,lat,lon,radius_km,area_lat,area_lon,vessels,start,end"
            )?;
            for x in &r.clusters {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{}",
                    x.event,
                    x.lat,
                    x.lon,
                    x.radius_km,
                    x.area_lat,
                    x.area_lon,
                    x.vessels,
                    x.start,
                    x.end
                )?;
            }
        }
        CeasefireTable::Occupied => {
            writeln!(
                out,
                "event,port,mmsi,imo,name,flag,arrival,departure,list_status,dark_approach"
            )?;
            for x in &r.occupied_calls {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{}",
                    x.event.map(|e| e.to_string()).unwrap_or_default(),
                    x.port,
                    x.mmsi,
                    x.imo.map(|e| e.to_string()).unwrap_or_default(),
                    csv_field(&x.name),
                    x.flag.as_deref().unwrap_or(""),
                    x.arrival,
                    x.departure.as_deref().unwrap_or(""),
                    csv_field(&x.list_status),
                    x.dark_approach.map(|e| e.to_string()).unwrap_or_default()
                )?;
            }
        }
        CeasefireTable::Incidents => {
            writeln!(out, "incident,time,place,before_per_day,after7_per_day,after14_per_day,change7_pct,change14_pct,events")?;
            for x in &r.incidents {
                let pct = |p: Option<f64>| p.map(|v| v.to_string()).unwrap_or_default();
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{}",
                    x.incident,
                    x.time,
                    csv_field(&x.place),
                    x.before_per_day,
                    x.after7_per_day,
                    x.after14_per_day,
                    pct(x.change7_pct),
                    pct(x.change14_pct),
                    join(&x.events)
                )?;
            }
        }
    }
    Ok(())
}
