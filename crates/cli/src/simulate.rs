//! `shadowfleet simulate`: generate a scenario's AIS and ground truth.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use shadowfleet_simulate::{simulate_reporting, Scenario, SimOptions, World};

#[derive(Args)]
pub struct SimulateArgs {
    /// Scenario: `baltic`, `global`, `black_sea`, or a path to a scenario TOML file.
    #[arg(long, default_value = "baltic")]
    pub(crate) scenario: String,
    /// Days to simulate (default: the scenario's).
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// Seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Multiply every fleet count by this factor.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) fleet_scale: f64,
    /// Output directory (created if needed): ais.nmea[.gz], truth.ndjson, and the published
    /// sanctions_eu.csv, watchlist.csv and particulars.csv.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Gzip the AIS output (ais.nmea.gz).
    #[arg(long)]
    pub(crate) gzip: bool,
    /// Also write positions.csv: the AIS as a portal exports it, one position per vessel
    /// every MINUTES, semicolon-separated, rows shuffled (docs/simulator.md).
    #[arg(long, value_name = "MINUTES")]
    pub(crate) export_csv: Option<u32>,
    /// No summary on stderr.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Where the demo follows the run: millionths of the period simulated.
    #[arg(skip)]
    pub(crate) progress: Option<crate::progress::Progress>,
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
    let mut report_progress = |done: f64| {
        if let Some(p) = &args.progress {
            p.store((done * 1e6) as u64, std::sync::atomic::Ordering::Relaxed);
        }
    };
    let opts = SimOptions {
        seed: args.seed,
        days: args.days,
        fleet_scale: args.fleet_scale,
    };
    let run = |ais: &mut dyn Write| {
        simulate_reporting(
            &scenario,
            &world,
            &opts,
            ais,
            truth_file,
            &mut report_progress,
        )
    };
    // The AIS is compressed and written on a second thread: the simulation keeps one core.
    let report = if args.gzip {
        let gz =
            flate2::write::GzEncoder::new(BufWriter::new(ais_file), flate2::Compression::fast());
        let mut w = BackgroundWriter::new(GzFinish(Some(gz)));
        let r = run(&mut w)?;
        w.finish().context("writing the AIS")?;
        r
    } else {
        let mut w = BackgroundWriter::new(ais_file);
        let r = run(&mut w)?;
        w.finish().context("writing the AIS")?;
        r
    };
    std::fs::rename(&ais_tmp, &ais_path)
        .with_context(|| format!("renaming to {}", ais_path.display()))?;
    std::fs::rename(&truth_tmp, &truth_path)
        .with_context(|| format!("renaming to {}", truth_path.display()))?;
    write_published(&args.out, &truth_path, args.seed)?;
    let export = match args.export_csv {
        Some(minutes) => Some(write_export(&ais_path, &args.out, minutes, args.seed)?),
        None => None,
    };
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "simulated {} ({} to {}, seed {}): {} vessels, {} reports sent, {} AIS messages received ({} by satellite, {} bad checksums), {} truth events, {} cargoes in {:.1} s ({:.1} s planning, {:.1} s emitting at {:.2} M messages/s)\n  {}\n  {}",
            scenario.name,
            report.start,
            report.end,
            args.seed,
            report.vessels,
            report.ais.transmitted,
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
        if let Some((path, r)) = &export {
            eprintln!(
                "  {}: {} rows of {} timed position reports (one per vessel every {} min, shuffled); {} untimed reports cannot be exported, {} late relays are not (a portal's clean view)",
                path.display(),
                r.rows,
                r.positions - r.untimed,
                args.export_csv.unwrap_or_default(),
                r.untimed,
                r.relays
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `positions.csv`, the sampled export of the AIS just written.
fn write_export(
    ais: &std::path::Path,
    out: &std::path::Path,
    minutes: u32,
    seed: u64,
) -> Result<(PathBuf, shadowfleet_simulate::export::ExportReport)> {
    if minutes == 0 {
        anyhow::bail!("--export-csv takes the minutes between rows of a vessel, at least 1");
    }
    let reader = shadowfleet_ingest::open_reader(&shadowfleet_ingest::Source::File(ais.to_owned()))
        .with_context(|| format!("reading {}", ais.display()))?;
    let path = out.join("positions.csv");
    let tmp = out.join("positions.csv.partial");
    let mut w =
        BufWriter::new(File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?);
    let r = shadowfleet_simulate::export::sampled_export(reader, minutes, seed, &mut w)?;
    w.flush()
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(w);
    std::fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok((path, r))
}

/// Writes what registries and list publishers say about the simulated fleet (see
/// `shadowfleet_simulate::published`) beside the truth.
fn write_published(out: &std::path::Path, truth_path: &std::path::Path, seed: u64) -> Result<()> {
    use shadowfleet_simulate::truth::{read_truth, TruthRecord};
    let text = std::fs::read_to_string(truth_path)
        .with_context(|| format!("reading {}", truth_path.display()))?;
    let vessels: Vec<_> = read_truth(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", truth_path.display()))?
        .into_iter()
        .filter_map(|r| match r {
            TruthRecord::Vessel(v) => Some(v),
            _ => None,
        })
        .collect();
    let p = shadowfleet_simulate::published::published(&vessels, seed);
    for (name, body) in [
        ("sanctions_eu.csv", &p.sanctions_eu),
        ("watchlist.csv", &p.watchlist),
        ("particulars.csv", &p.particulars),
    ] {
        let path = out.join(name);
        std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// A writer that hands 1 MiB buffers to a thread that writes them to `W` in order, and
/// recycles the buffers (no allocation in steady state).
struct BackgroundWriter {
    buf: Vec<u8>,
    to_writer: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    recycled: std::sync::mpsc::Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

const BACKGROUND_CHUNK: usize = 1 << 20;

impl BackgroundWriter {
    fn new<W: Write + Send + 'static>(mut inner: W) -> Self {
        let (to_writer, from_main) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let (to_main, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
        let thread = std::thread::spawn(move || -> std::io::Result<()> {
            for mut chunk in from_main {
                inner.write_all(&chunk)?;
                chunk.clear();
                let _ = to_main.send(chunk);
            }
            inner.flush()
        });
        BackgroundWriter {
            buf: Vec::with_capacity(BACKGROUND_CHUNK),
            to_writer: Some(to_writer),
            recycled,
            thread: Some(thread),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        let next = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BACKGROUND_CHUNK));
        let full = std::mem::replace(&mut self.buf, next);
        match &self.to_writer {
            Some(tx) if tx.send(full).is_ok() => Ok(()),
            // The thread stopped: its error is reported by `finish`.
            _ => Err(std::io::Error::other("the AIS writer thread stopped")),
        }
    }

    /// Writes what is left, waits for the thread and returns its error, if any.
    fn finish(&mut self) -> Result<()> {
        let sent = if self.buf.is_empty() {
            Ok(())
        } else {
            self.send()
        };
        self.to_writer = None;
        let joined = match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| anyhow::anyhow!("the AIS writer thread panicked"))?,
            None => Ok(()),
        };
        joined?;
        sent?;
        Ok(())
    }
}

impl Write for BackgroundWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BACKGROUND_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

impl<W: Write> Drop for GzFinish<W> {
    fn drop(&mut self) {
        // Finished by the writer thread when the channel closes (see `flush`).
        let _ = self.finish();
    }
}

impl<W: Write> Write for GzFinish<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(gz) => gz.write(buf),
            None => Err(std::io::Error::other("gzip stream already finished")),
        }
    }
    /// Flushing finishes the gzip stream: the writer thread flushes once, at the end.
    fn flush(&mut self) -> std::io::Result<()> {
        self.finish().map_err(std::io::Error::other)
    }
}
