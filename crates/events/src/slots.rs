//! Bounded per-vessel state: a few track segments per MMSI, the least recently used evicted.

use rustc_hash::FxHashMap;

/// State of type `T` per (MMSI, segment), at most `cap` segments per MMSI.
pub(crate) struct Slots<T> {
    map: FxHashMap<u32, Vec<(u64, i64, T)>>,
    cap: usize,
}

impl<T> Slots<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Slots {
            map: FxHashMap::default(),
            cap: cap.max(1),
        }
    }

    /// The state of (`mmsi`, `segment`), created by `init` when absent; an evicted state is
    /// handed to `evicted`. `t` marks the slot as used at that time.
    pub(crate) fn get(
        &mut self,
        mmsi: u32,
        segment: u64,
        t: i64,
        init: impl FnOnce() -> T,
        evicted: &mut dyn FnMut(T),
    ) -> &mut T {
        let v = self.map.entry(mmsi).or_default();
        let k = match v.iter().position(|s| s.0 == segment) {
            Some(k) => k,
            None => {
                if v.len() >= self.cap {
                    if let Some(old) = (0..v.len()).min_by_key(|&i| v[i].1) {
                        evicted(v.swap_remove(old).2);
                    }
                }
                v.push((segment, t, init()));
                v.len() - 1
            }
        };
        v[k].1 = t;
        &mut v[k].2
    }

    /// Removes and hands over every state.
    pub(crate) fn drain(&mut self, out: &mut dyn FnMut(T)) {
        let mut keys: Vec<u32> = self.map.keys().copied().collect();
        keys.sort_unstable();
        for m in keys {
            if let Some(v) = self.map.remove(&m) {
                for s in v {
                    out(s.2);
                }
            }
        }
    }
}
