//! `shadowfleet simulate`: generate a scenario's AIS and ground truth.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use shadowfleet_simulate::{simulate, Scenario, SimOptions, World};

#[derive(Args)]
pub struct SimulateArgs {
    /// Scenario: `baltic`, `global`, or a path to a scenario TOML file.
    #[arg(long, default_value = "baltic")]
    scenario: String,
    /// Days to simulate (default: the scenario's).
    #[arg(long)]
    days: Option<u32>,
    /// Seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Multiply every fleet count by this factor.
    #[arg(long, default_value_t = 1.0)]
    fleet_scale: f64,
    /// Output directory (created if needed): ais.nmea[.gz] and truth.ndjson.
    #[arg(long)]
    out: PathBuf,
    /// Gzip the AIS output (ais.nmea.gz).
    #[arg(long)]
    gzip: bool,
    /// No summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(args: SimulateArgs) -> Result<ExitCode> {
    if !(args.fleet_scale > 0.0 && args.fleet_scale.is_finite()) {
        anyhow::bail!(
            "--fleet-scale must be a positive number, got {}",
            args.fleet_scale
        );
    }
    let scenario = Scenario::load(&args.scenario)?;
    let started = Instant::now();
    let world =
        World::load(scenario.ais.station_spacing_deg).context("loading the embedded geography")?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let ais_name = if args.gzip { "ais.nmea.gz" } else { "ais.nmea" };
    let ais_path = args.out.join(ais_name);
    let truth_path = args.out.join("truth.ndjson");
    // Write under temporary names and rename at the end: a failed run leaves no file that
    // looks complete.
    let ais_tmp = args.out.join(format!("{ais_name}.partial"));
    let truth_tmp = args.out.join("truth.ndjson.partial");
    let ais_file =
        File::create(&ais_tmp).with_context(|| format!("creating {}", ais_tmp.display()))?;
    let truth_file = BufWriter::new(
        File::create(&truth_tmp).with_context(|| format!("creating {}", truth_tmp.display()))?,
    );
    let opts = SimOptions {
        seed: args.seed,
        days: args.days,
        fleet_scale: args.fleet_scale,
    };
    let report = if args.gzip {
        let gz =
            flate2::write::GzEncoder::new(BufWriter::new(ais_file), flate2::Compression::fast());
        let mut w = GzFinish(Some(gz));
        let r = simulate(&scenario, &world, &opts, &mut w, truth_file)?;
        w.finish()?;
        r
    } else {
        simulate(
            &scenario,
            &world,
            &opts,
            BufWriter::new(ais_file),
            truth_file,
        )?
    };
    std::fs::rename(&ais_tmp, &ais_path)
        .with_context(|| format!("renaming to {}", ais_path.display()))?;
    std::fs::rename(&truth_tmp, &truth_path)
        .with_context(|| format!("renaming to {}", truth_path.display()))?;
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "simulated {} ({} to {}, seed {}): {} vessels, {} AIS messages ({} by satellite, {} bad checksums), {} truth events, {} cargoes in {:.1} s ({:.1} s planning, {:.1} s emitting at {:.2} M messages/s)\n  {}\n  {}",
            scenario.name,
            report.start,
            report.end,
            args.seed,
            report.vessels,
            report.ais.messages,
            report.ais.satellite,
            report.ais.bad_checksums,
            report.events,
            report.cargoes,
            secs,
            report.planning_s,
            report.emitting_s,
            report.ais.messages as f64 / report.emitting_s / 1e6,
            ais_path.display(),
            truth_path.display(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A gzip writer that is finished explicitly, so that errors at the end are reported.
struct GzFinish<W: Write>(Option<flate2::write::GzEncoder<W>>);

impl<W: Write> GzFinish<W> {
    fn finish(&mut self) -> Result<()> {
        if let Some(gz) = self.0.take() {
            gz.finish().context("finishing the gzip stream")?.flush()?;
        }
        Ok(())
    }
}

impl<W: Write> Write for GzFinish<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(gz) => gz.write(buf),
            None => Err(std::io::Error::other("gzip stream already finished")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
            Some(gz) => gz.flush(),
            None => Ok(()),
        }
    }
}
