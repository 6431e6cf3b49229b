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

/// State of type `T` per (vessel, segment), at most `cap` segments per vessel.
pub(crate) struct Slots<T> {
    by_vessel: Vec<Vessel<T>>,
    cap: usize,
}

struct Vessel<T> {
    mmsi: u32,
    /// (segment, last used, state).
    segments: Vec<(u64, i64, T)>,
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
            segments: Vec::new(),
        });
        v.mmsi = mmsi;
        let k = match v.segments.iter().position(|s| s.0 == segment) {
            Some(k) => k,
            None => {
                if v.segments.len() >= self.cap {
                    if let Some(old) = (0..v.segments.len()).min_by_key(|&i| v.segments[i].1) {
                        evicted(v.segments.swap_remove(old).2);
                    }
                }
                v.segments.push((segment, t, init()));
                v.segments.len() - 1
            }
        };
        v.segments[k].1 = t;
        &mut v.segments[k].2
    }

    /// Removes and hands over every state, by MMSI.
    pub(crate) fn drain(&mut self, out: &mut dyn FnMut(T)) {
        let mut vessels = std::mem::take(&mut self.by_vessel);
        vessels.sort_by_key(|v| v.mmsi);
        for v in vessels {
            for s in v.segments {
                out(s.2);
            }
        }
    }
}
