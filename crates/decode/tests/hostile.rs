//! Hostile input keeps memory bounded and never panics.

use shadowfleet_decode::{Decoder, DecoderConfig, FnSink, RejectReason};

#[test]
fn ten_megabyte_line_is_dropped_with_bounded_buffer() {
    let mut d = Decoder::default();
    let mut n = 0;
    let mut sink = FnSink(|_: &_| n += 1);
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..10 {
        d.push(&chunk, &mut sink);
    }
    d.push(
        b"\n!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n",
        &mut sink,
    );
    d.finish(&mut sink);
    assert_eq!(d.stats().rejected(RejectReason::LineTooLong), 1);
    assert_eq!(d.stats().messages, 1);
}

#[test]
fn a_million_orphan_fragments_keep_state_bounded() {
    let config = DecoderConfig {
        accept_bad_checksum: true,
        ..Default::default()
    };
    let mut d = Decoder::new(config);
    let mut sink = FnSink(|_: &_| {});
    let mut line = Vec::with_capacity(128);
    for i in 0..1_000_000u32 {
        line.clear();
        // First parts of 3-part messages that never complete, on rotating keys,
        // and second parts that never had a first.
        let n = if i % 2 == 0 { 1 } else { 2 };
        line.extend_from_slice(
            format!(
                "!AIVDM,3,{n},{},{},55?MbV02;H;s<HtKR20EHE:0,0*00\n",
                i % 10,
                if i % 3 == 0 { 'A' } else { 'B' }
            )
            .as_bytes(),
        );
        d.push(&line, &mut sink);
    }
    d.finish(&mut sink);
    assert_eq!(
        d.heap_bytes(),
        Decoder::new(DecoderConfig::default()).heap_bytes()
    );
    let s = d.stats();
    assert_eq!(s.messages, 0);
    assert_eq!(s.rejected(RejectReason::OrphanFragment), 1_000_000);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut d = Decoder::new(DecoderConfig {
        accept_bad_checksum: true,
        ..Default::default()
    });
    let mut sink = FnSink(|_: &_| {});
    let mut rng = shadowfleet_testkit::Xorshift::new(0x9e37_79b9_7f4a_7c15);
    let mut buf = vec![0u8; 4096];
    let alphabet = b"!\\$*,0123456789:ABCDEFGHIJKLMNOPQRSTUVWabcdefgw`@gcsn-AIVDMVDO\n\r";
    for _ in 0..2000 {
        for b in buf.iter_mut() {
            *b = alphabet[rng.below(alphabet.len())];
        }
        d.push(&buf, &mut sink);
    }
    d.finish(&mut sink);
    assert!(d.stats().lines > 0);
}
