//! The country-volume seed sweep: simulates every scenario × period × seed asked, runs the
//! product on it as a user does (`shadowfleet simulate`, `analyze`, `eval --lists`), and
//! prints, per scenario and period, the error of each top destination country over the
//! seeds (median, p90, worst), the interval coverage of the country-months and the STS chain
//! attribution. Not a test: a measurement (docs/exposure.md has its table and command).
//!
//! ```text
//! cargo build --release -p shadowfleet
//! cargo run --release -p shadowfleet-bench --bin exposure_sweep -- \
//!     --scenarios baltic,global --days 30,45 --seeds 101-110
//! ```
//!
//! The binary under test is `target/release/shadowfleet` (or `$SHADOWFLEET_BIN`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;
use shadowfleet_bench::sweep::{binary, parse_seeds, quantile, run, simulate_and_analyze};

/// How many destination countries, largest first by true volume, each run is scored on.
const TOP: usize = 7;

struct Args {
    scenarios: Vec<String>,
    days: Vec<u32>,
    seeds: Vec<u64>,
    work: PathBuf,
    json: Option<PathBuf>,
    keep: bool,
}

fn usage() -> &'static str {
    "usage: exposure_sweep [--scenarios baltic,global] [--days 30,45] [--seeds 101-110|1,2,3] \
     [--work DIR] [--json FILE] [--keep]"
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        scenarios: vec!["baltic".into(), "global".into()],
        days: vec![30, 45],
        seeds: (101..=110).collect(),
        work: std::env::temp_dir().join("sf-exposure-sweep"),
        json: None,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{a} needs a value\n{}", usage()))
        };
        match a.as_str() {
            "--scenarios" => args.scenarios = value()?.split(',').map(str::to_owned).collect(),
            "--days" => {
                args.days = value()?
                    .split(',')
                    .map(|d| d.parse().map_err(|_| format!("--days: bad number {d:?}")))
                    .collect::<Result<_, _>>()?
            }
            "--seeds" => args.seeds = parse_seeds(&value()?)?,
            "--work" => args.work = PathBuf::from(value()?),
            "--json" => args.json = Some(PathBuf::from(value()?)),
            "--keep" => args.keep = true,
            // `cargo bench` passes --bench to every bench target.
            "--bench" => {}
            "-h" | "--help" => return Err(usage().to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{}", usage())),
        }
    }
    Ok(args)
}

/// One scored run: the `flows` object of `eval --format json`.
fn one_run(bin: &Path, dir: &Path, scenario: &str, days: u32, seed: u64) -> Result<Value, String> {
    simulate_and_analyze(bin, dir, scenario, days, seed)?;
    let store = dir.join("store").display().to_string();
    let list = |n: &str| dir.join(n).display().to_string();
    let (s, w, p) = (
        list("sanctions_eu.csv"),
        list("watchlist.csv"),
        list("particulars.csv"),
    );
    let json = run(
        bin,
        &[
            "eval",
            "--truth",
            &list("truth.ndjson"),
            "--store",
            &store,
            "--format",
            "json",
            "--lists",
            &s,
            &w,
            &p,
        ],
    )?;
    let v: Value = serde_json::from_str(&json).map_err(|e| format!("eval JSON: {e}"))?;
    v.get("flows")
        .cloned()
        .ok_or_else(|| "eval JSON has no flows".to_owned())
}

fn num(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

#[derive(Default)]
struct Group {
    /// Signed errors by country, one per seed where the country was in the top.
    errors: BTreeMap<String, Vec<f64>>,
    months: usize,
    covered: usize,
    sts: usize,
    sts_right: usize,
    runs: usize,
    /// Per seed: worst |error| among the top countries.
    worst: Vec<(u64, String, f64)>,
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let bin = binary();
    if !bin.exists() {
        eprintln!(
            "{} not found: build it first (cargo build --release -p shadowfleet) or set SHADOWFLEET_BIN",
            bin.display()
        );
        return ExitCode::from(2);
    }
    let mut groups: BTreeMap<(String, u32), Group> = BTreeMap::new();
    let mut all_runs = Vec::new();
    let mut failed = 0;
    for scenario in &args.scenarios {
        for &days in &args.days {
            for &seed in &args.seeds {
                let dir = args.work.join(format!("{scenario}-{days}d-{seed}"));
                let started = std::time::Instant::now();
                let flows = match one_run(&bin, &dir, scenario, days, seed) {
                    Ok(f) => f,
                    Err(e) => {
                        eprintln!("{scenario} {days} d seed {seed}: {e}");
                        failed += 1;
                        continue;
                    }
                };
                if !args.keep {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                let g = groups.entry((scenario.clone(), days)).or_default();
                g.runs += 1;
                let top: Vec<&Value> = flows
                    .get("top_countries")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().take(TOP).collect())
                    .unwrap_or_default();
                let mut worst = (String::new(), 0.0f64);
                let mut line = format!("{scenario} {days} d seed {seed}:");
                for c in &top {
                    let country = c.get("country").and_then(Value::as_str).unwrap_or("??");
                    let e = num(c, "error");
                    g.errors.entry(country.to_owned()).or_default().push(e);
                    line += &format!(" {country} {:+.1} %", e * 100.0);
                    if e.abs() > worst.1.abs() {
                        worst = (country.to_owned(), e);
                    }
                }
                let (months, covered) = (
                    num(&flows, "country_months") as usize,
                    num(&flows, "covered") as usize,
                );
                let (sts, sts_right) = (
                    num(&flows, "sts_cargoes") as usize,
                    num(&flows, "sts_attributed") as usize,
                );
                g.months += months;
                g.covered += covered;
                g.sts += sts;
                g.sts_right += sts_right;
                g.worst.push((seed, worst.0, worst.1));
                eprintln!(
                    "{line}; interval {covered}/{months}; STS chains {sts_right}/{sts} ({:.0} s)",
                    started.elapsed().as_secs_f64()
                );
                all_runs.push(serde_json::json!({
                    "scenario": scenario, "days": days, "seed": seed, "flows": flows,
                }));
            }
        }
    }
    // The table.
    println!(
        "| scenario | days | seeds | country | seeds in top {TOP} | median abs. error | p90 | worst | within 5 % | within 10 % |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    for ((scenario, days), g) in &groups {
        let mut countries: Vec<(&String, &Vec<f64>)> = g.errors.iter().collect();
        countries.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        for (c, errs) in countries {
            let mut abs: Vec<f64> = errs.iter().map(|e| e.abs()).collect();
            abs.sort_by(f64::total_cmp);
            let worst = errs
                .iter()
                .copied()
                .fold(0.0f64, |w, e| if e.abs() > w.abs() { e } else { w });
            let within = |x: f64| abs.iter().filter(|e| **e <= x).count();
            println!(
                "| {scenario} | {days} | {} | {c} | {} | {:.1} % | {:.1} % | {:+.1} % | {}/{} | {}/{} |",
                g.runs,
                errs.len(),
                quantile(&abs, 0.5) * 100.0,
                quantile(&abs, 0.9) * 100.0,
                worst * 100.0,
                within(0.05),
                errs.len(),
                within(0.10),
                errs.len()
            );
        }
    }
    println!();
    println!("| scenario | days | seeds | interval coverage (country-months) | STS chains right | worst top-{TOP} country per seed |");
    println!("|---|---:|---:|---:|---:|---|");
    for ((scenario, days), g) in &groups {
        let worst: Vec<String> = g
            .worst
            .iter()
            .map(|(s, c, e)| format!("{s}: {c} {:+.0} %", e * 100.0))
            .collect();
        let part = |n: usize, of: usize| {
            if of == 0 {
                "none".to_owned()
            } else {
                format!("{n}/{of} ({:.1} %)", 100.0 * n as f64 / of as f64)
            }
        };
        println!(
            "| {scenario} | {days} | {} | {} | {} | {} |",
            g.runs,
            part(g.covered, g.months),
            part(g.sts_right, g.sts),
            worst.join(", ")
        );
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&all_runs).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if failed > 0 {
        eprintln!("{failed} runs failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
