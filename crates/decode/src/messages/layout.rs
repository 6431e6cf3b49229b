//! One table per message layout drives both decoding and encoding.
//!
//! Each field is declared once as `name: Type = (start_bit, length)`; the macro
//! generates the struct, `read` (decode) and `write` (encode). For text fields
//! the length is a count of six-bit characters. Writing the layout once is what
//! keeps the encoder and decoder from drifting apart.

use crate::bits::Payload;
use crate::text::{AisText, SIXBIT_ALPHABET};

/// A value that can be read from and written to a bit field.
pub trait Field: Sized {
    /// Reads the field; bits past the payload read as zero.
    fn read(p: &Payload, start: usize, len: usize) -> Self;
    /// Writes the field at its absolute position.
    fn write(&self, w: &mut Payload, start: usize, len: usize);
}

macro_rules! unsigned_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            #[inline]
            fn read(p: &Payload, start: usize, len: usize) -> Self {
                p.u(start, len) as $t
            }
            fn write(&self, w: &mut Payload, start: usize, len: usize) {
                w.set(start, len, *self as u64);
            }
        }
    )*};
}
macro_rules! signed_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            #[inline]
            fn read(p: &Payload, start: usize, len: usize) -> Self {
                p.i(start, len) as $t
            }
            fn write(&self, w: &mut Payload, start: usize, len: usize) {
                w.set(start, len, (*self as i64 as u64) & mask(len));
            }
        }
    )*};
}
unsigned_field!(u8, u16, u32, u64);
signed_field!(i8, i16, i32);

fn mask(len: usize) -> u64 {
    if len >= 64 {
        u64::MAX
    } else {
        (1u64 << len) - 1
    }
}

impl Field for bool {
    #[inline]
    fn read(p: &Payload, start: usize, len: usize) -> Self {
        p.u(start, len) != 0
    }
    fn write(&self, w: &mut Payload, start: usize, len: usize) {
        w.set(start, len, *self as u64);
    }
}

impl<const N: usize> Field for AisText<N> {
    /// gpsd's rule: stop at the first `@`, then trim trailing spaces and `@`.
    fn read(p: &Payload, start: usize, count: usize) -> Self {
        read_text(p, start, count)
    }
    fn write(&self, w: &mut Payload, start: usize, count: usize) {
        write_text(self, w, start, count);
    }
}

/// Reads up to `count` six-bit characters at `start`, gpsd style.
pub fn read_text<const N: usize>(p: &Payload, start: usize, count: usize) -> AisText<N> {
    let mut t = AisText::default();
    for i in 0..count.min(N) {
        let c = SIXBIT_ALPHABET[p.u(start + 6 * i, 6) as usize];
        if c == b'@' {
            break;
        }
        t.push(c);
    }
    t.trim_end();
    t
}

/// Writes `count` characters at `start`, padding with `@` (zero).
pub fn write_text<const N: usize>(t: &AisText<N>, w: &mut Payload, start: usize, count: usize) {
    let mut i = 0;
    for code in t.sixbit_codes().take(count) {
        w.set(start + 6 * i, 6, code as u64);
        i += 1;
    }
    for j in i..count {
        w.set(start + 6 * j, 6, 0);
    }
}

/// Declares a message layout: struct, `read` and `write` from one field table.
macro_rules! layout {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = ($start:expr, $len:expr) ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            #[allow(unused_variables)]
            pub(crate) fn read(p: &$crate::bits::Payload) -> Self {
                use $crate::messages::layout::Field;
                $name { $( $field: <$ty as Field>::read(p, $start, $len), )* }
            }

            #[allow(unused_variables)]
            #[allow(dead_code, reason = "decode-only application layouts are encoded as raw data")]
            pub(crate) fn write(&self, w: &mut $crate::bits::Payload) {
                use $crate::messages::layout::Field;
                $( Field::write(&self.$field, w, $start, $len); )*
            }
        }
    };
}
pub(crate) use layout;
