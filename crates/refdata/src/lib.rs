//! Reference data the later stages screen against and attribute with: sanctions lists, watch
//! lists of shadow-fleet tankers, vessel particulars (deadweight, build year), and ports.
//!
//! Every loader is strict: a file that does not parse is rejected whole, with an error naming
//! the file, the line (or entry) and the field, and nothing of it is returned. Users point at
//! newer files at run time; nothing here is compiled in. Formats: `docs/formats.md`.
//!
//! | format | what |
//! |---|---|
//! | [`ListFormat::OfacCsv`] | OFAC SDN legacy `sdn.csv` (no header, `-0-` for empty) |
//! | [`ListFormat::OfacXml`] | OFAC SDN `sdn.xml` |
//! | [`ListFormat::OfacJson`] | an OFAC vessel extract `{vessels:[{imo,name,programs,...}]}` |
//! | [`ListFormat::EuCsv`] | EU Annex XLII vessels, the `;`-separated Latin-1 export |
//! | [`ListFormat::FtmJson`] | OpenSanctions / FollowTheMoney entities (NDJSON or array); `Vessel` only |
//! | [`ListFormat::GurCsv`] | shadow-fleet watch list with current and legacy MMSIs and former names |
//! | [`ListFormat::ImoCsv`] | any CSV with an IMO column (`imo` or `vessel_imo`) and optionally a name |
//! | [`ListFormat::Particulars`] | vessel particulars: `imo,name,dwt,build_year,flag` (optionally `owner_country`, `insurer_country`) |

mod eu;
mod ftm;
mod ofac;
pub mod ports;
mod text;
mod watch;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shadowfleet_model::Imo;

/// A loading error: which file, where in it, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{}: {reason}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), field.as_ref().map(|f| format!(": field {f}")).unwrap_or_default())]
pub struct LoadError {
    /// File.
    pub file: PathBuf,
    /// 1-based line (or entry number for XML/JSON), when known.
    pub line: Option<u64>,
    /// Field or column, when known.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl LoadError {
    pub(crate) fn new(
        file: &Path,
        line: Option<u64>,
        field: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        LoadError {
            file: file.to_path_buf(),
            line,
            field: field.map(str::to_owned),
            reason: reason.into(),
        }
    }
}

/// What a list says about the vessels on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// A government sanctions list (OFAC SDN, EU Annex XLII, ...).
    Sanctions,
    /// A watch list of suspected shadow-fleet vessels (GUR, KSE, ...): not a legal designation.
    WatchList,
    /// Vessel particulars (deadweight, build year): no judgement at all.
    Particulars,
}

/// The file formats [`load`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListFormat {
    /// OFAC SDN `sdn.csv`.
    OfacCsv,
    /// OFAC SDN `sdn.xml`.
    OfacXml,
    /// An OFAC vessel extract in JSON.
    OfacJson,
    /// EU Annex XLII vessel list (`;`, Latin-1).
    EuCsv,
    /// OpenSanctions / FollowTheMoney entities.
    FtmJson,
    /// GUR-style watch list.
    GurCsv,
    /// A CSV with an IMO column.
    ImoCsv,
    /// Vessel particulars.
    Particulars,
}

impl ListFormat {
    /// Every format, in the order [`detect`] tries them.
    pub const ALL: [ListFormat; 8] = [
        ListFormat::OfacCsv,
        ListFormat::OfacXml,
        ListFormat::OfacJson,
        ListFormat::EuCsv,
        ListFormat::FtmJson,
        ListFormat::GurCsv,
        ListFormat::ImoCsv,
        ListFormat::Particulars,
    ];

    /// The name used on the command line (`ofac-csv`, `eu-csv`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ListFormat::OfacCsv => "ofac-csv",
            ListFormat::OfacXml => "ofac-xml",
            ListFormat::OfacJson => "ofac-json",
            ListFormat::EuCsv => "eu-csv",
            ListFormat::FtmJson => "ftm-json",
            ListFormat::GurCsv => "gur-csv",
            ListFormat::ImoCsv => "imo-csv",
            ListFormat::Particulars => "particulars",
        }
    }

    /// The format named `s`.
    pub fn parse(s: &str) -> Option<ListFormat> {
        ListFormat::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// What lists in this format are, unless the user says otherwise.
    pub fn default_kind(self) -> ListKind {
        match self {
            ListFormat::OfacCsv
            | ListFormat::OfacXml
            | ListFormat::OfacJson
            | ListFormat::EuCsv => ListKind::Sanctions,
            ListFormat::FtmJson | ListFormat::GurCsv | ListFormat::ImoCsv => ListKind::WatchList,
            ListFormat::Particulars => ListKind::Particulars,
        }
    }
}

/// An MMSI a list links to a vessel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedMmsi {
    /// The MMSI.
    pub mmsi: u32,
    /// Whether the list gives it as current (else legacy / former).
    pub current: bool,
}

/// One vessel entry of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The entry's id in its list (OFAC `ent_num`, GUR id, OpenSanctions id, or the line).
    pub entry: String,
    /// Name as listed.
    pub name: String,
    /// Other names: a.k.a., f.k.a., former names.
    pub aliases: Vec<String>,
    /// IMO number, when listed.
    pub imo: Option<u32>,
    /// Whether that IMO number passes its check digit.
    pub imo_valid: bool,
    /// MMSIs, current and legacy.
    pub mmsis: Vec<ListedMmsi>,
    /// Flag as listed (a country name or code).
    pub flag: Option<String>,
    /// Vessel type as listed.
    pub vessel_type: Option<String>,
    /// Call sign.
    pub call_sign: Option<String>,
    /// Sanctions programmes or list sections.
    pub programs: Vec<String>,
    /// Day of listing, `YYYY-MM-DD` (EU: the date of application; OFAC: the designation date
    /// where given), `None` when the list gives none.
    pub listed_on: Option<String>,
    /// Year built.
    pub build_year: Option<u32>,
    /// Deadweight, tonnes.
    pub dwt: Option<f64>,
    /// Whether the entry is still listed (watch lists record delistings).
    pub active: bool,
    /// Country of the registered owner (ISO alpha-2), from particulars.
    #[serde(default)]
    pub owner_country: Option<String>,
    /// Country of the P&I insurer (ISO alpha-2), from particulars.
    #[serde(default)]
    pub insurer_country: Option<String>,
}

impl ListEntry {
    pub(crate) fn named(entry: String, name: String) -> ListEntry {
        ListEntry {
            entry,
            name,
            aliases: Vec::new(),
            imo: None,
            imo_valid: false,
            mmsis: Vec::new(),
            flag: None,
            vessel_type: None,
            call_sign: None,
            programs: Vec::new(),
            listed_on: None,
            build_year: None,
            dwt: None,
            active: true,
            owner_country: None,
            insurer_country: None,
        }
    }

    pub(crate) fn set_imo(&mut self, imo: u32) {
        self.imo = Some(imo);
        self.imo_valid = Imo::try_from(imo).is_ok();
    }
}

/// A loaded list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefList {
    /// Short name: the file stem unless given (`eu_annex_xlii_vessels_2025-10-23`).
    pub name: String,
    /// The file it came from.
    pub source: PathBuf,
    /// Format.
    pub format: ListFormat,
    /// Sanctions, watch list or particulars.
    pub kind: ListKind,
    /// The vessel entries (other entries of a mixed list, such as persons, are left out).
    pub entries: Vec<ListEntry>,
    /// What the loader cleaned up on the way (scraping artefacts read as empty), for the user.
    pub notes: Vec<String>,
}

/// Guesses the format of a file from its first bytes.
pub fn detect(bytes: &[u8]) -> Option<ListFormat> {
    let head = text::decode(&bytes[..bytes.len().min(4096)]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    let first = head
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if head.starts_with('<') {
        return head.contains("sdnList").then_some(ListFormat::OfacXml);
    }
    if head.starts_with('{') || head.starts_with('[') {
        if head.contains("\"vessels\"") && head.contains("\"programs\"") {
            return Some(ListFormat::OfacJson);
        }
        if head.contains("\"schema\"") {
            return Some(ListFormat::FtmJson);
        }
        return None;
    }
    if first.starts_with("vessel name;imo number") {
        return Some(ListFormat::EuCsv);
    }
    let cols: Vec<&str> = first.split(',').map(str::trim).collect();
    if cols.contains(&"mmsi_legacy") && cols.contains(&"former_names") {
        return Some(ListFormat::GurCsv);
    }
    if cols.contains(&"dwt") && cols.contains(&"imo") {
        return Some(ListFormat::Particulars);
    }
    if cols.contains(&"imo") || cols.contains(&"vessel_imo") {
        return Some(ListFormat::ImoCsv);
    }
    // sdn.csv has no header: a number, then a quoted name.
    let mut it = first.splitn(3, ',');
    if it.next().is_some_and(|n| n.parse::<u64>().is_ok())
        && it.next().is_some_and(|n| n.starts_with('"'))
    {
        return Some(ListFormat::OfacCsv);
    }
    None
}

/// Loads the list at `path`, in `format` (detected when `None`), as a list of `kind` (the
/// format's default when `None`).
pub fn load(
    path: &Path,
    format: Option<ListFormat>,
    kind: Option<ListKind>,
) -> Result<RefList, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::new(path, None, None, e.to_string()))?;
    parse(path, &bytes, format, kind)
}

/// Parses `bytes` read from `path` (see [`load`]).
pub fn parse(
    path: &Path,
    bytes: &[u8],
    format: Option<ListFormat>,
    kind: Option<ListKind>,
) -> Result<RefList, LoadError> {
    let format = match format {
        Some(f) => f,
        None => detect(bytes).ok_or_else(|| {
            LoadError::new(
                path,
                Some(1),
                None,
                "unknown list format; give it explicitly (ofac-csv, ofac-xml, ofac-json, eu-csv, ftm-json, gur-csv, imo-csv, particulars)",
            )
        })?,
    };
    let mut notes = Vec::new();
    let entries = match format {
        ListFormat::OfacCsv => ofac::csv(path, bytes)?,
        ListFormat::OfacXml => ofac::xml(path, bytes)?,
        ListFormat::OfacJson => ofac::json(path, bytes)?,
        ListFormat::EuCsv => eu::csv(path, bytes)?,
        ListFormat::FtmJson => ftm::json(path, bytes)?,
        ListFormat::GurCsv => {
            let (entries, n) = watch::gur(path, bytes)?;
            notes = n;
            entries
        }
        ListFormat::ImoCsv => watch::imo_csv(path, bytes)?,
        ListFormat::Particulars => watch::particulars(path, bytes)?,
    };
    let mut entries = entries;
    dated(&mut entries, &mut notes);
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| format.as_str().to_owned());
    Ok(RefList {
        name,
        source: path.to_path_buf(),
        format,
        kind: kind.unwrap_or(format.default_kind()),
        entries,
        notes,
    })
}

/// Fewest dated entries for which one date shared by all of them is taken as the list's own
/// date (an export's date stamped on every row), not as listing dates.
const UNIFORM_DATE_MIN: usize = 50;

/// Listing dates as days (`YYYY-MM-DD`): each entry's date as given, normalised; one date
/// shared by every entry of a long list is the export's date, not when each was listed, and is
/// dropped with a note (the OFAC vessel JSON stamps the day of the dump on every vessel).
fn dated(entries: &mut [ListEntry], notes: &mut Vec<String>) {
    let mut unreadable = 0usize;
    for e in entries.iter_mut() {
        if let Some(raw) = e.listed_on.take() {
            e.listed_on = listing_day(&raw);
            if e.listed_on.is_none() {
                unreadable += 1;
            }
        }
    }
    if unreadable > 0 {
        notes.push(format!(
            "{unreadable} listing dates not read (not YYYY-MM-DD, DD.MM.YYYY or MM/DD/YYYY): those entries have no listing date"
        ));
    }
    let days: std::collections::BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| e.listed_on.as_deref())
        .collect();
    let n = entries.iter().filter(|e| e.listed_on.is_some()).count();
    if days.len() == 1 && n >= UNIFORM_DATE_MIN {
        let day = days
            .iter()
            .next()
            .map(|d| d.to_string())
            .unwrap_or_default();
        notes.push(format!(
            "all {n} entries carry the date {day}: taken as the list's date, not as listing dates (the entries have none)"
        ));
        for e in entries.iter_mut() {
            e.listed_on = None;
        }
    }
}

/// A listing date as a day `YYYY-MM-DD`, from `YYYY-MM-DD` (a time after it ignored),
/// `DD.MM.YYYY` (EU) or `MM/DD/YYYY` (OFAC); `None` when it is none of these or not a real day.
pub fn listing_day(s: &str) -> Option<String> {
    let s = s.trim();
    let num = |x: &str| -> Option<u32> {
        (!x.is_empty() && x.len() <= 4 && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse().ok())
            .flatten()
    };
    let (y, m, d) = if s.len() >= 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-' {
        (num(&s[..4])?, num(&s[5..7])?, num(&s[8..10])?)
    } else if let [d, m, y] = s.split('.').collect::<Vec<_>>()[..] {
        (num(y)?, num(m)?, num(d)?)
    } else if let [m, d, y] = s.split('/').collect::<Vec<_>>()[..] {
        (num(y)?, num(m)?, num(d)?)
    } else {
        return None;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    ((1900..=2999).contains(&y) && (1..=days).contains(&d)).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod dating_tests {
    use super::*;

    #[test]
    fn listing_days_in_the_formats_lists_use() {
        assert_eq!(listing_day("25.06.2024").as_deref(), Some("2024-06-25"));
        assert_eq!(listing_day("03/20/2026").as_deref(), Some("2026-03-20"));
        assert_eq!(listing_day("2025-05-21").as_deref(), Some("2025-05-21"));
        assert_eq!(
            listing_day("2025-05-21T10:00:00Z").as_deref(),
            Some("2025-05-21")
        );
        for bad in [
            "",
            "2025-02-30",
            "31.04.2025",
            "13/01/2025",
            "May 2025",
            "1.1.25",
        ] {
            assert_eq!(listing_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn one_date_on_every_entry_of_a_long_list_is_the_lists_own() {
        let entry = |d: &str| ListEntry {
            listed_on: Some(d.into()),
            ..ListEntry::named("x".into(), "X".into())
        };
        let mut same: Vec<ListEntry> = (0..60).map(|_| entry("03/20/2026")).collect();
        let mut notes = Vec::new();
        dated(&mut same, &mut notes);
        assert!(same.iter().all(|e| e.listed_on.is_none()));
        assert!(notes[0].contains("list's date"), "{notes:?}");
        let mut varied: Vec<ListEntry> = (0..60)
            .map(|i| {
                entry(if i % 2 == 0 {
                    "25.06.2024"
                } else {
                    "17.12.2024"
                })
            })
            .collect();
        let mut notes = Vec::new();
        dated(&mut varied, &mut notes);
        assert_eq!(varied[0].listed_on.as_deref(), Some("2024-06-25"));
        assert!(notes.is_empty());
    }
}

/// Parses an IMO number as lists write it (`9179842`, `IMO 9179842`, `IMO9179842`); `None`
/// when there is no number at all, an error when there is something else.
pub(crate) fn imo_field(raw: &str) -> Result<Option<u32>, String> {
    let s = raw.trim();
    let s = s
        .strip_prefix("IMO")
        .or_else(|| s.strip_prefix("imo"))
        .unwrap_or(s)
        .trim_start_matches([' ', ':'])
        .trim();
    if s.is_empty() || s == "0" {
        return Ok(None);
    }
    let n: u32 = s
        .parse()
        .map_err(|_| format!("IMO {raw:?} is not a number"))?;
    if !(1_000_000..=9_999_999).contains(&n) {
        return Err(format!("IMO {raw:?} does not have 7 digits"));
    }
    Ok(Some(n))
}

/// Parses an MMSI (nine digits) as lists write it; `None` when empty.
pub(crate) fn mmsi_field(raw: &str) -> Result<Option<u32>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let n: u32 = s
        .parse()
        .map_err(|_| format!("MMSI {raw:?} is not a number"))?;
    if !(100_000_000..=999_999_999).contains(&n) {
        return Err(format!("MMSI {raw:?} does not have 9 digits"));
    }
    Ok(Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imo_fields() {
        assert_eq!(imo_field("IMO 9179842"), Ok(Some(9179842)));
        assert_eq!(imo_field(" 9179842 "), Ok(Some(9179842)));
        assert_eq!(imo_field(""), Ok(None));
        assert!(imo_field("917984").is_err());
        assert!(imo_field("IMO 91x9842").is_err());
    }

    #[test]
    fn detects_formats() {
        assert_eq!(
            detect(b"Vessel name;IMO number ;Date of application\r\n"),
            Some(ListFormat::EuCsv)
        );
        assert_eq!(
            detect(b"4243,\"EBANO\",\"vessel\",\"CUBA\""),
            Some(ListFormat::OfacCsv)
        );
        assert_eq!(
            detect(b"imo,name,dwt,build_year,flag\n"),
            Some(ListFormat::Particulars)
        );
        assert_eq!(
            detect(b"vessel_imo,vessel_name\n"),
            Some(ListFormat::ImoCsv)
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><sdnList>"),
            Some(ListFormat::OfacXml)
        );
        assert_eq!(
            detect(b"{\"id\":\"x\",\"schema\":\"Vessel\"}"),
            Some(ListFormat::FtmJson)
        );
        assert_eq!(detect(b"hello"), None);
    }
}
