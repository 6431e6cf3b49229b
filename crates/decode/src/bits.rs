//! The de-armoured payload: a fixed-capacity bit buffer and big-endian bit readers.
//!
//! AIS payloads are "armoured" into six-bit ASCII (ITU-R M.1371 / IEC 61162-1):
//! each character carries six bits, most significant first. The buffer has a
//! fixed capacity so that decoding never allocates; the bits of fill (padding)
//! stay in the buffer as received, because gpsd's hex dumps of binary payloads
//! show them and we reproduce those dumps byte for byte.

/// Largest payload we accept, in armoured characters. The longest legal AIS
/// message is five slots (1008 bits, 168 characters); real feeds carry longer,
/// broken concatenations, so we keep three times that before refusing.
pub const MAX_PAYLOAD_CHARS: usize = 512;
/// Capacity of the bit buffer in bytes.
pub const MAX_PAYLOAD_BYTES: usize = MAX_PAYLOAD_CHARS * 6 / 8;

/// A de-armoured AIS payload.
#[derive(Clone)]
pub struct Payload {
    bytes: [u8; MAX_PAYLOAD_BYTES],
    /// Number of valid bits (six per character minus the fill bits).
    bits: usize,
    /// Number of bits written, fill included.
    written: usize,
}

impl Default for Payload {
    fn default() -> Self {
        Payload {
            bytes: [0; MAX_PAYLOAD_BYTES],
            bits: 0,
            written: 0,
        }
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Payload({} bits)", self.bits)
    }
}

/// A 64-bit hash of `bytes` and `seed` (multiply-rotate over 8-byte words, then a final
/// mix): fast, for recognising repeats, not for security.
pub fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = seed.wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h.rotate_left(23) ^ u64::from_le_bytes(tail) ^ bytes.len() as u64).wrapping_mul(K);
    h ^ (h >> 29)
}

/// Marks characters outside the armouring alphabet in [`UNARMOR`].
const INVALID: u8 = 0xff;

/// Six-bit value of every byte (one table load per character on the hot path).
const UNARMOR: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b'0'..=b'W' => c as u8 - 48,
            b'`'..=b'w' => c as u8 - 56,
            _ => INVALID,
        };
        c += 1;
    }
    t
};

/// The six-bit value of an armoured payload character, or `None` if the
/// character is not in the armouring alphabet (`0`..`W` and `` ` ``..`w`).
#[inline]
pub fn unarmor(c: u8) -> Option<u8> {
    let v = UNARMOR[c as usize];
    (v != INVALID).then_some(v)
}

/// The armouring character of a six-bit value.
#[inline]
pub fn armor(v: u8) -> u8 {
    let v = v & 0x3f;
    if v < 40 {
        v + 48
    } else {
        v + 56
    }
}

/// Why a payload could not be de-armoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// A character outside the armouring alphabet, at this offset in the payload.
    BadCharacter(usize),
    /// More than [`MAX_PAYLOAD_CHARS`] characters.
    TooLong,
}

impl Payload {
    /// Empties the buffer for reuse.
    pub fn clear(&mut self) {
        // Only the bytes written need zeroing: readers past `written` see zeros.
        let used = self.written.div_ceil(8).min(MAX_PAYLOAD_BYTES);
        self.bytes[..used].fill(0);
        self.bits = 0;
        self.written = 0;
    }

    /// Appends armoured characters; `fill` bits at the end are not counted.
    pub fn push_armored(&mut self, chars: &[u8], fill: u8) -> Result<(), PayloadError> {
        if self.written.div_ceil(6) + chars.len() > MAX_PAYLOAD_CHARS {
            return Err(PayloadError::TooLong);
        }
        // Six bits in, whole bytes out, through a small accumulator.
        let first = self.written / 8;
        let mut pos = first;
        let mut nacc = self.written % 8;
        let mut acc: u32 = if nacc == 0 {
            0
        } else {
            (self.bytes[pos] >> (8 - nacc)) as u32
        };
        let mut done = 0;
        if nacc == 0 {
            // Byte-aligned: four characters make three whole bytes.
            for quad in chars.chunks_exact(4) {
                let v = quad.iter().map(|&c| UNARMOR[c as usize]);
                let (mut word, mut bad) = (0u32, 0u8);
                for x in v {
                    word = (word << 6) | u32::from(x & 0x3f);
                    bad |= x;
                }
                if bad & 0xc0 != 0 {
                    break;
                }
                self.bytes[pos..pos + 3].copy_from_slice(&word.to_be_bytes()[1..]);
                pos += 3;
                done += 4;
            }
        }
        for (i, &c) in chars.iter().enumerate().skip(done) {
            let Some(v) = unarmor(c) else {
                // Leave no stray bits behind for the next message.
                self.bytes[first..=pos.min(MAX_PAYLOAD_BYTES - 1)].fill(0);
                self.written = first * 8;
                self.bits = self.bits.min(self.written);
                return Err(PayloadError::BadCharacter(i));
            };
            acc = (acc << 6) | v as u32;
            nacc += 6;
            if nacc >= 8 {
                nacc -= 8;
                self.bytes[pos] = (acc >> nacc) as u8;
                pos += 1;
            }
        }
        if nacc > 0 {
            self.bytes[pos] = (acc << (8 - nacc)) as u8;
        }
        // Fill bits of an earlier fragment are real bits of this message: only the
        // last fragment's fill counts, so `bits` follows `written`.
        self.written += 6 * chars.len();
        self.bits = self.written.saturating_sub(fill.min(5) as usize);
        Ok(())
    }

    /// A 64-bit hash of the payload's bits (fill bits included) and length.
    pub fn hash(&self) -> u64 {
        let used = &self.bytes[..self.written.div_ceil(8).min(MAX_PAYLOAD_BYTES)];
        hash_bytes(used, self.bits as u64)
    }

    /// Writes the low `len` bits of `value` at absolute bit `start`, extending
    /// the payload as needed (the encoder's primitive).
    pub fn set(&mut self, start: usize, len: usize, value: u64) {
        let byte = start / 8;
        let shift = start % 8;
        if len > 0 && len + shift <= 64 && byte + 8 <= MAX_PAYLOAD_BYTES {
            // Fast path: read-modify-write one big-endian 64-bit window.
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.bytes[byte..byte + 8]);
            let low = 64 - shift - len;
            let mask = (u64::MAX >> (64 - len)) << low;
            let word = (u64::from_be_bytes(w) & !mask) | ((value << low) & mask);
            self.bytes[byte..byte + 8].copy_from_slice(&word.to_be_bytes());
            self.written = self.written.max(start + len);
            self.bits = self.bits.max(self.written);
            return;
        }
        for i in 0..len {
            let pos = start + i;
            if pos / 8 >= MAX_PAYLOAD_BYTES {
                return;
            }
            let bit = 0x80u8 >> (pos % 8);
            if (value >> (len - 1 - i)) & 1 == 1 {
                self.bytes[pos / 8] |= bit;
            } else {
                self.bytes[pos / 8] &= !bit;
            }
            if pos + 1 > self.written {
                self.written = pos + 1;
            }
        }
        self.bits = self.bits.max(self.written);
    }

    /// Number of valid bits.
    pub fn len_bits(&self) -> usize {
        self.bits
    }

    /// The bytes holding the payload (bits past the end are fill or zero).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Unsigned field of `len` ≤ 64 bits at bit `start`; bits past the buffer read as zero.
    #[inline]
    pub fn u(&self, start: usize, len: usize) -> u64 {
        let byte = start / 8;
        let shift = start % 8;
        if len > 0 && len + shift <= 64 && byte + 8 <= MAX_PAYLOAD_BYTES {
            // Fast path: one big-endian 64-bit window.
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.bytes[byte..byte + 8]);
            return (u64::from_be_bytes(w) << shift) >> (64 - len);
        }
        let mut v = 0u64;
        let mut pos = start;
        let end = start + len;
        // Byte-at-a-time where aligned enough; fields are short so this stays cheap.
        while pos < end {
            let byte = pos / 8;
            let b = if byte < MAX_PAYLOAD_BYTES {
                self.bytes[byte]
            } else {
                0
            };
            let off = pos % 8;
            let take = (8 - off).min(end - pos);
            let chunk = (b >> (8 - off - take)) & ((1u16 << take) - 1) as u8;
            v = (v << take) | chunk as u64;
            pos += take;
        }
        v
    }

    /// Two's complement signed field of `len` bits at bit `start`.
    #[inline]
    pub fn i(&self, start: usize, len: usize) -> i64 {
        let v = self.u(start, len);
        let shift = 64 - len as u32;
        ((v << shift) as i64) >> shift
    }

    /// Writes the payload as armoured characters; returns the fill bit count.
    pub fn write_armored(&self, out: &mut Vec<u8>) -> u8 {
        let chars = self.bits.div_ceil(6);
        for i in 0..chars {
            out.push(armor(self.u(i * 6, 6) as u8));
        }
        (chars * 6 - self.bits) as u8
    }

    /// Sets the valid length in bits (the encoder's nominal message length);
    /// bits between the last written field and `bits` are zero.
    pub fn set_len_bits(&mut self, bits: usize) {
        let bits = bits.min(MAX_PAYLOAD_BYTES * 8);
        self.written = self.written.max(bits);
        self.bits = bits;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armor_round_trip() {
        for v in 0..64u8 {
            assert_eq!(unarmor(armor(v)), Some(v));
        }
        assert_eq!(unarmor(b'X'), None);
        assert_eq!(unarmor(b'x'), None);
    }

    #[test]
    fn reads_fields() {
        let mut p = Payload::default();
        p.push_armored(b"15RTgt0PAso;90TKcjM8h6g208CQ", 0).unwrap();
        assert_eq!(p.len_bits(), 168);
        assert_eq!(p.u(0, 6), 1);
        assert_eq!(p.u(8, 30), 371_798_000);
        assert_eq!(p.i(42, 8), -127);
    }
}
