//! `shadowfleet demo`: the main job on an embedded default. Simulates a month of the
//! `baltic` scenario, analyses it, screens it against the lists the simulator publishes,
//! prints the top-risk tankers and the exposure table, writes the HTML report, and serves
//! the API and report.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::progress::{step, step_with_bar, Progress, Unit};
use anyhow::Context;
use clap::Args;
use shadowfleet_store::Store;

/// Arguments of `shadowfleet demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Working directory: the simulation, the store and the report go here.
    #[arg(long, default_value = "shadowfleet-demo")]
    dir: PathBuf,
    /// Days to simulate.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Stop after the report; do not serve.
    #[arg(long)]
    no_serve: bool,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

/// Runs the command.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let sim = args.dir.join("sim");
    let store_dir = args.dir.join("store");
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    // A fresh store each time: the demo shows one run's results.
    if store_dir.exists() {
        std::fs::remove_dir_all(&store_dir)
            .with_context(|| format!("removing the old {}", store_dir.display()))?;
    }
    let simulated = Progress::default();
    step_with_bar(
        &format!(
            "simulating {} days of the baltic scenario (seed {})",
            args.days, args.seed
        ),
        1_000_000,
        Unit::Percent,
        &simulated,
        || {
            crate::simulate::run(crate::simulate::SimulateArgs {
                scenario: "baltic".into(),
                days: Some(args.days),
                seed: args.seed,
                fleet_scale: 1.0,
                out: sim.clone(),
                gzip: false,
                export_csv: None,
                quiet: true,
                progress: Some(simulated.clone()),
            })
        },
    )?;
    let ais = sim.join("ais.nmea");
    let ais_bytes = std::fs::metadata(&ais)
        .with_context(|| format!("reading {}", ais.display()))?
        .len();
    let read = Progress::default();
    step_with_bar(
        "decoding the AIS and running the detectors",
        ais_bytes,
        Unit::Bytes,
        &read,
        || {
            crate::analyze::run(crate::analyze::AnalyzeArgs {
                inputs: vec![ais.clone()],
                store: store_dir.clone(),
                config: None,
                ports: Vec::new(),
                allow_untimed: false,
                columns: Vec::new(),
                profile: false,
                fresh: false,
                quiet: true,
                progress: Some(read.clone()),
            })
        },
    )?;
    let mut store = Store::open_existing(&store_dir)?;
    step(
        "loading the sanctions list, watch list and particulars the simulation publishes",
        || {
            let lists: Vec<String> = ["sanctions_eu.csv", "watchlist.csv", "particulars.csv"]
                .iter()
                .map(|f| sim.join(f).display().to_string())
                .collect();
            crate::screen::load_lists(&mut store, &lists, false)
        },
    )?;
    drop(store);
    let state = step("screening, tracing cargoes, scoring risk", || {
        crate::serve::state(&store_dir, None, None, Default::default())
    })?;
    let snapshot = state.snapshot();
    let a = &snapshot.analysis;
    let report = args.dir.join("report.html");
    std::fs::write(&report, &snapshot.report_html)
        .with_context(|| format!("writing {}", report.display()))?;
    eprintln!(
        "analysis done in {:.0} s\n",
        started.elapsed().as_secs_f64()
    );

    println!("Highest-risk tankers:");
    for r in a.risks.iter().take(10) {
        let why: Vec<String> = r
            .indicators
            .iter()
            .take(3)
            .map(|i| {
                let first = i.detail.split(';').next().unwrap_or("");
                let short: String = first.chars().take(48).collect();
                format!("{}: {short}", i.name)
            })
            .collect();
        println!(
            "  {:>5.1}  {:<13}  {:<22}  {}",
            r.score,
            r.vessel.to_string(),
            r.names.join(" / "),
            why.join(" | ")
        );
    }
    let rows = a.exposure(None, None);
    let mut by_country: std::collections::BTreeMap<&str, (u32, f64, f64, f64)> =
        std::collections::BTreeMap::new();
    for r in &rows {
        let e = by_country.entry(&r.country).or_default();
        e.0 += r.cargoes;
        e.1 += r.volume_bbl;
        e.2 += r.low_bbl;
        e.3 += r.high_bbl;
    }
    let mut countries: Vec<_> = by_country.into_iter().filter(|(_, v)| v.1 > 0.0).collect();
    countries.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1));
    println!("\nRussian oil received, by country (million barrels, with the interval):");
    for (c, (n, v, lo, hi)) in countries {
        let noun = if n == 1 { "cargo  " } else { "cargoes" };
        println!(
            "  {c}  {n:>3} {noun}  {:>7.2}  [{:.2} – {:.2}]",
            v / 1e6,
            lo / 1e6,
            hi / 1e6
        );
    }
    println!("\nReport: {}", report.display());
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    crate::serve::serve(state, args.listen)
}
