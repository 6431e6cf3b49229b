//! UTC timestamps with millisecond resolution, formatted as RFC 3339.
//!
//! A hand-written civil calendar conversion (Howard Hinnant's `days_from_civil`
//! algorithm, <https://howardhinnant.github.io/date_algorithms.html>) keeps this
//! crate dependency-free and formatting allocation-free.

use std::fmt;

/// A UTC instant: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Timestamp(pub i64);

/// Why a text is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {text:?}: {reason}")]
pub struct ParseTimeError {
    /// The text that was given (truncated to 64 bytes).
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Timestamp {
    /// From whole seconds since the Unix epoch.
    pub fn from_unix_seconds(s: i64) -> Self {
        Timestamp(s.saturating_mul(1000))
    }

    /// The start (00:00 UTC) of the day `YYYY-MM-DD`; `None` for anything else.
    pub fn parse_day(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = text.get(r)?;
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        Timestamp::from_utc(i64::from(num(0..4)?), num(5..7)?, num(8..10)?, 0, 0, 0, 0)
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        self.0
    }

    /// From calendar fields in UTC. Returns `None` when a field is out of range.
    pub fn from_utc(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        millis: u32,
    ) -> Option<Self> {
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
            || millis > 999
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
        Some(Timestamp(secs * 1000 + millis as i64))
    }

    /// Calendar fields `(year, month, day, hour, minute, second, millis)` in UTC.
    pub fn to_utc(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let ms = self.0.rem_euclid(1000) as u32;
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        (y, m, d, sod / 3600, sod / 60 % 60, sod % 60, ms)
    }

    /// Parses RFC 3339 / ISO 8601 UTC text: `2024-01-02T03:04:05Z`, with optional
    /// fractional seconds, `+00:00` offsets, or a space instead of `T`.
    pub fn parse_rfc3339(text: &str) -> Result<Self, ParseTimeError> {
        let err = |reason| ParseTimeError {
            text: text.chars().take(64).collect(),
            reason,
        };
        let b = text.as_bytes();
        if b.len() < 19 {
            return Err(err("too short for YYYY-MM-DDTHH:MM:SS"));
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = text.get(r)?;
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let fields = (
            num(0..4),
            num(5..7),
            num(8..10),
            num(11..13),
            num(14..16),
            num(17..19),
        );
        let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = fields else {
            return Err(err("expected digits in YYYY-MM-DDTHH:MM:SS"));
        };
        if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return Err(err("expected YYYY-MM-DDTHH:MM:SS"));
        }
        let mut rest = &text[19..];
        let mut millis = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err("empty fraction of a second"));
            }
            let mut scale = 100;
            for c in frac.bytes().take(digits.min(3)) {
                millis += (c - b'0') as u32 * scale;
                scale /= 10;
            }
            rest = &frac[digits..];
        }
        let offset_min: i64 = match rest {
            "" | "Z" | "z" => 0,
            o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
                let (Some(oh), Some(om)) = (
                    num(text.len() - 5..text.len() - 3),
                    num(text.len() - 2..text.len()),
                ) else {
                    return Err(err("bad UTC offset"));
                };
                let sign = if o.starts_with('-') { -1 } else { 1 };
                sign * (oh as i64 * 60 + om as i64)
            }
            _ => return Err(err("unexpected text after the seconds")),
        };
        let t = Timestamp::from_utc(y as i64, mo, d, h, mi, s, millis)
            .ok_or_else(|| err("field out of range"))?;
        Ok(Timestamp(t.0 - offset_min * 60_000))
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC; milliseconds only when non-zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s, ms) = self.to_utc();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_calendar() {
        for t in [
            0i64,
            1_325_394_060_000,
            -86_400_000,
            4_102_444_800_123,
            951_782_400_000,
        ] {
            let ts = Timestamp(t);
            let text = ts.to_string();
            assert_eq!(Timestamp::parse_rfc3339(&text).unwrap(), ts, "{text}");
        }
        assert_eq!(
            Timestamp(1_325_394_060_000).to_string(),
            "2012-01-01T05:01:00Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_string(),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn parses_offsets_and_rejects_garbage() {
        let a = Timestamp::parse_rfc3339("2024-03-01T12:00:00+02:00").unwrap();
        let b = Timestamp::parse_rfc3339("2024-03-01 10:00:00.000Z").unwrap();
        assert_eq!(a, b);
        assert!(Timestamp::parse_rfc3339("2024-02-30T00:00:00Z").is_err());
        assert_eq!(
            Timestamp::parse_day("2000-02-29"),
            Timestamp::parse_rfc3339("2000-02-29T00:00:00Z").ok()
        );
        for bad in ["2024-02-30", "2024-2-01", "2024-02-01T", "20x4-02-01", ""] {
            assert_eq!(Timestamp::parse_day(bad), None, "{bad}");
        }
        assert!(Timestamp::parse_rfc3339("yesterday at noon").is_err());
    }
}
