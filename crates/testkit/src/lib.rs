//! Pieces shared by the workspace's tests (and the benchmarks' inputs).
//!
//! Some tests need data that cannot ship with the repository (files without a licence, GPL or
//! AGPL corpora, the real sanctions lists) or tools a fresh machine may lack (Chromium, the
//! DuckDB virtualenv). They read the data from the shared folder beside the repository and
//! skip without it — loudly: the test harness hides what a passing test prints with
//! `eprintln!`, so [`skip`] writes to the process's standard error directly. Where the data or
//! tool must be there (CI), an environment variable turns the skip into a failure.

use std::fmt::Display;
use std::io::Write;
use std::path::PathBuf;

/// Set in CI: the shared data folder must be there.
pub const REQUIRE_SHARED: &str = "SHADOWFLEET_REQUIRE_SHARED";

/// Says why a test skips, where `cargo test` shows it even when the test passes; fails the
/// test instead when the environment variable `required_by` is set.
pub fn skip(why: impl Display, required_by: &str) {
    let line = format!("SKIPPED: {why}");
    assert!(
        std::env::var_os(required_by).is_none(),
        "{line} ({required_by} is set)"
    );
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// The shared data folder: `$SHADOWFLEET_SHARED`, or `shared/data` beside the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("SHADOWFLEET_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    )
}

/// `rel` in the shared data folder when it is there; otherwise a [`skip`] saying `what` it
/// is and why it is not in the repository, and `None`.
pub fn shared(rel: &str, what: &str) -> Option<PathBuf> {
    let p = shared_dir().join(rel);
    if p.exists() {
        return Some(p);
    }
    skip(
        format_args!(
            "{} not found ({what}; set SHADOWFLEET_SHARED to the shared data folder)",
            p.display()
        ),
        REQUIRE_SHARED,
    );
    None
}

/// A fixed pseudo-random sequence for tests and benchmark inputs (Marsaglia's xorshift64):
/// the same seed gives the same numbers on every machine. Not for anything but tests.
#[derive(Debug, Clone)]
pub struct Xorshift(u64);

impl Xorshift {
    /// A sequence from `seed` (not zero).
    pub fn new(seed: u64) -> Self {
        Xorshift(seed)
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// The next number in `[0, 1)`, from the top 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next number in `0..n` (`n` > 0; the remainder, so very slightly uneven).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The receive time an NMEA line's tag block gives (`c:`, unix seconds), for tests that cut
/// simulated AIS by time.
pub fn tag_time(line: &str) -> Option<i64> {
    let at = line.find("c:")?;
    let digits = line[at + 2..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(&line[at + 2..], |end| &line[at + 2..at + 2 + end]);
    digits.parse().ok()
}
