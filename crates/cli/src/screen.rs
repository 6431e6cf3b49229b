//! `shadowfleet screen`: load sanctions lists, watch lists and particulars into a store, and
//! screen every vessel identity seen against them.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use shadowfleet_store::Store;

/// Output format.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// An aligned table.
    Text,
    /// One JSON object per match.
    Ndjson,
    /// CSV with a header.
    Csv,
}

/// Arguments of `shadowfleet screen`.
#[derive(Args)]
pub struct ScreenArgs {
    /// Store directory (made by `shadowfleet analyze`).
    #[arg(long)]
    store: PathBuf,
    /// Lists to load first: `PATH` (format detected) or `FORMAT:PATH` with FORMAT one of
    /// ofac-csv, ofac-xml, ofac-json, eu-csv, ftm-json, gur-csv, imo-csv, particulars. A list
    /// replaces a stored list of the same name (the file name without extension). Every file
    /// is checked before any is stored.
    #[arg(long, num_args = 1..)]
    lists: Vec<String>,
    /// Lowest score shown (the stored results keep every match at the screening threshold).
    #[arg(long, default_value_t = 0.0)]
    min_score: f64,
    /// Analysis configuration (TOML; see docs/formats.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Runs the command.
pub fn run(args: ScreenArgs) -> anyhow::Result<ExitCode> {
    let mut store = Store::open_existing(&args.store)?;
    let config = shadowfleet_run::config::load_analysis_config(args.config.as_ref(), None)?;
    load_lists(&mut store, &args.lists, true)?;
    let identities = store.identities()?;
    let lists: Vec<_> = store.lists()?.into_iter().map(|l| l.list).collect();
    if lists.is_empty() {
        anyhow::bail!(
            "no lists in {}: give some with --lists",
            args.store.display()
        );
    }
    let matches = shadowfleet_risk::screen(&identities, &lists, &config.screening);
    let rows: Vec<shadowfleet_store::StoredMatch> = matches
        .iter()
        .map(|m| {
            Ok(shadowfleet_store::StoredMatch {
                mmsi: m.mmsi,
                imo: m.imo,
                list: m.list.clone(),
                entry: m.entry.clone(),
                score: m.score,
                details: serde_json::to_value(m)?,
            })
        })
        .collect::<Result<_, serde_json::Error>>()?;
    store.replace_matches(&rows)?;
    let vessels: std::collections::HashSet<u32> = identities.iter().map(|i| i.mmsi).collect();
    eprintln!(
        "screened {} identities of {} MMSIs against {} lists: {} matches",
        identities.len(),
        vessels.len(),
        lists.len(),
        matches.len()
    );
    let mut out = BufWriter::new(io::stdout().lock());
    let shown = matches.iter().filter(|m| m.score >= args.min_score);
    match args.format {
        Format::Ndjson => {
            for m in shown {
                serde_json::to_writer(&mut out, m)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            writeln!(
                out,
                "score,mmsi,imo,name,list,list_kind,entry,entry_name,entry_imo,matched,explanation"
            )?;
            for m in shown {
                let kind = serde_json::to_value(m.list_kind)?;
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    m.score,
                    m.mmsi,
                    m.imo.map(|i| i.to_string()).unwrap_or_default(),
                    csv_field(&m.name),
                    csv_field(&m.list),
                    kind.as_str().unwrap_or(""),
                    csv_field(&m.entry),
                    csv_field(&m.entry_name),
                    m.entry_imo.map(|i| i.to_string()).unwrap_or_default(),
                    m.matched.join("+"),
                    csv_field(&m.explanation)
                )?;
            }
        }
        Format::Text => {
            writeln!(
                out,
                "{:<5}  {:<9}  {:<7}  {:<20}  {:<28}  {:<24}  why",
                "score", "mmsi", "imo", "name", "list", "entry"
            )?;
            for m in shown {
                writeln!(
                    out,
                    "{:<5.2}  {:<9}  {:<7}  {:<20}  {:<28}  {:<24}  {}",
                    m.score,
                    m.mmsi,
                    m.imo.map(|i| i.to_string()).unwrap_or_default(),
                    truncate(&m.name, 20),
                    truncate(&m.list, 28),
                    truncate(&format!("{} {}", m.entry, m.entry_name), 24),
                    m.explanation
                )?;
            }
        }
    }
    out.flush().context("writing the matches")?;
    Ok(ExitCode::SUCCESS)
}

/// Loads `lists` (`PATH` or `FORMAT:PATH`) into `store`: every file is read and validated
/// before any is stored.
pub(crate) fn load_lists(store: &mut Store, lists: &[String], verbose: bool) -> anyhow::Result<()> {
    let loaded = shadowfleet_run::lists::load_lists(store, lists, crate::wall_clock_seconds())?;
    if verbose {
        for list in &loaded {
            eprintln!(
                "loaded {} ({}, {}): {} entries",
                list.name,
                list.format.as_str(),
                serde_json::to_value(list.kind)?.as_str().unwrap_or(""),
                list.entries.len()
            );
            for n in &list.notes {
                eprintln!("  note: {n}");
            }
        }
    }
    Ok(())
}

/// Quotes a CSV field when needed.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
