//! Byte ranges of an NMEA file that decode apart, for parallel decoding (Spark's first
//! stage): a range starts at a line that begins a message — a single-sentence message, the
//! first sentence of a multipart one, or a `$PGHP` header — and never right after a header
//! line (the sentence belongs to its header). Compressed files and CSV exports cannot be cut
//! by bytes and are one range.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Whether the line is a header that belongs to the sentence after it.
fn is_header(line: &[u8]) -> bool {
    line.starts_with(b"$PGHP")
}

/// Whether the line carries the first (or only) sentence of a message.
fn starts_message(line: &[u8]) -> bool {
    let mut rest = line;
    if let Some(tagged) = line.strip_prefix(b"\\") {
        let Some(close) = memchr::memchr(b'\\', tagged) else {
            return false;
        };
        let block = &tagged[..close];
        // A sentence group `g:2-3-1234` past its first sentence continues a message.
        for field in block.split(|&b| b == b',') {
            if let Some(g) = field.strip_prefix(b"g:") {
                if !g.starts_with(b"1-") {
                    return false;
                }
            }
        }
        rest = &tagged[close + 1..];
    }
    let Some(bang) = memchr::memchr(b'!', rest) else {
        return false;
    };
    let mut fields = rest[bang..].split(|&b| b == b',');
    let (Some(tag), Some(_count), Some(number)) = (fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    tag.len() == 6 && (tag.ends_with(b"VDM") || tag.ends_with(b"VDO")) && number == b"1"
}

/// Whether the file can be cut by bytes: plain text (not gzip or zstd) whose first non-blank
/// line is NMEA (a sentence, a tag block or a header), not a CSV header.
fn splittable(path: &Path) -> io::Result<bool> {
    let mut r = BufReader::new(File::open(path)?);
    let head = r.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Ok(false);
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(false);
        }
        let t = line.trim_ascii();
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        return Ok(t.starts_with(b"!") || t.starts_with(b"\\") || t.starts_with(b"$"));
    }
}

/// Cuts `path` into ranges of about `target` bytes: `(start, end, first line number)`.
pub fn split(path: &Path, target: u64) -> io::Result<Vec<(u64, u64, u64)>> {
    let len = std::fs::metadata(path)?.len();
    if len == 0 || target == 0 || len <= target || !splittable(path)? {
        return Ok(vec![(0, len, 1)]);
    }
    let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut cuts: Vec<(u64, u64)> = vec![(0, 1)];
    let mut next = target;
    let (mut offset, mut number) = (0u64, 1u64);
    let mut line = Vec::with_capacity(256);
    let mut previous_header = false;
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line)? as u64;
        if n == 0 {
            break;
        }
        let text = line.trim_ascii_end();
        if offset >= next && !previous_header && (is_header(text) || starts_message(text)) {
            cuts.push((offset, number));
            next = offset + target;
        }
        previous_header = is_header(text);
        offset += n;
        number += 1;
    }
    let mut out = Vec::with_capacity(cuts.len());
    for (k, &(start, line)) in cuts.iter().enumerate() {
        let end = cuts.get(k + 1).map_or(offset, |c| c.0);
        out.push((start, end, line));
    }
    Ok(out)
}

/// Hands the bytes of `[start, end)` of `path` to `f`, in blocks.
pub fn read_range(path: &Path, start: u64, end: u64, f: &mut dyn FnMut(&[u8])) -> io::Result<()> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut r = file.take(end.saturating_sub(start));
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        f(&buf[..n]);
    }
}
