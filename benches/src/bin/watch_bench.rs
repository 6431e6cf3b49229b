//! `shadowfleet watch` measured as a user runs it (the binary, in a child process):
//!
//! 1. sustained messages/s through `watch` with checkpoints on, over a simulated file
//!    (`baltic` by default) followed to its end (`--exit-at-end`), against `shadowfleet analyze` on the same
//!    file in the same run (alternated, median of the runs);
//! 2. alert latency: the same AIS replayed over a loopback TCP connection at a fixed rate
//!    (default 50 000 messages/s) into `watch --rules` with a `gap` and a `port_call` rule
//!    and a webhook receiver in this process. Each event is found when a known line arrives:
//!    a gap when the vessel's next report leaves the reorder window (the first line received
//!    at or after the gap's end plus the window, 2 h of receive time), a port call when the
//!    watermark passes its exit plus the draught wait (6 h; the first line at or after the
//!    exit plus 8 h). The latency of an alert is the time from sending that line to the
//!    webhook's receipt. Prints the median, p90, p99 and worst.
//!
//! ```text
//! cargo build --release -p shadowfleet -p shadowfleet-bench
//! target/release/watch_bench [--scenario baltic] [--days 7] [--runs 3] [--rate 50000] [--checkpoint 0.5]
//! ```
//! Not a test: a measurement (docs/benchmarks.md has its table).

use std::io::{BufRead, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shadowfleet_bench::{cpu_model, median};

struct Args {
    scenario: String,
    days: u32,
    runs: usize,
    rate: f64,
    checkpoint: f64,
    bin: PathBuf,
    work: PathBuf,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        scenario: "baltic".into(),
        days: 7,
        runs: 3,
        rate: 50_000.0,
        checkpoint: 0.5,
        bin: root().join("target/release/shadowfleet"),
        work: root().join("target/watch-bench"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--scenario" => a.scenario = value()?,
            "--days" => a.days = value()?.parse().map_err(|e| format!("--days: {e}"))?,
            "--runs" => a.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--rate" => a.rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--checkpoint" => {
                a.checkpoint = value()?.parse().map_err(|e| format!("--checkpoint: {e}"))?
            }
            "--bin" => a.bin = PathBuf::from(value()?),
            "--work" => a.work = PathBuf::from(value()?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

fn run(cmd: &mut Command) -> Result<f64, String> {
    let t = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(t.elapsed().as_secs_f64())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\nusage: watch_bench [--scenario baltic] [--days 7] [--runs 3] [--rate 50000] [--checkpoint 0.5] [--bin BIN] [--work DIR]");
            return ExitCode::from(2);
        }
    };
    match bench(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("watch_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(args: &Args) -> Result<(), String> {
    println!("processor: {}", cpu_model());
    let sim = args.work.join(format!("{}-{}d", args.scenario, args.days));
    let ais = sim.join("ais.nmea");
    if !ais.exists() {
        run(Command::new(&args.bin)
            .args([
                "simulate",
                "--seed",
                "1",
                "-q",
                "--scenario",
                &args.scenario,
                "--days",
            ])
            .arg(args.days.to_string())
            .arg("--out")
            .arg(&sim))?;
    }
    let text = std::fs::read_to_string(&ais).map_err(|e| e.to_string())?;
    let lines: Vec<&str> = text.lines().collect();
    // Messages as analyze counts them (its summary line).
    let store = args.work.join("store");
    let _ = std::fs::remove_dir_all(&store);
    let out = Command::new(&args.bin)
        .args(["analyze", "--store"])
        .arg(&store)
        .arg(&ais)
        .output()
        .map_err(|e| e.to_string())?;
    let summary = String::from_utf8_lossy(&out.stderr).into_owned();
    let messages: f64 = summary
        .lines()
        .find_map(|l| {
            l.split(" messages")
                .next()?
                .split(", ")
                .last()?
                .parse()
                .ok()
        })
        .ok_or(format!("no message count in: {summary}"))?;

    // 1. Throughput: watch over the file to its end, against analyze, alternated.
    let (mut w, mut a) = (Vec::new(), Vec::new());
    for _ in 0..args.runs {
        let _ = std::fs::remove_dir_all(&store);
        a.push(run(Command::new(&args.bin)
            .args(["analyze", "-q", "--store"])
            .arg(&store)
            .arg(&ais))?);
        let _ = std::fs::remove_dir_all(&store);
        w.push(run(Command::new(&args.bin)
            .args(["watch", "-q", "--exit-at-end", "--checkpoint-every"])
            .arg(args.checkpoint.to_string())
            .arg("--store")
            .arg(&store)
            .arg(&ais))?);
    }
    let (mw, ma) = (median(w), median(a));
    println!(
        "\n| run | messages | median s (whole process) | M msg/s | vs analyze |\n|---|---:|---:|---:|---:|"
    );
    println!(
        "| analyze (file) | {messages:.0} | {ma:.2} | {:.2} | 1.00× |",
        messages / ma / 1e6
    );
    println!(
        "| watch, checkpoint every {} s (file followed to its end) | {messages:.0} | {mw:.2} | {:.2} | {:.2}× |",
        args.checkpoint,
        messages / mw / 1e6,
        ma / mw
    );

    // 2. Alert latency over a paced TCP replay.
    let received: Arc<Mutex<Vec<(Instant, i64, String)>>> = Arc::default();
    let hook = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/hook",
        hook.local_addr().map_err(|e| e.to_string())?
    );
    {
        let received = Arc::clone(&received);
        std::thread::spawn(move || {
            for s in hook.incoming() {
                let Ok(mut s) = s else { continue };
                let mut r = std::io::BufReader::new(match s.try_clone() {
                    Ok(c) => c,
                    Err(_) => continue,
                });
                let mut len = 0usize;
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                let at = Instant::now();
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                let v = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
                let kind = v["kind"].as_str().unwrap_or_default().to_owned();
                let end = v["end"].as_str().and_then(shadowfleet_model_time);
                if let (Some(end), Ok(mut g)) = (end, received.lock()) {
                    g.push((at, end, kind));
                }
            }
        });
    }
    let feed = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = feed.local_addr().map_err(|e| e.to_string())?;
    let rules = args.work.join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"dark\"\nwhen = \"gap\"\n\n[[rule]]\nname = \"calls\"\nwhen = \"port_call\"\n",
    )
        .map_err(|e| e.to_string())?;
    let live = args.work.join("live");
    let _ = std::fs::remove_dir_all(&live);
    let mut child = Command::new(&args.bin)
        .args(["watch", "-q", "--checkpoint-every"])
        .arg(args.checkpoint.to_string())
        .args(["--rules"])
        .arg(&rules)
        .args(["--webhook", &url, "--store"])
        .arg(&live)
        .arg(format!("tcp://{addr}"))
        .spawn()
        .map_err(|e| e.to_string())?;
    let (mut s, _) = feed.accept().map_err(|e| e.to_string())?;
    // Send time of the first line at or after each receive second.
    let mut sent_at: Vec<(i64, Instant)> = Vec::new();
    let slice = Duration::from_millis(5);
    let per_slice = ((args.rate * slice.as_secs_f64()) as usize).max(1);
    let start = Instant::now();
    let mut last_t = i64::MIN;
    for (k, chunk) in lines.chunks(per_slice).enumerate() {
        let due = start + slice * k as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let now = Instant::now();
        let mut buf = String::new();
        for l in chunk {
            if let Some(t) = shadowfleet_testkit::tag_time(l) {
                if t > last_t {
                    last_t = t;
                    sent_at.push((t, now));
                }
            }
            buf.push_str(l);
            buf.push('\n');
        }
        s.write_all(buf.as_bytes()).map_err(|e| e.to_string())?;
    }
    let send_s = start.elapsed().as_secs_f64();
    drop(s);
    std::thread::sleep(Duration::from_secs_f64(args.checkpoint * 4.0 + 2.0));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let got = received.lock().map_err(|e| e.to_string())?.clone();
    // The line that releases an event: the first received at or after its end plus the
    // reorder window (and, for a port call, the draught wait).
    let window = 2 * 3600;
    let wait = |kind: &str| if kind == "port_call" { 6 * 3600 } else { 0 };
    let mut lat: Vec<f64> = got
        .iter()
        .filter_map(|(at, end, kind)| {
            let i = sent_at.partition_point(|(t, _)| *t < end + window + wait(kind));
            let (_, sent) = sent_at.get(i)?;
            // Before its line was sent: the model of when it is found is wrong; counted.
            Some(
                at.checked_duration_since(*sent)
                    .map_or(-1.0, |d| d.as_secs_f64()),
            )
        })
        .collect();
    let early = lat.iter().filter(|&&x| x < 0.0).count();
    lat.retain(|&x| x >= 0.0);
    if early > 0 {
        println!("{early} alerts arrived before the line that should have found them (left out)");
    }
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "\nreplay: {} lines at {:.0} lines/s over TCP ({send_s:.1} s), checkpoint every {} s: {} gap and port-call alerts at the webhook",
        lines.len(),
        lines.len() as f64 / send_s,
        args.checkpoint,
        lat.len()
    );
    println!(
        "\n| alerts | median s | p90 s | p99 s | worst s |\n|---:|---:|---:|---:|---:|\n| {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        lat.len(),
        q(0.5),
        q(0.9),
        q(0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}

/// Unix seconds of an RFC 3339 time.
fn shadowfleet_model_time(s: &str) -> Option<i64> {
    let t = shadowfleet_model::Timestamp::parse_rfc3339(s).ok()?;
    Some(t.unix_millis().div_euclid(1000))
}
