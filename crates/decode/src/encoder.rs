//! Messages back to NMEA: armouring, multipart splitting and tag blocks.
//!
//! Used by the simulator to produce the AIS that receivers would see, and by
//! the round-trip tests. Writes into a caller-owned `Vec<u8>`, so that a
//! caller reusing its buffer allocates nothing per message.

use shadowfleet_model::Timestamp;

use crate::bits::Payload;
use crate::messages::AisMessage;
use crate::sentence::checksum;

/// How to write a message as NMEA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions<'a> {
    /// Talker id, e.g. `*b"AI"`.
    pub talker: [u8; 2],
    /// `VDO` instead of `VDM`.
    pub own_ship: bool,
    /// Radio channel, `A` or `B`.
    pub channel: Option<u8>,
    /// Sequential message id (0..=9) used when the message needs several sentences.
    pub sequence_id: u8,
    /// Most armoured characters per sentence. 60 keeps a sentence under the
    /// 82-character limit of NMEA 0183.
    pub max_payload_chars: usize,
    /// Write an NMEA 4.10 tag block with this receive time (`c:`, in seconds,
    /// or milliseconds when the time has a fraction).
    pub received: Option<Timestamp>,
    /// Tag block source station (`s:`).
    pub station: Option<&'a str>,
    /// Group id for the `g:` field of multipart messages with tag blocks.
    pub group_id: u32,
}

impl Default for EncodeOptions<'_> {
    fn default() -> Self {
        EncodeOptions {
            talker: *b"AI",
            own_ship: false,
            channel: Some(b'A'),
            sequence_id: 0,
            max_payload_chars: 60,
            received: None,
            station: None,
            group_id: 0,
        }
    }
}

/// Appends the NMEA lines (each ending in `\r\n`) for `msg` to `out`.
/// Returns the number of sentences written.
pub fn encode_nmea(msg: &AisMessage, opts: &EncodeOptions<'_>, out: &mut Vec<u8>) -> usize {
    let mut payload = Payload::default();
    msg.encode(&mut payload);
    let start = out.len();
    let fill = payload.write_armored(out);
    // Move the armoured payload aside: it sits at the end of `out` for now.
    let chars_len = out.len() - start;
    let mut armored = [0u8; crate::bits::MAX_PAYLOAD_CHARS];
    armored[..chars_len].copy_from_slice(&out[start..]);
    out.truncate(start);
    let armored = &armored[..chars_len];
    // At most nine fragments (the fragment count is one digit).
    let mut per = opts.max_payload_chars.max(1);
    let mut count = chars_len.div_ceil(per).max(1);
    if count > 9 {
        count = 9;
        per = chars_len.div_ceil(9);
    }
    for n in 0..count {
        let chunk = &armored[(n * per).min(chars_len)..((n + 1) * per).min(chars_len)];
        let with_tags = opts.received.is_some() || opts.station.is_some();
        if with_tags {
            let tag_start = out.len();
            out.push(b'\\');
            let mut sep = false;
            if count > 1 {
                out.extend_from_slice(b"g:");
                push_uint(out, (n + 1) as u64);
                out.push(b'-');
                push_uint(out, count as u64);
                out.push(b'-');
                push_uint(out, u64::from(opts.group_id));
                sep = true;
            }
            if n == 0 {
                if let Some(s) = opts.station {
                    if sep {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"s:");
                    out.extend_from_slice(s.as_bytes());
                    sep = true;
                }
                if let Some(t) = opts.received {
                    if sep {
                        out.push(b',');
                    }
                    if t.0 % 1000 == 0 {
                        out.extend_from_slice(b"c:");
                        push_int(out, t.0.div_euclid(1000));
                    } else {
                        out.extend_from_slice(b"c:");
                        push_int(out, t.0);
                    }
                }
            }
            let cs = checksum(&out[tag_start + 1..]);
            out.push(b'*');
            push_hex2(out, cs);
            out.push(b'\\');
        }
        let body_start = out.len() + 1;
        out.push(b'!');
        out.extend_from_slice(&opts.talker);
        out.extend_from_slice(if opts.own_ship { b"VDO" } else { b"VDM" });
        out.push(b',');
        push_uint(out, count as u64);
        out.push(b',');
        push_uint(out, (n + 1) as u64);
        out.push(b',');
        if count > 1 {
            out.push(b'0' + opts.sequence_id % 10);
        }
        out.push(b',');
        if let Some(c) = opts.channel {
            out.push(c);
        }
        out.push(b',');
        out.extend_from_slice(chunk);
        let f = if n + 1 == count { fill } else { 0 };
        out.push(b',');
        out.push(b'0' + f);
        let cs = checksum(&out[body_start..]);
        out.push(b'*');
        push_hex2(out, cs);
        out.extend_from_slice(b"\r\n");
    }
    count
}

/// Decimal digits of `v`, without allocating.
fn push_uint(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_int(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_uint(out, v.unsigned_abs());
}

/// Two upper-case hex digits.
fn push_hex2(out: &mut Vec<u8>, v: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(HEX[usize::from(v >> 4)]);
    out.push(HEX[usize::from(v & 15)]);
}
