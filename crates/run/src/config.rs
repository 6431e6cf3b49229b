//! Configuration and reference files as users give them: the detector configuration
//! (`analyze --config`), the analysis configuration (`--config` of the later commands), price
//! series, list arguments and port files. Every error names the file, and the line and field
//! where there is one.

use std::path::{Path, PathBuf};

use anyhow::Context;
use shadowfleet_events::DetectorConfig;
use shadowfleet_ingest::csv_columns::Role;
use shadowfleet_places::{Place, PlaceKind};
use shadowfleet_refdata::ListFormat;

use crate::analysis::AnalysisConfig;

/// Reads the detector configuration file (defaults when absent). Relative paths in it are
/// read from its directory ([`config_dir`]).
pub fn load_detector_config(path: Option<&Path>) -> anyhow::Result<DetectorConfig> {
    let Some(path) = path else {
        return Ok(DetectorConfig::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("{}: not a valid detector configuration", path.display()))
}

/// The detector configuration a run recorded (TOML), `None` for a run recorded before
/// store schema 5, which did not keep it.
pub fn recorded_detector_config(
    record: &shadowfleet_store::RunRecord,
) -> anyhow::Result<Option<DetectorConfig>> {
    if record.detector_config.is_empty() {
        return Ok(None);
    }
    toml::from_str(&record.detector_config)
        .map(Some)
        .with_context(|| format!("the detector configuration of run {}", record.id))
}

/// The port-call detector's entry radius (km) the stored port calls were found with: the
/// configuration recorded by the run that found the first one, the default when no port
/// call is stored or the run kept no configuration (before store schema 5). A call's
/// arrival is the moment its way in crossed into this circle.
pub fn port_call_entry_km(
    store: &shadowfleet_store::Store,
    events: &[shadowfleet_store::StoredEvent],
) -> anyhow::Result<f64> {
    let default = shadowfleet_events::port_calls::PortCallConfig::default().entry_km;
    let Some(e) = events
        .iter()
        .find(|e| e.event.kind() == shadowfleet_records::EventKind::PortCall)
    else {
        return Ok(default);
    };
    let Some(run) = store.run_of_event(e.id)? else {
        return Ok(default);
    };
    let Some(record) = store.run_record(run)? else {
        return Ok(default);
    };
    Ok(recorded_detector_config(&record)?.map_or(default, |c| c.port_calls.entry_km))
}

/// The directory relative paths of a configuration file are read from: the file's own, or
/// the current directory without a file.
pub fn config_dir(path: Option<&Path>) -> PathBuf {
    path.and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// Reads `--config` (defaults when absent) and `--prices`.
pub fn load_analysis_config(
    path: Option<&PathBuf>,
    prices: Option<&PathBuf>,
) -> anyhow::Result<AnalysisConfig> {
    let mut config = match path {
        None => AnalysisConfig::default(),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("{}: not a valid analysis configuration", p.display()))?
        }
    };
    if let Some(p) = prices {
        config.exposure.prices_usd.extend(read_prices(p)?);
    }
    Ok(config)
}

/// A price series: CSV `month,usd_per_bbl` (`2026-01,58.4`), header required.
fn read_prices(path: &Path) -> anyhow::Result<Vec<(String, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim().to_ascii_lowercase().starts_with("month,") => {}
        _ => anyhow::bail!(
            "{}:1: the header must be `month,usd_per_bbl`",
            path.display()
        ),
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let mut f = line.split(',').map(str::trim);
        let (Some(m), Some(p)) = (f.next(), f.next()) else {
            anyhow::bail!("{}:{}: expected `month,usd_per_bbl`", path.display(), i + 1);
        };
        if !shadowfleet_risk::is_month(m) {
            anyhow::bail!(
                "{}:{}: field month: {m:?} is not YYYY-MM",
                path.display(),
                i + 1
            );
        }
        let p: f64 = p
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite() && *x >= 0.0)
            .with_context(|| {
                format!(
                    "{}:{}: field usd_per_bbl: {p:?} is not a price",
                    path.display(),
                    i + 1
                )
            })?;
        out.push((m.to_owned(), p));
    }
    Ok(out)
}

/// `FORMAT:PATH` or `PATH` as given to `--lists`.
pub fn parse_list_arg(s: &str) -> (Option<ListFormat>, PathBuf) {
    if let Some((f, p)) = s.split_once(':') {
        if let Some(f) = ListFormat::parse(f) {
            return (Some(f), PathBuf::from(p));
        }
    }
    (None, PathBuf::from(s))
}

/// Parses `--columns role=HEADER,...`: CSV columns the recognition misses, by the header
/// name the file gives them (roles: `mmsi`, `time`, `lat`, `lon`, `sog`, `sog_tenths`,
/// `cog`, `heading`, `imo`, `name`, `callsign`, `ship_type`, `draught`, `status`, `length`,
/// `width`, `class`, `destination`).
pub fn parse_columns(args: &[String]) -> anyhow::Result<Vec<(Role, String)>> {
    let mut out = Vec::new();
    for a in args.iter().flat_map(|a| a.split(',')) {
        let a = a.trim();
        if a.is_empty() {
            continue;
        }
        let Some((role, header)) = a.split_once('=') else {
            anyhow::bail!("--columns: {a:?} is not ROLE=HEADER");
        };
        let r = Role::parse(role.trim()).ok_or_else(|| {
            let all: Vec<&str> = Role::ALL.iter().map(|r| r.key()).collect();
            anyhow::anyhow!("--columns: {role:?} is not one of {}", all.join(", "))
        })?;
        out.push((r, header.trim().to_owned()));
    }
    Ok(out)
}

/// Reads `--ports` files into places (kind port, id the UN/LOCODE or `WPI-n`): a World Port
/// Index (Pub 150) CSV or a UN/LOCODE CSV with coordinates, told apart by the header.
pub fn read_ports(paths: &[PathBuf]) -> anyhow::Result<Vec<Place>> {
    let mut out = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_ascii_lowercase();
        let ports = if head.contains("world port index number") {
            shadowfleet_refdata::ports::wpi(path, &bytes)?
        } else if head
            .trim_start_matches('\u{feff}')
            .starts_with("country,location")
        {
            shadowfleet_refdata::ports::unlocode(path, &bytes)?
        } else {
            anyhow::bail!(
                "{}:1: not a World Port Index or UN/LOCODE CSV (unknown header)",
                path.display()
            );
        };
        for p in ports {
            let Some(country) = p.country.clone() else {
                continue;
            };
            let at = shadowfleet_geo::LatLon::new(p.lat, p.lon);
            out.push(Place {
                id: p
                    .locode
                    .clone()
                    .or(p.wpi.map(|n| format!("WPI-{n}")))
                    .unwrap_or_else(|| p.name.clone()),
                name: p.name,
                country,
                locode: p.locode.unwrap_or_default(),
                kind: PlaceKind::Port,
                listed: at,
                position: at,
                radius_m: 0.0,
                origin_country: String::new(),
                products: Vec::new(),
            });
        }
    }
    Ok(out)
}
