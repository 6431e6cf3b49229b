//! `shadowfleet evidence` and `shadowfleet verify`: evidence packs for a finding or a vessel,
//! and their check (`run::evidence`).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use shadowfleet_run::analysis::Analysis;
use shadowfleet_run::config::load_analysis_config;
use shadowfleet_run::evidence::{vessel_mmsis, Pack, PackOptions, Target};
use shadowfleet_store::Store;

/// Arguments of `shadowfleet evidence`.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["event", "vessel"])))]
pub struct EvidenceArgs {
    /// Store directory (made by `shadowfleet analyze`).
    #[arg(long)]
    store: PathBuf,
    /// The event's id (as `events` lists it).
    #[arg(long)]
    event: Option<i64>,
    /// A vessel by IMO number (7 digits) or MMSI (9 digits): every event of its hull found
    /// by the latest run that found any.
    #[arg(long)]
    vessel: Option<String>,
    /// The pack to write (a zip; see docs/formats.md).
    #[arg(long)]
    out: PathBuf,
    /// Directories holding the run's inputs, when they are no longer where the run read them
    /// (found by file name; each must have the SHA-256 the store recorded).
    #[arg(long, num_args = 1..)]
    inputs: Vec<PathBuf>,
    /// Raw lines are taken from this many hours before each event to this many after it.
    #[arg(long, default_value_t = 12.0)]
    margin_hours: f64,
    /// Analysis configuration (TOML; see docs/formats.md), for the list matches.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Arguments of `shadowfleet verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The pack (a zip written by `shadowfleet evidence` or `GET /api/events/{id}/evidence`).
    pack: PathBuf,
    /// Original input files: the raw lines whose input has the same SHA-256 are checked
    /// against the bytes at their offsets.
    #[arg(long = "input", num_args = 1..)]
    inputs: Vec<PathBuf>,
}

/// Runs `evidence`.
pub fn run(args: EvidenceArgs) -> anyhow::Result<ExitCode> {
    if !(args.margin_hours.is_finite() && args.margin_hours >= 0.0) {
        anyhow::bail!("--margin-hours must be a number of hours, 0 or more");
    }
    let store = Store::open_existing(&args.store)?;
    let analysis = Analysis::run(&store, load_analysis_config(args.config.as_ref(), None)?)?;
    let target = match (&args.event, &args.vessel) {
        (Some(id), _) => Target::Event(*id),
        (None, Some(q)) => Target::Vessel(vessel_mmsis(&analysis, q).with_context(|| {
            format!(
                "no vessel {q:?} in {} (give an IMO number or an MMSI seen in AIS)",
                args.store.display()
            )
        })?),
        (None, None) => anyhow::bail!("give --event ID or --vessel IMO|MMSI"),
    };
    let options = PackOptions {
        margin_s: (args.margin_hours * 3600.0).round() as i64,
        input_dirs: args.inputs.clone(),
        created_at: crate::wall_clock_seconds(),
    };
    let pack = Pack::build(&store, &analysis, &target, &options)?;
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    pack.write_zip(io::BufWriter::new(file))
        .with_context(|| format!("writing {}", args.out.display()))?;
    let manifest = pack.manifest()?;
    let mut err = io::stderr().lock();
    let lines: u64 = manifest["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["lines"].as_u64())
        .sum();
    writeln!(
        err,
        "wrote {}: {} event(s), {lines} raw line(s) from {} input(s)",
        args.out.display(),
        manifest["events"].as_array().map_or(0, Vec::len),
        manifest["inputs"].as_array().map_or(0, Vec::len),
    )?;
    for r in manifest["reproduction"].as_array().into_iter().flatten() {
        writeln!(
            err,
            "  event {}: reproduced from the pack's lines: {}",
            r["id"],
            r["status"].as_str().unwrap_or("")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `verify`: exit status 0 when the pack verifies, 1 when something differs.
pub fn run_verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let pack = Pack::open(&args.pack)?;
    let v = pack.verify(&args.inputs)?;
    let mut out = io::stdout().lock();
    for p in &v.passed {
        writeln!(out, "ok: {p}")?;
    }
    for p in &v.problems {
        writeln!(out, "DIFFERS: {p}")?;
    }
    if v.ok() {
        writeln!(out, "{}: verified", args.pack.display())?;
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(
            out,
            "{}: NOT verified ({} difference(s))",
            args.pack.display(),
            v.problems.len()
        )?;
        Ok(ExitCode::FAILURE)
    }
}
