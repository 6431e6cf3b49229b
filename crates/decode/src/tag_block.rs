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

/// Parses a tag block starting at `\`. Returns it and the rest after the
/// closing `\`, or `None` if there is no closing `\`.
pub fn parse(s: &[u8]) -> Option<(TagBlock<'_>, &[u8])> {
    let body_end = s.iter().skip(1).position(|&c| c == b'\\')? + 1;
    let inner = &s[1..body_end];
    let rest = &s[body_end + 1..];
    let mut tb = TagBlock::default();
    let (fields, cks) = match inner.iter().rposition(|&c| c == b'*') {
        Some(star) => (&inner[..star], Some(&inner[star + 1..])),
        None => (inner, None),
    };
    tb.checksum_ok = cks
        .and_then(crate::sentence::parse_hex2)
        .is_some_and(|c| c == crate::sentence::checksum(fields));
    let text = std::str::from_utf8(fields).ok()?;
    for field in text.split(',') {
        let Some((key, value)) = field.split_once(':') else {
            if !field.is_empty() {
                tb.malformed = true;
            }
            continue;
        };
        match key {
            "c" => match value.trim().parse::<i64>() {
                Ok(v) if v.abs() >= MILLIS_THRESHOLD => tb.time = Some(Timestamp(v)),
                Ok(v) => tb.time = Some(Timestamp::from_unix_seconds(v)),
                Err(_) => tb.malformed = true,
            },
            "s" => tb.source = Some(value),
            "g" => match parse_group(value) {
                Some(g) => tb.group = Some(g),
                None => tb.malformed = true,
            },
            "n" => tb.line_count = value.parse().ok(),
            "q" => tb.quality = Some(value),
            "d" => tb.destination = Some(value),
            "t" => tb.relative_time = Some(value),
            "T" => tb.text_time = Some(value),
            _ => {}
        }
    }
    if tb.time.is_none() {
        // No `c:`: fall back on the provider's text time (ORBCOMM writes
        // `2014-12-10 00.41.53`, others `2014-12-10 00:41:53`).
        tb.time = tb.text_time.and_then(parse_text_time);
    }
    Some((tb, rest))
}

fn parse_text_time(t: &str) -> Option<Timestamp> {
    let normalised: String = t
        .trim()
        .char_indices()
        .map(|(i, c)| if i > 10 && c == '.' && i < 17 { ':' } else { c })
        .collect();
    Timestamp::parse_rfc3339(&normalised).ok()
}

fn parse_group(v: &str) -> Option<Group> {
    let mut it = v.split('-');
    let sentence = it.next()?.parse().ok()?;
    let total = it.next()?.parse().ok()?;
    let id = it.next()?.parse().ok()?;
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
