//! `shadowfleet serve`: the read-only HTTP API over a store (see docs/api.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use shadowfleet_api::analysis::{load_config, Analysis};
use shadowfleet_api::server::AppState;
use shadowfleet_store::Store;

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
}

/// The state the server needs: the analysis and the HTML report.
pub(crate) fn state(store: &Store, config: Option<&PathBuf>) -> anyhow::Result<AppState> {
    let analysis = Analysis::run(store, load_config(config, None)?)?;
    let rows = analysis.exposure(None, None);
    let report_html = crate::report::html(&analysis, &rows, None, None);
    Ok(AppState {
        analysis,
        report_html,
    })
}

/// Serves `state` on `listen`, printing the URL, until Ctrl-C.
pub(crate) fn serve(state: AppState, listen: SocketAddr) -> anyhow::Result<ExitCode> {
    if !listen.ip().is_loopback() {
        eprintln!("warning: listening on {listen}, reachable from other machines");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the server runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        eprintln!("serving on http://{addr}/  (report: http://{addr}/report, API: http://{addr}/api/openapi.json); Ctrl-C stops");
        axum::serve(listener, shadowfleet_api::server::router(Arc::new(state)))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the command.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(&args.store)?;
    let state = state(&store, args.config.as_ref())?;
    serve(state, args.listen)
}
