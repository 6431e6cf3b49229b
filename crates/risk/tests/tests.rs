#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! Screening against the real lists of `../shared/data/ref` (skipped loudly when absent) and
//! on hand-made identities.

use std::path::{Path, PathBuf};

use shadowfleet_records::IdentityPeriod;
use shadowfleet_refdata::{load, parse, RefList};
use shadowfleet_risk::{screen, ScreenConfig};

fn shared(rel: &str) -> Option<PathBuf> {
    shadowfleet_testkit::shared(rel, "real lists, not shipped")
}

fn identity(mmsi: u32, imo: Option<u32>, name: &str, flag: Option<&str>) -> IdentityPeriod {
    IdentityPeriod {
        mmsi,
        imo,
        name: name.into(),
        callsign: String::new(),
        flag: flag.map(str::to_owned),
        ship_type: Some(80),
        length_m: Some(245),
        beam_m: Some(44),
        first_seen: 0,
        last_seen: 3600,
    }
}

/// Real AIS identities of shadow-fleet tankers (aisstream, Dec 2025) against the EU Annex
/// XLII list: every one whose IMO is EU-listed is matched, by IMO.
#[test]
fn every_eu_listed_imo_in_real_ais_is_matched() {
    let (Some(tracks), Some(eu)) = (
        shared("ref/ais-positions/shadow-fleet-tracks-2025-12/aisstream_shadowfleet_tracks_2025-12-21_2026-01-03.geojson"),
        shared("ref/sanctions/eu_annex_xlii_vessels_2025-10-23.csv"),
    ) else {
        return;
    };
    let geo: serde_json::Value = serde_json::from_slice(&std::fs::read(tracks).unwrap()).unwrap();
    let mut ids = Vec::new();
    for f in geo["features"].as_array().unwrap() {
        let p = &f["properties"];
        let mmsi: u32 = p["mmsi"].as_str().unwrap_or("").parse().unwrap_or(0);
        let imo: Option<u32> = p["imo"].as_str().and_then(|s| s.parse().ok());
        if mmsi > 0 {
            ids.push(identity(mmsi, imo, p["name"].as_str().unwrap_or(""), None));
        }
    }
    let eu = load(&eu, None, None).unwrap();
    let listed: std::collections::HashSet<u32> = eu.entries.iter().filter_map(|e| e.imo).collect();
    let present: Vec<&IdentityPeriod> = ids
        .iter()
        .filter(|i| i.imo.is_some_and(|n| listed.contains(&n)))
        .collect();
    assert!(
        present.len() >= 20,
        "only {} EU-listed IMOs in the tracks",
        present.len()
    );
    let matches = screen(&ids, std::slice::from_ref(&eu), &ScreenConfig::default());
    for i in &present {
        assert!(
            matches.iter().any(|m| m.mmsi == i.mmsi
                && m.imo == i.imo
                && m.matched.contains(&"imo")
                && m.score >= 0.99),
            "{} (IMO {:?}) not matched",
            i.name,
            i.imo
        );
    }
    eprintln!(
        "{} of {} tracked vessels are EU-listed; all matched by IMO",
        present.len(),
        ids.len()
    );
}

/// A tanker broadcasting a former name from the GUR list, without an IMO number, is matched
/// to the entry and its IMO.
#[test]
fn a_gur_former_name_is_matched_to_its_imo() {
    let Some(gur) = shared("ref/shadow-fleet/gur_shadow_fleet_vessels_2026-06.csv") else {
        return;
    };
    let gur = load(&gur, None, None).unwrap();
    let ids = [identity(352999999, None, "SCF KHIBINY", Some("PA"))];
    let m = screen(&ids, std::slice::from_ref(&gur), &ScreenConfig::default());
    let hit = m
        .iter()
        .find(|m| m.entry_imo == Some(9224453))
        .expect("TRACOS found by its former name");
    assert!(hit.matched.contains(&"alias"), "{hit:?}");
    assert!(hit.matched.contains(&"flag"));
    assert!(
        hit.explanation.contains("former name"),
        "{}",
        hit.explanation
    );
    // The legacy MMSI of an entry is matched too.
    let legacy = gur
        .entries
        .iter()
        .find(|e| e.mmsis.iter().any(|m| !m.current))
        .unwrap();
    let old = legacy.mmsis.iter().find(|m| !m.current).unwrap().mmsi;
    let m = screen(
        &[identity(old, None, &legacy.name, None)],
        std::slice::from_ref(&gur),
        &ScreenConfig::default(),
    );
    assert!(
        m.iter()
            .any(|x| x.entry == legacy.entry && x.matched.contains(&"mmsi_legacy")),
        "{m:?}"
    );
}

fn list(text: &str) -> RefList {
    parse(Path::new("list.csv"), text.as_bytes(), None, None).unwrap()
}

#[test]
fn imo_typos_need_support_and_conflicting_imos_never_match() {
    let l = list("gur_id,name,imo,mmsi_current,mmsi_legacy,flag,vessel_type,callsign,former_names,build_year,status\n1,ANGARA,9179842,273210440,,Panama,Crude Oil Tanker,,Ocean Energy,1998,listed\n");
    let cfg = ScreenConfig::default();
    let lists = [l];
    // One digit off, same name: a typo.
    let m = screen(
        &[identity(111111111, Some(9179843), "ANGARA", None)],
        &lists,
        &cfg,
    );
    assert_eq!(m.len(), 1);
    assert!(m[0].matched.contains(&"imo_typo"));
    // One digit off, nothing else: no match.
    assert!(screen(
        &[identity(111111111, Some(9179843), "VOLGA", None)],
        &lists,
        &cfg
    )
    .is_empty());
    // Same MMSI, another valid IMO: two ships sharing an MMSI, not a match.
    assert!(screen(
        &[identity(273210440, Some(9134270), "ANGARA", None)],
        &lists,
        &cfg
    )
    .is_empty());
    // Same MMSI, no IMO broadcast: a match on the MMSI.
    let m = screen(&[identity(273210440, None, "XYZ", None)], &lists, &cfg);
    assert!(m[0].matched.contains(&"mmsi") && m[0].score >= 0.7, "{m:?}");
    // A name alone (no flag, no tanker type on the list side would not do): name + flag + tanker.
    let m = screen(
        &[identity(222222222, None, "Angara", Some("PA"))],
        &lists,
        &cfg,
    );
    assert!(
        m[0].matched.contains(&"name") && m[0].matched.contains(&"flag"),
        "{m:?}"
    );
    // The exact IMO: 1.0 and says so.
    let m = screen(
        &[identity(222222222, Some(9179842), "NEW NAME", None)],
        &lists,
        &cfg,
    );
    assert_eq!(m[0].score, 1.0);
    assert!(m[0].explanation.contains("IMO 9179842 as listed"));
}

/// CREA's rule: Russian-only trade counts unless a G7+ flag, owner or insurer is known.
#[test]
fn russian_cargo_only_is_off_for_a_g7_owner_or_insurer() {
    use shadowfleet_risk::{score, RiskConfig, RiskInputs};
    use shadowfleet_voyages::{Cargo, Flow, Hop, HopKind, Origin, Traced, VesselKey, Volume};
    let id = identity(538000001, Some(9179842), "ANGARA", Some("MH"));
    let cargo = |i: usize| Cargo {
        id: i,
        origin: Some(Origin::seen("RU-PRIMORSK", "Primorsk", "RU")),
        vessel: VesselKey::Imo(9179842),
        mmsi: 538000001,
        loaded: 1000 * i as i64,
        load_event: Some(i as i64 + 1),
        products: vec!["crude".into()],
        volume: Volume {
            tonnes: 1.0,
            barrels: 7.32,
            spread: 0.1,
        },
        capacity_source: "particulars".into(),
    };
    let flow = |i: usize| Flow {
        id: i,
        cargo: i,
        share: 1.0,
        chain: vec![Hop {
            vessel: VesselKey::Imo(9179842),
            mmsi: 538000001,
            kind: HopKind::Load,
            t: 1000 * i as i64,
            events: vec![i as i64 + 1],
        }],
        discharge: None,
        lost: false,
    };
    let traced = Traced {
        cargoes: vec![cargo(0), cargo(1)],
        flows: vec![flow(0), flow(1)],
    };
    let run = |owner: Option<&str>| {
        let owner = owner.map(str::to_owned);
        let inputs = RiskInputs {
            identities: std::slice::from_ref(&id),
            events: &[],
            traced: &traced,
            matches: &[],
            build_year: &|_| None,
            ownership: &|_| (owner.clone(), None),
            year: 2026,
        };
        score(&inputs, &RiskConfig::default())
    };
    let free = run(None);
    let i = free[0]
        .indicators
        .iter()
        .find(|i| i.name == "russian_cargo_only")
        .expect("indicator present");
    assert_eq!((i.strength, i.events.clone()), (1.0, vec![2, 1]));
    assert!(free[0].score >= 35.0);
    let g7 = run(Some("GB"));
    assert!(
        g7[0]
            .indicators
            .iter()
            .all(|i| i.name != "russian_cargo_only"),
        "{:?}",
        g7[0].indicators
    );
}
