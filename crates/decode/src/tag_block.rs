//! NMEA 4.10 tag blocks: `\c:1418169601,s:rORBCOMM008,g:1-2-1604*37\`.
//!
//! Keys (IEC 61162-1 Ed. 4, §7.9 and common provider extensions):
//! `c:` UNIX time of reception (seconds, or milliseconds when the value is
//! too large to be seconds), `s:` source station, `g:` sentence group
//! (`sentence-total-id`), `n:` line count, `q:` quality, `d:` destination,
//! `t:` relative time or text, `T:` provider time text (may hold spaces).
//! Unknown keys are ignored.

use shadowfleet_model::Timestamp;

/// Values above this are milliseconds, not seconds (1e11 s is year 5138).
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// A sentence group: this sentence's number, the group size, and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// This sentence's position in the group, from 1.
    pub sentence: u32,
    /// Number of sentences in the group.
    pub total: u32,
    /// The group id.
    pub id: u32,
}

/// A parsed tag block; text values borrow from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TagBlock<'a> {
    /// `c:` receive time.
    pub time: Option<Timestamp>,
    /// `s:` source (station) name.
    pub source: Option<&'a str>,
    /// `g:` group.
    pub group: Option<Group>,
    /// `n:` line count.
    pub line_count: Option<u64>,
    /// `q:` quality.
    pub quality: Option<&'a str>,
    /// `d:` destination.
    pub destination: Option<&'a str>,
    /// `t:` relative time or text.
    pub relative_time: Option<&'a str>,
    /// `T:` provider time text.
    pub text_time: Option<&'a str>,
    /// Whether the tag block checksum was present and right.
    pub checksum_ok: bool,
    /// Whether a field could not be parsed (such as a malformed `g:`).
    pub malformed: bool,
}

/// Parses a tag block starting at `\\`. Returns it and the rest after the
/// closing `\\`, or `None` if there is no closing `\\` or the block is not UTF-8.
pub fn parse<'a>(s: &'a [u8]) -> Option<(TagBlock<'a>, &'a [u8])> {
    let (raw, rest) = parse_raw(s)?;
    // The block is UTF-8 (checked by `parse_raw`) and its separators are ASCII, so every
    // value is UTF-8 too.
    let text = |v: Option<&'a [u8]>| v.and_then(|v| std::str::from_utf8(v).ok());
    Some((
        TagBlock {
            time: raw.time,
            source: text(raw.source),
            group: raw.group,
            line_count: raw.line_count,
            quality: text(raw.quality),
            destination: text(raw.destination),
            relative_time: text(raw.relative_time),
            text_time: text(raw.text_time),
            checksum_ok: raw.checksum_ok,
            malformed: raw.malformed,
        },
        rest,
    ))
}

/// A tag block with its text values as the bytes of the line (UTF-8): what the decoder
/// reads, without a UTF-8 check per value.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RawTagBlock<'a> {
    pub time: Option<Timestamp>,
    pub source: Option<&'a [u8]>,
    pub group: Option<Group>,
    pub line_count: Option<u64>,
    pub quality: Option<&'a [u8]>,
    pub destination: Option<&'a [u8]>,
    pub relative_time: Option<&'a [u8]>,
    pub text_time: Option<&'a [u8]>,
    pub checksum_ok: bool,
    pub malformed: bool,
}

/// [`parse`] with text values as bytes.
pub(crate) fn parse_raw(s: &[u8]) -> Option<(RawTagBlock<'_>, &[u8])> {
    let body_end = crate::swar::find(s.get(1..)?, b'\\')? + 1;
    let inner = &s[1..body_end];
    let rest = &s[body_end + 1..];
    let mut tb = RawTagBlock::default();
    // The checksum is near the end: look for its `*` from there.
    let (fields, cks) = match inner.iter().rposition(|&c| c == b'*') {
        Some(star) => (&inner[..star], Some(&inner[star + 1..])),
        None => (inner, None),
    };
    tb.checksum_ok = cks
        .and_then(crate::sentence::parse_hex2)
        .is_some_and(|c| c == crate::sentence::checksum(fields));
    // A block that is not UTF-8 is no tag block.
    if !fields.is_ascii() && std::str::from_utf8(fields).is_err() {
        return None;
    }
    // Field by field, `key:value` separated by commas (an index loop: this runs for every
    // line of a feed).
    let n = fields.len();
    let mut at = 0;
    loop {
        let stop = crate::swar::find(&fields[at..], b',').map_or(n, |k| at + k);
        apply_field(&mut tb, &fields[at..stop]);
        if stop >= n {
            break;
        }
        at = stop + 1;
    }
    if tb.time.is_none() {
        // No `c:`: fall back on the provider's text time (ORBCOMM writes
        // `2014-12-10 00.41.53`, others `2014-12-10 00:41:53`).
        tb.time = tb
            .text_time
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(parse_text_time);
    }
    Some((tb, rest))
}

/// Decimal digits as `str::parse::<u64>` reads them (an optional `+`, no overflow).
fn parse_u64(v: &[u8]) -> Option<u64> {
    let digits = v.strip_prefix(b"+").unwrap_or(v);
    if digits.is_empty() {
        return None;
    }
    if digits.len() <= 19 {
        // Nineteen digits cannot overflow.
        return crate::swar::digits_u64(digits);
    }
    digits.iter().try_fold(0u64, |a, &c| {
        if !c.is_ascii_digit() {
            return None;
        }
        a.checked_mul(10)?.checked_add(u64::from(c - b'0'))
    })
}

/// Decimal digits as `str::parse::<i64>` reads them (an optional sign, no overflow).
fn parse_i64(v: &[u8]) -> Option<i64> {
    match v.split_first() {
        Some((b'-', digits)) if !digits.starts_with(b"+") => {
            let m = parse_u64(digits)?;
            if m == 1 << 63 {
                Some(i64::MIN)
            } else {
                i64::try_from(m).ok().map(|x| -x)
            }
        }
        _ => i64::try_from(parse_u64(v)?).ok(),
    }
}

/// Reads one `key:value` field into `tb`.
fn apply_field<'a>(tb: &mut RawTagBlock<'a>, field: &'a [u8]) {
    let (key, value) = match field {
        [k, b':', v @ ..] => (*k, v),
        [] => return,
        _ => {
            if !field.contains(&b':') {
                tb.malformed = true;
            }
            // A longer key: not one we know.
            return;
        }
    };
    match key {
        b'c' => match parse_i64(value.trim_ascii()) {
            Some(v) if v.abs() >= MILLIS_THRESHOLD => tb.time = Some(Timestamp(v)),
            Some(v) => tb.time = Some(Timestamp::from_unix_seconds(v)),
            None => tb.malformed = true,
        },
        b's' => tb.source = Some(value),
        b'g' => match parse_group(value) {
            Some(g) => tb.group = Some(g),
            None => tb.malformed = true,
        },
        b'n' => tb.line_count = parse_u64(value),
        b'q' => tb.quality = Some(value),
        b'd' => tb.destination = Some(value),
        b't' => tb.relative_time = Some(value),
        b'T' => tb.text_time = Some(value),
        _ => {}
    }
}

fn parse_text_time(t: &str) -> Option<Timestamp> {
    let normalised: String = t
        .trim()
        .char_indices()
        .map(|(i, c)| if i > 10 && c == '.' && i < 17 { ':' } else { c })
        .collect();
    Timestamp::parse_rfc3339(&normalised).ok()
}

fn parse_group(v: &[u8]) -> Option<Group> {
    let mut it = v.split(|&c| c == b'-');
    let mut number = || -> Option<u32> { u32::try_from(parse_u64(it.next()?)?).ok() };
    let sentence = number()?;
    let total = number()?;
    let id = number()?;
    if it.next().is_some() || sentence == 0 || sentence > total {
        return None;
    }
    Some(Group {
        sentence,
        total,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_orbcomm_tag_block() {
        let line = br"\g:1-2-1604,s:rORBCOMM008,c:1418169601,T:2014-12-10 00.00.01*37\!AIVDM";
        let (tb, rest) = parse(line).unwrap();
        assert!(tb.checksum_ok);
        assert_eq!(
            tb.group,
            Some(Group {
                sentence: 1,
                total: 2,
                id: 1604
            })
        );
        assert_eq!(tb.source, Some("rORBCOMM008"));
        assert_eq!(tb.time, Some(Timestamp::from_unix_seconds(1_418_169_601)));
        assert_eq!(tb.text_time, Some("2014-12-10 00.00.01"));
        assert_eq!(rest, b"!AIVDM");
    }

    #[test]
    fn milliseconds_and_malformed_groups() {
        let (tb, _) = parse(br"\c:1599239526500,s:sdr*00\").unwrap();
        assert_eq!(tb.time, Some(Timestamp(1_599_239_526_500)));
        assert!(!tb.checksum_ok);
        let (tb, _) = parse(br"\g:1-2--001,c:1326055296*3C\").unwrap();
        assert!(tb.malformed && tb.group.is_none());
        assert!(parse(br"\c:12").is_none());
    }

    #[test]
    fn text_time_is_a_fallback_for_c() {
        let (tb, _) = parse(br"\s:x,T:2014-12-10 00.41.53*00\").unwrap();
        assert_eq!(
            tb.time.map(|t| t.to_string()).as_deref(),
            Some("2014-12-10T00:41:53Z")
        );
        let (tb, _) = parse(br"\c:1418172113,T:1999-01-01 00.00.00*00\").unwrap();
        assert_eq!(tb.time, Some(Timestamp::from_unix_seconds(1_418_172_113)));
    }
}
