//! Small CSV tables (RFC 4180 quotes, no embedded newlines) read by column name, with errors
//! that name the file, line and column.

use std::collections::HashMap;

/// A table error: `file:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError(pub String);

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TableError {}

/// Splits one CSV record.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// One row: its 1-based line number and its fields by column name.
pub struct Row<'f> {
    file: &'f str,
    /// 1-based line number in the file.
    pub line: usize,
    values: HashMap<String, String>,
}

impl Row<'_> {
    /// The text of column `name`.
    pub fn text(&self, name: &str) -> Result<&str, TableError> {
        self.values
            .get(name)
            .map(|s| s.as_str())
            .ok_or_else(|| TableError(format!("{}:{}: no column {name}", self.file, self.line)))
    }

    /// Column `name` as a number.
    pub fn number(&self, name: &str) -> Result<f64, TableError> {
        let s = self.text(name)?;
        s.trim().parse().map_err(|_| {
            TableError(format!(
                "{}:{}: {name} = {s:?} is not a number",
                self.file, self.line
            ))
        })
    }

    /// Column `name` as a latitude or longitude within `limit` degrees.
    pub fn degrees(&self, name: &str, limit: f64) -> Result<f64, TableError> {
        let v = self.number(name)?;
        if v.abs() > limit {
            return Err(TableError(format!(
                "{}:{}: {name} = {v} is outside ±{limit}",
                self.file, self.line
            )));
        }
        Ok(v)
    }
}

/// The rows of CSV `text` read from `file` (the name only serves error messages).
pub fn rows<'f>(file: &'f str, text: &str) -> Result<Vec<Row<'f>>, TableError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header = match lines.next() {
        Some((_, h)) => fields(h.trim_end_matches('\r')),
        None => return Err(TableError(format!("{file}: empty"))),
    };
    let mut out = Vec::new();
    for (i, line) in lines {
        let f = fields(line.trim_end_matches('\r'));
        if f.len() != header.len() {
            return Err(TableError(format!(
                "{file}:{}: {} fields, header has {}",
                i + 1,
                f.len(),
                header.len()
            )));
        }
        out.push(Row {
            file,
            line: i + 1,
            values: header.iter().cloned().zip(f).collect(),
        });
    }
    Ok(out)
}
