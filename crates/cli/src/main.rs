//! The `shadowfleet` binary: parses arguments, wires the stages together and
//! maps errors to exit codes. The work happens in the library crates.

mod analyze;
mod backtest;
mod ceasefire;
mod decode;
mod demo;
mod evaluate;
mod events;
mod evidence;
mod export;
mod flows;
mod progress;
mod screen;
mod serve;
mod simulate;
mod vessel;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Watches Russia's oil "shadow fleet" from AIS ship-tracking data.
#[derive(Parser)]
#[command(name = "shadowfleet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job on an embedded default: simulate a month of the Baltic shadow fleet,
    /// analyse it, print the top-risk tankers and who bought the oil, write the HTML report,
    /// and serve it with the API.
    Demo(demo::DemoArgs),
    /// Decode AIS (NMEA with tag blocks, gzip/zstd files, stdin, tcp://, udp://,
    /// DMA and NOAA CSV) and print one record per message.
    Decode(decode::DecodeArgs),
    /// Generate a synthetic world's AIS (NMEA with tag blocks) and its ground truth.
    Simulate(simulate::SimulateArgs),
    /// Decode AIS inputs, build tracks and identities, run every detector and append the
    /// events to a store (inputs already in the store are skipped).
    Analyze(analyze::AnalyzeArgs),
    /// List the events of a store as NDJSON, CSV or GeoJSON.
    Events(events::EventsArgs),
    /// Score a store's events against a simulator truth file: precision, recall, F1 and
    /// median timing error per event kind.
    Eval(evaluate::EvalArgs),
    /// Load sanctions lists, watch lists and vessel particulars into a store, and screen
    /// every vessel seen against them (by IMO, MMSI and name), saying why each one matched.
    Screen(screen::ScreenArgs),
    /// Backtest the risk score: for each month with designations, rank the vessels by the
    /// score from data before it and see whether the later-designated ones were on top
    /// (Precision@k, recall, lead time).
    Backtest(backtest::BacktestArgs),
    /// Write an evidence pack (a zip) for an event or a vessel: the raw input lines behind it
    /// with their hashes and offsets, decoded values, track and map, the detector
    /// configuration, list matches as of the day, identities, imagery links, a summary.
    Evidence(evidence::EvidenceArgs),
    /// Check an evidence pack: hashes, raw lines (against the original inputs when given),
    /// and that re-running the detectors on its lines gives the same events.
    Verify(evidence::VerifyArgs),
    /// One vessel's profile: identity timeline, list matches, risk score with the evidence
    /// behind each indicator, and voyages.
    Vessel(vessel::VesselArgs),
    /// The cargo flows traced from a store's events: origin terminal, ship-to-ship hand-offs,
    /// discharge, volume, confidence and evidence.
    Flows(flows::FlowsArgs),
    /// How much oil of an origin (default RU) each country received, month by month, as
    /// CSV, JSON or an HTML report.
    Exposure(flows::ExposureArgs),
    /// Export a store's events, vessels, cargo flows or tracks as GeoJSON, CSV or GeoParquet.
    Export(export::ExportArgs),
    /// Serve a store's analysis over HTTP: the JSON API (read-only unless given an API key
    /// for `POST /api/ingest`), the web map and the report.
    Serve(serve::ServeArgs),
    /// Watch live feeds (TCP, UDP, files as they grow, stdin) into a store until stopped:
    /// the same detectors as `analyze`, committed in checkpoints that a restart continues,
    /// with alert rules delivered to an NDJSON file and webhooks (docs/alerts.md).
    Watch(watch::WatchArgs),
    /// The Black Sea maritime-ceasefire monitor: weekly port calls, departures, gate
    /// transits, queues, darkness, spoofing clusters, occupied-port calls, STS and state
    /// vessels per place and regime, with change points and incident effects
    /// (docs/ceasefire.md).
    Ceasefire(ceasefire::CeasefireArgs),
}

/// Wall-clock time for the manifest's "ingested at" and the lists' "loaded at" (never used by
/// the detectors).
#[allow(
    clippy::disallowed_methods,
    reason = "the manifest records when a run happened"
)]
pub(crate) fn wall_clock_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Events(args) => events::run(args),
        Command::Eval(args) => evaluate::run(args),
        Command::Screen(args) => screen::run(args),
        Command::Backtest(args) => backtest::run(args),
        Command::Evidence(args) => evidence::run(args),
        Command::Verify(args) => evidence::run_verify(args),
        Command::Vessel(args) => vessel::run(args),
        Command::Flows(args) => flows::run_flows(args),
        Command::Exposure(args) => flows::run_exposure(args),
        Command::Serve(args) => serve::run(args),
        Command::Export(args) => export::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Ceasefire(args) => ceasefire::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`shadowfleet decode f | head`) is not a failure.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                    || c.downcast_ref::<serde_json::Error>()
                        .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("shadowfleet: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
