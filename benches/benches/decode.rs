//! Decoding speed: shadowfleet vs the `ais` 0.12 and `nmea-parser` 0.11 crates
//! on the same 1 M-sentence mix of real AIS, one core, in the same run.
//!
//! `cargo bench -p shadowfleet-bench --bench decode` prints a Markdown table:
//! median messages/s over several runs, the ratio to the `ais` crate, messages
//! decoded (so that the answers can be checked) and heap allocations per message.

use std::hint::black_box;
use std::time::Instant;

use shadowfleet_bench::{allocations, sentence_mix, CountingAlloc};
use shadowfleet_decode::{Decoded, Decoder, DecoderConfig, Sink};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const SENTENCES: usize = 1_000_000;
const RUNS: usize = 7;

struct Count(u64);

impl Sink for Count {
    fn message(&mut self, m: &Decoded) {
        black_box(m);
        self.0 += 1;
    }
}

fn shadowfleet(lines: &[String]) -> u64 {
    let mut d = Decoder::new(DecoderConfig::default());
    let mut sink = Count(0);
    for l in lines {
        d.push_line(l.as_bytes(), &mut sink);
    }
    d.finish(&mut sink);
    sink.0
}

fn ais_crate(lines: &[String]) -> u64 {
    let mut p = ais::AisParser::new();
    let mut n = 0;
    for l in lines {
        if let Ok(ais::AisFragments::Complete(s)) = p.parse(l.as_bytes(), true) {
            if let Some(m) = s.message {
                black_box(&m);
                n += 1;
            }
        }
    }
    n
}

fn nmea_parser(lines: &[String]) -> u64 {
    let mut p = nmea_parser::NmeaParser::new();
    let mut n = 0;
    for l in lines {
        match p.parse_sentence(l) {
            Ok(nmea_parser::ParsedMessage::Incomplete) | Err(_) => {}
            Ok(m) => {
                black_box(&m);
                n += 1;
            }
        }
    }
    n
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn measure(name: &str, lines: &[String], f: fn(&[String]) -> u64) -> (f64, u64, f64) {
    let mut rates = Vec::new();
    let mut msgs = 0;
    let mut allocs_per_msg = 0.0;
    for _ in 0..RUNS {
        let a0 = allocations();
        let t = Instant::now();
        msgs = f(black_box(lines));
        let secs = t.elapsed().as_secs_f64();
        allocs_per_msg = (allocations() - a0) as f64 / msgs.max(1) as f64;
        rates.push(msgs as f64 / secs);
    }
    let m = median(rates);
    eprintln!("{name}: {:.0} msgs/s median of {RUNS}", m);
    (m, msgs, allocs_per_msg)
}

fn main() {
    // `cargo test --benches` runs bench targets with --test: keep that cheap.
    if std::env::args().any(|a| a == "--test") {
        let lines = sentence_mix(2_000);
        assert!(shadowfleet(&lines) > 1_000);
        return;
    }
    let lines = sentence_mix(SENTENCES);
    eprintln!("mix: {} sentences", lines.len());
    let ours = measure("shadowfleet-decode", &lines, shadowfleet);
    let ais = measure("ais 0.12", &lines, ais_crate);
    let np = measure("nmea-parser 0.11", &lines, nmea_parser);
    println!("| decoder | messages/s (median of {RUNS}) | vs `ais` | messages decoded | heap allocations per message |");
    println!("|---|---:|---:|---:|---:|");
    for (name, (rate, msgs, allocs)) in [
        ("shadowfleet-decode", ours),
        ("ais 0.12", ais),
        ("nmea-parser 0.11", np),
    ] {
        println!(
            "| {name} | {:.2} M | {:.2}× | {msgs} | {allocs:.2} |",
            rate / 1e6,
            rate / ais.0
        );
    }
}
