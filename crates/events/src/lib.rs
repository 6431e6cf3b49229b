//! Event detectors over tracks. So far: AIS gaps (`gaps`).

pub mod gaps;
