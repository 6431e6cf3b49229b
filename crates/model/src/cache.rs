//! Loading a vessel's state into the cache ahead of its report. With tens of thousands of
//! vessels interleaved, every report's lookup of its vessel's state is a cache miss; a stage
//! that knows which vessels come next (its batch of inputs) asks for their state a few
//! reports early, so that memory answers while it works (docs/benchmarks.md, fleet-size
//! sweep). A prefetch is a hint: it reads nothing and changes nothing but timing.

/// At most this many cache lines are loaded for one entry.
const LINES: usize = 12;

/// Loads every cache line of `v[i]` (up to 12) into the cache, without waiting for
/// it; nothing when `i` is out of range.
pub fn prefetch<T>(v: &[T], i: usize) {
    if let Some(x) = v.get(i) {
        prefetch_bytes(std::ptr::from_ref(x) as usize, std::mem::size_of::<T>());
    }
}

/// Loads the last element of `q` into the cache (see [`prefetch`]).
pub fn prefetch_back<T>(q: &std::collections::VecDeque<T>) {
    if let Some(last) = q.len().checked_sub(1) {
        let (a, b) = q.as_slices();
        match last.checked_sub(a.len()) {
            Some(i) => prefetch(b, i),
            None => prefetch(a, last),
        }
    }
}

/// Prefetches the cache lines of `len` bytes from address `start`. The address is reached as
/// an offset from a static byte (`prefetch_index` takes a slice and an index, and only
/// computes the address, `wrapping_add`: nothing is read, and a prefetch cannot fault), so
/// that an entry's lines past its first can be named without `unsafe`.
fn prefetch_bytes(start: usize, len: usize) {
    static BASE: [u8; 1] = [0];
    let base = BASE.as_ptr() as usize;
    let first = start & !63;
    let end = start.saturating_add(len.max(1));
    for line in (first..end).step_by(64).take(LINES) {
        prefetch_index::prefetch_index(&BASE[..], line.wrapping_sub(base));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefetch_reads_and_changes_nothing() {
        let v = vec![[7u8; 200]; 3];
        prefetch(&v, 1);
        prefetch(&v, 3); // out of range: nothing
        prefetch::<u64>(&[], 0);
        assert_eq!(v, vec![[7u8; 200]; 3]);
    }
}
