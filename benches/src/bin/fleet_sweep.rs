//! The fleet-size sweep: how the cost per message and the memory grow with the number of
//! vessels. Simulates one day of the `global` scenario (seed 1) at each fleet scale asked,
//! then analyses each file into a fresh store by the path `shadowfleet analyze` takes
//! (`shadowfleet_run::ingest`: read, decode, track stage, detection, position writer, store
//! commit), each run in a fresh process, and prints per scale: messages/s (median of the
//! runs) on analyze's own clock (from the first byte read to the last event, as its summary
//! line says; loading the reference data and the store's commit are timed apart) and its
//! ratio to the smallest fleet, the end-to-end seconds of the whole run, CPU per stage and
//! per detector (µs per message), peak RSS, the heap's peak, and the bytes each added
//! vessel costs (the slope of peak RSS between two scales). Not a test: a measurement
//! (docs/benchmarks.md has its table).
//!
//! ```text
//! cargo run --release -p shadowfleet-bench --bin fleet_sweep -- --scales 3,10,30,100
//! cargo run --release -p shadowfleet-bench --bin fleet_sweep -- --scales 3,30 --against OLD_BINARY
//! ```
//!
//! `--against BIN` is the peer in the same run: an older `shadowfleet` binary (e.g. built from
//! an earlier commit) runs `analyze` on the same files, alternated with ours (`--ours BIN`,
//! by default `target/release/shadowfleet`), both timed the same way: the wall-clock time of
//! the whole process and its peak RSS. The ratio is printed.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shadowfleet_bench::{cpu_model, median, CountingAlloc};
use shadowfleet_run::ingest::{ingest, IngestInput, IngestOptions};
use shadowfleet_simulate::{simulate, Scenario, SimOptions, World};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const CHILD: &str = "SHADOWFLEET_FLEET_SWEEP_CHILD";

struct Args {
    scales: Vec<f64>,
    days: u32,
    seed: u64,
    runs: usize,
    work: PathBuf,
    against: Option<PathBuf>,
    ours: PathBuf,
    json: Option<PathBuf>,
}

fn usage() -> &'static str {
    "usage: fleet_sweep [--scales 3,10,30,100] [--days 1] [--seed 1] [--runs 3] [--work DIR] \
     [--against OLD_SHADOWFLEET_BINARY [--ours BINARY]] [--json FILE]"
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        scales: vec![3.0, 10.0, 30.0],
        days: 1,
        seed: 1,
        runs: 3,
        work: root().join("target/fleet-sweep"),
        against: None,
        ours: root().join("target/release/shadowfleet"),
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--scales" => {
                args.scales = value()?
                    .split(',')
                    .map(|s| {
                        s.parse::<f64>()
                            .ok()
                            .filter(|x| *x > 0.0 && x.is_finite())
                            .ok_or_else(|| format!("--scales: bad fleet scale {s:?}"))
                    })
                    .collect::<Result<_, _>>()?
            }
            "--days" => args.days = value()?.parse().map_err(|_| "--days: a whole number")?,
            "--seed" => args.seed = value()?.parse().map_err(|_| "--seed: a whole number")?,
            "--runs" => {
                args.runs = value()?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--runs: a positive whole number")?
            }
            "--work" => args.work = PathBuf::from(value()?),
            "--against" => args.against = Some(PathBuf::from(value()?)),
            "--ours" => args.ours = PathBuf::from(value()?),
            "--json" => args.json = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(usage().into()),
            other => return Err(format!("unknown argument {other:?}\n{}", usage())),
        }
    }
    Ok(args)
}

/// A field of this process's `/proc/self/status`, kB.
fn status_kb(field: &str) -> u64 {
    shadowfleet_bench::status_kb(Path::new("/proc/self/status"), field)
}

/// The child: analyse `file` into the fresh store `store`, print one JSON line.
fn child(file: &str, store: &str) -> Result<(), String> {
    let rss_before = status_kb("VmRSS:");
    let heap_before = shadowfleet_bench::live_bytes();
    shadowfleet_bench::reset_peak();
    let options = IngestOptions {
        profile: true,
        ..IngestOptions::default()
    };
    let t = Instant::now();
    let report = ingest(
        Path::new(store),
        &[IngestInput::file(Path::new(file))],
        &options,
    )
    .map_err(|e| format!("{file}: {e:#}"))?;
    let seconds = t.elapsed().as_secs_f64();
    let c = &report.cpu;
    let detectors: serde_json::Map<String, Value> = c
        .detectors
        .iter()
        .map(|(d, s)| ((*d).to_owned(), (*s).into()))
        .collect();
    println!(
        "{}",
        json!({
            "messages": report.messages, "positions": report.positions, "vessels": report.vessels,
            "events": report.event_count(), "seconds": seconds, "elapsed_s": report.elapsed_s,
            "cpu": {"decode": c.decode_s, "tracks": c.tracks_s, "detect": c.detect_s,
                    "positions": c.positions_s, "commit_wall": c.commit_s,
                    "identities": c.identities_s},
            "detectors": detectors,
            "vm_hwm_kb": status_kb("VmHWM:"), "rss_before_kb": rss_before,
            "heap_peak_bytes": shadowfleet_bench::peak_bytes().saturating_sub(heap_before),
        })
    );
    Ok(())
}

fn run_child(file: &Path, store: &Path) -> Result<Value, String> {
    let _ = std::fs::remove_dir_all(store);
    let exe = std::env::current_exe().map_err(|e| format!("this binary: {e}"))?;
    let out = Command::new(exe)
        .env(CHILD, format!("{}\n{}", file.display(), store.display()))
        .output()
        .map_err(|e| format!("starting the child: {e}"))?;
    let _ = std::fs::remove_dir_all(store);
    if !out.status.success() {
        return Err(format!(
            "the child failed on {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("child output: {e}"))
}

/// The peer: `bin analyze FILE --store S -q` in a child process; wall seconds and its peak
/// RSS (its `VmHWM`, read every 20 ms while it runs: the last reading before it exits).
fn run_against(bin: &Path, file: &Path, store: &Path) -> Result<(f64, u64), String> {
    let _ = std::fs::remove_dir_all(store);
    let t = Instant::now();
    let mut child = Command::new(bin)
        .arg("analyze")
        .arg(file)
        .arg("--store")
        .arg(store)
        .arg("-q")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut hwm = 0;
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        hwm = hwm.max(shadowfleet_bench::status_kb(&status_file, "VmHWM:"));
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(store);
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        return Err(format!("{} analyze failed: {err}", bin.display()));
    }
    Ok((seconds, hwm))
}

fn generate(
    world: &World,
    scenario: &Scenario,
    args: &Args,
    scale: f64,
) -> Result<PathBuf, String> {
    let path = args.work.join(format!(
        "global-seed{}-{}d-x{scale}.nmea",
        args.seed, args.days
    ));
    if !path.exists() {
        let opts = SimOptions {
            seed: args.seed,
            days: Some(args.days),
            fleet_scale: scale,
        };
        let tmp = path.with_extension("partial");
        let f = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        simulate(
            scenario,
            world,
            &opts,
            std::io::BufWriter::new(f),
            std::io::sink(),
        )
        .map_err(|e| format!("simulating x{scale}: {e}"))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}

fn main() -> ExitCode {
    if let Ok(spec) = std::env::var(CHILD) {
        let (file, store) = spec.split_once('\n').unwrap_or((&spec, ""));
        return match child(file, store) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    match sweep() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet_sweep: {e}");
            ExitCode::FAILURE
        }
    }
}

fn sweep() -> Result<(), String> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.work).map_err(|e| format!("{}: {e}", args.work.display()))?;
    let scenario = Scenario::load("global").map_err(|e| e.to_string())?;
    let world = World::load(scenario.ais.station_spacing_deg).map_err(|e| e.to_string())?;
    println!(
        "{}, {} CPUs online; global, {} day(s), seed {}, {} runs per scale (median)\n",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.days,
        args.seed,
        args.runs
    );
    let store = args.work.join("store");
    let mut rows: Vec<Value> = Vec::new();
    for &scale in &args.scales {
        let file = generate(&world, &scenario, &args, scale)?;
        let mut ours = Vec::new();
        let mut ours_whole = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..args.runs {
            ours.push(run_child(&file, &store)?);
            if let Some(bin) = &args.against {
                theirs.push(run_against(bin, &file, &store)?);
                ours_whole.push(run_against(&args.ours, &file, &store)?);
            }
        }
        let f = |path: &[&str]| -> Vec<f64> {
            ours.iter()
                .map(|r| {
                    path.iter()
                        .fold(r, |v, k| &v[*k])
                        .as_f64()
                        .unwrap_or(f64::NAN)
                })
                .collect()
        };
        let messages = ours[0]["messages"].as_f64().unwrap_or(0.0);
        let secs = median(f(&["elapsed_s"]));
        let mut row = json!({
            "scale": scale, "vessels": ours[0]["vessels"], "messages": messages,
            "positions": ours[0]["positions"], "events": ours[0]["events"],
            "seconds": secs, "msg_per_s": messages / secs,
            "end_to_end_s": median(f(&["seconds"])),
            "vm_hwm_mb": median(f(&["vm_hwm_kb"])) / 1024.0,
            "heap_peak_mb": median(f(&["heap_peak_bytes"])) / 1e6,
        });
        let per_msg = |s: f64| s / messages * 1e6;
        for stage in [
            "decode",
            "tracks",
            "detect",
            "positions",
            "commit_wall",
            "identities",
        ] {
            row["cpu_us_per_msg"][stage] = per_msg(median(f(&["cpu", stage]))).into();
        }
        if let Some(d) = ours[0]["detectors"].as_object() {
            for k in d.keys() {
                row["detector_us_per_msg"][k] = per_msg(median(f(&["detectors", k]))).into();
            }
        }
        let whole = |runs: &[(f64, u64)]| {
            let secs = median(runs.iter().map(|t| t.0).collect());
            json!({
                "seconds": secs, "msg_per_s": messages / secs,
                "vm_hwm_mb": median(runs.iter().map(|t| t.1 as f64).collect()) / 1024.0,
            })
        };
        if !theirs.is_empty() {
            row["against"] = whole(&theirs);
            row["ours_whole"] = whole(&ours_whole);
        }
        eprintln!("{row}");
        rows.push(row);
    }
    print_tables(&rows);
    if let Some(path) = &args.json {
        let doc = json!({"cpu": cpu_model(), "days": args.days, "seed": args.seed, "runs": args.runs, "rows": rows});
        std::fs::write(path, doc.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn print_tables(rows: &[Value]) {
    let num = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let base_rate = rows.first().map_or(f64::NAN, |r| num(r, "msg_per_s"));
    println!("| fleet scale | vessels | messages | M msg/s | vs smallest fleet | end-to-end s | peak RSS MB | heap peak MB | KB per added vessel (RSS slope) | events |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut prev: Option<&Value> = None;
    for r in rows {
        let slope = prev.map_or("–".to_owned(), |p| {
            let dv = num(r, "vessels") - num(p, "vessels");
            let dm = num(r, "vm_hwm_mb") - num(p, "vm_hwm_mb");
            format!("{:.1}", dm * 1024.0 / dv.max(1.0))
        });
        println!(
            "| {} | {} | {} | {:.2} | {:.2}× | {:.2} | {:.0} | {:.0} | {slope} | {} |",
            num(r, "scale"),
            r["vessels"],
            num(r, "messages"),
            num(r, "msg_per_s") / 1e6,
            num(r, "msg_per_s") / base_rate,
            num(r, "end_to_end_s"),
            num(r, "vm_hwm_mb"),
            num(r, "heap_peak_mb"),
            r["events"],
        );
        prev = Some(r);
    }
    println!();
    println!("CPU per message by stage and detector, µs (detectors: sampled estimate):\n");
    let detectors: Vec<String> = rows
        .first()
        .and_then(|r| r["detector_us_per_msg"].as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let stages = ["decode", "tracks", "detect", "positions", "commit_wall"];
    let mut header = vec!["vessels".to_owned()];
    header.extend(
        stages
            .iter()
            .map(|s| s.replace("commit_wall", "commit (wall)")),
    );
    header.push("identities".into());
    header.extend(detectors.iter().cloned());
    println!("| {} |", header.join(" | "));
    println!("|{}", "---:|".repeat(header.len()));
    for r in rows {
        let mut cells = vec![r["vessels"].to_string()];
        for s in stages.iter().chain(std::iter::once(&"identities")) {
            cells.push(format!("{:.3}", num(&r["cpu_us_per_msg"], s)));
        }
        for d in &detectors {
            cells.push(format!("{:.3}", num(&r["detector_us_per_msg"], d)));
        }
        println!("| {} |", cells.join(" | "));
    }
    if rows.iter().any(|r| r.get("against").is_some()) {
        println!();
        println!("Whole processes (`analyze FILE --store S -q`), wall-clock time including loading and commit:\n");
        println!("| vessels | ours M msg/s | against M msg/s | ours vs against | ours peak RSS MB | against peak RSS MB |");
        println!("|---:|---:|---:|---:|---:|---:|");
        for r in rows {
            let a = &r["against"];
            let o = &r["ours_whole"];
            let ratio = num(o, "msg_per_s") / num(a, "msg_per_s");
            println!(
                "| {} | {:.2} | {:.2} | {} | {:.0} | {:.0} |",
                r["vessels"],
                num(o, "msg_per_s") / 1e6,
                num(a, "msg_per_s") / 1e6,
                if ratio >= 1.0 {
                    format!("{ratio:.2}× faster")
                } else {
                    format!("{:.2}× slower", 1.0 / ratio)
                },
                num(o, "vm_hwm_mb"),
                num(a, "vm_hwm_mb"),
            );
        }
    }
}
