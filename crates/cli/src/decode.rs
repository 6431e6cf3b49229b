//! `shadowfleet decode`: AIS in, one record per message out.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use shadowfleet_decode::gpsd::{self, CsvWriter, JsonStyle};
use shadowfleet_decode::{DecodeStats, Decoded, DecoderConfig, RejectReason, Rejection, Sink};
use shadowfleet_ingest::{read_source, Backoff, Source};

/// Output formats of `decode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per message: gpsd's field names, scaled values
    /// (degrees, knots), "not available" values omitted, plus `received`,
    /// `station`, `channel`, `line` and `flags`.
    Ndjson,
    /// `gpsdecode -u -c` output, byte for byte (gpsd's own acceptance rules).
    Gpsd,
}

#[derive(Args)]
pub struct DecodeArgs {
    /// Inputs: files (plain, .gz, .zst), `-` for stdin, `tcp://host:port`,
    /// `udp://bind:port`. Defaults to stdin.
    inputs: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Decode sentences whose checksum is wrong (they are flagged `bad_checksum`).
    #[arg(long)]
    accept_bad_checksum: bool,
    /// Print each rejected line and its reason to stderr.
    #[arg(long)]
    show_rejected: bool,
    /// Do not print the summary of counts to stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Standard input is a live receiver: a message without a receive time of its own takes
    /// the time it arrived, flagged `arrival_time`. TCP and UDP feeds always do this; files
    /// never do.
    #[arg(long)]
    stamp_arrival: bool,
}

struct Printer<W: Write> {
    out: W,
    format: Format,
    csv: CsvWriter,
    buf: String,
    show_rejected: bool,
    source: String,
    /// Flush after every record: set for live feeds, where records must not
    /// wait in the buffer for the next 64 KiB.
    live: bool,
    error: Option<io::Error>,
}

impl<W: Write> Sink for Printer<W> {
    fn message(&mut self, msg: &Decoded) {
        if self.error.is_some() {
            return;
        }
        self.buf.clear();
        let wrote = match self.format {
            Format::Gpsd => self.csv.write(msg, &mut self.buf),
            Format::Ndjson => {
                gpsd::write_json(msg, JsonStyle::Scaled, None, &mut self.buf);
                self.buf.push('\n');
                true
            }
        };
        if wrote {
            let mut result = self.out.write_all(self.buf.as_bytes());
            if self.live && result.is_ok() {
                result = self.out.flush();
            }
            if let Err(e) = result {
                self.error = Some(e);
            }
        }
    }

    fn rejected(&mut self, r: &Rejection) {
        if self.show_rejected {
            eprintln!("{}: {r}", self.source);
        }
    }
}

fn summary(name: &str, stats: &DecodeStats, csv_rejected: u64) {
    let mut reasons = String::new();
    for r in RejectReason::ALL {
        let n = stats.rejected(r);
        if n > 0 {
            reasons.push_str(&format!(" {}={}", r.code(), n));
        }
    }
    eprintln!(
        "{name}: {} lines, {} messages decoded, {} rejected{}{}",
        stats.lines,
        stats.messages,
        stats.rejected_total() + csv_rejected,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.trim())
        },
        if csv_rejected > 0 {
            format!(", {csv_rejected} CSV rows rejected")
        } else {
            String::new()
        },
    );
}

pub fn run(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let config = DecoderConfig {
        accept_bad_checksum: args.accept_bad_checksum,
        ..Default::default()
    };
    let inputs = if args.inputs.is_empty() {
        vec!["-".to_string()]
    } else {
        args.inputs
    };
    let stdout = io::stdout();
    let mut printer = Printer {
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        format: args.format,
        csv: CsvWriter::default(),
        buf: String::with_capacity(1024),
        show_rejected: args.show_rejected,
        source: String::new(),
        live: false,
        error: None,
    };
    let backoff = Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(60),
        max_attempts: None,
    };
    for input in &inputs {
        let source = Source::parse(input);
        printer.source = source.name();
        printer.live = matches!(source, Source::Tcp(_) | Source::Udp(_));
        let config = DecoderConfig {
            stamp_arrival: args.stamp_arrival && matches!(source, Source::Stdin),
            ..config.clone()
        };
        let report = read_source(&source, &config, backoff, &mut printer)
            .with_context(|| format!("reading {}", source.name()))?;
        if let Some(e) = printer.error.take() {
            return Err(e).context("writing output");
        }
        for e in &report.csv_errors {
            if args.show_rejected {
                eprintln!("{e}");
            }
        }
        if !args.quiet {
            summary(&source.name(), &report.stats, report.csv_rejected);
        }
    }
    printer.out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}
