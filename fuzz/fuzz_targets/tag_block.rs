//! Arbitrary bytes as a tag block: never panics; whatever parses has a rest
//! that is a suffix of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shadowfleet_decode::tag_block;

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(data.len() + 1);
    input.push(b'\\');
    input.extend_from_slice(data);
    if let Some((_, rest)) = tag_block::parse(&input) {
        assert!(input.ends_with(rest));
    }
});
