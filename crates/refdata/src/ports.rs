//! Ports from the NGA World Port Index (Pub 150 CSV) and UN/LOCODE (the per-country CSV with
//! coordinates: `country,location,name,...,function,...,lat,lon`), for attributing port calls
//! to a country. The WPI gives a country *name*; the country code is taken from the port's
//! UN/LOCODE, and ports without one keep `country: None`.

use std::path::Path;

use serde::Serialize;

use crate::text::{field, Csv};
use crate::LoadError;

/// A port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Port {
    /// Name.
    pub name: String,
    /// UN/LOCODE without the space (`RUPRI`), when known.
    pub locode: Option<String>,
    /// ISO 3166 alpha-2 country, when known.
    pub country: Option<String>,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// World Port Index number, for WPI rows.
    pub wpi: Option<u32>,
}

fn coord(t: &Csv, line: u64, raw: &str, name: &str, limit: f64) -> Result<f64, LoadError> {
    match raw.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Ok(v),
        _ => Err(LoadError::new(
            t.path,
            Some(line),
            Some(name),
            format!("{raw:?} is not a coordinate within ±{limit}"),
        )),
    }
}

/// World Port Index Pub 150 CSV (UTF-8 with BOM).
pub fn wpi(path: &Path, bytes: &[u8]) -> Result<Vec<Port>, LoadError> {
    let t = Csv::read(path, bytes, b',', true)?;
    let number = t.column(&["world port index number"])?;
    let name = t.column(&["main port name"])?;
    let locode = t.column(&["un/locode"])?;
    let lat = t.column(&["latitude"])?;
    let lon = t.column(&["longitude"])?;
    let mut out = Vec::new();
    for (line, r) in t.rows() {
        let n = field(r, number);
        let wpi = n.split('.').next().and_then(|x| x.parse().ok());
        if wpi.is_none() {
            return Err(LoadError::new(
                path,
                Some(line),
                Some("World Port Index Number"),
                format!("{n:?} is not a number"),
            ));
        }
        let code: String = field(r, locode)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let code = (code.len() == 5).then_some(code);
        out.push(Port {
            name: field(r, name).to_owned(),
            country: code.as_ref().map(|c| c[..2].to_owned()),
            locode: code,
            lat: coord(&t, line, field(r, lat), "Latitude", 90.0)?,
            lon: coord(&t, line, field(r, lon), "Longitude", 180.0)?,
            wpi,
        });
    }
    Ok(out)
}

/// UN/LOCODE CSV with coordinates; rows without coordinates are skipped, and only rows whose
/// function marks a port (`1` first) are kept.
pub fn unlocode(path: &Path, bytes: &[u8]) -> Result<Vec<Port>, LoadError> {
    let t = Csv::read(path, bytes, b',', true)?;
    let country = t.column(&["country"])?;
    let location = t.column(&["location"])?;
    let name = t.column(&["namewodiacritics", "name"])?;
    let function = t.column(&["function"])?;
    let lat = t.column(&["lat"])?;
    let lon = t.column(&["lon"])?;
    let mut out = Vec::new();
    for (line, r) in t.rows() {
        if !field(r, function).starts_with('1') || field(r, lat).is_empty() {
            continue;
        }
        let c = field(r, country);
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(LoadError::new(
                path,
                Some(line),
                Some("country"),
                format!("{c:?} is not an ISO alpha-2 code"),
            ));
        }
        out.push(Port {
            name: field(r, name).to_owned(),
            locode: Some(format!("{c}{}", field(r, location))),
            country: Some(c.to_owned()),
            lat: coord(&t, line, field(r, lat), "lat", 90.0)?,
            lon: coord(&t, line, field(r, lon), "lon", 180.0)?,
            wpi: None,
        });
    }
    Ok(out)
}
