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
    /// Screen as of this past day (`YYYY-MM-DD`): only identities the data had seen by its end,
    /// and each match's listing state on that day (`listed`, `not_yet_listed`,
    /// `date_unknown`). The stored screening results are left as they are. Without it, the
    /// state is given as of the day the identity was last seen.
    #[arg(long, value_parser = as_of_day)]
    as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Alert rules (docs/alerts.md): matches that appeared or disappeared since the last
    /// screening raise the `list_match` rules' alerts, recorded in the store (a running
    /// `watch` delivers them).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Also append the alerts raised to this NDJSON file (each once).
    #[arg(long, requires = "rules")]
    alerts: Option<PathBuf>,
}

fn as_of_day(s: &str) -> Result<String, String> {
    match shadowfleet_refdata::listing_day(s) {
        Some(d) if d == s => Ok(d),
        _ => Err(format!("{s:?} is not a day YYYY-MM-DD")),
    }
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
    // As of a day: the identities seen by its end, as far as the data then showed them.
    let identities: Vec<_> = match &args.as_of {
        None => identities,
        Some(day) => {
            let end = day_end(day)?;
            identities
                .into_iter()
                .filter(|i| i.first_seen <= end)
                .map(|mut i| {
                    i.last_seen = i.last_seen.min(end);
                    i
                })
                .collect()
        }
    };
    let matches = shadowfleet_risk::screen(&identities, &lists, &config.screening);
    let last_seen: std::collections::HashMap<u32, i64> =
        identities.iter().fold(Default::default(), |mut m, i| {
            let e = m.entry(i.mmsi).or_insert(i.last_seen);
            *e = (*e).max(i.last_seen);
            m
        });
    // The day each match's listing state is told for.
    let state_day = |m: &shadowfleet_risk::ScreenMatch| -> String {
        args.as_of.clone().unwrap_or_else(|| {
            let t = last_seen.get(&m.mmsi).copied().unwrap_or(0);
            let s = shadowfleet_model::Timestamp::from_unix_seconds(t).to_string();
            s.get(..10).unwrap_or("").to_owned()
        })
    };
    let state = |m: &shadowfleet_risk::ScreenMatch| {
        let day = state_day(m);
        let st = shadowfleet_risk::ListingState::as_of(m.listed_on.as_deref(), &day);
        (day, st)
    };
    if args.as_of.is_some() {
        // An answer about a past day: printed, not stored over the current results.
        return print(&args, &matches, &state, identities.len(), lists.len());
    }
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
    let (before, screened) = store.match_keys()?;
    store.replace_matches(&rows)?;
    if let Some(path) = &args.rules {
        let rules = shadowfleet_alerts::Rules::load(path)?;
        let after: Vec<shadowfleet_store::MatchKey> = matches
            .iter()
            .map(|m| {
                let key = shadowfleet_store::entry_key(m.entry_imo, &m.entry_name, &m.entry);
                (m.mmsi, m.imo, m.list.clone(), key)
            })
            .collect();
        let raised = shadowfleet_run::watch::raise_list_alerts(
            &mut store,
            &rules,
            &before,
            &after,
            screened,
            &identities,
            crate::wall_clock_seconds(),
            args.alerts.as_deref(),
        )?;
        if screened {
            eprintln!("{raised} list_match alerts raised (matches that appeared or disappeared since the last screening)");
        } else {
            eprintln!(
                "first screening of this store: its matches are the baseline, no list_match alerts"
            );
        }
    }
    print(&args, &matches, &state, identities.len(), lists.len())
}

/// The last second of the UTC day `YYYY-MM-DD`.
fn day_end(day: &str) -> anyhow::Result<i64> {
    let t = shadowfleet_model::Timestamp::parse_rfc3339(&format!("{day}T23:59:59Z"))
        .map_err(|e| anyhow::anyhow!("--as-of {day}: {e}"))?;
    Ok(t.unix_millis().div_euclid(1000))
}

/// Prints the matches at or above `--min-score` with their listing state.
fn print(
    args: &ScreenArgs,
    matches: &[shadowfleet_risk::ScreenMatch],
    state: &dyn Fn(&shadowfleet_risk::ScreenMatch) -> (String, shadowfleet_risk::ListingState),
    identities: usize,
    lists: usize,
) -> anyhow::Result<ExitCode> {
    let vessels: std::collections::HashSet<u32> = matches.iter().map(|m| m.mmsi).collect();
    eprintln!(
        "screened {identities} identities{} against {lists} lists: {} matches of {} MMSIs",
        args.as_of
            .as_ref()
            .map(|d| format!(" seen by {d}"))
            .unwrap_or_default(),
        matches.len(),
        vessels.len(),
    );
    let mut out = BufWriter::new(io::stdout().lock());
    let shown = matches.iter().filter(|m| m.score >= args.min_score);
    match args.format {
        Format::Ndjson => {
            for m in shown {
                let (day, st) = state(m);
                let mut v = serde_json::to_value(m)?;
                if let Some(o) = v.as_object_mut() {
                    o.insert("as_of".into(), day.into());
                    o.insert("listing_state".into(), st.as_str().into());
                }
                serde_json::to_writer(&mut out, &v)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            writeln!(
                out,
                "score,mmsi,imo,name,list,list_kind,entry,entry_name,entry_imo,matched,explanation,listed_on,as_of,listing_state"
            )?;
            for m in shown {
                let kind = serde_json::to_value(m.list_kind)?;
                let (day, st) = state(m);
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{day},{}",
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
                    csv_field(&m.explanation),
                    m.listed_on.as_deref().unwrap_or(""),
                    st.as_str(),
                )?;
            }
        }
        Format::Text => {
            writeln!(
                out,
                "{:<5}  {:<9}  {:<7}  {:<20}  {:<28}  {:<24}  {:<26}  why",
                "score", "mmsi", "imo", "name", "list", "entry", "listed (as of)"
            )?;
            for m in shown {
                let (day, st) = state(m);
                let listed = format!(
                    "{} ({} {day})",
                    m.listed_on.as_deref().unwrap_or("no date"),
                    match st {
                        shadowfleet_risk::ListingState::Listed => "yes",
                        shadowfleet_risk::ListingState::NotYetListed => "not yet",
                        shadowfleet_risk::ListingState::DateUnknown => "?",
                    }
                );
                writeln!(
                    out,
                    "{:<5.2}  {:<9}  {:<7}  {:<20}  {:<28}  {:<24}  {:<26}  {}",
                    m.score,
                    m.mmsi,
                    m.imo.map(|i| i.to_string()).unwrap_or_default(),
                    truncate(&m.name, 20),
                    truncate(&m.list, 28),
                    truncate(&format!("{} {}", m.entry, m.entry_name), 24),
                    listed,
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
