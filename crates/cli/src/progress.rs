//! Progress shown while a long step runs: a spinner, or a bar following a counter the step
//! advances (bytes of AIS read, or the share of a simulated period).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Runs `f` under a spinner that says `what`, then marks it done with the time it took.
pub(crate) fn step<T>(what: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let out = f();
    done(&bar, what, started, out)
}

/// Clears `bar` and marks the step `what` done, with the time since `started`, or failed.
fn done<T>(
    bar: &ProgressBar,
    what: &str,
    started: Instant,
    out: anyhow::Result<T>,
) -> anyhow::Result<T> {
    bar.finish_and_clear();
    match &out {
        Ok(_) => eprintln!("✔ {what} ({:.1} s)", started.elapsed().as_secs_f64()),
        Err(_) => eprintln!("✘ {what}"),
    }
    out
}

/// A counter a run advances for the demo's progress bars (millionths of the simulated
/// period, or bytes of AIS read).
pub(crate) type Progress = std::sync::Arc<std::sync::atomic::AtomicU64>;

/// Runs `f` on a thread of its own under a progress bar of `total` units, following
/// `progress` (which `f` advances), then marks it done with the time it took.
pub(crate) fn step_with_bar<T: Send>(
    what: &str,
    total: u64,
    unit: Unit,
    progress: &Progress,
    f: impl FnOnce() -> anyhow::Result<T> + Send,
) -> anyhow::Result<T> {
    let bar = ProgressBar::new(total.max(1));
    let template = match unit {
        Unit::Bytes => "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {elapsed}",
        Unit::Percent => "{msg} [{bar:30}] {percent:>3}% {elapsed} (eta {eta})",
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_owned());
    let started = Instant::now();
    let out = std::thread::scope(|scope| {
        let worker = scope.spawn(f);
        while !worker.is_finished() {
            bar.set_position(progress.load(Ordering::Relaxed).min(total));
            std::thread::sleep(Duration::from_millis(100));
        }
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    done(&bar, what, started, out)
}

/// What a progress bar counts.
#[derive(Clone, Copy)]
pub(crate) enum Unit {
    /// Bytes read.
    Bytes,
    /// Millionths of the work.
    Percent,
}
