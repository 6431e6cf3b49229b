//! The EU Annex XLII vessel list (Council Regulation (EU) 833/2014), as the Danish Maritime
//! Authority's "import version": `Vessel name;IMO number ;Date of application`, `;`-separated,
//! Latin-1, CRLF, dates `dd.mm.yyyy`. Names may carry a former name in brackets.

use std::path::Path;

use crate::text::{field, Csv};
use crate::{imo_field, ListEntry, LoadError};

pub(crate) fn csv(path: &Path, bytes: &[u8]) -> Result<Vec<ListEntry>, LoadError> {
    let t = Csv::read(path, bytes, b';', true)?;
    let name = t.column(&["vessel name"])?;
    let imo = t.column(&["imo number"])?;
    let date = t.optional_column(&["date of application"]);
    let mut out = Vec::new();
    for (line, r) in t.rows() {
        let raw_name = field(r, name);
        if raw_name.is_empty() {
            return Err(LoadError::new(
                path,
                Some(line),
                Some("Vessel name"),
                "empty",
            ));
        }
        let n = imo_field(field(r, imo))
            .map_err(|e| LoadError::new(path, Some(line), Some("IMO number"), e))?
            .ok_or_else(|| LoadError::new(path, Some(line), Some("IMO number"), "empty"))?;
        let (main, former) = split_former(raw_name);
        let mut e = ListEntry::named(format!("line {line}"), main);
        e.aliases.extend(former);
        e.set_imo(n);
        if let Some(d) = date {
            let d = field(r, d);
            if !d.is_empty() {
                e.listed_on = Some(eu_date(d).ok_or_else(|| {
                    LoadError::new(
                        path,
                        Some(line),
                        Some("Date of application"),
                        format!("{d:?} is not dd.mm.yyyy"),
                    )
                })?);
            }
        }
        e.programs.push("EU Annex XLII".into());
        out.push(e);
    }
    Ok(out)
}

/// `Quartanus (formerly Morpheus` → (`Quartanus`, [`Morpheus`]).
fn split_former(name: &str) -> (String, Option<String>) {
    if let Some(i) = name.find('(') {
        let main = name[..i].trim().to_owned();
        let rest = name[i + 1..].trim_end_matches(')').trim();
        let rest = rest
            .strip_prefix("formerly")
            .or_else(|| rest.strip_prefix("ex"))
            .or_else(|| rest.strip_prefix("f.k.a."))
            .unwrap_or(rest)
            .trim();
        return (main, (!rest.is_empty()).then(|| rest.to_owned()));
    }
    (name.to_owned(), None)
}

/// `25.06.2024` → `2024-06-25`.
fn eu_date(d: &str) -> Option<String> {
    let mut it = d.split('.');
    let (dd, mm, yyyy) = (it.next()?, it.next()?, it.next()?);
    let (dd, mm, yyyy): (u32, u32, u32) = (dd.parse().ok()?, mm.parse().ok()?, yyyy.parse().ok()?);
    ((1..=31).contains(&dd) && (1..=12).contains(&mm) && it.next().is_none())
        .then(|| format!("{yyyy:04}-{mm:02}-{dd:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn former_names_and_dates() {
        assert_eq!(
            split_former("Quartanus (formerly Morpheus"),
            ("Quartanus".into(), Some("Morpheus".into()))
        );
        assert_eq!(split_former("Angara"), ("Angara".into(), None));
        assert_eq!(eu_date("25.06.2024").as_deref(), Some("2024-06-25"));
        assert_eq!(eu_date("2024-06-25"), None);
    }
}
