//! What the seed sweeps share: the binary under test, running it, seeds from the command
//! line, quantiles.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Seeds as `101-110` or `1,2,3` (or both: `1,5-7`).
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        if let Some((a, b)) = part.split_once('-') {
            let a: u64 = a.parse().map_err(|_| format!("--seeds: bad seed {a:?}"))?;
            let b: u64 = b.parse().map_err(|_| format!("--seeds: bad seed {b:?}"))?;
            if b < a {
                return Err(format!("--seeds: empty range {part}"));
            }
            out.extend(a..=b);
        } else {
            out.push(
                part.parse()
                    .map_err(|_| format!("--seeds: bad seed {part:?}"))?,
            );
        }
    }
    Ok(out)
}

/// The binary under test: `$SHADOWFLEET_BIN`, else `target/release/shadowfleet`.
pub fn binary() -> PathBuf {
    if let Some(b) = std::env::var_os("SHADOWFLEET_BIN") {
        return PathBuf::from(b);
    }
    // benches/ is one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/release/shadowfleet")
        .components()
        .collect()
}

/// Runs the binary with `args`: its stdout, or an error with its stderr.
pub fn run(bin: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(bin)
        .args(args)
        .output()
        .map_err(|e| format!("running {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!(
            "shadowfleet {} failed ({}):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("shadowfleet {}: {e}", args[0]))
}

/// The `q` quantile of sorted values (nearest rank); NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `shadowfleet simulate` of `scenario` (`days`, `seed`) into `dir` (emptied first) and
/// `shadowfleet analyze` of its AIS into `dir/store`, as a user runs them.
pub fn simulate_and_analyze(
    bin: &Path,
    dir: &Path,
    scenario: &str,
    days: u32,
    seed: u64,
) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    let d = dir.display().to_string();
    let (days_s, seed_s) = (days.to_string(), seed.to_string());
    run(
        bin,
        &[
            "simulate",
            "--scenario",
            scenario,
            "--days",
            &days_s,
            "--seed",
            &seed_s,
            "--out",
            &d,
            "-q",
        ],
    )?;
    let store = dir.join("store").display().to_string();
    let ais = dir.join("ais.nmea").display().to_string();
    run(bin, &["analyze", &ais, "--store", &store]).map(|_| ())
}
