//! Six-bit AIS text held inline, so that decoded messages never allocate.

use std::fmt;

/// The six-bit ASCII alphabet of ITU-R M.1371 (Table 47): `@` is 0, and is the
/// "not available"/padding character.
pub const SIXBIT_ALPHABET: &[u8; 64] =
    b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?";

/// Up to `N` characters of six-bit text, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AisText<const N: usize> {
    len: u8,
    buf: [u8; N],
}

impl<const N: usize> Default for AisText<N> {
    fn default() -> Self {
        AisText {
            len: 0,
            buf: [0; N],
        }
    }
}

impl<const N: usize> AisText<N> {
    /// Capacity in characters.
    pub const CAPACITY: usize = N;

    /// The text. Always ASCII, so always valid UTF-8.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or("")
    }

    /// The text's bytes (ASCII), without the UTF-8 check of [`Self::as_str`].
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Builds text from `s`, keeping only characters of the six-bit alphabet
    /// (lower case is raised) and at most `N` of them.
    pub fn from_str_lossy(s: &str) -> Self {
        let mut t = AisText::default();
        for c in s.bytes() {
            let c = c.to_ascii_uppercase();
            if t.len as usize == N {
                break;
            }
            if SIXBIT_ALPHABET.contains(&c) && c != b'@' {
                t.buf[t.len as usize] = c;
                t.len += 1;
            }
        }
        t
    }

    /// Builds text from `s` keeping case and any printable ASCII (for names
    /// that are not six-bit AIS text, such as receiving stations), at most `N`.
    pub fn from_printable_lossy(s: &str) -> Self {
        Self::from_printable_bytes(s.as_bytes())
    }

    /// [`Self::from_printable_lossy`] of the bytes of a text.
    pub(crate) fn from_printable_bytes(b: &[u8]) -> Self {
        let mut buf = [0u8; N];
        if b.len() <= N && b.iter().all(|&c| c.is_ascii_graphic() || c == b' ') {
            // All kept: one copy (byte-wise stores would stall the loads of the whole).
            buf[..b.len()].copy_from_slice(b);
            return AisText {
                len: b.len() as u8,
                buf,
            };
        }
        // A local count, not `self.len`, so the loop keeps it in a register.
        let mut n = 0;
        for &c in b {
            if n == N {
                break;
            }
            if c.is_ascii_graphic() || c == b' ' {
                buf[n] = c;
                n += 1;
            }
        }
        AisText { len: n as u8, buf }
    }

    /// Appends one character if there is room.
    pub(crate) fn push(&mut self, c: u8) -> bool {
        if (self.len as usize) < N {
            self.buf[self.len as usize] = c;
            self.len += 1;
            true
        } else {
            false
        }
    }

    /// Removes trailing spaces and `@`.
    pub(crate) fn trim_end(&mut self) {
        while self.len > 0 && matches!(self.buf[self.len as usize - 1], b' ' | b'@') {
            self.len -= 1;
        }
    }

    /// The six-bit code of each character, for the encoder.
    pub fn sixbit_codes(&self) -> impl Iterator<Item = u8> + '_ {
        self.as_str()
            .bytes()
            .map(|c| SIXBIT_ALPHABET.iter().position(|&a| a == c).unwrap_or(0) as u8)
    }
}

impl<const N: usize> fmt::Debug for AisText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for AisText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
