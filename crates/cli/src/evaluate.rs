//! `shadowfleet eval`: score a store's events, cargo flows and country exposure against
//! simulator truth, through the analysis the product runs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Serialize;
use shadowfleet_eval::{
    evaluate, evaluate_flows, evaluate_risk, Evaluation, FlowScore, MatchRules, RiskScore,
};
use shadowfleet_run::analysis::Analysis;
use shadowfleet_simulate::truth::read_truth;
use shadowfleet_store::{EventFilter, Store};

/// Output format.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// A table.
    Text,
    /// One JSON object.
    Json,
}

/// Arguments of `shadowfleet eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Truth file written by `shadowfleet simulate` (truth.ndjson).
    #[arg(long)]
    truth: PathBuf,
    /// Store directory.
    #[arg(long)]
    store: PathBuf,
    /// Lists to load into the store first, as `screen --lists` does (the simulator writes
    /// sanctions_eu.csv, watchlist.csv and particulars.csv beside the truth). Without them
    /// the lists already in the store are used.
    #[arg(long, num_args = 1..)]
    lists: Vec<String>,
    /// Analysis configuration (TOML; see docs/formats.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Origin country whose oil the flows and exposure are scored for (ISO alpha-2).
    #[arg(long, default_value = "RU")]
    origin: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// The JSON output: the event kinds (as before, at the top level), the flows and the risk.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    events: &'a Evaluation,
    flows: &'a FlowScore,
    risk: &'a RiskScore,
    #[serde(skip_serializing_if = "Option::is_none")]
    ceasefire: Option<&'a shadowfleet_eval::ceasefire::CeasefireScore>,
}

/// Runs the command.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.truth)
        .with_context(|| format!("reading {}", args.truth.display()))?;
    let truth = read_truth(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.truth.display()))?;
    let mut store = Store::open_existing(&args.store)?;
    let config = shadowfleet_run::config::load_analysis_config(args.config.as_ref(), None)?;
    crate::screen::load_lists(&mut store, &args.lists, false)?;
    let events: Vec<_> = store
        .events(&EventFilter::default())?
        .into_iter()
        .map(|s| s.event)
        .collect();
    let eval = evaluate(&truth, &events, MatchRules::default())
        .with_artefacts(&truth, &store.dropped_total()?);
    drop(events);
    if store.lists()?.is_empty() {
        eprintln!(
            "note: no lists in {}: risk and origins are scored without sanctions, watch lists \
             or particulars (give them with --lists)",
            args.store.display()
        );
    }
    let analysis = Analysis::run(&store, config)?;
    let rows = analysis.exposure(None, None);
    let flows = evaluate_flows(&truth, &rows, &analysis.traced, &args.origin);
    let risk = evaluate_risk(&truth, &analysis.risks);
    let ceasefire = ceasefire_score(&truth, &store, &analysis)?;
    match args.format {
        Format::Text => {
            print!("{}", eval.to_text());
            print!("{}", flows.to_text());
            println!(
                "risk score: ROC AUC {:.3} over {} tankers ({} shadow)",
                risk.roc_auc, risk.tankers, risk.shadow
            );
            if let Some(c) = &ceasefire {
                print!("{}", c.to_text());
            }
        }
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&Report {
                events: &eval,
                flows: &flows,
                risk: &risk,
                ceasefire: ceasefire.as_ref(),
            })?
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The ceasefire monitor's score, when the truth holds gate transits or port closures.
fn ceasefire_score(
    truth: &[shadowfleet_simulate::truth::TruthRecord],
    store: &Store,
    a: &Analysis,
) -> anyhow::Result<Option<shadowfleet_eval::ceasefire::CeasefireScore>> {
    let land = shadowfleet_geo::Land::natural_earth_10m()?;
    let places = shadowfleet_places::Places::embedded(&land)?;
    Ok(shadowfleet_eval::ceasefire::monitor_and_score(
        truth,
        store,
        &places,
        &shadowfleet_ceasefire::Inputs {
            events: &a.events,
            identities: &a.identities,
            matches: &a.matches,
            land: &land,
            port_entry_km: shadowfleet_run::config::port_call_entry_km(store, &a.events)?,
        },
    )?)
}
