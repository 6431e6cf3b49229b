//! `shadowfleet vessel`: one vessel's profile: identity timeline, list matches, risk with the
//! evidence behind each indicator, and its voyages.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::Value;
use shadowfleet_store::Store;

use shadowfleet_api::views::{profile, resolve};
use shadowfleet_run::analysis::Analysis;
use shadowfleet_run::config::load_analysis_config as load_config;

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
    let profiles: Vec<Value> = found
        .iter()
        .map(|(k, m)| serde_json::to_value(profile(&a, *k, m)))
        .collect::<Result<_, _>>()?;
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
    if let Some(h) = p["hull"].as_object() {
        writeln!(
            out,
            "hull {}{}: MMSIs {}, IMOs {}",
            s(&h["id"]),
            if h["zombie"].as_bool() == Some(true) {
                " (a zombie: it broadcast a scrapped ship's IMO)"
            } else {
                ""
            },
            h["mmsis"],
            h["imos"]
        )?;
        for l in h["links"].as_array().into_iter().flatten() {
            let t = |v: &serde_json::Value| {
                v.as_i64().map_or(String::new(), |t| {
                    shadowfleet_model::Timestamp::from_unix_seconds(t).to_string()
                })
            };
            let b = &l["basis"];
            let why = match b["basis"].as_str() {
                Some("imo") => format!("IMO {}", b["imo"]),
                Some("track_continuity") => format!(
                    "track continued from MMSI {} (event {})",
                    b["from_mmsi"], b["event"]
                ),
                Some("list_alias") => {
                    format!("{} entry {} names it", s(&b["list"]), s(&b["entry"]))
                }
                _ => "the hull's MMSI (no IMO linked)".to_owned(),
            };
            writeln!(
                out,
                "  {} .. {}  MMSI {}  {:<20} — {why}",
                t(&l["from"]),
                t(&l["to"]),
                l["mmsi"],
                s(&l["name"]),
            )?;
        }
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
