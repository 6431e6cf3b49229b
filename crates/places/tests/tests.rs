#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! Places and MIDs.

use shadowfleet_geo::{offset_m, Land, LatLon};
use shadowfleet_places::{Mids, PlaceKind, Places};

#[test]
fn every_place_is_at_sea_and_found_by_the_index() {
    let land = Land::natural_earth_10m().unwrap();
    let places = Places::embedded(&land).unwrap();
    assert!(places.all().len() > 80);
    for (i, p) in places.all().iter().enumerate() {
        assert!(!land.contains(p.position), "{} on land", p.id);
        let q = offset_m(p.position, 2_000.0, 1_000.0);
        let mut found = false;
        places.near(q, 3_000.0, |j, _, d| found |= j == i && d < 3_000.0);
        assert!(found, "{} not found 2.2 km away", p.id);
        // Far away: not found.
        let far = offset_m(p.position, p.radius_m + 80_000.0, 0.0);
        places.near(far, 3_000.0, |j, _, _| {
            assert_ne!(j, i, "{} found 80 km off", p.id)
        });
    }
    let primorsk = places.index_of("RU-PRIMORSK").unwrap();
    let (i, d) = places
        .nearest(LatLon::new(60.34, 28.70), 5_000.0, |k| {
            k == PlaceKind::Terminal
        })
        .unwrap();
    assert_eq!(i, primorsk);
    assert!(d < 5_000.0);
}

#[test]
fn mids_give_flags_and_reject_bad_rows() {
    let mids = Mids::embedded().unwrap();
    assert_eq!(mids.flag_of(273_123_456), Some("RU"));
    assert_eq!(mids.flag_of(636_012_345), Some("LR"));
    assert_eq!(mids.flag_of(111_123_456), None, "SAR aircraft, not a ship");
    assert!(mids.allocated().count() > 250);
    let err = Mids::from_csv("x.csv", "mid,iso2\n273,RU\n99,XX\n")
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "x.csv:3: mid = 99 is not a three-digit MID 2xx-7xx"
    );
}
