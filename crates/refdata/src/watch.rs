//! Watch lists and particulars in plain CSV: the GUR-style shadow-fleet list (current and
//! legacy MMSIs, former names), any CSV with an IMO column (KSE's tanker list), and vessel
//! particulars (deadweight, build year) from a registry.

use std::path::Path;

use crate::text::{field, nonempty, Csv};
use crate::{imo_field, mmsi_field, ListEntry, ListedMmsi, LoadError};

fn imo_at(
    t: &Csv,
    line: u64,
    col: usize,
    r: &csv::StringRecord,
    name: &str,
) -> Result<Option<u32>, LoadError> {
    imo_field(field(r, col)).map_err(|w| LoadError::new(t.path, Some(line), Some(name), w))
}

/// Labels of the GUR portal's page that its scrapes leave in data fields ("Call sign" in the
/// MMSI column, "Flags (former)" among former names): read as empty, and counted.
const PORTAL_LABELS: [&str; 5] = [
    "call sign",
    "vessel name",
    "vessel type",
    "flags (former)",
    "imo",
];

fn is_label(s: &str) -> bool {
    PORTAL_LABELS
        .iter()
        .any(|l| s.trim().eq_ignore_ascii_case(l))
}

/// MMSIs separated by `/`, `;` or spaces. Invisible characters around the digits (zero-width
/// spaces from web scrapes) are dropped.
fn mmsis(
    t: &Csv,
    line: u64,
    raw: &str,
    name: &str,
    current: bool,
    out: &mut Vec<ListedMmsi>,
) -> Result<(), LoadError> {
    for m in raw
        .split(['/', ';', ' ', '|'])
        .filter(|s| !s.trim().is_empty())
    {
        let m: String = m
            .chars()
            .filter(|c| !matches!(c, '\u{200b}'..='\u{200f}' | '\u{feff}' | '\u{fffd}'))
            .collect();
        if let Some(m) =
            mmsi_field(&m).map_err(|w| LoadError::new(t.path, Some(line), Some(name), w))?
        {
            if !out.iter().any(|x| x.mmsi == m) {
                out.push(ListedMmsi { mmsi: m, current });
            }
        }
    }
    Ok(())
}

fn year(t: &Csv, line: u64, raw: &str, name: &str) -> Result<Option<u32>, LoadError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    // Scrapes glue other text after the year ("2007HQZS3", "2011 / 2015"): the first four
    // digits are the year built.
    match raw.get(..4).and_then(|y| y.parse::<u32>().ok()) {
        Some(y) if (1900..=2100).contains(&y) => Ok(Some(y)),
        _ => Err(LoadError::new(
            t.path,
            Some(line),
            Some(name),
            format!("{raw:?} is not a year"),
        )),
    }
}

/// `gur_id,name,imo,mmsi_current,mmsi_legacy,flag,vessel_type,callsign,former_names,build_year,status`.
pub(crate) fn gur(path: &Path, bytes: &[u8]) -> Result<(Vec<ListEntry>, Vec<String>), LoadError> {
    let t = Csv::read(path, bytes, b',', true)?;
    let id = t.optional_column(&["gur_id", "id"]);
    let name = t.column(&["name"])?;
    let imo = t.column(&["imo"])?;
    let current = t.column(&["mmsi_current"])?;
    let legacy = t.column(&["mmsi_legacy"])?;
    let former = t.column(&["former_names"])?;
    let flag = t.optional_column(&["flag"]);
    let kind = t.optional_column(&["vessel_type"]);
    let call = t.optional_column(&["callsign", "call_sign"]);
    let built = t.optional_column(&["build_year"]);
    let status = t.optional_column(&["status"]);
    let mut out = Vec::new();
    let mut labels = 0usize;
    let mut other_numbers = 0usize;
    let mut bad_years = 0usize;
    for (line, r) in t.rows() {
        let n = nonempty(field(r, name))
            .ok_or_else(|| LoadError::new(path, Some(line), Some("name"), "empty"))?;
        let mut e = ListEntry::named(
            id.map_or_else(|| format!("line {line}"), |i| field(r, i).to_owned()),
            n,
        );
        let cleaned = |i: usize, labels: &mut usize| -> &str {
            let v = field(r, i);
            if is_label(v) {
                *labels += 1;
                ""
            } else {
                v
            }
        };
        let raw_imo = field(r, imo);
        if raw_imo.starts_with(|c: char| c.is_ascii_alphabetic())
            && !raw_imo.to_ascii_uppercase().starts_with("IMO")
        {
            // Another registry's number (the Russian Register's `RS 150443`), not an IMO number.
            other_numbers += 1;
        } else if let Some(i) = imo_at(&t, line, imo, r, "imo")? {
            e.set_imo(i);
        }
        mmsis(
            &t,
            line,
            cleaned(current, &mut labels),
            "mmsi_current",
            true,
            &mut e.mmsis,
        )?;
        mmsis(
            &t,
            line,
            cleaned(legacy, &mut labels),
            "mmsi_legacy",
            false,
            &mut e.mmsis,
        )?;
        e.aliases = cleaned(former, &mut labels)
            .split(" / ")
            .filter_map(nonempty)
            .collect();
        e.flag = flag
            .and_then(|c| nonempty(field(r, c)))
            .filter(|f| f != "unknown");
        e.vessel_type = kind.and_then(|c| nonempty(cleaned(c, &mut labels)));
        e.call_sign = call.and_then(|c| nonempty(cleaned(c, &mut labels)));
        if let Some(c) = built {
            // A scraped year that is no year ("2800") is read as unknown, and counted.
            e.build_year = year(&t, line, field(r, c), "build_year").unwrap_or_else(|_| {
                bad_years += 1;
                None
            });
        }
        if let Some(c) = status {
            let s = field(r, c);
            e.active = !s.starts_with("delisted");
        }
        if e.imo.is_none() && e.mmsis.is_empty() {
            return Err(LoadError::new(
                path,
                Some(line),
                Some("imo"),
                "neither IMO nor MMSI",
            ));
        }
        out.push(e);
    }
    let mut notes = Vec::new();
    if labels > 0 {
        notes.push(format!("{labels} fields held a label of the list's web page (such as \"Call sign\") instead of a value: read as empty"));
    }
    if bad_years > 0 {
        notes.push(format!(
            "{bad_years} entries have a build year that is no year: read as unknown"
        ));
    }
    if other_numbers > 0 {
        notes.push(format!("{other_numbers} entries give another registry's number (such as \"RS 150443\") in the IMO column: read as no IMO"));
    }
    Ok((out, notes))
}

/// Any CSV with an `imo` or `vessel_imo` column, and optionally `name`/`vessel_name`,
/// `mmsi`, `build_year`/`buildyear`.
pub(crate) fn imo_csv(path: &Path, bytes: &[u8]) -> Result<Vec<ListEntry>, LoadError> {
    let t = Csv::read(path, bytes, b',', true)?;
    let imo = t.column(&["imo", "vessel_imo"])?;
    let name = t.optional_column(&["name", "vessel_name"]);
    let mmsi = t.optional_column(&["mmsi"]);
    let built = t.optional_column(&["build_year", "buildyear"]);
    let mut out = Vec::new();
    for (line, r) in t.rows() {
        let i = imo_at(&t, line, imo, r, "imo")?
            .ok_or_else(|| LoadError::new(path, Some(line), Some("imo"), "empty"))?;
        let n = name.and_then(|c| nonempty(field(r, c))).unwrap_or_default();
        let mut e = ListEntry::named(i.to_string(), n);
        e.set_imo(i);
        if let Some(c) = mmsi {
            mmsis(&t, line, field(r, c), "mmsi", true, &mut e.mmsis)?;
        }
        if let Some(c) = built {
            e.build_year = year(&t, line, field(r, c), "build_year")?;
        }
        out.push(e);
    }
    Ok(out)
}

/// `imo,name,dwt,build_year,flag`, optionally `owner_country` and `insurer_country` (ISO
/// alpha-2; extra columns ignored): what a ship registry says.
pub(crate) fn particulars(path: &Path, bytes: &[u8]) -> Result<Vec<ListEntry>, LoadError> {
    let t = Csv::read(path, bytes, b',', true)?;
    let imo = t.column(&["imo"])?;
    let name = t.optional_column(&["name"]);
    let dwt = t.column(&["dwt"])?;
    let built = t.optional_column(&["build_year"]);
    let flag = t.optional_column(&["flag"]);
    let owner = t.optional_column(&["owner_country"]);
    let insurer = t.optional_column(&["insurer_country"]);
    let mut out = Vec::new();
    for (line, r) in t.rows() {
        let i = imo_at(&t, line, imo, r, "imo")?
            .ok_or_else(|| LoadError::new(path, Some(line), Some("imo"), "empty"))?;
        let mut e = ListEntry::named(
            i.to_string(),
            name.and_then(|c| nonempty(field(r, c))).unwrap_or_default(),
        );
        e.set_imo(i);
        for (col, name, slot) in [
            (owner, "owner_country", &mut e.owner_country),
            (insurer, "insurer_country", &mut e.insurer_country),
        ] {
            if let Some(v) = col.and_then(|c| nonempty(field(r, c))) {
                if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(LoadError::new(
                        path,
                        Some(line),
                        Some(name),
                        format!("{v:?} is not an ISO alpha-2 country code"),
                    ));
                }
                *slot = Some(v.to_ascii_uppercase());
            }
        }
        let d = field(r, dwt);
        if !d.is_empty() {
            let v: f64 = d.parse().map_err(|_| {
                LoadError::new(
                    path,
                    Some(line),
                    Some("dwt"),
                    format!("{d:?} is not a number"),
                )
            })?;
            if !(v > 0.0 && v < 1_000_000.0) {
                return Err(LoadError::new(
                    path,
                    Some(line),
                    Some("dwt"),
                    format!("{d} tonnes is not a ship's deadweight"),
                ));
            }
            e.dwt = Some(v);
        }
        if let Some(c) = built {
            e.build_year = year(&t, line, field(r, c), "build_year")?;
        }
        e.flag = flag.and_then(|c| nonempty(field(r, c)));
        out.push(e);
    }
    Ok(out)
}
