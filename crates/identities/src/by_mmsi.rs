//! The tracker's state per MMSI, stored densely: a small index (MMSI → slot, 8 bytes an
//! entry, which stays in the cache at tens of thousands of MMSIs) over a vector of states, so
//! that the state of an MMSI whose report comes soon can be asked for ahead
//! ([`ByMmsi::prefetch`]) without the lookup itself waiting for memory. Saved as the map it
//! replaces (MMSI → state), so the pipeline state's format is unchanged.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// States by MMSI.
pub(crate) struct ByMmsi<T> {
    index: FxHashMap<u32, u32>,
    entries: Vec<(u32, T)>,
}

impl<T> Default for ByMmsi<T> {
    fn default() -> Self {
        ByMmsi {
            index: FxHashMap::default(),
            entries: Vec::new(),
        }
    }
}

impl<T: Default> ByMmsi<T> {
    pub(crate) fn get(&self, mmsi: &u32) -> Option<&T> {
        let &k = self.index.get(mmsi)?;
        self.entries.get(k as usize).map(|e| &e.1)
    }

    pub(crate) fn get_mut(&mut self, mmsi: &u32) -> Option<&mut T> {
        let &k = self.index.get(mmsi)?;
        self.entries.get_mut(k as usize).map(|e| &mut e.1)
    }

    pub(crate) fn contains_key(&self, mmsi: &u32) -> bool {
        self.index.contains_key(mmsi)
    }

    /// The state of `mmsi`, a default one added when it has none.
    pub(crate) fn entry_or_default(&mut self, mmsi: u32) -> &mut T {
        let next = self.entries.len() as u32;
        let k = *self.index.entry(mmsi).or_insert(next);
        if k == next {
            self.entries.push((mmsi, T::default()));
        }
        &mut self.entries[k as usize].1
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.entries.iter().map(|e| &e.1)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries.iter().map(|e| e.0)
    }

    /// Loads the state of `mmsi` into the cache, without waiting for it
    /// ([`shadowfleet_model::cache`]).
    pub(crate) fn prefetch(&self, mmsi: u32) {
        if let Some(&k) = self.index.get(&mmsi) {
            shadowfleet_model::cache::prefetch(&self.entries, k as usize);
        }
    }
}

impl<T: Serialize> Serialize for ByMmsi<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.entries.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ByMmsi<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = FxHashMap::<u32, T>::deserialize(d)?;
        let mut entries: Vec<(u32, T)> = map.into_iter().collect();
        entries.sort_unstable_by_key(|e| e.0);
        let index = entries
            .iter()
            .enumerate()
            .map(|(k, e)| (e.0, k as u32))
            .collect();
        Ok(ByMmsi { index, entries })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn saved_as_the_map_it_replaces() {
        let mut m = ByMmsi::<Vec<u8>>::default();
        m.entry_or_default(211_000_001).push(1);
        m.entry_or_default(273_000_002).push(2);
        m.entry_or_default(211_000_001).push(3);
        assert_eq!(m.get(&211_000_001), Some(&vec![1, 3]));
        assert!(m.get(&1).is_none());
        let bytes = postcard::to_stdvec(&m).unwrap();
        let as_map: FxHashMap<u32, Vec<u8>> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(as_map.len(), 2);
        assert_eq!(as_map[&273_000_002], vec![2]);
        let old: FxHashMap<u32, Vec<u8>> = as_map;
        let back: ByMmsi<Vec<u8>> =
            postcard::from_bytes(&postcard::to_stdvec(&old).unwrap()).unwrap();
        assert_eq!(back.get(&211_000_001), Some(&vec![1, 3]));
        assert_eq!(
            back.keys().collect::<Vec<_>>(),
            vec![211_000_001, 273_000_002]
        );
        m.prefetch(211_000_001);
        m.prefetch(5);
    }
}
