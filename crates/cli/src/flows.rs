//! `shadowfleet flows` and `shadowfleet exposure`: the traced cargo flows, and the country
//! exposure table (CSV, JSON or an HTML report).

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::json;
use shadowfleet_model::Timestamp;
use shadowfleet_store::Store;

use crate::screen::csv_field;
use shadowfleet_api::views::flow_json;
use shadowfleet_run::analysis::Analysis;
use shadowfleet_run::config::load_analysis_config as load_config;

fn time(t: i64) -> String {
    Timestamp::from_unix_seconds(t).to_string()
}

/// Format of `flows`.
#[derive(Clone, Copy, ValueEnum)]
pub enum FlowFormat {
    /// One JSON object per flow.
    Ndjson,
    /// CSV, one row per flow, the chain as `mmsi>mmsi`.
    Csv,
}

/// Arguments of `shadowfleet flows`.
#[derive(Args)]
pub struct FlowsArgs {
    /// Store directory.
    #[arg(long)]
    store: PathBuf,
    /// Only flows whose oil comes from this country (ISO alpha-2), e.g. RU.
    #[arg(long)]
    origin: Option<String>,
    /// Analysis configuration (TOML; see docs/formats.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "ndjson")]
    format: FlowFormat,
}

/// Runs `flows`.
pub fn run_flows(args: FlowsArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(&args.store)?;
    let a = Analysis::run(&store, load_config(args.config.as_ref(), None)?)?;
    let mut out = BufWriter::new(io::stdout().lock());
    if matches!(args.format, FlowFormat::Csv) {
        writeln!(out, "id,cargo,origin_country,origin_place,inferred,loaded,chain,sts_hops,status,discharge_country,discharge_place,discharged,volume_bbl,volume_t,low_bbl,high_bbl,confidence,evidence,origin_probability")?;
    }
    for f in &a.traced.flows {
        let Some(c) = a.traced.cargoes.get(f.cargo) else {
            continue;
        };
        if f.share <= 0.0 {
            continue;
        }
        let origin = c.origin.as_ref().map(|o| o.country.as_str());
        // An inferred origin may name another country first and the asked one among the
        // others: the flow is shown when the asked one has a chance.
        if args
            .origin
            .as_deref()
            .is_some_and(|o| c.origin.as_ref().is_none_or(|x| x.probability_of(o) <= 0.0))
        {
            continue;
        }
        let j = flow_json(f, c);
        match args.format {
            FlowFormat::Ndjson => {
                serde_json::to_writer(&mut out, &j)?;
                out.write_all(b"\n")?;
            }
            FlowFormat::Csv => {
                let chain: Vec<String> = f.chain.iter().map(|h| h.mmsi.to_string()).collect();
                let ev: Vec<String> = f.evidence(c).iter().map(i64::to_string).collect();
                let d = f.discharge.as_ref();
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{:.0},{:.0},{:.0},{:.0},{},{},{}",
                    f.id,
                    c.id,
                    origin.unwrap_or(""),
                    c.origin
                        .as_ref()
                        .and_then(|o| o.place.as_deref())
                        .unwrap_or(""),
                    c.origin.as_ref().is_some_and(|o| o.inferred),
                    time(c.loaded),
                    chain.join(">"),
                    f.sts_hops(),
                    j["status"].as_str().unwrap_or(""),
                    d.map_or("", |d| d.country.as_str()),
                    d.map_or("", |d| d.place.as_str()),
                    d.map(|d| time(d.t)).unwrap_or_default(),
                    j["volume_bbl"].as_f64().unwrap_or(0.0),
                    j["volume_t"].as_f64().unwrap_or(0.0),
                    j["low_bbl"].as_f64().unwrap_or(0.0),
                    j["high_bbl"].as_f64().unwrap_or(0.0),
                    j["confidence"],
                    ev.join(" "),
                    c.origin
                        .as_ref()
                        .map(|o| o.probability.to_string())
                        .unwrap_or_default()
                )?;
            }
        }
    }
    out.flush().context("writing the flows")?;
    Ok(ExitCode::SUCCESS)
}

/// Format of `exposure`.
#[derive(Clone, Copy, ValueEnum)]
pub enum ExposureFormat {
    /// CSV with a header.
    Csv,
    /// A JSON document: the rows, the settings and the totals.
    Json,
    /// A self-contained HTML report.
    Html,
}

/// Arguments of `shadowfleet exposure`.
#[derive(Args)]
pub struct ExposureArgs {
    /// Store directory.
    #[arg(long)]
    store: PathBuf,
    /// First month, YYYY-MM.
    #[arg(long, value_parser = parse_month)]
    from: Option<String>,
    /// Last month, YYYY-MM.
    #[arg(long, value_parser = parse_month)]
    to: Option<String>,
    /// Origin countries counted (ISO alpha-2; default RU). Repeat for several.
    #[arg(long)]
    origin: Vec<String>,
    /// Count Kazakh CPC Blend loaded at Novorossiysk CPC as Russian (CREA counts it Kazakh).
    #[arg(long)]
    cpc_as_russian: bool,
    /// Price series: CSV `month,usd_per_bbl` (months not listed use the default price).
    #[arg(long)]
    prices: Option<PathBuf>,
    /// Analysis configuration (TOML; see docs/formats.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: ExposureFormat,
}

fn parse_month(s: &str) -> Result<String, String> {
    if shadowfleet_risk::is_month(s) {
        Ok(s.to_owned())
    } else {
        Err(format!("{s:?} is not a month YYYY-MM"))
    }
}

/// Runs `exposure`.
pub fn run_exposure(args: ExposureArgs) -> anyhow::Result<ExitCode> {
    if let (Some(f), Some(t)) = (&args.from, &args.to) {
        if f > t {
            anyhow::bail!("--from {f} is after --to {t}");
        }
    }
    let store = Store::open_existing(&args.store)?;
    let mut config = load_config(args.config.as_ref(), args.prices.as_ref())?;
    if !args.origin.is_empty() {
        config.exposure.origins = args.origin.iter().map(|o| o.to_ascii_uppercase()).collect();
    }
    if args.cpc_as_russian {
        config.voyages.cpc_is_kazakh = false;
    }
    let a = Analysis::run(&store, config)?;
    let rows = a.exposure(args.from.as_deref(), args.to.as_deref());
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        ExposureFormat::Csv => {
            writeln!(out, "country,month,cargoes,volume_bbl,volume_t,via_sts_share,shadow_share,low_bbl,high_bbl,value_usd,price_usd_per_bbl,inferred_bbl,unconfirmed_bbl,unknown_bbl,interval_drivers,sanctioned_then_share,sanctioned_later_share,sanctioned_undated_share")?;
            for r in &rows {
                writeln!(
                    out,
                    "{},{},{},{:.0},{:.0},{:.3},{:.3},{:.0},{:.0},{:.0},{},{:.0},{:.0},{:.0},{},{:.3},{:.3},{:.3}",
                    csv_field(&r.country),
                    r.month,
                    r.cargoes,
                    r.volume_bbl,
                    r.volume_t,
                    r.via_sts_share,
                    r.shadow_share,
                    r.low_bbl,
                    r.high_bbl,
                    r.value_usd,
                    r.price_usd_per_bbl,
                    r.inferred_bbl,
                    r.unconfirmed_bbl,
                    r.unknown_bbl,
                    csv_field(&r.interval_drivers),
                    r.sanctioned_then_share,
                    r.sanctioned_later_share,
                    r.sanctioned_undated_share
                )?;
            }
        }
        ExposureFormat::Json => {
            let total: f64 = rows.iter().map(|r| r.volume_bbl).sum();
            let doc = json!({
                "origins": a.config.exposure.origins,
                "from": args.from,
                "to": args.to,
                "cpc_is_kazakh": a.config.voyages.cpc_is_kazakh,
                "total_bbl": total.round(),
                "rows": rows,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            out.write_all(b"\n")?;
        }
        ExposureFormat::Html => {
            let html =
                shadowfleet_api::report::html(&a, &rows, args.from.as_deref(), args.to.as_deref());
            out.write_all(html.as_bytes())?;
        }
    }
    out.flush().context("writing the exposure")?;
    Ok(ExitCode::SUCCESS)
}
