//! `shadowfleet analyze`: AIS inputs → detection pipeline → store.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use sha2::{Digest, Sha256};
use shadowfleet_decode::DecoderConfig;
use shadowfleet_events::threaded::run_on_two_threads;
use shadowfleet_events::{DetectorConfig, Event, EventKind, Pipeline, PipelineOutput};
use shadowfleet_identities::Identity;
use shadowfleet_ingest::{open_reader, read_source, Backoff, Source};
use shadowfleet_model::Timestamp;
use shadowfleet_places::{Mids, Places};
use shadowfleet_store::{InputRecord, Store};

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

pub(crate) fn content_hash(path: &PathBuf) -> anyhow::Result<(String, u64)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        h.update(&buf[..n]);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, bytes))
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
    let config = load_config(args.config.as_ref())?;
    let mut store = Store::open(&args.store)?;
    let started = Timestamp::from_unix_seconds(wall_clock_seconds()).to_string();

    let mut new_inputs = Vec::new();
    for path in &args.inputs {
        let (hash, bytes) = content_hash(path)?;
        if store.has_input(&hash)? || new_inputs.iter().any(|(_, h, _)| *h == hash) {
            if !args.quiet {
                eprintln!("{}: already in the store, skipped", path.display());
            }
            continue;
        }
        // Fail early on an unreadable or empty input, before any work.
        open_reader(&Source::File(path.clone()))
            .with_context(|| format!("opening {}", path.display()))?;
        new_inputs.push((path.clone(), hash, bytes));
    }
    if new_inputs.is_empty() {
        if !args.quiet {
            eprintln!("nothing new to analyse");
        }
        return Ok(ExitCode::SUCCESS);
    }

    let land = shadowfleet_geo::Land::natural_earth_10m()?;
    let mut places = Places::embedded(&land)?;
    if !args.ports.is_empty() {
        let extra = read_ports(&args.ports)?;
        let given = extra.len();
        let (with, added) = places.with_ports(&land, extra, 3_000.0);
        places = with;
        if !args.quiet {
            eprintln!(
                "ports: {added} of {given} added (the rest are inland or near a known place)"
            );
        }
    }
    let mids = Mids::embedded()?;
    let mut pipeline = Pipeline::new(config, &land, &places, &mids);
    let mut events: Vec<Event> = Vec::new();
    let mut identities: Vec<Identity> = Vec::new();
    let mut out = |o: PipelineOutput| match o {
        PipelineOutput::Event(e) => events.push(e),
        PipelineOutput::Identity(i) => identities.push(i),
    };
    let clock = Instant::now();
    let backoff = Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(60),
        max_attempts: Some(1),
    };
    let mut records = Vec::new();
    let mut messages = 0u64;
    for (path, hash, bytes) in &new_inputs {
        let source = Source::File(path.clone());
        // Decoding on a second thread, detection on this one.
        let n = run_on_two_threads(
            &mut pipeline,
            |sink| {
                read_source(&source, &DecoderConfig::default(), backoff, sink)
                    .map(|_| sink.messages)
            },
            &mut out,
        )
        .with_context(|| format!("reading {}", path.display()))?;
        messages += n;
        records.push(InputRecord {
            name: path.display().to_string(),
            content_hash: hash.clone(),
            bytes: *bytes,
            messages: n,
        });
    }
    pipeline.finish(&mut out);
    events.sort_by_key(|e| (e.start, e.mmsi, e.kind));
    let stats = pipeline.stats();
    let elapsed = clock.elapsed().as_secs_f64();
    store.write_run(&started, &records, &events, &identities)?;
    if !args.quiet {
        let counts: Vec<String> = EventKind::ALL
            .iter()
            .map(|k| format!("{} {}", events.iter().filter(|e| e.kind == *k).count(), k))
            .collect();
        eprintln!(
            "{} inputs, {messages} messages ({} positions, {} duplicates dropped) in {elapsed:.1} s ({:.2} M msg/s); {} events: {}; {} identity periods; store {}",
            records.len(),
            stats.positions,
            stats.tracks.duplicates,
            messages as f64 / elapsed.max(1e-9) / 1e6,
            events.len(),
            counts.join(", "),
            identities.len(),
            args.store.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
