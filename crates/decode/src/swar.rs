//! Eight bytes at a time in a 64-bit register ("SIMD within a register"): finding a byte and
//! reading decimal digits in the short fields of NMEA lines, where a library search's setup
//! costs more than the search.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// A word with a high bit set in each byte of `w` that is zero (exact: no false positives
/// below the first zero byte, which is all [`find`] looks at).
#[inline]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

#[inline]
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// The index of the first `needle` in `hay`.
#[inline]
pub(crate) fn find(hay: &[u8], needle: u8) -> Option<usize> {
    let pattern = ONES * u64::from(needle);
    let mut at = 0;
    while at + 8 <= hay.len() {
        let hits = zero_bytes(word(&hay[at..]) ^ pattern);
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    hay[at..].iter().position(|&c| c == needle).map(|k| at + k)
}

/// The value of `digits` when every byte is an ASCII digit and there are at most 19 of them
/// (so the value cannot overflow), else `None`.
#[inline]
pub(crate) fn digits_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    let mut rest = digits;
    while rest.len() >= 8 {
        v = v * 100_000_000 + eight_digits(word(rest))?;
        rest = &rest[8..];
    }
    for &c in rest {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
    }
    Some(v)
}

/// The value of eight ASCII digits loaded little-endian (the first digit in the low byte),
/// or `None` when one is not a digit.
#[inline]
fn eight_digits(w: u64) -> Option<u64> {
    // Every byte 0x30..=0x39: high nibble 3, and adding 6 does not carry out of the nibble.
    let all_digits = (w & 0xf0f0_f0f0_f0f0_f0f0) == 0x3030_3030_3030_3030
        && (w.wrapping_add(0x0606_0606_0606_0606) & 0xf0f0_f0f0_f0f0_f0f0) == 0x3030_3030_3030_3030;
    if !all_digits {
        return None;
    }
    let w = w - 0x3030_3030_3030_3030;
    // Pairs, then fours, then the eight: each step multiplies the earlier (lower-address)
    // half by its weight.
    let w = (w & 0x00ff_00ff_00ff_00ff) * 10 + ((w >> 8) & 0x00ff_00ff_00ff_00ff);
    let w = (w & 0x0000_ffff_0000_ffff) * 100 + ((w >> 16) & 0x0000_ffff_0000_ffff);
    Some((w & 0x0000_0000_ffff_ffff) * 10_000 + (w >> 32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_agrees_with_position() {
        let hay = b"s:T-SESUS,c:1767571200*00\\!AIVDM,1,1,,B,15?O,0*57";
        for needle in [b',', b'*', b'\\', b'!', b'x', b's', b'7'] {
            for start in 0..hay.len() {
                let h = &hay[start..];
                assert_eq!(find(h, needle), h.iter().position(|&c| c == needle));
            }
        }
    }

    #[test]
    fn digits_agree_with_parse() {
        let cases: [&[u8]; 11] = [
            b"0",
            b"7",
            b"1767571200",
            b"12345678",
            b"123456789",
            b"9999999999999999999",
            b"1767571200500",
            b"",
            b"17675a1200",
            b"12345678/",
            b"12345678:1",
        ];
        for c in cases {
            let expected = std::str::from_utf8(c)
                .ok()
                .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok());
            assert_eq!(digits_u64(c), expected, "{}", String::from_utf8_lossy(c));
        }
        // Every byte value in every position of an eight-digit word.
        for pos in 0..8 {
            for b in 0..=255u8 {
                let mut w = *b"12345678";
                w[pos] = b;
                let expected = std::str::from_utf8(&w)
                    .ok()
                    .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|s| s.parse::<u64>().ok());
                assert_eq!(digits_u64(&w), expected);
            }
        }
    }
}
