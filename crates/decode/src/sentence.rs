//! One `!xxVDM`/`!xxVDO` sentence, borrowed from the input line.
//!
//! `!AIVDM,2,1,3,A,<payload>,0*hh` — talker and formatter, fragment count,
//! fragment number, sequential message id, radio channel, armoured payload,
//! fill bits, checksum (IEC 61162-1 / NMEA 0183). Any talker is accepted
//! (AI, AB, BS, SA, ...).

/// Whether the sentence's checksum matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Present and correct (hex compared case-insensitively).
    Valid,
    /// Present and wrong.
    Invalid {
        /// XOR of the characters between `!` and `*`.
        calculated: u8,
        /// The value written after `*`.
        found: u8,
    },
    /// No `*hh` at all.
    Missing,
}

/// A parsed VDM/VDO sentence; `payload` borrows from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence<'a> {
    /// Two-character talker id (`AI`, `AB`, `BS`, ...).
    pub talker: [u8; 2],
    /// `VDO` (own ship) rather than `VDM`.
    pub own_ship: bool,
    /// Number of fragments in the message, 1..=9.
    pub fragment_count: u8,
    /// This fragment's number, 1..=fragment_count.
    pub fragment_number: u8,
    /// Sequential message id (0..=9) linking fragments, if given.
    pub sequence_id: Option<u8>,
    /// Radio channel (`A`, `B`, `1`, `2`, ...), if given.
    pub channel: Option<u8>,
    /// The armoured payload.
    pub payload: &'a [u8],
    /// Number of fill bits, 0..=5.
    pub fill_bits: u8,
    /// The checksum status.
    pub checksum: Checksum,
}

/// Why a sentence could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentenceError {
    /// Not `!` + two-character talker + `VDM`/`VDO`.
    NotVdm,
    /// Fewer than the seven comma-separated fields.
    MissingFields,
    /// Fragment count or number missing, zero, above 9, or number > count.
    BadFragmentNumbers,
    /// Fill bits not a digit 0..=5.
    BadFillBits,
}

/// Bytes the sentence scanner must look at: separators and terminators.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'*' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'!' as usize] = true;
    t[b'\\' as usize] = true;
    t[b',' as usize] = true;
    t
};

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parses the two hex digits of a checksum, case-insensitively.
pub(crate) fn parse_hex2(b: &[u8]) -> Option<u8> {
    match b {
        [h, l, ..] => Some(hex(*h)? << 4 | hex(*l)?),
        _ => None,
    }
}

fn single_digit(f: &[u8]) -> Option<u8> {
    match f {
        [d @ b'0'..=b'9'] => Some(d - b'0'),
        _ => None,
    }
}

/// Parses a sentence starting at `!`. Returns it and the rest of the input
/// after the checksum (or after the last field if there is none).
pub fn parse(s: &[u8]) -> Result<(Sentence<'_>, &[u8]), SentenceError> {
    parse_with(s, true)
}

/// [`parse`], with the fixed-offset header read on or off (the tests compare the two).
fn parse_with(s: &[u8], fixed_header: bool) -> Result<(Sentence<'_>, &[u8]), SentenceError> {
    if s.len() < 7
        || s[0] != b'!'
        || &s[3..5] != b"VD"
        || !matches!(s[5], b'M' | b'O')
        || s[6] != b','
    {
        return Err(SentenceError::NotVdm);
    }
    // The positions of the commas and the end of the checksummed text: bytes that are
    // neither separators nor terminators are skipped through a table, then XORed at once.
    let mut commas = [0usize; 6];
    let mut n = 0;
    let mut i = 1;
    let len = s.len();
    // The usual header (`!AIVDM,1,1,,A,`: one character or none per field) is read at fixed
    // offsets, giving the commas the scan below would; any other shape is scanned from the
    // start.
    let plain = |k: usize| s.get(k).is_some_and(|&c| !SPECIAL[c as usize]);
    let comma = |k: usize| s.get(k) == Some(&b',');
    let short_field_end = |k: usize| {
        if comma(k) {
            Some(k)
        } else if plain(k) && comma(k + 1) {
            Some(k + 1)
        } else {
            None
        }
    };
    if fixed_header && plain(1) && plain(2) && plain(7) && comma(8) && plain(9) && comma(10) {
        if let Some(sequence_end) = short_field_end(11) {
            if let Some(channel_end) = short_field_end(sequence_end + 1) {
                commas = [6, 8, 10, sequence_end, channel_end, 0];
                n = 5;
                i = channel_end + 1;
            }
        }
    }
    let end = loop {
        if n == 5 {
            // The payload, the long field: only a comma, `*` or a line end stops it.
            let rest = &s[i..];
            let j = memchr::memchr3(b',', b'*', b'\r', rest).unwrap_or(rest.len());
            i += memchr::memchr(b'\n', &rest[..j]).unwrap_or(j);
        } else {
            while i < len && !SPECIAL[s[i] as usize] {
                i += 1;
            }
        }
        let Some(&c) = s.get(i) else {
            break len;
        };
        match c {
            b'*' | b'\r' | b'\n' => break i,
            // A new sentence or tag block glued on without a checksum.
            b'!' | b'\\' if n >= 6 => break i,
            b',' if n < 6 => {
                commas[n] = i;
                n += 1;
            }
            _ => {}
        }
        i += 1;
    };
    let xor = checksum(&s[1..end]);
    if n < 6 {
        return Err(SentenceError::MissingFields);
    }
    let field = |k: usize| -> &[u8] {
        let start = commas[k] + 1;
        let stop = if k < 5 { commas[k + 1] } else { end };
        s.get(start..stop).unwrap_or_default()
    };
    let count = single_digit(field(0)).ok_or(SentenceError::BadFragmentNumbers)?;
    let number = single_digit(field(1)).ok_or(SentenceError::BadFragmentNumbers)?;
    if count == 0 || number == 0 || number > count {
        return Err(SentenceError::BadFragmentNumbers);
    }
    let sequence_id = match field(2) {
        [] => None,
        f => Some(single_digit(f).ok_or(SentenceError::BadFragmentNumbers)?),
    };
    let channel = field(3).first().copied();
    let payload = field(4);
    // Some writers put more after the fill digit (e.g. `2*hh` glued): take the first.
    let fill = match field(5).first() {
        Some(d @ b'0'..=b'5') => d - b'0',
        None => 0,
        _ => return Err(SentenceError::BadFillBits),
    };
    let (checksum, rest) = if end < s.len() && s[end] == b'*' {
        match parse_hex2(&s[end + 1..]) {
            Some(found) if found == xor => (Checksum::Valid, &s[end + 3..]),
            Some(found) => (
                Checksum::Invalid {
                    calculated: xor,
                    found,
                },
                &s[end + 3..],
            ),
            None => (Checksum::Missing, &s[(end + 1).min(s.len())..]),
        }
    } else {
        (Checksum::Missing, &s[end..])
    };
    Ok((
        Sentence {
            talker: [s[1], s[2]],
            own_ship: s[5] == b'O',
            fragment_count: count,
            fragment_number: number,
            sequence_id,
            channel,
            payload,
            fill_bits: fill,
            checksum,
        },
        rest,
    ))
}

/// XOR checksum of the bytes of `body` (the text between `!`/`$`/`\` and `*`).
pub fn checksum(body: &[u8]) -> u8 {
    // Eight bytes at a time, then the bytes of the folded word and the tail.
    let mut words = body.chunks_exact(8);
    let mut w = 0u64;
    for c in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        w ^= u64::from_le_bytes(b);
    }
    let tail = words.remainder().iter().fold(0, |a, &c| a ^ c);
    w.to_le_bytes().iter().fold(tail, |a, &c| a ^ c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_sentence() {
        let (s, rest) = parse(b"!AIVDM,2,1,3,A,56=nR7D00003A<I@E=,0*66,tail").unwrap();
        assert_eq!(&s.talker, b"AI");
        assert_eq!(
            (s.fragment_count, s.fragment_number, s.sequence_id),
            (2, 1, Some(3))
        );
        assert_eq!(s.channel, Some(b'A'));
        assert_eq!(s.payload, b"56=nR7D00003A<I@E=");
        assert!(matches!(s.checksum, Checksum::Invalid { .. }));
        assert_eq!(rest, b",tail");
    }

    #[test]
    fn checksum_is_case_insensitive() {
        let (s, _) = parse(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4a").unwrap();
        assert_eq!(s.checksum, Checksum::Valid);
        let (s, _) = parse(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0").unwrap();
        assert_eq!(s.checksum, Checksum::Missing);
    }

    #[test]
    fn the_fixed_header_reads_as_the_scan_does() {
        let samples: [&[u8]; 5] = [
            b"!AIVDM,1,1,,B,15?O`mP020QIWhVPsqFpdFn00000,0*57",
            b"!AIVDM,2,1,3,A,56=nR7D00003A<I@E=,0*66,tail",
            b"!BSVDO,1,1,,,15RTgt0PAso;90TKcjM8h6g208CQ,0*4a\\s:x*00\\!AIVDM",
            b"!AIVDM,1,1,1,2,402=481uaUcf;OQ55JS9ITi025Jp,0*2B",
            b"!AIVDM,1,1,,A,,0",
        ];
        let alphabet = b"!\\*,\r\n0123456789AB:";
        let mut rng = shadowfleet_testkit::Xorshift::new(0x2545_f491_4f6c_dd1d);
        let mut next = |n: usize| rng.below(n);
        for k in 0..200_000 {
            let mut v = samples[k % samples.len()].to_vec();
            for _ in 0..1 + next(3) {
                let at = next(v.len().min(16));
                match next(3) {
                    0 => v[at] = alphabet[next(alphabet.len())],
                    1 => {
                        v.remove(at);
                    }
                    _ => v.insert(at, alphabet[next(alphabet.len())]),
                }
            }
            assert_eq!(
                parse_with(&v, true),
                parse_with(&v, false),
                "{}",
                String::from_utf8_lossy(&v)
            );
        }
    }

    #[test]
    fn rejects_bad_structure() {
        assert_eq!(parse(b"$GPGGA,1,2,3").unwrap_err(), SentenceError::NotVdm);
        assert_eq!(
            parse(b"!AIVDM,0,1,,A,1,0*00").unwrap_err(),
            SentenceError::BadFragmentNumbers
        );
        assert_eq!(
            parse(b"!AIVDM,1,1,,A").unwrap_err(),
            SentenceError::MissingFields
        );
    }
}
