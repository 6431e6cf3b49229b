//! `shadowfleet vessel`: one vessel's profile: identity timeline, list matches, risk with the
//! evidence behind each indicator, and its voyages.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use shadowfleet_model::Timestamp;
use shadowfleet_store::Store;
use shadowfleet_voyages::VesselKey;

use crate::analysis::{load_config, Analysis};
use crate::flows::{flow_json, vessel_json};

/// Output format.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// One JSON document.
    Json,
}

/// Arguments of `shadowfleet vessel`.
#[derive(Args)]
pub struct VesselArgs {
    /// Store directory.
    #[arg(long)]
    store: PathBuf,
    /// IMO number (7 digits), MMSI (9 digits) or name (current or former).
    query: String,
    /// Analysis configuration (TOML; see docs/formats.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

fn time(t: i64) -> String {
    Timestamp::from_unix_seconds(t).to_string()
}

/// The vessel keys a query names, with the MMSIs behind them.
fn resolve(a: &Analysis, q: &str) -> Vec<(VesselKey, Vec<u32>)> {
    let q = q.trim();
    let digits = q.bytes().all(|b| b.is_ascii_digit());
    let mut keys: Vec<VesselKey> = Vec::new();
    for r in &a.risks {
        let hit = match (digits, q.len()) {
            (true, 7) => matches!(r.vessel, VesselKey::Imo(i) if i.to_string() == q),
            (true, 9) => r.mmsis.iter().any(|m| m.to_string() == q),
            _ => {
                let n = shadowfleet_risk::normalise_name(q);
                r.names
                    .iter()
                    .any(|x| shadowfleet_risk::normalise_name(x) == n)
            }
        };
        if hit {
            keys.push(r.vessel);
        }
    }
    if keys.is_empty() && digits && q.len() == 9 {
        // A vessel that is not a tanker, or not scored: its MMSI alone.
        if let Ok(m) = q.parse::<u32>() {
            if a.identities.iter().any(|i| i.mmsi == m) {
                keys.push(VesselKey::Mmsi(m));
            }
        }
    }
    keys.into_iter()
        .map(|k| {
            let mmsis = a.risks.iter().find(|r| r.vessel == k).map_or_else(
                || match k {
                    VesselKey::Mmsi(m) => vec![m],
                    VesselKey::Imo(i) => a
                        .identities
                        .iter()
                        .filter(|x| x.imo == Some(i))
                        .map(|x| x.mmsi)
                        .collect(),
                },
                |r| r.mmsis.clone(),
            );
            (k, mmsis)
        })
        .collect()
}

fn profile(a: &Analysis, key: VesselKey, mmsis: &[u32]) -> Value {
    let imo = match key {
        VesselKey::Imo(i) => Some(i),
        VesselKey::Mmsi(_) => None,
    };
    let timeline: Vec<Value> = a
        .identities
        .iter()
        .filter(|i| mmsis.contains(&i.mmsi) || (imo.is_some() && i.imo == imo))
        .map(|i| json!({"from": time(i.first_seen), "to": time(i.last_seen), "mmsi": i.mmsi, "imo": i.imo, "name": i.name, "callsign": i.callsign, "flag": i.flag, "ship_type": i.ship_type, "length_m": i.length_m, "beam_m": i.beam_m}))
        .collect();
    let matches: Vec<&shadowfleet_risk::ScreenMatch> = a
        .matches
        .iter()
        .filter(|m| mmsis.contains(&m.mmsi) || (imo.is_some() && m.imo == imo))
        .collect();
    let risk = a.risks.iter().find(|r| r.vessel == key);
    let event = |id: i64| {
        a.events.iter().find(|e| e.id == id).map(|e| {
            json!({"id": id, "kind": e.event.kind, "mmsi": e.event.mmsi, "start": time(e.event.start), "end": time(e.event.end), "lat": e.event.lat, "lon": e.event.lon})
        })
    };
    let indicators: Vec<Value> = risk.map_or_else(Vec::new, |r| {
        r.indicators
            .iter()
            .map(|i| json!({"name": i.name, "weight": i.weight, "strength": (i.strength * 100.0).round() / 100.0, "points": (i.weight * i.strength * 10.0).round() / 10.0, "detail": i.detail, "events": i.events.iter().filter_map(|&id| event(id)).collect::<Vec<_>>()}))
            .collect()
    });
    let voyages: Vec<Value> = a
        .traced
        .flows
        .iter()
        .filter(|f| f.share > 0.0 && f.chain.iter().any(|h| h.vessel == key))
        .filter_map(|f| a.traced.cargoes.get(f.cargo).map(|c| flow_json(f, c)))
        .collect();
    json!({
        "vessel": vessel_json(key),
        "mmsis": mmsis,
        "names": risk.map(|r| r.names.clone()),
        "identities": timeline,
        "matches": matches,
        "risk": {"score": risk.map(|r| r.score), "shadow": a.is_shadow(key), "indicators": indicators},
        "voyages": voyages,
    })
}

/// Runs the command.
pub fn run(args: VesselArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(&args.store)?;
    let a = Analysis::run(&store, load_config(args.config.as_ref(), None)?)?;
    let found = resolve(&a, &args.query);
    if found.is_empty() {
        anyhow::bail!(
            "no vessel {:?} in {} (give an IMO number, an MMSI or a name seen in AIS)",
            args.query,
            args.store.display()
        );
    }
    let profiles: Vec<Value> = found.iter().map(|(k, m)| profile(&a, *k, m)).collect();
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        Format::Json => {
            let doc = if profiles.len() == 1 {
                profiles[0].clone()
            } else {
                Value::Array(profiles)
            };
            serde_json::to_writer_pretty(&mut out, &doc)?;
            out.write_all(b"\n")?;
        }
        Format::Text => {
            for p in &profiles {
                text(&mut out, p)?;
            }
        }
    }
    out.flush().context("writing the profile")?;
    Ok(ExitCode::SUCCESS)
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn text(out: &mut impl Write, p: &Value) -> io::Result<()> {
    writeln!(
        out,
        "vessel {}  MMSIs {}  names {}",
        p["vessel"], p["mmsis"], p["names"]
    )?;
    writeln!(
        out,
        "risk score {} ({})",
        s(&p["risk"]["score"]),
        if p["risk"]["shadow"] == true {
            "shadow"
        } else {
            "not called shadow"
        }
    )?;
    for i in p["risk"]["indicators"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  {:<26} {:>5} points  {}",
            s(&i["name"]),
            s(&i["points"]),
            s(&i["detail"])
        )?;
        for e in i["events"].as_array().into_iter().flatten().take(5) {
            writeln!(
                out,
                "      event {} {} {} .. {} at {:.4},{:.4}",
                e["id"],
                s(&e["kind"]),
                s(&e["start"]),
                s(&e["end"]),
                e["lat"].as_f64().unwrap_or(f64::NAN),
                e["lon"].as_f64().unwrap_or(f64::NAN)
            )?;
        }
    }
    writeln!(out, "identities:")?;
    for i in p["identities"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  {} .. {}  MMSI {}  IMO {}  {:<20} flag {}  call sign {}",
            s(&i["from"]),
            s(&i["to"]),
            i["mmsi"],
            s(&i["imo"]),
            s(&i["name"]),
            s(&i["flag"]),
            s(&i["callsign"])
        )?;
    }
    writeln!(out, "list matches:")?;
    for m in p["matches"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  {:.2}  {} entry {} ({}): {}",
            m["score"].as_f64().unwrap_or(0.0),
            s(&m["list"]),
            s(&m["entry"]),
            s(&m["entry_name"]),
            s(&m["explanation"])
        )?;
    }
    writeln!(out, "voyages:")?;
    for f in p["voyages"].as_array().into_iter().flatten() {
        let chain: Vec<String> = f["chain"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| format!("{} ({})", h["mmsi"], s(&h["kind"])))
            .collect();
        let to = f["discharge"].as_object().map_or_else(
            || s(&f["status"]),
            |d| format!("{} {} {}", s(&d["country"]), s(&d["name"]), s(&d["time"])),
        );
        writeln!(
            out,
            "  {} from {} loaded {}: {} -> {}  {} bbl (confidence {})",
            f["id"],
            s(&f["origin"]["country"]),
            s(&f["loaded"]),
            chain.join(" > "),
            to,
            f["volume_bbl"],
            f["confidence"]
        )?;
    }
    writeln!(out)
}
