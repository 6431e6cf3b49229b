//! Integration tests of the decoder: oracles on real corpora, round trips,
//! hostile input. One test binary (see ripgrep's `tests/tests.rs`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers panic on broken fixtures"
)]

mod common;
mod hostile;
mod oracles;
mod real_corpora;
mod roundtrip;
