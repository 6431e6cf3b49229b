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

/// (segment, last used, state).
type Slot<T> = (u64, i64, T);

/// A vessel's segments. Nearly every vessel has one open segment at a time, so that one is
/// kept inline: a lookup then reads the vessel's entry and nothing else. With several
/// vessels' points interleaved, each lookup is a cache miss at a large fleet, and a second,
/// dependent one (the heap block of a `Vec`) doubled the cost of every detector's state.
enum Segments<T> {
    None,
    One(Slot<T>),
    Many(Vec<Slot<T>>),
}

struct Vessel<T> {
    mmsi: u32,
    segments: Segments<T>,
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
            segments: Segments::None,
        });
        v.mmsi = mmsi;
        let held = match &v.segments {
            Segments::None => false,
            Segments::One(s) => s.0 == segment,
            Segments::Many(list) => list.iter().any(|s| s.0 == segment),
        };
        if !held {
            let new = (segment, t, init());
            match std::mem::replace(&mut v.segments, Segments::None) {
                Segments::None => v.segments = Segments::One(new),
                Segments::One(old) if self.cap == 1 => {
                    evicted(old.2);
                    v.segments = Segments::One(new);
                }
                Segments::One(old) => v.segments = Segments::Many(vec![old, new]),
                Segments::Many(mut list) => {
                    if list.len() >= self.cap {
                        if let Some(old) = (0..list.len()).min_by_key(|&i| list[i].1) {
                            evicted(list.swap_remove(old).2);
                        }
                    }
                    list.push(new);
                    v.segments = Segments::Many(list);
                }
            }
        }
        let slot = match &mut v.segments {
            Segments::One(s) => s,
            Segments::Many(list) => {
                let k = list.iter().position(|s| s.0 == segment).unwrap_or(0);
                &mut list[k]
            }
            Segments::None => unreachable!("a vessel's segment was put in just above"),
        };
        slot.1 = t;
        &mut slot.2
    }

    /// Removes and hands over every state, by MMSI.
    pub(crate) fn drain(&mut self, out: &mut dyn FnMut(T)) {
        let mut vessels = std::mem::take(&mut self.by_vessel);
        vessels.sort_by_key(|v| v.mmsi);
        for v in vessels {
            match v.segments {
                Segments::None => {}
                Segments::One(s) => out(s.2),
                Segments::Many(list) => list.into_iter().for_each(|s| out(s.2)),
            }
        }
    }
}
