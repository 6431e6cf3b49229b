//! OpenSanctions / FollowTheMoney entities: one JSON object per line (`entities.ftm.json`) or a
//! JSON array. Only `Vessel` entities are kept (a full export holds persons and companies too).
//! Properties read: `name`, `alias`, `previousName`, `weakAlias`, `imoNumber`, `mmsi`, `flag`,
//! `callSign`, `type`, `buildDate`, `deadweightTonnage`, `topics`, `program`, `createdAt`.

use std::path::Path;

use serde_json::Value;

use crate::text::decode;
use crate::{imo_field, mmsi_field, ListEntry, ListedMmsi, LoadError};

pub(crate) fn json(path: &Path, bytes: &[u8]) -> Result<Vec<ListEntry>, LoadError> {
    let text = decode(bytes);
    let trimmed = text.trim_start();
    let mut out = Vec::new();
    if trimmed.starts_with('[') {
        let all: Vec<Value> = serde_json::from_str(trimmed)
            .map_err(|e| LoadError::new(path, Some(e.line() as u64), None, e.to_string()))?;
        for (i, v) in all.iter().enumerate() {
            if let Some(e) = entity(v).map_err(|(f, w)| {
                LoadError::new(
                    path,
                    Some(i as u64 + 1),
                    Some(f),
                    format!("entity {}: {w}", i + 1),
                )
            })? {
                out.push(e);
            }
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            let n = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line)
                .map_err(|e| LoadError::new(path, Some(n), None, e.to_string()))?;
            if let Some(e) =
                entity(&v).map_err(|(f, w)| LoadError::new(path, Some(n), Some(f), w))?
            {
                out.push(e);
            }
        }
    }
    Ok(out)
}

fn strings<'v>(props: &'v Value, key: &str) -> Vec<&'v str> {
    props
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn entity(v: &Value) -> Result<Option<ListEntry>, (&'static str, String)> {
    let schema = v
        .get("schema")
        .and_then(Value::as_str)
        .ok_or(("schema", "missing".to_owned()))?;
    if schema != "Vessel" {
        return Ok(None);
    }
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .ok_or(("id", "missing".to_owned()))?;
    let props = v
        .get("properties")
        .ok_or(("properties", "missing".to_owned()))?;
    let names = strings(props, "name");
    let Some(name) = names.first() else {
        return Err(("name", format!("vessel {id} has no name")));
    };
    let mut e = ListEntry::named(id.to_owned(), (*name).to_owned());
    for key in ["alias", "previousName", "weakAlias"] {
        e.aliases
            .extend(strings(props, key).into_iter().map(str::to_owned));
    }
    e.aliases.extend(names[1..].iter().map(|s| (*s).to_owned()));
    if let Some(imo) = strings(props, "imoNumber").first() {
        if let Some(n) = imo_field(imo).map_err(|w| ("imoNumber", format!("vessel {id}: {w}")))? {
            e.set_imo(n);
        }
    }
    for m in strings(props, "mmsi") {
        if let Some(m) = mmsi_field(m).map_err(|w| ("mmsi", format!("vessel {id}: {w}")))? {
            e.mmsis.push(ListedMmsi {
                mmsi: m,
                current: true,
            });
        }
    }
    e.flag = strings(props, "flag")
        .first()
        .map(|s| s.to_ascii_uppercase());
    e.call_sign = strings(props, "callSign").first().map(|s| (*s).to_owned());
    e.vessel_type = strings(props, "type").first().map(|s| (*s).to_owned());
    e.build_year = strings(props, "buildDate")
        .first()
        .and_then(|d| d.get(..4))
        .and_then(|y| y.parse().ok());
    e.dwt = strings(props, "deadweightTonnage")
        .first()
        .and_then(|d| d.parse().ok());
    e.programs = strings(props, "program")
        .into_iter()
        .map(str::to_owned)
        .collect();
    e.programs
        .extend(strings(props, "topics").into_iter().map(str::to_owned));
    e.listed_on = v
        .get("first_seen")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Some(e))
}
