//! `shadowfleet backtest`: the risk score ranked month by month from data before each
//! designation month, against the designations that followed (`run::backtest`).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use shadowfleet_store::Store;

/// Output format.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// A table per month and a summary.
    Text,
    /// The whole result as one JSON object.
    Json,
}

/// Arguments of `shadowfleet backtest`.
#[derive(Args)]
pub struct BacktestArgs {
    /// Store directory (made by `shadowfleet analyze`).
    #[arg(long)]
    store: PathBuf,
    /// Lists to load first, as `screen --lists` takes them; the designations are the dated
    /// entries of the sanctions lists in the store.
    #[arg(long, num_args = 1..)]
    lists: Vec<String>,
    /// Size of the top of the ranking that counts as flagged.
    #[arg(long, default_value_t = 50)]
    k: usize,
    /// Analysis configuration (TOML; see docs/formats.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Runs the command.
pub fn run(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let mut store = Store::open_existing(&args.store)?;
    let config = shadowfleet_run::config::load_analysis_config(args.config.as_ref(), None)?;
    crate::screen::load_lists(&mut store, &args.lists, true)?;
    let b = shadowfleet_run::backtest::backtest(&store, &config, args.k)?;
    let mut out = io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &b)?;
            writeln!(out)?;
        }
        Format::Text => {
            writeln!(
                out,
                "Backtest of the risk score, top {} — data {} to {}; {} dated designations of vessels in the data ({} of vessels it never saw, left out)",
                b.k, b.data.0, b.data.1, b.designations, b.unseen_designations
            )?;
            writeln!(
                out,
                "{:<8} {:>7} {:>16} {:>10} {:>5} {:>12} {:>9} {:>10}",
                "month",
                "ranked",
                "later designated",
                "that month",
                "hits",
                "precision@k",
                "recall",
                "base rate"
            )?;
            for m in &b.months {
                writeln!(
                    out,
                    "{:<8} {:>7} {:>16} {:>10} {:>5} {:>12.3} {:>9.3} {:>10.3}",
                    m.month,
                    m.ranked,
                    m.later_designated,
                    m.designated_in_month,
                    m.hits,
                    m.precision_at_k,
                    m.recall_at_k,
                    m.base_rate
                )?;
            }
            if b.months.is_empty() {
                writeln!(
                    out,
                    "no designation month with a week of data before it: nothing to rank"
                )?;
            }
            writeln!(
                out,
                "{} of {} later-designated vessels were in a top {} before their designation; median lead {}",
                b.designated_in_top_k,
                b.designated_ranked,
                b.k,
                b.median_lead_weeks
                    .map_or("-".to_owned(), |w| format!("{w:.1} weeks"))
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
