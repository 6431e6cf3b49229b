//! Text decoding and CSV reading shared by the loaders.

use std::borrow::Cow;
use std::path::Path;

use crate::LoadError;

/// Decodes UTF-8, or Latin-1 (ISO-8859-1) when the bytes are not UTF-8 (the EU and OFAC
/// exports are Latin-1). A UTF-8 byte-order mark is dropped. Non-breaking spaces become
/// spaces.
pub(crate) fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        // A cut in the middle of a UTF-8 sequence (format detection reads a prefix).
        Err(e) if e.error_len().is_none() && e.valid_up_to() + 4 > bytes.len() => {
            Cow::Borrowed(std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default())
        }
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    };
    if text.contains('\u{a0}') {
        Cow::Owned(text.replace('\u{a0}', " "))
    } else {
        text
    }
}

/// A CSV file read by column name.
pub(crate) struct Csv<'p> {
    pub path: &'p Path,
    header: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl<'p> Csv<'p> {
    /// Reads all records; the first is the header unless `header` is false.
    pub fn read(
        path: &'p Path,
        bytes: &[u8],
        delimiter: u8,
        header: bool,
    ) -> Result<Csv<'p>, LoadError> {
        let text = decode(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(header)
            .flexible(false)
            .from_reader(text.as_bytes());
        let header: Vec<String> = if header {
            reader
                .headers()
                .map_err(|e| LoadError::new(path, Some(1), None, e.to_string()))?
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect()
        } else {
            Vec::new()
        };
        // Line numbers from byte offsets (the reader's own line count does not always agree
        // with an editor's when fields are quoted or lines end in CRLF).
        let bytes = text.as_bytes();
        let mut counted = (0usize, 1u64);
        let mut line_at = |offset: u64| {
            let mut offset = (offset as usize).min(bytes.len());
            // After a CRLF the reader reports the record as starting on the LF.
            if bytes.get(offset) == Some(&b'\n') {
                offset += 1;
            }
            if offset < counted.0 {
                counted = (0, 1);
            }
            counted.1 += bytes[counted.0..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted.0 = offset;
            counted.1
        };
        let mut rows = Vec::new();
        let mut r = csv::StringRecord::new();
        loop {
            let more = reader.read_record(&mut r).map_err(|e| {
                let line = e.position().map(|p| line_at(p.byte()));
                LoadError::new(path, line, None, e.to_string())
            })?;
            if !more {
                break;
            }
            if r.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let line = r.position().map_or(0, |p| line_at(p.byte()));
            rows.push((line, r.clone()));
        }
        Ok(Csv { path, header, rows })
    }

    /// The index of the first of `names` in the header; an error naming them when none is.
    pub fn column(&self, names: &[&str]) -> Result<usize, LoadError> {
        names
            .iter()
            .find_map(|n| self.header.iter().position(|h| h == n))
            .ok_or_else(|| {
                LoadError::new(
                    self.path,
                    Some(1),
                    Some(names[0]),
                    format!("missing column (header is {:?})", self.header.join(",")),
                )
            })
    }

    /// The index of the first of `names` in the header, if any.
    pub fn optional_column(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.header.iter().position(|h| h == n))
    }

    /// Rows with their line numbers.
    pub fn rows(&self) -> impl Iterator<Item = (u64, &csv::StringRecord)> {
        self.rows.iter().map(|(l, r)| (*l, r))
    }
}

/// A field, trimmed; empty when absent.
pub(crate) fn field(r: &csv::StringRecord, i: usize) -> &str {
    r.get(i).map_or("", str::trim)
}

/// `Some(trimmed)` when the field is not empty.
pub(crate) fn nonempty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}
