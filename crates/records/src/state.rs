//! The working state of a stage (open tracks, gaps, visits, findings waiting for evidence) as
//! bytes, so that the next run on the same store continues where this one stopped instead of
//! starting afresh (`docs/formats.md`, "Pipeline state").
//!
//! Each stage writes the fields that hold its state with [`crate::persist_fields!`] (its
//! configuration and reference data are not state: the next run builds them again and
//! checks that they are the same). The encoding is [postcard](https://docs.rs/postcard): compact and
//! not self-describing, so the state's format carries a version ([`FORMAT`]) and a state of
//! another version is refused, never misread.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Version of the state encoding: bumped whenever a stage's state changes shape.
pub const FORMAT: u32 = 2;

/// A state that could not be written or read back.
#[derive(Debug, thiserror::Error)]
#[error("pipeline state of {stage}: {reason}")]
pub struct StateError {
    /// The stage (a detector's section name, `tracks`, `identities`, `pipeline`).
    pub stage: String,
    /// What went wrong.
    pub reason: String,
}

impl StateError {
    /// An error of `stage`.
    pub fn new(stage: impl Into<String>, reason: impl std::fmt::Display) -> StateError {
        StateError {
            stage: stage.into(),
            reason: reason.to_string(),
        }
    }
}

/// Appends `value` to `out`.
pub fn save<T: Serialize + ?Sized>(
    stage: &str,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), StateError> {
    let bytes = postcard::to_stdvec(value).map_err(|e| StateError::new(stage, e))?;
    out.extend_from_slice(&bytes);
    Ok(())
}

/// Reads a value written by [`save`], all of `bytes`.
pub fn load<T: DeserializeOwned>(stage: &str, bytes: &[u8]) -> Result<T, StateError> {
    let (value, rest) =
        postcard::take_from_bytes::<T>(bytes).map_err(|e| StateError::new(stage, e))?;
    if !rest.is_empty() {
        return Err(StateError::new(
            stage,
            format!("{} bytes left over after the state", rest.len()),
        ));
    }
    Ok(value)
}

/// Frames: a sequence of named byte strings (one per stage), so that a stage's state can be
/// read without knowing the others' shapes.
#[derive(Debug, Default, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Frames {
    /// Encoding version ([`FORMAT`]).
    pub format: u32,
    /// (stage, bytes) in pipeline order.
    pub frames: Vec<(String, Vec<u8>)>,
}

impl Frames {
    /// Empty frames of the current format.
    pub fn new() -> Frames {
        Frames {
            format: FORMAT,
            frames: Vec::new(),
        }
    }

    /// The bytes of `stage`.
    pub fn get(&self, stage: &str) -> Result<&[u8], StateError> {
        self.frames
            .iter()
            .find(|(s, _)| s == stage)
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| StateError::new(stage, "missing from the saved state"))
    }

    /// Encodes the frames.
    pub fn to_bytes(&self) -> Result<Vec<u8>, StateError> {
        postcard::to_stdvec(self).map_err(|e| StateError::new("pipeline", e))
    }

    /// Decodes frames, refusing another format version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Frames, StateError> {
        // The version comes first, so that it can be read whatever follows.
        let (format, _) =
            postcard::take_from_bytes::<u32>(bytes).map_err(|e| StateError::new("pipeline", e))?;
        if format != FORMAT {
            return Err(StateError::new(
                "pipeline",
                format!("state format {format}, this program reads format {FORMAT}"),
            ));
        }
        load("pipeline", bytes)
    }
}

/// Writes and reads the named fields of `self` as one state: expands to the methods
/// `save_state(&self, out: &mut Vec<u8>)` and `load_state(&mut self, bytes: &[u8])` of the
/// trait or type it is used in, with `$stage` naming it in errors.
#[macro_export]
macro_rules! persist_fields {
    (pub $stage:expr; $($field:ident),+ $(,)?) => {
        /// Appends the working state to `out` ([`shadowfleet_records::state`]).
        pub fn save_state(&self, out: &mut Vec<u8>) -> Result<(), $crate::state::StateError> {
            $crate::state::save($stage, &($(&self.$field,)+), out)
        }
        /// Replaces the working state with one written by `save_state`.
        pub fn load_state(&mut self, bytes: &[u8]) -> Result<(), $crate::state::StateError> {
            let ($($field,)+) = $crate::state::load($stage, bytes)?;
            $(self.$field = $field;)+
            Ok(())
        }
    };
    ($stage:expr; $($field:ident),+ $(,)?) => {
        fn save_state(&self, out: &mut Vec<u8>) -> Result<(), $crate::state::StateError> {
            $crate::state::save($stage, &($(&self.$field,)+), out)
        }
        fn load_state(&mut self, bytes: &[u8]) -> Result<(), $crate::state::StateError> {
            let ($($field,)+) = $crate::state::load($stage, bytes)?;
            $(self.$field = $field;)+
            Ok(())
        }
    };
}

/// `#[serde(with = "shadowfleet_records::state::boxed_array")]` for a `Box<[T; N]>` field
/// (serde derives arrays up to 32 elements only): written as a sequence, checked for its
/// length when read.
pub mod boxed_array {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes the array as a sequence.
    #[allow(clippy::borrowed_box, reason = "the signature serde's `with` requires")]
    pub fn serialize<S: Serializer, T: Serialize, const N: usize>(
        a: &Box<[T; N]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        a.as_slice().serialize(s)
    }

    /// Reads a sequence of exactly `N` elements.
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>, const N: usize>(
        d: D,
    ) -> Result<Box<[T; N]>, D::Error> {
        let v: Vec<T> = Vec::deserialize(d)?;
        let n = v.len();
        v.into_boxed_slice()
            .try_into()
            .map_err(|_| D::Error::custom(format!("{n} elements, expected {N}")))
    }
}

/// `#[serde(with = "shadowfleet_records::state::boxed_array_map")]` for a
/// `HashMap<K, Box<[T; N]>>` field: written as a sequence of (key, elements) pairs.
pub mod boxed_array_map {
    use std::collections::HashMap;
    use std::hash::{BuildHasher, Hash};

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// A map of arrays.
    type Arrays<K, T, H, const N: usize> = HashMap<K, Box<[T; N]>, H>;

    /// Writes the map as a sequence of (key, elements).
    pub fn serialize<S, K, T, H, const N: usize>(
        m: &Arrays<K, T, H, N>,
        s: S,
    ) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        K: Serialize,
        T: Serialize,
    {
        s.collect_seq(m.iter().map(|(k, v)| (k, v.as_slice())))
    }

    /// Reads what [`serialize`] wrote.
    pub fn deserialize<'de, D, K, T, H, const N: usize>(
        d: D,
    ) -> Result<Arrays<K, T, H, N>, D::Error>
    where
        D: Deserializer<'de>,
        K: Deserialize<'de> + Eq + Hash,
        T: Deserialize<'de>,
        H: BuildHasher + Default,
    {
        let pairs: Vec<(K, Vec<T>)> = Vec::deserialize(d)?;
        let mut m = HashMap::with_capacity_and_hasher(pairs.len(), H::default());
        for (k, v) in pairs {
            let n = v.len();
            let a: Box<[T; N]> = v
                .into_boxed_slice()
                .try_into()
                .map_err(|_| D::Error::custom(format!("{n} elements, expected {N}")))?;
            m.insert(k, a);
        }
        Ok(m)
    }
}
