//! Raw NMEA → events: `cargo bench -p shadowfleet-bench --bench analyze`.
//!
//! * Throughput: the `baltic` scenario (seed 1) over 3, 7, 14 and 28 days, written to NMEA files
//!   under `target/bench-data/`, each analysed five times by a fresh process (this binary
//!   re-run as a child) doing what `shadowfleet analyze` does without the store: read, decode,
//!   track stage and detection on their threads. Median messages per second, with the loading
//!   of the land polygons and places measured apart, and the CPU time of all threads and of
//!   the decoding thread (the critical path).
//! * Memory: the child's peak resident set (`VmHWM` of `/proc/self/status`) per file; streaming
//!   means it stays flat as the days grow.
//! * Peer, in the same run: pyais decoding plus the same gap and port-call definitions in
//!   DuckDB SQL (`benches/peer/pyais_duckdb.py`, in a virtualenv that
//!   `benches/peer/setup.sh` makes), on the 3-day file. Without Python the peer is skipped,
//!   and the output says so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use shadowfleet_bench::{cpu_model, median};
use shadowfleet_events::{DetectorConfig, EventKind, PipelineOutput};
use shadowfleet_ingest::{read_source, Backoff, Source};
use shadowfleet_run::ingest::{pipeline, IngestOptions};
use shadowfleet_run::threaded::run_threaded;
use shadowfleet_simulate::{simulate, Scenario, SimOptions, World};

const CHILD: &str = "SHADOWFLEET_BENCH_ANALYZE_CHILD";
const STAGES: &str = "SHADOWFLEET_BENCH_ANALYZE_STAGES";
const DAYS: [u32; 4] = [3, 7, 14, 28];
const PEER_DAYS: u32 = 3;
/// Fresh processes per file; the median is reported (the machine is shared and noisy).
const RUNS: usize = 5;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Peak resident set of this process, kB (Linux).
fn vm_hwm_kb() -> u64 {
    shadowfleet_bench::status_kb(Path::new("/proc/self/status"), "VmHWM:")
}

/// CPU time of the calling thread so far (user + system), seconds (Linux; 0 elsewhere).
fn thread_cpu_s() -> f64 {
    shadowfleet_run::cpu::thread_cpu_s().unwrap_or(0.0)
}

/// CPU time of the whole process so far, seconds (as [`thread_cpu_s`]).
fn process_cpu_s() -> f64 {
    shadowfleet_run::cpu::process_cpu_s().unwrap_or(0.0)
}

/// The child: analyse one file, print one JSON line.
fn child(path: &str) {
    let t0 = Instant::now();
    // The pipeline `shadowfleet analyze` runs, over the same reference data.
    let mut pipeline = pipeline(&IngestOptions::default()).expect("pipeline");
    let load_s = t0.elapsed().as_secs_f64();
    let mut counts = [0u64; EventKind::COUNT];
    let mut out = |o: PipelineOutput| {
        if let PipelineOutput::Event(e) = o {
            counts[e.kind().index()] += 1;
        }
    };
    let decoder = DetectorConfig::default().decoder_config();
    let t1 = Instant::now();
    let cpu0 = thread_cpu_s();
    let process0 = process_cpu_s();
    let source = Source::File(PathBuf::from(path));
    let (messages, decode_cpu) = run_threaded(
        &mut pipeline,
        |sink| {
            read_source(&source, &decoder, Backoff::default(), sink)
                .map(|r| (sink.messages + r.stats.repeats, thread_cpu_s()))
        },
        &mut out,
    )
    .expect("analysis");
    pipeline.finish(&mut out);
    let secs = t1.elapsed().as_secs_f64();
    let detect_cpu = thread_cpu_s() - cpu0;
    let process_cpu = process_cpu_s() - process0;
    let by_kind: serde_json::Map<String, serde_json::Value> = EventKind::ALL
        .iter()
        .zip(counts)
        .map(|(k, n)| (k.as_str().to_owned(), n.into()))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "messages": messages, "seconds": secs, "load_s": load_s,
            "decode_thread_cpu_s": decode_cpu, "detect_thread_cpu_s": detect_cpu,
            "cpu_s": process_cpu,
            "vm_hwm_kb": vm_hwm_kb(), "events": by_kind,
        })
    );
}

/// The stages apart, on one core each: decoding alone into a counting sink, and detection
/// alone over messages decoded beforehand into memory. Prints one JSON line.
fn stages(path: &str) {
    struct Count(u64);
    impl shadowfleet_decode::Sink for Count {
        fn message(&mut self, _: &shadowfleet_decode::Decoded) {
            self.0 += 1;
        }
    }
    struct Keep(Vec<shadowfleet_decode::Decoded>);
    impl shadowfleet_decode::Sink for Keep {
        fn message(&mut self, d: &shadowfleet_decode::Decoded) {
            self.0.push(*d);
        }
    }
    let source = Source::File(PathBuf::from(path));
    let decoder = DetectorConfig::default().decoder_config();
    let mut plain_s = f64::INFINITY;
    let mut decode_s = f64::INFINITY;
    let mut count = Count(0);
    for _ in 0..3 {
        let t = Instant::now();
        read_source(
            &source,
            &shadowfleet_decode::DecoderConfig::default(),
            Backoff::default(),
            &mut Count(0),
        )
        .expect("decode");
        plain_s = plain_s.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        count = Count(0);
        read_source(&source, &decoder, Backoff::default(), &mut count).expect("decode");
        decode_s = decode_s.min(t.elapsed().as_secs_f64());
    }
    let mut keep = Keep(Vec::with_capacity(count.0 as usize));
    read_source(&source, &decoder, Backoff::default(), &mut keep).expect("decode");
    let mut pipeline = pipeline(&IngestOptions::default()).expect("pipeline");
    let mut events = 0u64;
    let mut out = |o: PipelineOutput| {
        if let PipelineOutput::Event(_) = o {
            events += 1;
        }
    };
    let t1 = Instant::now();
    for d in &keep.0 {
        pipeline.push(d, &mut out);
    }
    pipeline.finish(&mut out);
    let detect_s = t1.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "messages": count.0, "decode_s": decode_s, "decode_all_s": plain_s, "detect_s": detect_s, "events": events,
            "decoded_bytes": std::mem::size_of::<shadowfleet_decode::Decoded>(),
        })
    );
}

fn run_child(file: &Path) -> serde_json::Value {
    let exe = std::env::current_exe().expect("bench binary");
    let out = Command::new(exe)
        .env(CHILD, file)
        .output()
        .expect("child run");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("child JSON")
}

fn generate(world: &World, scenario: &Scenario, days: u32, dir: &Path) -> PathBuf {
    let path = dir.join(format!("baltic-seed1-{days}d.nmea"));
    if !path.exists() {
        let opts = SimOptions {
            seed: 1,
            days: Some(days),
            fleet_scale: 1.0,
        };
        let tmp = path.with_extension("partial");
        let f = std::io::BufWriter::new(std::fs::File::create(&tmp).expect("bench file"));
        simulate(scenario, world, &opts, f, std::io::sink()).expect("simulation");
        std::fs::rename(&tmp, &path).expect("bench file");
    }
    path
}

/// pyais + DuckDB on `file`, or why not.
fn peer(file: &Path) -> Result<serde_json::Value, String> {
    let root = root();
    let venv = root.join("target/peer-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let status = Command::new("sh")
            .arg(root.join("benches/peer/setup.sh"))
            .arg(&venv)
            .status()
            .map_err(|e| format!("running benches/peer/setup.sh: {e}"))?;
        if !status.success() {
            return Err(
                "benches/peer/setup.sh failed (Python 3 with venv and pip, and PyPI, are needed)"
                    .into(),
            );
        }
    }
    let data = root.join("crates/places/data");
    let out = Command::new(&python)
        .arg(root.join("benches/peer/pyais_duckdb.py"))
        .arg(file)
        .arg(data.join("ports.csv"))
        .arg(data.join("terminals.csv"))
        .output()
        .map_err(|e| format!("running the peer: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("peer output: {e}"))
}

fn main() {
    if let Ok(path) = std::env::var(STAGES) {
        stages(&path);
        return;
    }
    if let Ok(path) = std::env::var(CHILD) {
        child(&path);
        return;
    }
    let dir = root().join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("target/bench-data");
    let world = World::load(0.75).expect("world");
    let scenario = Scenario::load("baltic").expect("baltic");

    println!(
        "{}, {} CPUs online\n",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| baltic days | messages | MB of NMEA | median s | M msg/s (median of {RUNS}) | best M msg/s | CPU s, all threads | decode thread CPU s | load s | peak RSS MB | events |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut ours_peer_file = None;
    for days in DAYS {
        let file = generate(&world, &scenario, days, &dir);
        let mb = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        let runs: Vec<serde_json::Value> = (0..RUNS).map(|_| run_child(&file)).collect();
        let field = |name: &str| -> Vec<f64> {
            runs.iter()
                .map(|r| r[name].as_f64().unwrap_or(0.0))
                .collect()
        };
        let secs = median(field("seconds"));
        let best = field("seconds").into_iter().fold(f64::INFINITY, f64::min);
        let load = median(field("load_s"));
        let cpu = median(field("cpu_s"));
        let decode_cpu = median(field("decode_thread_cpu_s"));
        let rss = runs
            .iter()
            .map(|r| r["vm_hwm_kb"].as_u64().unwrap_or(0))
            .max()
            .unwrap_or(0);
        let messages = runs[0]["messages"].as_u64().unwrap_or(0);
        let events: Vec<String> = runs[0]["events"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| format!("{v} {k}")).collect())
            .unwrap_or_default();
        println!(
            "| {days} | {messages} | {mb:.0} | {secs:.2} | {:.2} | {:.2} | {cpu:.2} | {decode_cpu:.2} | {load:.2} | {:.0} | {} |",
            messages as f64 / secs / 1e6,
            messages as f64 / best / 1e6,
            rss as f64 / 1024.0,
            events.join(", ")
        );
        if days == PEER_DAYS {
            ours_peer_file = Some((file, messages as f64 / secs, runs[0].clone()));
        }
    }
    let Some((file, ours_rate, ours)) = ours_peer_file else {
        return;
    };
    match peer(&file) {
        Ok(p) => {
            let secs = p["decode_s"].as_f64().unwrap_or(0.0) + p["sql_s"].as_f64().unwrap_or(0.0);
            let rate = p["messages"].as_f64().unwrap_or(0.0) / secs.max(1e-9);
            println!();
            println!("| on baltic {PEER_DAYS} d | messages | decode s | detect s | M msg/s | gaps ≥ 6 h | port calls |");
            println!("|---|---:|---:|---:|---:|---:|---:|");
            println!(
                "| pyais + DuckDB SQL (benches/peer/requirements.txt) | {} | {:.2} | {:.2} | {:.3} | {} | {} |",
                p["messages"],
                p["decode_s"].as_f64().unwrap_or(0.0),
                p["sql_s"].as_f64().unwrap_or(0.0),
                rate / 1e6,
                p["gaps"],
                p["port_calls"]
            );
            println!(
                "| shadowfleet (all detectors) | {} | (overlapped) | {:.2} | {:.3} | {} | {} |",
                ours["messages"],
                ours["seconds"].as_f64().unwrap_or(0.0),
                ours_rate / 1e6,
                ours["events"]["gap"],
                ours["events"]["port_call"]
            );
            println!("\nshadowfleet / peer: {:.1}x", ours_rate / rate.max(1e-9));
        }
        Err(why) => println!("\nPEER SKIPPED: {why}"),
    }
}
