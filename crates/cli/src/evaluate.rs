//! `shadowfleet eval`: score a store's events against simulator truth.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use shadowfleet_eval::{evaluate, MatchRules};
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
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Runs the command.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.truth)
        .with_context(|| format!("reading {}", args.truth.display()))?;
    let truth = read_truth(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.truth.display()))?;
    let store = Store::open_existing(&args.store)?;
    let events: Vec<_> = store
        .events(&EventFilter::default())?
        .into_iter()
        .map(|s| s.event)
        .collect();
    let eval = evaluate(&truth, &events, MatchRules::default())
        .with_artefacts(&truth, &store.dropped_total()?);
    match args.format {
        Format::Text => print!("{}", eval.to_text()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&eval)?),
    }
    Ok(ExitCode::SUCCESS)
}
