//! The registry as data: it resolves against the places table, its gates and basins say
//! which way is which, and a bad registry file is refused with the file and the entry named.
//! The monitor's metrics against simulator truth are tested in `shadowfleet-eval`'s tests.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use shadowfleet_ceasefire::{PortGroup, Registry};
use shadowfleet_events::detectors::zone::{Finding, ZoneConfig, ZoneDetector};
use shadowfleet_geo::{Land, LatLon};
use shadowfleet_places::Places;
use shadowfleet_records::{GateDirection, Position};
use shadowfleet_tracks::TrackPoint;

fn places() -> Places {
    Places::embedded(&Land::natural_earth_10m().unwrap()).unwrap()
}

#[test]
fn the_embedded_registry_resolves_against_the_places() {
    let r = Registry::black_sea(&places()).unwrap();
    assert_eq!(r.version, 1);
    for group in [
        PortGroup::UaSea,
        PortGroup::UaDanube,
        PortGroup::Occupied,
        PortGroup::RuTerminal,
        PortGroup::Tr,
    ] {
        assert!(r.ports.iter().any(|p| p.group == group), "{group:?}");
    }
    // Sea ports come from the places table (their calls are port-call events); the Danube
    // ports, which no sea route reaches, are counted from visits.
    for p in &r.ports {
        assert_eq!(p.in_places, p.group != PortGroup::UaDanube, "{}", p.id);
    }
    let ids: Vec<&str> = r.regimes.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["grain-initiative", "ua-corridor", "riyadh"]);
    let day = |y, m, d| {
        shadowfleet_model::Timestamp::from_utc(y, m, d, 12, 0, 0, 0)
            .unwrap()
            .unix_millis()
            / 1000
    };
    // The Grain Initiative's last day is inside it, the day after is not.
    assert!(r.regimes[0].covers(day(2023, 7, 17)) && !r.regimes[0].covers(day(2023, 7, 18)));
    let now: Vec<&str> = r
        .regimes_at(day(2025, 4, 1))
        .map(|g| g.id.as_str())
        .collect();
    assert_eq!(now, ["ua-corridor", "riyadh"]);
    // The line: Sevastopol and Odesa west of it, Novorossiysk east.
    assert!(r.west_of_line(LatLon::new(44.62, 33.53)));
    assert!(r.west_of_line(LatLon::new(46.48, 30.73)));
    assert!(!r.west_of_line(LatLon::new(44.7, 37.8)));
    // Basins and the gates between them.
    assert_eq!(r.basin_at(LatLon::new(44.0, 31.0)), Some("black-sea"));
    assert_eq!(r.basin_at(LatLon::new(46.0, 36.5)), Some("azov"));
    assert_eq!(r.basin_at(LatLon::new(40.8, 28.0)), Some("mediterranean"));
    // Every sea port lies in a basin (a ship dark between two of them crossed the gates
    // between their basins); only the Danube ports, upriver, lie in none.
    for p in &r.ports {
        let basin = r.basin_at(p.position);
        assert_eq!(
            basin.is_none(),
            p.group == PortGroup::UaDanube,
            "{} at {:?}: basin {basin:?}",
            p.id,
            p.position
        );
    }
    // Kavkaz roads (the STS area north of the southern line) and the Izmit gulf.
    assert_eq!(r.basin_at(LatLon::new(45.2, 36.5)), Some("kerch-strait"));
    assert_eq!(r.basin_at(LatLon::new(40.76, 29.92)), Some("mediterranean"));
    let names = |path: Vec<(usize, bool)>| -> Vec<(String, bool)> {
        path.into_iter()
            .map(|(g, ltr)| (r.gates[g].id.clone(), ltr))
            .collect()
    };
    assert_eq!(
        names(r.gates_between("black-sea", "mediterranean")),
        [
            ("GATE-BOSPORUS-N".to_owned(), true),
            ("GATE-BOSPORUS-S".to_owned(), true)
        ]
    );
    assert_eq!(
        names(r.gates_between("black-sea", "azov")),
        [
            ("GATE-KERCH-S".to_owned(), false),
            ("GATE-KERCH-N".to_owned(), false)
        ]
    );
}

#[test]
fn a_southbound_bosporus_transit_is_out_of_the_black_sea() {
    let r = Registry::black_sea(&places()).unwrap();
    let mut zd = ZoneDetector::new(ZoneConfig::default(), r.detector_zones());
    let mut crossed = Vec::new();
    for (k, (lat, lon)) in [
        (41.26, 29.09),
        (41.16, 29.08),
        (41.05, 29.01),
        (40.97, 28.99),
    ]
    .into_iter()
    .enumerate()
    {
        let p = Position {
            mmsi: 271000001,
            t: 1_740_000_000 + 1200 * k as i64,
            pos: LatLon::new(lat, lon),
            sog_knots: Some(10.0),
            cog_deg: Some(190.0),
            nav_status: Some(0),
            second: None,
            station: None,
            source: Default::default(),
        };
        zd.push(
            &TrackPoint {
                position: p,
                vessel: 0,
                segment: 1,
                previous: None,
            },
            &mut |f| {
                if let Finding::Crossing {
                    zone, direction, ..
                } = f
                {
                    crossed.push((zone.reference.id.clone(), direction));
                }
            },
        );
    }
    assert_eq!(
        crossed,
        [
            ("GATE-BOSPORUS-N".to_owned(), GateDirection::LeftToRight),
            ("GATE-BOSPORUS-S".to_owned(), GateDirection::LeftToRight)
        ]
    );
    let g = r.gates.iter().find(|g| g.id == "GATE-BOSPORUS-N").unwrap();
    assert_eq!(g.left_to_right, "out");
}

#[test]
fn a_bad_registry_is_refused_naming_the_file_and_the_entry() {
    let places = places();
    let base = shadowfleet_ceasefire::registry::BLACK_SEA;
    let bad = |text: &str, needle: &str| {
        let e = Registry::parse("my.toml", text, &places)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("my.toml: ") && e.contains(needle),
            "{e} should name {needle}"
        );
    };
    bad(
        &base.replace("version = 1", "version = 9"),
        "version 9 (this build reads version 1)",
    );
    bad(
        &format!("{base}\n[[port]]\nid = \"UA-NOWHERE\"\ngroup = \"ua_sea\"\n"),
        "port \"UA-NOWHERE\": not in the places table",
    );
    bad(
        &format!("{base}\n[[port]]\nid = \"UA-ODESA\"\ngroup = \"ua_sea\"\n"),
        "id \"UA-ODESA\" is used twice",
    );
    bad(
        &base.replace("from = \"2025-03-25\"", "from = \"25 March 2025\""),
        "regime \"riyadh\" from: \"25 March 2025\" is not a day",
    );
    bad(
        &base.replace("left_basin = \"black-sea\"", "left_basin = \"caspian\""),
        "gate \"GATE-BOSPORUS-N\": no basin \"caspian\"",
    );
    bad(
        &base.replace("group = \"ua_sea\"", "group = \"ua\""),
        "unknown variant",
    );
}
