//! `shadowfleet analyze`: AIS inputs → detection pipeline → store.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use shadowfleet_run::config::{config_dir, load_detector_config, read_ports};
use shadowfleet_run::ingest::{ingest, IngestInput, IngestOptions};
use shadowfleet_store::PositionWriterConfig;

/// Arguments of `shadowfleet analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// AIS files (NMEA with tag blocks, gzip or zstd, DMA/NOAA CSV), in time order.
    #[arg(required = true)]
    pub(crate) inputs: Vec<PathBuf>,
    /// Store directory (created when missing).
    #[arg(long)]
    pub(crate) store: PathBuf,
    /// Detector thresholds (TOML, one table per stage; see docs/detectors/).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// More ports for port calls: a World Port Index (Pub 150) CSV or a UN/LOCODE CSV with
    /// coordinates (detected from the header). Ports near an embedded place are left out.
    #[arg(long, num_args = 1..)]
    pub(crate) ports: Vec<PathBuf>,
    /// CSV columns the header recognition misses: ROLE=HEADER, comma-separated or repeated
    /// (roles: mmsi, time, lat, lon, sog, sog_tenths, cog, heading, imo, name, callsign,
    /// ship_type, draught, status, length, width, class, destination).
    #[arg(long)]
    pub(crate) columns: Vec<String>,
    /// Analyse the timed reports of an input whose position reports are mostly without a
    /// receive time (by default that is an error: untimed reports cannot be placed in time).
    #[arg(long)]
    pub(crate) allow_untimed: bool,
    /// Also print the CPU time of each stage (decoding, tracks, detection and each detector,
    /// the position writer, the store's commit) on stderr.
    #[arg(long)]
    pub(crate) profile: bool,
    /// Start the detectors afresh instead of continuing from the state the store's last run
    /// left (its open gaps, visits, encounters, tracks and identities); this run's state then
    /// becomes the store's.
    #[arg(long)]
    pub(crate) fresh: bool,
    /// No summary on stderr.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Where the demo follows the run: bytes of the inputs read.
    #[arg(skip)]
    pub(crate) progress: Option<crate::progress::Progress>,
}

/// Runs the command.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let options = IngestOptions {
        detectors: load_detector_config(args.config.as_deref())?,
        config_dir: config_dir(args.config.as_deref()),
        extra_ports: read_ports(&args.ports)?,
        started_at: crate::wall_clock_seconds(),
        positions: PositionWriterConfig::default(),
        bytes_read: args.progress.clone(),
        allow_untimed: args.allow_untimed,
        columns: shadowfleet_run::config::parse_columns(&args.columns)?,
        profile: args.profile,
        fresh: args.fresh,
    };
    if !args.quiet && !args.ports.is_empty() {
        eprintln!(
            "ports: {} read (those inland or near a known place are left out)",
            options.extra_ports.len()
        );
    }
    let inputs: Vec<IngestInput> = args.inputs.iter().map(|p| IngestInput::file(p)).collect();
    let report = ingest(&args.store, &inputs, &options)?;
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    let r = &report.recovered;
    if r.published + r.discarded > 0 {
        eprintln!(
            "recovered an interrupted run: {} committed position files put in place, {} uncommitted staging directories removed",
            r.published, r.discarded
        );
    }
    for name in &report.skipped {
        eprintln!("{name}: already in the store, skipped");
    }
    if report.run.is_none() {
        eprintln!("nothing new to analyse");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(run) = report.continued_from {
        eprintln!("continued from the state of run {run} (its open tracks, gaps, visits, encounters and identities)");
    }
    if let Some(note) = &report.state_note {
        eprintln!("pipeline state: {note}");
    }
    let counts: Vec<String> = report
        .events
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    eprintln!(
        "{} inputs, {} messages ({} positions stored in {} files, {} duplicates dropped) in {:.1} s ({:.2} M msg/s); {} events: {}; {} identity periods; store {}",
        report.inputs.len(),
        report.messages,
        report.positions,
        report.position_files,
        report.duplicates,
        report.elapsed_s,
        report.messages as f64 / report.elapsed_s.max(1e-9) / 1e6,
        report.event_count(),
        counts.join(", "),
        report.identities,
        args.store.display()
    );
    if report.open_events > 0 {
        eprintln!(
            "{} of the events are still open at the end of the data: stored as provisional, the next run continues them",
            report.open_events
        );
    }
    if args.profile {
        let c = &report.cpu;
        eprintln!(
            "CPU seconds per stage ({} vessels): decode {:.2}, tracks {:.2}, detection {:.2}, position writer {:.2}; store commit {:.2} s wall",
            report.vessels, c.decode_s, c.tracks_s, c.detect_s, c.positions_s, c.commit_s
        );
        let parts: Vec<String> = std::iter::once(format!("identities {:.2}", c.identities_s))
            .chain(c.detectors.iter().map(|(d, s)| format!("{d} {s:.2}")))
            .collect();
        eprintln!("  detection by detector (estimated): {}", parts.join(", "));
    }
    let left_out = report.dropped.lines();
    if !left_out.is_empty() {
        eprintln!("left out (see docs/cli.md for each counter):");
        for line in left_out {
            eprintln!("  {line}");
        }
        for e in report.csv_errors.iter().take(5) {
            eprintln!("  CSV row rejected: {e}");
        }
        if report.dropped.csv_rows > 5 {
            eprintln!("  ... and {} more CSV rows", report.dropped.csv_rows - 5);
        }
    }
    Ok(ExitCode::SUCCESS)
}
