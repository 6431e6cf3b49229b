//! `shadowfleet serve`: the read-only HTTP API over a store (see docs/api.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use shadowfleet_api::server::AppState;
use shadowfleet_run::config::load_analysis_config as load_config;

/// Arguments of `shadowfleet serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Store directory.
    #[arg(long)]
    pub(crate) store: PathBuf,
    /// Address to listen on; loopback unless told otherwise.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Analysis configuration (TOML; see docs/formats.md).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Enables `POST /api/ingest` with the API key in this file (first line, at least 16
    /// characters). Without a key (here or in SHADOWFLEET_API_KEY) the server is read-only.
    #[arg(long)]
    pub(crate) api_key_file: Option<PathBuf>,
    /// Detector thresholds for what `POST /api/ingest` analyses (TOML, as `analyze --config`).
    #[arg(long)]
    pub(crate) detector_config: Option<PathBuf>,
    /// Directories holding the runs' inputs, for `GET /api/events/{id}/evidence` when they
    /// are no longer where the runs read them (found by file name and SHA-256).
    #[arg(long, num_args = 1..)]
    pub(crate) inputs: Vec<PathBuf>,
}

/// The API key: from the file given, else from SHADOWFLEET_API_KEY, else none (read-only).
fn api_key(file: Option<&PathBuf>) -> anyhow::Result<Option<String>> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the API key from {}", path.display()))?;
        let key = text.lines().next().unwrap_or("").trim().to_owned();
        if key.is_empty() {
            anyhow::bail!("{}:1: the API key file is empty", path.display());
        }
        return Ok(Some(key));
    }
    Ok(std::env::var("SHADOWFLEET_API_KEY")
        .ok()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty()))
}

/// The server state over the store in `dir`: its analysis and the HTML report.
pub(crate) fn state(
    dir: &std::path::Path,
    config: Option<&PathBuf>,
    api_key: Option<String>,
    detectors: shadowfleet_events::DetectorConfig,
) -> anyhow::Result<AppState> {
    AppState::open(
        dir,
        load_config(config, None)?,
        detectors,
        api_key,
        crate::wall_clock_seconds,
    )
}

/// Serves `state` on `listen`, printing the URL, until Ctrl-C.
pub(crate) fn serve(state: AppState, listen: SocketAddr) -> anyhow::Result<ExitCode> {
    if !listen.ip().is_loopback() {
        eprintln!("warning: listening on {listen}, reachable from other machines");
    }
    if state.writable() {
        eprintln!("writes enabled: POST /api/ingest takes the API key given");
    }
    run_server(
        Arc::new(state),
        listen,
        "(report: http://{addr}/report, API: http://{addr}/api/openapi.json); Ctrl-C stops",
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Serves `state` on `listen` until `stop` is set (`watch --serve`).
pub(crate) fn serve_until(
    state: Arc<AppState>,
    listen: SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<()> {
    run_server(state, listen, "while watching", async move {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
}

/// The server on a runtime of two workers until `shutdown` completes; prints the URL and
/// `note` (where `{addr}` is the address bound).
fn run_server(
    state: Arc<AppState>,
    listen: SocketAddr,
    note: &str,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the server runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        eprintln!(
            "serving on http://{addr}/  {}",
            note.replace("{addr}", &addr.to_string())
        );
        axum::serve(listener, shadowfleet_api::server::router(state))
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving")
    })
}

/// Runs the command.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let detectors = shadowfleet_run::config::load_detector_config(args.detector_config.as_deref())?;
    let key = api_key(args.api_key_file.as_ref())?;
    let state =
        state(&args.store, args.config.as_ref(), key, detectors)?.with_evidence_inputs(args.inputs);
    serve(state, args.listen)
}
