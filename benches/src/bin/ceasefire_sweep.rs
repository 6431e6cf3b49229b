//! The ceasefire monitor's seed sweep: simulates `black_sea` for every seed asked, runs the
//! product on it as a user does (`shadowfleet simulate`, `analyze`, `eval`), and prints per
//! port and gate series the weekly error over the seeds (median, p90, worst WAPE), the
//! spoofing-cluster recall per seed, and how far the change points fall from the closure's
//! onset and end. Not a test: a measurement (docs/ceasefire.md has its table and command).
//!
//! ```text
//! cargo build --release -p shadowfleet
//! cargo run --release -p shadowfleet-bench --bin ceasefire_sweep -- --seeds 201-210
//! ```
//!
//! The binary under test is `target/release/shadowfleet` (or `$SHADOWFLEET_BIN`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;
use shadowfleet_bench::sweep::{binary, parse_seeds, quantile, run, simulate_and_analyze};

/// One scored run: the `ceasefire` object of `eval --format json`.
fn one_run(bin: &Path, dir: &Path, days: u32, seed: u64) -> Result<Value, String> {
    simulate_and_analyze(bin, dir, "black_sea", days, seed)?;
    let store = dir.join("store").display().to_string();
    let truth = dir.join("truth.ndjson").display().to_string();
    let json = run(
        bin,
        &[
            "eval", "--truth", &truth, "--store", &store, "--format", "json",
        ],
    )?;
    let v: Value = serde_json::from_str(&json).map_err(|e| format!("eval JSON: {e}"))?;
    v.get("ceasefire")
        .cloned()
        .ok_or_else(|| "eval JSON has no ceasefire score".to_owned())
}

/// A Markdown table of each key's values over the seeds: runs, median, p90, worst.
fn print_distributions(key: &str, values: BTreeMap<String, Vec<f64>>) {
    println!("| {key} | runs | median | p90 | worst |\n|---|---:|---:|---:|---:|");
    for (k, mut v) in values {
        v.sort_by(f64::total_cmp);
        println!(
            "| {k} | {} | {:.1} | {:.1} | {:.1} |",
            v.len(),
            quantile(&v, 0.5),
            quantile(&v, 0.9),
            v.last().copied().unwrap_or(f64::NAN)
        );
    }
}

fn main() -> ExitCode {
    let mut seeds: Vec<u64> = (201..=210).collect();
    let mut days = 45u32;
    let mut work = std::env::temp_dir().join("sf-ceasefire-sweep");
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let value = it.next();
        let r = match (a.as_str(), value) {
            ("--seeds", Some(v)) => parse_seeds(&v).map(|s| seeds = s),
            ("--days", Some(v)) => v
                .parse()
                .map(|d| days = d)
                .map_err(|_| format!("--days: bad number {v:?}")),
            ("--work", Some(v)) => {
                work = v.into();
                Ok(())
            }
            _ => Err(format!(
                "usage: ceasefire_sweep [--seeds 201-210] [--days 45] [--work DIR] (at {a:?})"
            )),
        };
        if let Err(e) = r {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    let bin = binary();
    let mut wape: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut recall = Vec::new();
    let mut unmatched = 0u64;
    let (mut onset, mut end, mut evidence) = (Vec::new(), Vec::new(), Vec::new());
    let mut honesty: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for &seed in &seeds {
        let dir = work.join(format!("black_sea-{days}-{seed}"));
        let score = match one_run(&bin, &dir, days, seed) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("seed {seed}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let _ = std::fs::remove_dir_all(&dir);
        for s in score["series"].as_array().into_iter().flatten() {
            if s["truth"].as_u64().unwrap_or(0) < 10 {
                continue;
            }
            let key = format!(
                "{} {}",
                s["metric"].as_str().unwrap_or(""),
                s["place"].as_str().unwrap_or("")
            );
            let w = s["wape_pct"].as_f64().unwrap_or(f64::NAN);
            if w > 5.0 {
                eprintln!(
                    "seed {seed}: {key} {w:.1} % (truth {}, found {})",
                    s["truth"], s["found"]
                );
            }
            if s["metric"] == "gate_transits" {
                // Beside it, the error against the crossings the AIS could show (eval's
                // `unseen`: out and back within one silence).
                let seen = s["wape_seen_pct"].as_f64().unwrap_or(f64::NAN);
                wape.entry(format!("{key} (seen)")).or_default().push(seen);
            }
            wape.entry(key).or_default().push(w);
        }
        let (eps, found) = (
            score["spoof_episodes"].as_f64().unwrap_or(0.0),
            score["spoof_episodes_found"].as_f64().unwrap_or(0.0),
        );
        recall.push(if eps > 0.0 { found / eps } else { f64::NAN });
        unmatched += score["clusters_unmatched"].as_u64().unwrap_or(0);
        for c in score["closures"].as_array().into_iter().flatten() {
            onset.push(c["onset_error_days"].as_i64());
            end.push(c["end_error_days"].as_i64());
            evidence.push(c["truth_llr"].as_f64().unwrap_or(f64::NAN));
        }
        for d in score["destinations"].as_array().into_iter().flatten() {
            if d["truth_share"].as_f64().unwrap_or(0.0) > 0.0 {
                honesty
                    .entry(d["port"].as_str().unwrap_or("").to_owned())
                    .or_default()
                    .push(d["error_pp"].as_f64().unwrap_or(f64::NAN).abs());
            }
        }
        eprintln!("seed {seed} done");
    }
    println!(
        "black_sea, {days} days, seeds {}–{} ({} runs): weekly WAPE % over seeds (series with ≥ 10 in truth)",
        seeds.first().copied().unwrap_or(0),
        seeds.last().copied().unwrap_or(0),
        seeds.len()
    );
    print_distributions("series", wape);
    println!(
        "\ndestination honesty, |found − truth| share not naming the port, percentage points (ports where some crews hide it):\n"
    );
    print_distributions("port", honesty);
    println!();
    let mut r: Vec<f64> = recall.iter().copied().filter(|x| x.is_finite()).collect();
    r.sort_by(f64::total_cmp);
    println!(
        "spoofing-cluster recall per seed: median {:.3}, worst {:.3}; clusters matching no episode: {unmatched} in all",
        quantile(&r, 0.5),
        r.first().copied().unwrap_or(f64::NAN)
    );
    let within = |v: &[Option<i64>]| v.iter().filter(|d| d.is_some_and(|d| d.abs() <= 3)).count();
    let show = |v: &[Option<i64>]| {
        v.iter()
            .map(|d| d.map_or("none".to_owned(), |d| format!("{d:+}")))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "closure onset within ±3 days in {}/{} runs (days off: {}); end within ±3 days in {}/{} (days off: {})",
        within(&onset),
        onset.len(),
        show(&onset),
        within(&end),
        end.len(),
        show(&end)
    );
    println!(
        "closure evidence in the truth's departures (LLR per run; below the monitor's change-point threshold a closure cannot be told from chance): {}",
        evidence
            .iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    ExitCode::SUCCESS
}
