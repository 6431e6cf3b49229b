//! What the outside world publishes about the simulated fleet, in the formats real sources use,
//! so that screening, voyages and risk run on the simulator end to end:
//!
//! - `sanctions_eu.csv`: the sanctioned vessels, in the EU Annex XLII export layout
//!   (`Vessel name;IMO number ;Date of application`, CRLF), under the name they had when listed
//!   (the first of the run: renamed ships must be found by IMO or former name), with the
//!   date of application the truth gives (`designated_on`: most before the data, some during
//!   or after it, so that "listed then, or only later?" has both answers);
//! - `watchlist.csv`: a GUR-style watch list (current and legacy MMSIs, former names) of the
//!   sanctioned vessels and about a quarter of the other shadow tankers, as an intelligence
//!   service would know them at the end of the run;
//! - `particulars.csv`: what a ship registry says (`imo,name,dwt,build_year,flag`) for every
//!   vessel with an IMO number, under its rightful owner (a zombie's stolen IMO shows the
//!   scrapped ship's particulars, as in real registries).

use std::collections::HashSet;
use std::fmt::Write;

use crate::rng::Rng;
use crate::truth::Vessel;

/// Share of the unsanctioned shadow tankers that the watch list knows.
pub const WATCHLIST_SHARE: f64 = 0.25;

/// The three files, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// `sanctions_eu.csv`.
    pub sanctions_eu: String,
    /// `watchlist.csv`.
    pub watchlist: String,
    /// `particulars.csv`.
    pub particulars: String,
}

/// Builds the published files from the truth's vessel records.
pub fn published(vessels: &[Vessel], seed: u64) -> Published {
    let mut rng = Rng::new(seed, 0x5EED_115D);
    let mut sanctions_eu = String::from("Vessel name;IMO number ;Date of application\r\n");
    let mut watchlist = String::from(
        "gur_id,name,imo,mmsi_current,mmsi_legacy,flag,vessel_type,callsign,former_names,build_year,status\n",
    );
    let mut particulars = String::from("imo,name,dwt,build_year,flag\n");
    let mut owners = HashSet::new();
    for v in vessels {
        let (Some(first), Some(last)) = (v.identities.first(), v.identities.last()) else {
            continue;
        };
        if first.imo != 0 && owners.insert(first.imo) {
            let dwt = if v.dwt > 0.0 {
                format!("{}", v.dwt)
            } else {
                String::new()
            };
            let _ = writeln!(
                particulars,
                "{},{},{dwt},{},{}",
                first.imo, first.name, v.build_year, first.flag
            );
        }
        // The draw happens for every shadow vessel, so membership does not depend on others.
        let watched = v.shadow && rng.chance(WATCHLIST_SHARE);
        if v.sanctioned && first.imo != 0 {
            // The date of application as the EU writes it (DD.MM.YYYY).
            let day = v.designated_on.as_deref().unwrap_or("2024-06-25");
            let (y, m, d) = (
                day.get(..4).unwrap_or("2024"),
                day.get(5..7).unwrap_or("06"),
                day.get(8..10).unwrap_or("25"),
            );
            let _ = write!(sanctions_eu, "{};{};{d}.{m}.{y}\r\n", first.name, first.imo);
        }
        if v.sanctioned || watched {
            let mut legacy: Vec<String> = Vec::new();
            let mut former: Vec<&str> = Vec::new();
            for id in &v.identities[..v.identities.len() - 1] {
                if id.mmsi != last.mmsi && !legacy.contains(&id.mmsi.to_string()) {
                    legacy.push(id.mmsi.to_string());
                }
                if id.name != last.name && !former.contains(&id.name.as_str()) {
                    former.push(&id.name);
                }
            }
            let imo = if last.imo != 0 {
                last.imo.to_string()
            } else {
                String::new()
            };
            let _ = writeln!(
                watchlist,
                "{},{},{imo},{},{},{},Crude Oil Tanker,{},{},{},listed",
                v.vessel,
                last.name,
                last.mmsi,
                legacy.join(" / "),
                last.flag,
                last.callsign,
                former.join(" / "),
                v.build_year,
            );
        }
    }
    Published {
        sanctions_eu,
        watchlist,
        particulars,
    }
}
