//! Arbitrary bytes through the NMEA decoder: never panics, and decoding agrees
//! with re-encoding (decode ∘ encode is idempotent on decoded messages).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shadowfleet_decode::{encode_nmea, AisMessage, Decoded, Decoder, DecoderConfig, EncodeOptions};

fn decode(bytes: &[u8]) -> Vec<Decoded> {
    let mut d = Decoder::new(DecoderConfig { accept_bad_checksum: true, max_in_flight: 8, ..Default::default() });
    let mut out = Vec::new();
    d.push(bytes, &mut out);
    d.finish(&mut out);
    out
}

fn reencode(m: &AisMessage) -> Option<AisMessage> {
    let mut nmea = Vec::new();
    encode_nmea(m, &EncodeOptions::default(), &mut nmea);
    decode(&nmea).first().map(|d| d.message)
}

fuzz_target!(|data: &[u8]| {
    for d in decode(data) {
        if let Some(m2) = reencode(&d.message) {
            let m3 = reencode(&m2).expect("a re-encoded message decodes");
            assert_eq!(m2, m3, "decode(encode(m)) is not stable for {:?}", d.message);
        }
    }
});
