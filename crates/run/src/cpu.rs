//! CPU time per stage of a run: each of the pipeline's threads reads its own CPU clock when
//! it ends, so a run can say where its time went (decoding, the track stage, detection, the
//! position writer, the store's commit) without a profiler. Linux only (`/proc`): elsewhere
//! [`thread_cpu_s`] says `None` and the stages' figures read 0.

/// CPU seconds a run spent, per stage (each on its own thread, so they add up to more than
/// the wall-clock time on a machine with several cores).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageCpu {
    /// Reading and decoding the inputs (the `sf-decode` thread).
    pub decode_s: f64,
    /// The track stage (`sf-track`).
    pub tracks_s: f64,
    /// The detection stage (identities and every detector, on the calling thread).
    pub detect_s: f64,
    /// Writing the position files (`sf-positions`).
    pub positions_s: f64,
    /// Committing the run to the store (wall-clock seconds; SQLite and file moves).
    pub commit_s: f64,
    /// Where the detection stage's time went, per detector and the identity stage, when
    /// the run was asked to profile it (an estimate: see
    /// [`shadowfleet_events::StageProfile`]).
    pub detectors: Vec<(&'static str, f64)>,
    /// The identity stage's share of `detect_s`, when profiled.
    pub identities_s: f64,
}

impl StageCpu {
    /// Adds another file's figures (a run reads its files one after another).
    pub fn add(&mut self, o: &StageCpu) {
        self.decode_s += o.decode_s;
        self.tracks_s += o.tracks_s;
        self.detect_s += o.detect_s;
        self.positions_s += o.positions_s;
        self.commit_s += o.commit_s;
    }
}

/// CPU time (user + system) the calling thread has used so far, seconds, or `None` where
/// the platform does not say (read from `/proc/thread-self/stat`, in clock ticks of 10 ms).
pub fn thread_cpu_s() -> Option<f64> {
    stat_cpu_s("/proc/thread-self/stat")
}

/// CPU time (user + system) of the whole process so far, seconds (as [`thread_cpu_s`], from
/// `/proc/self/stat`).
pub fn process_cpu_s() -> Option<f64> {
    stat_cpu_s("/proc/self/stat")
}

fn stat_cpu_s(stat_file: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_file).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: utime and
    // stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let rest = stat.rsplit(')').next()?;
    let mut f = rest.split_whitespace().skip(11);
    let utime: f64 = f.next()?.parse().ok()?;
    let stime: f64 = f.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU seconds the calling thread used since `since` (a [`thread_cpu_s`] reading); 0 where
/// the platform does not say.
pub fn thread_cpu_since(since: Option<f64>) -> f64 {
    match (since, thread_cpu_s()) {
        (Some(a), Some(b)) => (b - a).max(0.0),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_thread_uses_cpu_and_an_idle_one_does_not() {
        let Some(t0) = thread_cpu_s() else {
            eprintln!("SKIPPED: no /proc/thread-self/stat on this platform");
            return;
        };
        // Spin until the clock (10 ms ticks) has moved at least twice.
        let mut x = 0u64;
        while thread_cpu_since(Some(t0)) < 0.02 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_since(Some(t0)) >= 0.02);
        let idle = std::thread::spawn(|| {
            let t = thread_cpu_s();
            std::thread::sleep(std::time::Duration::from_millis(50));
            thread_cpu_since(t)
        });
        assert!(idle.join().unwrap() < 0.02);
    }
}
