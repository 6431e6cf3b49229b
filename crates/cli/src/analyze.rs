//! `shadowfleet analyze`: AIS inputs → detection pipeline → store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use shadowfleet_api::ingest::{ingest, IngestInput, IngestOptions};
use shadowfleet_events::DetectorConfig;
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
    /// No summary on stderr.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Where the demo follows the run: bytes of the inputs read.
    #[arg(skip)]
    pub(crate) progress: Option<crate::demo::Progress>,
}

/// Reads `--ports` files into places (kind port, id `WPI-n` or the UN/LOCODE).
fn read_ports(paths: &[PathBuf]) -> anyhow::Result<Vec<shadowfleet_places::Place>> {
    let mut out = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_ascii_lowercase();
        let ports = if head.contains("world port index number") {
            shadowfleet_refdata::ports::wpi(path, &bytes)?
        } else if head
            .trim_start_matches('\u{feff}')
            .starts_with("country,location")
        {
            shadowfleet_refdata::ports::unlocode(path, &bytes)?
        } else {
            anyhow::bail!(
                "{}:1: not a World Port Index or UN/LOCODE CSV (unknown header)",
                path.display()
            );
        };
        for p in ports {
            let Some(country) = p.country.clone() else {
                continue;
            };
            let at = shadowfleet_geo::LatLon::new(p.lat, p.lon);
            out.push(shadowfleet_places::Place {
                id: p
                    .locode
                    .clone()
                    .or(p.wpi.map(|n| format!("WPI-{n}")))
                    .unwrap_or_else(|| p.name.clone()),
                name: p.name,
                country,
                locode: p.locode.unwrap_or_default(),
                kind: shadowfleet_places::PlaceKind::Port,
                listed: at,
                position: at,
                radius_m: 0.0,
                origin_country: String::new(),
                products: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// Reads the detector configuration file.
pub fn load_config(path: Option<&PathBuf>) -> anyhow::Result<DetectorConfig> {
    let Some(path) = path else {
        return Ok(DetectorConfig::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("{}: not a valid detector configuration", path.display()))
}

/// Wall-clock time for the manifest's "ingested at" (never used by the detectors).
#[allow(
    clippy::disallowed_methods,
    reason = "the manifest records when a run happened"
)]
pub(crate) fn wall_clock_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Runs the command.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let options = IngestOptions {
        detectors: load_config(args.config.as_ref())?,
        extra_ports: read_ports(&args.ports)?,
        started_at: wall_clock_seconds(),
        positions: PositionWriterConfig::default(),
        bytes_read: args.progress.clone(),
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
    if report.late + report.invalid + report.clock_errors > 0 {
        eprintln!(
            "position reports dropped: {} late (after the reorder window closed on their time), {} invalid (position not available or out of range, receive time outside 1990-2106), {} from a receiver clock far ahead of the rest (see docs/detectors/tracks.md)",
            report.late, report.invalid, report.clock_errors
        );
    }
    Ok(ExitCode::SUCCESS)
}
