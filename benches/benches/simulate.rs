//! Simulator throughput and memory: `cargo bench -p shadowfleet-bench --bench simulate`.
//!
//! * Throughput: the `baltic` scenario for 30 days and the `global` scenario with five times
//!   its fleet for 3 days, written to a sink; median of 3 runs, end to end and emission alone
//!   (planning, i.e. routing, excluded). The in-run reference is our decoder reading the same
//!   bytes, so the ratio says whether generation keeps up with analysis.
//! * Memory: peak heap of each run above the loaded world, and of the `baltic` scenario over
//!   1, 7 and 28 days; streaming means the peaks do not grow with the days.
//! * `SHADOWFLEET_BENCH_SCALE=1` adds the scale world: `global` with 10 000 vessels for 30 days.

use std::time::Instant;

use shadowfleet_bench::{peak_bytes, reset_peak, CountingAlloc};
use shadowfleet_decode::{Decoder, DecoderConfig, FnSink};
use shadowfleet_simulate::{simulate, Scenario, SimOptions, SimReport, World};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Counter(u64);
impl std::io::Write for Counter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run(world: &World, scenario: &Scenario, days: u32, scale: f64) -> (SimReport, f64, u64) {
    let opts = SimOptions {
        seed: 1,
        days: Some(days),
        fleet_scale: scale,
    };
    let mut out = Counter(0);
    let t = Instant::now();
    let r = simulate(scenario, world, &opts, &mut out, std::io::sink()).expect("simulation");
    (r, t.elapsed().as_secs_f64(), out.0)
}

fn main() {
    let world = World::load(0.75).expect("world");
    let world_1deg = World::load(1.0).expect("world");
    let baltic = Scenario::load("baltic").expect("baltic");
    let global = Scenario::load("global").expect("global");
    println!("| run | vessels | messages | MB | end-to-end s | M msg/s end-to-end | emission s | M msg/s emission | peak heap MB |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut cases: Vec<(&str, &World, &Scenario, u32, f64)> = vec![
        ("baltic 30 d", &world, &baltic, 30, 1.0),
        ("global x5 3 d", &world_1deg, &global, 3, 5.0),
    ];
    if std::env::var_os("SHADOWFLEET_BENCH_SCALE").is_some() {
        cases.push((
            "global 10k vessels 30 d",
            &world_1deg,
            &global,
            30,
            10_000.0 / 600.0,
        ));
    }
    for (name, w, s, days, scale) in cases {
        let reps = if days * (scale as u32).max(1) > 100 {
            1
        } else {
            3
        };
        let mut total = Vec::new();
        let mut emit = Vec::new();
        let mut last = None;
        reset_peak();
        let base = shadowfleet_bench::live_bytes();
        for _ in 0..reps {
            let (r, secs, bytes) = run(w, s, days, scale);
            total.push(secs);
            emit.push(r.emitting_s);
            last = Some((r, bytes));
        }
        let (r, bytes) = last.expect("one run");
        let (t, e) = (median(total), median(emit));
        println!(
            "| {name} | {} | {} | {:.0} | {t:.2} | {:.2} | {e:.2} | {:.2} | {:.1} |",
            r.vessels,
            r.ais.messages,
            bytes as f64 / 1e6,
            r.ais.messages as f64 / t / 1e6,
            r.ais.messages as f64 / e / 1e6,
            (peak_bytes() - base) as f64 / 1e6
        );
    }

    // The in-run reference: decoding what the baltic run wrote.
    let mut bytes = Vec::new();
    simulate(
        &baltic,
        &world,
        &SimOptions {
            seed: 1,
            days: Some(5),
            fleet_scale: 1.0,
        },
        &mut bytes,
        std::io::sink(),
    )
    .expect("simulation");
    let mut times = Vec::new();
    let mut n = 0u64;
    for _ in 0..5 {
        let mut dec = Decoder::new(DecoderConfig::default());
        let mut count = 0u64;
        let t = Instant::now();
        dec.push(
            &bytes,
            &mut FnSink(|_: &shadowfleet_decode::Decoded| count += 1),
        );
        times.push(t.elapsed().as_secs_f64());
        n = count;
    }
    println!(
        "\ndecoding the baltic 5-day output ({n} messages): {:.2} M msg/s (median of 5)",
        n as f64 / median(times) / 1e6
    );
    drop(bytes);

    println!("\n| baltic days | peak heap MB |");
    println!("|---|---|");
    println!(
        "| before the run (two worlds loaded) | {:.1} |",
        shadowfleet_bench::live_bytes() as f64 / 1e6
    );
    for days in [1, 7, 28] {
        reset_peak();
        let _ = run(&world, &baltic, days, 1.0);
        println!("| {days} | {:.1} |", peak_bytes() as f64 / 1e6);
    }
}
