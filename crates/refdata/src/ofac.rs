//! OFAC's Specially Designated Nationals list: the legacy `sdn.csv`, `sdn.xml`, and JSON vessel
//! extracts made from `sdn.xml`. Only entries of type vessel are kept.

use std::path::Path;

use quick_xml::events::Event;
use serde::Deserialize;

use crate::text::{decode, field, Csv};
use crate::{imo_field, mmsi_field, ListEntry, ListedMmsi, LoadError};

const EMPTY: &str = "-0-";

fn value(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s != EMPTY).then(|| s.to_owned())
}

/// `sdn.csv`: no header; `ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type,
/// Tonnage, GRT, Vess_flag, Vess_owner, Remarks`; `-0-` for empty; IMO, MMSI and former names
/// inside Remarks.
pub(crate) fn csv(path: &Path, bytes: &[u8]) -> Result<Vec<ListEntry>, LoadError> {
    // The file ends with a DOS end-of-file mark (0x1a).
    let end = bytes
        .iter()
        .rposition(|&b| b != 0x1a && b != b'\r' && b != b'\n')
        .map_or(0, |i| i + 1);
    let t = Csv::read(path, &bytes[..end], b',', false)?;
    let mut out = Vec::new();
    for (line, r) in t.rows() {
        if r.len() != 12 {
            return Err(LoadError::new(
                path,
                Some(line),
                None,
                format!("{} fields, sdn.csv has 12", r.len()),
            ));
        }
        if field(r, 2) != "vessel" {
            continue;
        }
        let ent = field(r, 0);
        if ent.parse::<u64>().is_err() {
            return Err(LoadError::new(
                path,
                Some(line),
                Some("ent_num"),
                format!("{ent:?} is not a number"),
            ));
        }
        let name = value(field(r, 1))
            .ok_or_else(|| LoadError::new(path, Some(line), Some("SDN_Name"), "empty"))?;
        let mut e = ListEntry::named(ent.to_owned(), name);
        e.programs = field(r, 3)
            .split("] [")
            .map(|p| p.trim_matches(['[', ']', ' ']).to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        e.call_sign = value(field(r, 5));
        e.vessel_type = value(field(r, 6));
        e.dwt = value(field(r, 7)).and_then(|t| t.replace(',', "").parse().ok());
        e.flag = value(field(r, 9));
        remarks(&mut e, field(r, 11))
            .map_err(|why| LoadError::new(path, Some(line), Some("Remarks"), why))?;
        out.push(e);
    }
    Ok(out)
}

/// Reads IMO, MMSI and a.k.a./f.k.a. names from OFAC remarks
/// (`Vessel Registration Identification IMO 9187629; MMSI 572469210; f.k.a. 'ALPHA'; ...`).
fn remarks(e: &mut ListEntry, text: &str) -> Result<(), String> {
    for part in text.trim_end_matches('.').split(';') {
        let part = part.trim();
        if let Some(imo) = part.strip_prefix("Vessel Registration Identification") {
            if let Some(n) = registration_imo(imo)? {
                e.set_imo(n);
            }
        } else if let Some(m) = part.strip_prefix("MMSI") {
            if let Some(m) = mmsi_field(m)? {
                e.mmsis.push(ListedMmsi {
                    mmsi: m,
                    current: true,
                });
            }
        } else if let Some(a) = part
            .strip_prefix("a.k.a.")
            .or_else(|| part.strip_prefix("f.k.a."))
        {
            let a = a.trim().trim_matches('\'').trim();
            if !a.is_empty() {
                e.aliases.push(a.to_owned());
            }
        }
    }
    Ok(())
}

/// The IMO number in an OFAC "Vessel Registration Identification": `IMO 9256860 (Russia)`, or
/// seven bare digits. Other registries' numbers (`RS 150443 (Russia)`, `15411 (Malta)`) are no
/// IMO number: `None`.
fn registration_imo(raw: &str) -> Result<Option<u32>, String> {
    let s = raw.split('(').next().unwrap_or("").trim();
    let digits = s.bytes().all(|b| b.is_ascii_digit());
    if s.starts_with("IMO") || (digits && s.len() == 7) {
        imo_field(s)
    } else {
        Ok(None)
    }
}

/// `sdn.xml`: `<sdnEntry>` elements with `uid`, `lastName`, `sdnType`, `programList/program`,
/// `idList/id/{idType,idNumber}`, `akaList/aka/lastName` and `vesselInfo/{callSign,
/// vesselType, vesselFlag, tonnage}`.
pub(crate) fn xml(path: &Path, bytes: &[u8]) -> Result<Vec<ListEntry>, LoadError> {
    let text = decode(bytes);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut out = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut entry: Option<XmlEntry> = None;
    let mut entries = 0u64;
    let mut buf = String::new();
    loop {
        let ev = reader.read_event().map_err(|e| {
            LoadError::new(
                path,
                None,
                None,
                format!("XML error at byte {}: {e}", reader.buffer_position()),
            )
        })?;
        match ev {
            Event::Start(s) => {
                let name = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
                if name == "sdnEntry" {
                    entries += 1;
                    entry = Some(XmlEntry::default());
                }
                if let Some(e) = entry.as_mut() {
                    if name == "id" {
                        e.ids.push((String::new(), String::new()));
                    }
                }
                stack.push(name);
                buf.clear();
            }
            Event::End(_) => {
                if let Some(e) = entry.as_mut() {
                    e.text(&stack, buf.trim());
                }
                buf.clear();
                if stack.pop().as_deref() == Some("sdnEntry") {
                    if let Some(x) = entry.take() {
                        if let Some(e) = x.finish(path, entries)? {
                            out.push(e);
                        }
                    }
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|err| entry_error(path, entries, err))?;
                buf.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|err| entry_error(path, entries, err))?;
                let c = match &*name {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => r.resolve_char_ref().ok().flatten(),
                };
                let c = c.ok_or_else(|| {
                    LoadError::new(
                        path,
                        Some(entries),
                        None,
                        format!("sdnEntry {entries}: unknown entity &{name};"),
                    )
                })?;
                buf.push(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if entries == 0 {
        return Err(LoadError::new(
            path,
            None,
            None,
            "no <sdnEntry> element: not an OFAC sdn.xml",
        ));
    }
    Ok(out)
}

/// An error inside the `n`-th `<sdnEntry>`.
fn entry_error(path: &Path, n: u64, err: impl std::fmt::Display) -> LoadError {
    LoadError::new(path, Some(n), None, format!("sdnEntry {n}: {err}"))
}

#[derive(Default)]
struct XmlEntry {
    uid: String,
    last_name: String,
    sdn_type: String,
    programs: Vec<String>,
    ids: Vec<(String, String)>,
    akas: Vec<String>,
    call_sign: String,
    vessel_type: String,
    flag: String,
    tonnage: String,
}

impl XmlEntry {
    fn text(&mut self, stack: &[String], s: &str) {
        let n = stack.len();
        let leaf = stack.last().map_or("", String::as_str);
        let parent = if n >= 2 { stack[n - 2].as_str() } else { "" };
        match (parent, leaf) {
            ("sdnEntry", "uid") => self.uid = s.to_owned(),
            ("sdnEntry", "lastName") => self.last_name = s.to_owned(),
            ("sdnEntry", "sdnType") => self.sdn_type = s.to_owned(),
            ("programList", "program") => self.programs.push(s.to_owned()),
            ("id", "idType") => {
                if let Some(last) = self.ids.last_mut() {
                    last.0 = s.to_owned();
                }
            }
            ("id", "idNumber") => {
                if let Some(last) = self.ids.last_mut() {
                    last.1 = s.to_owned();
                }
            }
            ("aka", "lastName") => self.akas.push(s.to_owned()),
            ("vesselInfo", "callSign") => self.call_sign = s.to_owned(),
            ("vesselInfo", "vesselType") => self.vessel_type = s.to_owned(),
            ("vesselInfo", "vesselFlag") => self.flag = s.to_owned(),
            ("vesselInfo", "tonnage") => self.tonnage = s.to_owned(),
            _ => {}
        }
    }

    fn finish(self, path: &Path, n: u64) -> Result<Option<ListEntry>, LoadError> {
        if !self.sdn_type.eq_ignore_ascii_case("vessel") {
            return Ok(None);
        }
        let at = |field: &str, why: String| {
            LoadError::new(
                path,
                Some(n),
                Some(field),
                format!("sdnEntry {n} (uid {}): {why}", self.uid),
            )
        };
        if self.last_name.is_empty() {
            return Err(at("lastName", "empty".into()));
        }
        let mut e = ListEntry::named(self.uid.clone(), self.last_name.clone());
        e.programs = self.programs;
        e.aliases = self.akas;
        for (kind, number) in &self.ids {
            if kind.starts_with("Vessel Registration Identification") {
                if let Some(imo) = registration_imo(number).map_err(|w| at("idNumber", w))? {
                    e.set_imo(imo);
                }
            } else if kind == "MMSI" {
                if let Some(m) = mmsi_field(number).map_err(|w| at("idNumber", w))? {
                    e.mmsis.push(ListedMmsi {
                        mmsi: m,
                        current: true,
                    });
                }
            }
        }
        e.call_sign = value(&self.call_sign);
        e.vessel_type = value(&self.vessel_type);
        e.flag = value(&self.flag);
        e.dwt = self.tonnage.replace(',', "").parse().ok();
        Ok(Some(e))
    }
}

#[derive(Deserialize)]
struct JsonList {
    vessels: Vec<JsonVessel>,
}

#[derive(Deserialize)]
struct JsonVessel {
    imo: Option<serde_json::Value>,
    name: String,
    #[serde(default)]
    programs: Vec<String>,
    designation_date: Option<String>,
    #[serde(default)]
    vessel_info: JsonInfo,
}

#[derive(Deserialize, Default)]
struct JsonInfo {
    vessel_type: Option<String>,
    dwt: Option<f64>,
    flag: Option<String>,
    call_sign: Option<String>,
}

/// `{vessels: [{imo, name, programs, designation_date, vessel_info: {vessel_type, dwt, flag,
/// call_sign}}]}`.
pub(crate) fn json(path: &Path, bytes: &[u8]) -> Result<Vec<ListEntry>, LoadError> {
    let list: JsonList = serde_json::from_slice(bytes)
        .map_err(|e| LoadError::new(path, Some(e.line() as u64), None, e.to_string()))?;
    let mut out = Vec::with_capacity(list.vessels.len());
    for (i, v) in list.vessels.into_iter().enumerate() {
        let n = i as u64 + 1;
        let imo = match &v.imo {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Number(x)) => imo_field(&x.to_string()),
            Some(serde_json::Value::String(s)) => imo_field(s),
            Some(other) => Err(format!("{other} is not an IMO number")),
        }
        .map_err(|w| LoadError::new(path, Some(n), Some("imo"), format!("vessel {n}: {w}")))?;
        if v.name.trim().is_empty() {
            return Err(LoadError::new(
                path,
                Some(n),
                Some("name"),
                format!("vessel {n}: empty"),
            ));
        }
        let mut e = ListEntry::named(
            imo.map_or_else(|| format!("vessel {n}"), |i| i.to_string()),
            v.name.trim().to_owned(),
        );
        if let Some(i) = imo {
            e.set_imo(i);
        }
        e.programs = v.programs;
        e.listed_on = v.designation_date;
        e.vessel_type = v.vessel_info.vessel_type;
        e.dwt = v.vessel_info.dwt;
        e.flag = v.vessel_info.flag;
        e.call_sign = v.vessel_info.call_sign;
        out.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remarks_give_imo_mmsi_and_names() {
        let mut e = ListEntry::named("1".into(), "ARTAVIL".into());
        remarks(&mut e, "Former Vessel Flag Malta; Vessel Registration Identification IMO 9187629; MMSI 572469210; f.k.a. 'ALPHA'; Linked To: NATIONAL IRANIAN TANKER COMPANY.").unwrap_or_default();
        assert_eq!(e.imo, Some(9187629));
        assert!(e.imo_valid);
        assert_eq!(
            e.mmsis,
            vec![ListedMmsi {
                mmsi: 572469210,
                current: true
            }]
        );
        assert_eq!(e.aliases, vec!["ALPHA".to_owned()]);
    }
}
