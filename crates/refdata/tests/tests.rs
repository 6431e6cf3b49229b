#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! Loaders on real lists (from `../shared/data/ref` beside the repository, skipped loudly when
//! absent), on fixtures in the documented layouts, and on broken files.

use std::path::{Path, PathBuf};

use shadowfleet_refdata::{detect, load, parse, ports, ListFormat, ListKind, ListedMmsi};

/// A file of `../shared/data/ref` (or `$SHADOWFLEET_SHARED/ref`), or `None` with a loud note.
fn shared(rel: &str) -> Option<PathBuf> {
    shadowfleet_testkit::shared(&format!("ref/{rel}"), "a real list, not shipped")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn eu_annex_xlii_latin1_list() {
    let Some(p) = shared("sanctions/eu_annex_xlii_vessels_2025-10-23.csv") else {
        return;
    };
    let l = load(&p, None, None).expect("EU list loads");
    assert_eq!(l.format, ListFormat::EuCsv);
    assert_eq!(l.kind, ListKind::Sanctions);
    assert_eq!(l.entries.len(), 557);
    assert!(
        l.entries.iter().all(|e| e.imo_valid),
        "every EU IMO passes its check digit"
    );
    let q = l
        .entries
        .iter()
        .find(|e| e.name == "Quartanus")
        .expect("Quartanus listed");
    assert_eq!(q.aliases, vec!["Morpheus".to_owned()]);
    assert!(l
        .entries
        .iter()
        .all(|e| e.listed_on.as_deref().is_some_and(|d| d.starts_with("202"))));
}

#[test]
fn ofac_sdn_csv() {
    let Some(p) = shared("sanctions/ofac_sdn_2024-05-03.csv") else {
        return;
    };
    let l = load(&p, None, None).expect("sdn.csv loads");
    assert_eq!(l.format, ListFormat::OfacCsv);
    assert_eq!(l.entries.len(), 851, "851 vessel entries");
    let a = l
        .entries
        .iter()
        .find(|e| e.name == "ARTAVIL")
        .expect("ARTAVIL");
    assert_eq!(a.imo, Some(9187629));
    assert_eq!(
        a.mmsis,
        vec![ListedMmsi {
            mmsi: 572469210,
            current: true
        }]
    );
    assert_eq!(a.aliases, vec!["ALPHA".to_owned()]);
    assert_eq!(a.programs, vec!["IRAN".to_owned()]);
    let f = l
        .entries
        .iter()
        .find(|e| e.name == "FORTUNA")
        .expect("FORTUNA");
    assert_eq!(
        f.programs,
        vec!["CAATSA - RUSSIA".to_owned(), "PEESA-EO14039".to_owned()]
    );
}

#[test]
fn ofac_json_extract() {
    let Some(p) = shared("sanctions/ofac_sdn_vessels_2026-03-22.json") else {
        return;
    };
    let l = load(&p, None, None).expect("OFAC JSON loads");
    assert_eq!(l.format, ListFormat::OfacJson);
    assert_eq!(l.entries.len(), 1450);
    let russia = l
        .entries
        .iter()
        .filter(|e| e.programs.iter().any(|p| p == "RUSSIA-EO14024"))
        .count();
    assert_eq!(russia, 449);
}

#[test]
fn gur_watch_list_with_legacy_mmsis_and_former_names() {
    let Some(p) = shared("shadow-fleet/gur_shadow_fleet_vessels_2026-06.csv") else {
        return;
    };
    let l = load(&p, None, None).expect("GUR list loads");
    assert_eq!(l.format, ListFormat::GurCsv);
    assert_eq!(l.kind, ListKind::WatchList);
    assert_eq!(l.entries.len(), 1414);
    assert_eq!(
        l.entries.iter().filter(|e| !e.active).count(),
        10,
        "10 delisted"
    );
    let t = l
        .entries
        .iter()
        .find(|e| e.imo == Some(9224453))
        .expect("TRACOS");
    assert_eq!(t.name, "TRACOS");
    assert!(t.aliases.contains(&"SCF Khibiny".to_owned()));
    assert_eq!(t.build_year, Some(2002));
}

#[test]
fn kse_tanker_list_as_imo_csv() {
    let Some(p) = shared("shadow-fleet/kse-ftm-2024/vessels.csv") else {
        return;
    };
    let l = load(&p, None, None).expect("KSE list loads");
    assert_eq!(l.format, ListFormat::ImoCsv);
    assert_eq!(l.entries.len(), 637);
}

#[test]
fn wpi_and_unlocode_ports() {
    if let Some(p) = shared("ports/wpi_pub150.csv") {
        let bytes = std::fs::read(&p).expect("read");
        let all = ports::wpi(&p, &bytes).expect("WPI loads");
        assert_eq!(all.len(), 3831);
        let primorsk = all.iter().find(|x| x.wpi == Some(28360)).expect("Primorsk");
        assert_eq!(primorsk.country.as_deref(), Some("RU"));
    }
    if let Some(p) = shared("ports/unlocode_seaports.csv") {
        let bytes = std::fs::read(&p).expect("read");
        let all = ports::unlocode(&p, &bytes).expect("UN/LOCODE loads");
        assert_eq!(all.len(), 16446);
        assert!(all.iter().any(|x| x.locode.as_deref() == Some("RUULU")));
    }
}

#[test]
fn ofac_xml_fixture() {
    let l = load(&fixture("sdn_sample.xml"), None, None).expect("sdn.xml loads");
    assert_eq!(l.format, ListFormat::OfacXml);
    assert_eq!(l.entries.len(), 2, "the entity is left out");
    let a = &l.entries[0];
    assert_eq!(
        (a.entry.as_str(), a.name.as_str(), a.imo),
        ("15036", "ARTAVIL", Some(9187629))
    );
    assert_eq!(a.mmsis[0].mmsi, 572469210);
    assert_eq!(a.aliases, vec!["ALPHA".to_owned()]);
    assert_eq!(a.dwt, Some(99144.0));
    assert_eq!(l.entries[1].name, "BALTIC LEADER & CO");
}

#[test]
fn ftm_fixture_keeps_vessels_only() {
    let l = load(&fixture("ftm_sample.ndjson"), None, None).expect("FtM loads");
    assert_eq!(l.format, ListFormat::FtmJson);
    assert_eq!(l.entries.len(), 2);
    assert_eq!(l.entries[0].aliases, vec!["ALPHA".to_owned()]);
    assert_eq!(l.entries[0].flag.as_deref(), Some("IR"));
    assert_eq!(l.entries[0].build_year, Some(1999));
}

fn error_of(name: &str, text: &str, format: Option<ListFormat>) -> String {
    let e = parse(Path::new(name), text.as_bytes(), format, None).expect_err("must be rejected");
    e.to_string()
}

#[test]
fn broken_files_are_rejected_whole_naming_line_and_field() {
    let eu = "Vessel name;IMO number ;Date of application\r\nAngara;9179842;25.06.2024\r\nMaria;85178;25.06.2024\r\n";
    assert_eq!(
        error_of("eu.csv", eu, None),
        "eu.csv:3: field IMO number: IMO \"85178\" does not have 7 digits"
    );
    let eu = "Vessel name;IMO number ;Date of application\r\nAngara;9179842;2024-06-25\r\n";
    assert!(error_of("eu.csv", eu, None).starts_with("eu.csv:2: field Date of application"));
    let gur = "gur_id,name,imo,mmsi_current,mmsi_legacy,flag,vessel_type,callsign,former_names,build_year,status\n1,A,9179842,27341444,,x,,,,1998,listed\n";
    assert_eq!(
        error_of("gur.csv", gur, None),
        "gur.csv:2: field mmsi_current: MMSI \"27341444\" does not have 9 digits"
    );
    let part = "imo,name,dwt,build_year,flag\n9179842,A,-5,1998,PA\n";
    assert!(error_of("p.csv", part, None).starts_with("p.csv:2: field dwt"));
    let sdn = "1,\"A\",\"vessel\",\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Vessel Registration Identification IMO 12\"\n";
    assert_eq!(
        error_of("sdn.csv", sdn, None),
        "sdn.csv:1: field Remarks: IMO \"IMO 12\" does not have 7 digits"
    );
    let ftm = "{\"id\":\"v\",\"schema\":\"Vessel\",\"properties\":{\"name\":[\"A\"]}}\n{not json\n";
    assert!(error_of("e.json", ftm, None).starts_with("e.json:2: "));
    let xml = "<sdnList><sdnEntry><uid>1</uid><lastName>A</lastName><sdnType>Vessel</sdnType><idList><id><idType>MMSI</idType><idNumber>12x</idNumber></id></idList></sdnEntry></sdnList>";
    assert!(error_of("sdn.xml", xml, None).contains("field idNumber"));
    assert!(error_of("x.txt", "hello\n", None).contains("unknown list format"));
}

#[test]
fn detect_reads_the_shared_files() {
    for (rel, f) in [
        (
            "sanctions/eu_annex_xlii_vessels_2025-10-23.csv",
            ListFormat::EuCsv,
        ),
        ("sanctions/ofac_sdn_2024-05-03.csv", ListFormat::OfacCsv),
    ] {
        let Some(p) = shared(rel) else { return };
        assert_eq!(detect(&std::fs::read(p).expect("read")), Some(f));
    }
}

#[test]
fn particulars_with_owner_and_insurer() {
    let text = "imo,name,dwt,build_year,flag,owner_country,insurer_country\n9179842,A,105000,2004,PA,ae,GB\n";
    let l = parse(Path::new("p.csv"), text.as_bytes(), None, None).unwrap();
    assert_eq!(l.kind, ListKind::Particulars);
    let e = &l.entries[0];
    assert_eq!((e.dwt, e.build_year), (Some(105000.0), Some(2004)));
    assert_eq!(
        (e.owner_country.as_deref(), e.insurer_country.as_deref()),
        (Some("AE"), Some("GB"))
    );
    let bad = "imo,name,dwt,build_year,flag,owner_country\n9179842,A,105000,2004,PA,UAE\n";
    let err = parse(Path::new("p.csv"), bad.as_bytes(), None, None)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("p.csv:2: field owner_country"), "{err}");
}
