//! Shared pieces of the shadowfleet benchmarks: the sentence mix built from the
//! real corpora in `testdata/ais-real`, and an allocation-counting allocator.

pub mod sweep;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use shadowfleet_decode::{Decoded, Decoder, DecoderConfig, Sink};

/// Counts heap allocations (install with `#[global_allocator]`).
pub struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

fn grow(n: u64) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY-free: delegating to `System` is what every counting allocator does;
// `unsafe impl` is required by the trait.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        grow(layout.size() as u64);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        grow(new_size as u64);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Heap bytes live now.
pub fn live_bytes() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

/// Most heap bytes live at once since the last [`reset_peak`].
pub fn peak_bytes() -> u64 {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new peak measurement from the bytes live now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Allocations so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// The processor's name (`/proc/cpuinfo`): shared machines move between hosts, and the
/// rates with them.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown processor".into())
}

/// A field of a `/proc/<pid>/status` file in kB (`VmHWM:` the peak resident set, `VmRSS:`
/// the current one), 0 where it cannot be read (not Linux, the process gone).
pub fn status_kb(status_file: &Path, field: &str) -> u64 {
    std::fs::read_to_string(status_file)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The median (the upper one of an even count); NaN for none.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `testdata/ais-real`.
pub fn corpora() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/ais-real")
}

/// Target share of messages by type, from the real-feed profile.
pub const TYPE_MIX: [(u8, f64); 12] = [
    (1, 0.59),
    (3, 0.09),
    (5, 0.07),
    (18, 0.06),
    (24, 0.04),
    (4, 0.04),
    (21, 0.03),
    (20, 0.02),
    (27, 0.02),
    (8, 0.02),
    (6, 0.01),
    (2, 0.01),
];

struct ByLine(Vec<(u64, u8)>);

impl Sink for ByLine {
    fn message(&mut self, m: &Decoded) {
        if m.meta.flags.is_empty() {
            self.0.push((m.meta.line, m.message.header.msg_type));
        }
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if !p.to_string_lossy().ends_with(".chk") && !p.to_string_lossy().ends_with(".json")
        {
            out.push(p);
        }
    }
}

/// Keeps only `!xxVDM...*hh` of a line (no tag block, no trailing fields), so
/// that every peer can parse it.
fn bare_sentence(line: &str) -> Option<&str> {
    let start = line.find('!')?;
    let star = line[start..].find('*')? + start;
    line.get(start..star + 3)
}

/// Real messages (each a list of bare sentences, in order) grouped by type.
pub fn real_messages_by_type() -> Vec<(u8, Vec<Vec<String>>)> {
    let mut paths = Vec::new();
    files(&corpora(), &mut paths);
    paths.sort();
    let mut by_type: std::collections::BTreeMap<u8, Vec<Vec<String>>> = Default::default();
    for p in paths {
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let mut d = Decoder::new(DecoderConfig::default());
        let mut sink = ByLine(Vec::new());
        for l in &lines {
            d.push_line(l.as_bytes(), &mut sink);
        }
        for (line, t) in sink.0 {
            // The message's sentences are the `fragments` lines ending at `line`,
            // when they sit one per line and consecutively.
            let end = line as usize;
            let Some(last) = lines.get(end - 1).and_then(|l| bare_sentence(l)) else {
                continue;
            };
            let count = last
                .split(',')
                .nth(1)
                .and_then(|c| c.parse::<usize>().ok())
                .unwrap_or(1);
            if end < count {
                continue;
            }
            let group: Option<Vec<String>> = (end - count..end)
                .map(|i| bare_sentence(lines[i]).map(str::to_string))
                .collect();
            if let Some(g) =
                group.filter(|g| g.len() == count && g.iter().all(|s| s.contains("VD")))
            {
                by_type.entry(t).or_default().push(g);
            }
        }
    }
    by_type.into_iter().collect()
}

/// A deterministic mix of about `sentences` real sentences following [`TYPE_MIX`].
pub fn sentence_mix(sentences: usize) -> Vec<String> {
    let pool = real_messages_by_type();
    let mut out = Vec::with_capacity(sentences + 8);
    let mut rng = shadowfleet_testkit::Xorshift::new(0x2545_f491_4f6c_dd1d);
    let mut next = || rng.next_u64();
    let total: f64 = TYPE_MIX.iter().map(|t| t.1).sum();
    while out.len() < sentences {
        let r = (next() % 1_000_000) as f64 / 1_000_000.0 * total;
        let mut acc = 0.0;
        let mut want = TYPE_MIX[0].0;
        for (t, w) in TYPE_MIX {
            acc += w;
            if r < acc {
                want = t;
                break;
            }
        }
        let Some((_, msgs)) = pool.iter().find(|(t, _)| *t == want) else {
            continue;
        };
        let m = &msgs[(next() % msgs.len() as u64) as usize];
        out.extend(m.iter().cloned());
    }
    out
}
