//! The `shadowfleet` binary: parses arguments, wires the stages together and
//! maps errors to exit codes. The work happens in the library crates.

mod analyze;
mod decode;
mod evaluate;
mod events;
mod simulate;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Events(args) => events::run(args),
        Command::Eval(args) => evaluate::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`shadowfleet decode f | head`) is not a failure.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("shadowfleet: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
