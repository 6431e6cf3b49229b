//! `shadowfleet watch`: live feeds into a store, in checkpoints, with alerts (docs/alerts.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use shadowfleet_alerts::sinks::Webhook;
use shadowfleet_alerts::Rules;
use shadowfleet_run::config::{config_dir, load_detector_config, read_ports};
use shadowfleet_run::ingest::IngestOptions;
use shadowfleet_run::watch::{watch, Feed, WatchOptions};
use shadowfleet_store::PositionWriterConfig;

/// Arguments of `shadowfleet watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// Feeds: `tcp://host:port` (reconnects with backoff), `udp://addr:port`, a file
    /// (followed as it grows; resumed where the last checkpoint left it), `-` for stdin.
    #[arg(required = true)]
    pub(crate) feeds: Vec<String>,
    /// Store directory (created when missing).
    #[arg(long)]
    pub(crate) store: PathBuf,
    /// Detector thresholds (TOML, as `analyze --config`).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// More ports for port calls (as `analyze --ports`).
    #[arg(long, num_args = 1..)]
    pub(crate) ports: Vec<PathBuf>,
    /// Alert rules and watchlists (TOML; docs/alerts.md).
    #[arg(long)]
    pub(crate) rules: Option<PathBuf>,
    /// Append alerts to this NDJSON file (one object a line), each once.
    #[arg(long)]
    pub(crate) alerts: Option<PathBuf>,
    /// POST each alert as JSON to this URL (repeat for several).
    #[arg(long)]
    pub(crate) webhook: Vec<String>,
    /// The HMAC-SHA256 key of the webhooks' `X-Shadowfleet-Signature` header.
    #[arg(long, env = "SHADOWFLEET_WEBHOOK_SECRET", hide_env_values = true)]
    pub(crate) webhook_secret: Option<String>,
    /// Tries per webhook delivery (doubling waits from one second) before the dead-letter file.
    #[arg(long, default_value_t = 5)]
    pub(crate) webhook_attempts: u32,
    /// Where alerts go that no webhook accepted (NDJSON); default `STORE/alerts.dead.ndjson`.
    #[arg(long)]
    pub(crate) dead_letter: Option<PathBuf>,
    /// Seconds between checkpoints (events, positions and the pipeline's state committed).
    #[arg(long, default_value_t = 10.0)]
    pub(crate) checkpoint_every: f64,
    /// Seconds of silence of every feed after which event time moves on with the clock.
    #[arg(long, default_value_t = 300.0)]
    pub(crate) idle_flush: f64,
    /// Also serve the store (the API, the map and the alerts) while watching.
    #[arg(long)]
    pub(crate) serve: bool,
    /// Address to serve on (with --serve).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Stop when every feed has ended (files read to their end, not followed).
    #[arg(long)]
    pub(crate) exit_at_end: bool,
    /// Start the detectors afresh instead of continuing the store's state.
    #[arg(long)]
    pub(crate) fresh: bool,
    /// No summary on stderr.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

fn seconds(name: &str, s: f64) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        s.is_finite() && s > 0.0,
        "--{name}: {s} is not a positive number of seconds"
    );
    Ok(Duration::from_secs_f64(s))
}

/// Runs the command.
pub fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("handling signals")?;
    }
    let rules = args.rules.as_deref().map(Rules::load).transpose()?;
    if rules.is_none() && (args.alerts.is_some() || !args.webhook.is_empty()) {
        anyhow::bail!("--alerts and --webhook need --rules: which events raise alerts");
    }
    let dead_letter = args
        .dead_letter
        .clone()
        .unwrap_or_else(|| args.store.join("alerts.dead.ndjson"));
    let webhooks = args
        .webhook
        .iter()
        .map(|url| {
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "--webhook: {url:?} is not an http:// or https:// URL"
            );
            Ok(Webhook {
                url: url.clone(),
                secret: args.webhook_secret.clone().unwrap_or_default(),
                attempts: args.webhook_attempts.max(1),
                first_retry: Duration::from_secs(1),
                dead_letter: dead_letter.clone(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    std::fs::create_dir_all(&args.store)
        .with_context(|| format!("creating {}", args.store.display()))?;
    let detectors = load_detector_config(args.config.as_deref())?;
    let mut options = WatchOptions {
        ingest: IngestOptions {
            detectors: detectors.clone(),
            config_dir: config_dir(args.config.as_deref()),
            extra_ports: read_ports(&args.ports)?,
            started_at: crate::wall_clock_seconds(),
            positions: PositionWriterConfig::default(),
            fresh: args.fresh,
            ..IngestOptions::default()
        },
        checkpoint_every: seconds("checkpoint-every", args.checkpoint_every)?,
        idle_flush: seconds("idle-flush", args.idle_flush)?,
        rules,
        alerts_file: args.alerts.clone(),
        webhooks,
        stop: Arc::clone(&stop),
        exit_at_end: args.exit_at_end,
        ..WatchOptions::default()
    };
    let feeds: Vec<Feed> = args.feeds.iter().map(|f| Feed::parse(f)).collect();
    let server = if args.serve {
        // The store must exist for the server to open it.
        shadowfleet_store::Store::open(&args.store)?;
        let state = Arc::new(crate::serve::state(&args.store, None, None, detectors)?);
        // The analysis is recomputed on a thread of its own, at most one pending: the
        // pipeline never waits for it, and requests are answered from the last one.
        let (kick, kicked) = std::sync::mpsc::sync_channel::<()>(1);
        let reload = Arc::clone(&state);
        std::thread::Builder::new()
            .name("sf-reload".into())
            .spawn(move || {
                for () in kicked {
                    if let Err(e) = reload.reload() {
                        eprintln!("serve: the analysis could not be refreshed: {e:#}");
                    }
                }
            })
            .context("starting the analysis thread")?;
        let live = Arc::clone(&state);
        options.on_checkpoint = Some(Arc::new(move |positions| {
            live.set_live(positions);
            let _ = kick.try_send(());
        }));
        let listen = args.listen;
        let stop = Arc::clone(&stop);
        Some(
            std::thread::Builder::new()
                .name("sf-serve".into())
                .spawn(move || crate::serve::serve_until(state, listen, stop))
                .context("starting the server")?,
        )
    } else {
        None
    };
    if !args.quiet {
        eprintln!(
            "watching {} feed(s) into {}; checkpoint every {} s; Ctrl-C stops",
            feeds.len(),
            args.store.display(),
            args.checkpoint_every
        );
    }
    let report = watch(&args.store, &feeds, &options);
    stop.store(true, Ordering::Relaxed);
    if let Some(s) = server {
        let _ = s.join();
    }
    let report = report?;
    if !args.quiet {
        if let Some(run) = report.continued_from {
            eprintln!("continued from the state of run {run}");
        }
        if let Some(note) = &report.state_note {
            eprintln!("pipeline state: {note}");
        }
        eprintln!(
            "{} messages, {} checkpoints, {} events, {} alerts raised; store {}",
            report.messages,
            report.checkpoints,
            report.events,
            report.alerts,
            args.store.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
