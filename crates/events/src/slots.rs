//! Bounded per-vessel state: a few track segments per vessel, the least recently used evicted.
//! Vessels are the track builder's dense indices ([`TrackPoint::vessel`]), so a lookup is an
//! index, not a hash.
//!
//! [`TrackPoint::vessel`]: shadowfleet_tracks::TrackPoint::vessel

/// The entry of `vessel` (the track builder's dense index) in a vector kept per vessel,
/// which grows with `fill` to reach it.
pub(crate) fn per_vessel<T>(v: &mut Vec<T>, vessel: u32, fill: impl FnMut() -> T) -> &mut T {
    let i = vessel as usize;
    if i >= v.len() {
        v.resize_with(i + 1, fill);
    }
    &mut v[i]
}

/// Loads the entry of `vessel` in a vector kept per vessel into the cache, without waiting
/// for it (a hint: see [`crate::Detector::prefetch`]).
pub(crate) fn prefetch<T>(v: &[T], vessel: u32) {
    shadowfleet_model::cache::prefetch(v, vessel as usize);
}

/// A short list whose first element is kept inline: nearly every vessel has one open
/// segment at a time, so a lookup reads the vessel's entry and nothing else. With every
/// vessel's points interleaved, each lookup of a vessel's state is a cache miss at a large
/// fleet; the heap block of a `Vec` was a second, dependent one, which doubled the cost of
/// the detectors' per-vessel state (measured: `docs/benchmarks.md`, fleet-size sweep).
/// Order and `swap_remove` behave as a `Vec`'s.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) enum Few<T> {
    #[default]
    Empty,
    One(T),
    Many(Vec<T>),
}

impl<T> Few<T> {
    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            Few::Empty => &[],
            Few::One(x) => std::slice::from_ref(x),
            Few::Many(v) => v,
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Few::Empty => &mut [],
            Few::One(x) => std::slice::from_mut(x),
            Few::Many(v) => v,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub(crate) fn push(&mut self, x: T) {
        *self = match std::mem::take(self) {
            Few::Empty => Few::One(x),
            Few::One(a) => Few::Many(vec![a, x]),
            Few::Many(mut v) => {
                v.push(x);
                Few::Many(v)
            }
        };
    }

    /// Removes element `k`, the last taking its place (as `Vec::swap_remove`); `None` when
    /// there is no element `k`.
    pub(crate) fn swap_remove(&mut self, k: usize) -> Option<T> {
        match self {
            Few::One(_) if k == 0 => match std::mem::take(self) {
                Few::One(x) => Some(x),
                _ => None,
            },
            Few::Many(v) if k < v.len() => Some(v.swap_remove(k)),
            _ => None,
        }
    }

    pub(crate) fn into_vec(self) -> Vec<T> {
        match self {
            Few::Empty => Vec::new(),
            Few::One(x) => vec![x],
            Few::Many(v) => v,
        }
    }
}

/// State of type `T` per (vessel, segment), at most `cap` segments per vessel.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Slots<T> {
    by_vessel: Vec<Vessel<T>>,
    cap: usize,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Vessel<T> {
    mmsi: u32,
    /// (segment, last used, state).
    segments: Few<(u64, i64, T)>,
}

impl<T> Slots<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Slots {
            by_vessel: Vec::new(),
            cap: cap.max(1),
        }
    }

    /// The state of (`vessel`, `segment`), created by `init` when absent; an evicted state is
    /// handed to `evicted`. `t` marks the slot as used at that time.
    pub(crate) fn get(
        &mut self,
        vessel: u32,
        mmsi: u32,
        segment: u64,
        t: i64,
        init: impl FnOnce() -> T,
        evicted: &mut dyn FnMut(T),
    ) -> &mut T {
        let v = per_vessel(&mut self.by_vessel, vessel, || Vessel {
            mmsi: 0,
            segments: Few::Empty,
        });
        v.mmsi = mmsi;
        let k = match v.segments.as_slice().iter().position(|s| s.0 == segment) {
            Some(k) => k,
            None => {
                if v.segments.len() >= self.cap {
                    let oldest = (0..v.segments.len()).min_by_key(|&i| v.segments.as_slice()[i].1);
                    if let Some(old) = oldest.and_then(|i| v.segments.swap_remove(i)) {
                        evicted(old.2);
                    }
                }
                v.segments.push((segment, t, init()));
                v.segments.len() - 1
            }
        };
        let slot = &mut v.segments.as_mut_slice()[k];
        slot.1 = t;
        &mut slot.2
    }

    /// Loads the state of `vessel` into the cache (see [`prefetch`]).
    pub(crate) fn prefetch(&self, vessel: u32) {
        prefetch(&self.by_vessel, vessel);
    }

    /// Removes and hands over every state, by MMSI.
    pub(crate) fn drain(&mut self, out: &mut dyn FnMut(T)) {
        let mut vessels = std::mem::take(&mut self.by_vessel);
        vessels.sort_by_key(|v| v.mmsi);
        for v in vessels {
            for s in v.segments.into_vec() {
                out(s.2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_behaves_as_a_vec() {
        let mut f = Few::default();
        let mut v = Vec::new();
        // A fixed sequence of pushes and removals, checked against a Vec at every step.
        for (i, op) in [0, 0, 1, 0, 2, 1, 0, 0, 3, 1, 1, 1, 0]
            .into_iter()
            .enumerate()
        {
            if op == 0 {
                f.push(i);
                v.push(i);
            } else {
                let k = op - 1;
                let expected = (k < v.len()).then(|| v.swap_remove(k));
                assert_eq!(f.swap_remove(k), expected);
            }
            assert_eq!(f.as_slice(), v.as_slice());
            assert_eq!(f.len(), v.len());
        }
        f.as_mut_slice()[0] = 99;
        v[0] = 99;
        assert_eq!(f.into_vec(), v);
    }

    #[test]
    fn slots_evict_the_least_recently_used_segment() {
        let mut s = Slots::new(2);
        let mut evicted = Vec::new();
        *s.get(0, 7, 1, 10, || 1, &mut |x| evicted.push(x)) += 0;
        *s.get(0, 7, 2, 20, || 2, &mut |x| evicted.push(x)) += 0;
        *s.get(0, 7, 1, 30, || 0, &mut |x| evicted.push(x)) += 10;
        // A third segment evicts segment 2 (used at 20, before segment 1 at 30).
        *s.get(0, 7, 3, 40, || 3, &mut |x| evicted.push(x)) += 0;
        assert_eq!(evicted, vec![2]);
        let mut all = Vec::new();
        s.drain(&mut |x| all.push(x));
        all.sort();
        assert_eq!(all, vec![3, 11]);
    }
}
