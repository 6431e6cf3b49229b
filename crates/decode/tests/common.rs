//! Shared helpers: where the corpora are, and decoding a file.

use std::path::PathBuf;

use shadowfleet_decode::{DecodeStats, Decoded, Decoder, DecoderConfig, Rejection, Sink};

/// `testdata/` at the workspace root.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// `../shared/data/ais-real` beside the repository, when present (a loud skip otherwise).
pub fn shared_ais_real() -> Option<PathBuf> {
    shadowfleet_testkit::shared("ais-real", "the AGPL aisdb corpus is not in the repo")
}

/// Collects messages and rejections.
#[derive(Default)]
pub struct Collect {
    pub messages: Vec<Decoded>,
    pub rejections: Vec<Rejection>,
}

impl Sink for Collect {
    fn message(&mut self, msg: &Decoded) {
        self.messages.push(*msg);
    }
    fn rejected(&mut self, r: &Rejection) {
        self.rejections.push(*r);
    }
}

/// Decodes a whole byte buffer.
pub fn decode_bytes(bytes: &[u8], config: DecoderConfig) -> (Collect, DecodeStats) {
    let mut d = Decoder::new(config);
    let mut c = Collect::default();
    d.push(bytes, &mut c);
    d.finish(&mut c);
    let stats = d.stats().clone();
    (c, stats)
}
