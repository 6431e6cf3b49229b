//! Validated vessel identifiers: MMSI (ITU-R M.585) and IMO ship numbers.

use std::fmt;
use std::num::NonZeroU32;

/// Why a number is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidId {
    /// An MMSI has nine digits; zero and values above 999 999 999 are not MMSIs.
    #[error("invalid MMSI (got {0}): must be 1..=999999999")]
    Mmsi(u32),
    /// An IMO number has seven digits.
    #[error("invalid IMO number (got {0}): must have seven digits")]
    ImoRange(u32),
    /// The seventh digit of an IMO number is a check digit.
    #[error("invalid IMO number (got {got}): check digit should be {expected}")]
    ImoCheckDigit {
        /// The number as given.
        got: u32,
        /// The check digit the first six digits imply.
        expected: u32,
    },
}

/// Maritime Mobile Service Identity: nine decimal digits, never zero.
///
/// `Option<Mmsi>` is the size of a `u32` thanks to the `NonZero` niche.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Mmsi(NonZeroU32);

impl Mmsi {
    /// The number.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The Maritime Identification Digits (first three digits) of a ship station
    /// MMSI (`MIDxxxxxx`), or `None` for other station kinds (coast stations
    /// `00MID`, groups `0MID`, SAR aircraft `111MID`, AtoN `99MID`, craft
    /// associated with a parent ship `98MID`, devices `97x`), per ITU-R M.585.
    pub fn ship_mid(self) -> Option<u16> {
        let v = self.get();
        let mid = v / 1_000_000;
        (200..=799).contains(&mid).then_some(mid as u16)
    }
}

impl TryFrom<u32> for Mmsi {
    type Error = InvalidId;
    fn try_from(v: u32) -> Result<Self, InvalidId> {
        if v > 999_999_999 {
            return Err(InvalidId::Mmsi(v));
        }
        NonZeroU32::new(v).map(Mmsi).ok_or(InvalidId::Mmsi(v))
    }
}

impl fmt::Display for Mmsi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:09}", self.get())
    }
}

/// IMO ship identification number: seven digits, the last a check digit
/// (sum of the first six digits weighted 7..2, modulo 10; IMO Resolution A.1117(30)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Imo(NonZeroU32);

impl Imo {
    /// The number.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The check digit that the first six digits of `number` imply.
    pub fn check_digit(number: u32) -> u32 {
        let mut six = number / 10;
        let mut sum = 0;
        for weight in 2..=7 {
            sum += (six % 10) * weight;
            six /= 10;
        }
        sum % 10
    }
}

impl TryFrom<u32> for Imo {
    type Error = InvalidId;
    fn try_from(v: u32) -> Result<Self, InvalidId> {
        if !(1_000_000..=9_999_999).contains(&v) {
            return Err(InvalidId::ImoRange(v));
        }
        let expected = Imo::check_digit(v);
        if v % 10 != expected {
            return Err(InvalidId::ImoCheckDigit { got: v, expected });
        }
        NonZeroU32::new(v).map(Imo).ok_or(InvalidId::ImoRange(v))
    }
}

impl fmt::Display for Imo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imo_check_digit() {
        // EVER DIADEM, from gpsd's sample.aivdm.
        assert!(Imo::try_from(9134270).is_ok());
        assert_eq!(
            Imo::try_from(9134271),
            Err(InvalidId::ImoCheckDigit {
                got: 9134271,
                expected: 0
            })
        );
        assert!(Imo::try_from(123).is_err());
    }

    #[test]
    fn mmsi_range_and_mid() {
        assert!(Mmsi::try_from(0).is_err());
        assert!(Mmsi::try_from(1_000_000_000).is_err());
        let m = Mmsi::try_from(273_123_456).unwrap();
        assert_eq!(m.ship_mid(), Some(273));
        assert_eq!(Mmsi::try_from(2_734_450).unwrap().ship_mid(), None);
        assert_eq!(std::mem::size_of::<Option<Mmsi>>(), 4);
    }
}
