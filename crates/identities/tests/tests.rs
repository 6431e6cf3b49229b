#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! Identity changes from hand-made static reports.

use shadowfleet_decode::AisText;
use shadowfleet_identities::{
    ChangeKind, IdentityConfig, IdentityOutput, IdentityTracker, StaticReport,
};
use shadowfleet_places::Mids;

fn rep(mmsi: u32, t: i64, imo: u32, name: &'static str) -> StaticReport {
    StaticReport {
        mmsi,
        t,
        imo: Some(imo),
        name: AisText::from_printable_lossy(name),
        callsign: AisText::from_printable_lossy("ABCD"),
        ship_type: Some(80),
        length_m: Some(250),
        beam_m: Some(44),
        draught_m: Some(9.5),
        destination: None,
    }
}

fn changes(reports: &[StaticReport]) -> Vec<(ChangeKind, u32, i64, Option<u32>)> {
    let mids = Mids::embedded().unwrap();
    let mut tr = IdentityTracker::new(IdentityConfig::default(), std::sync::Arc::new(mids));
    let mut out = Vec::new();
    let mut f = |o: IdentityOutput| {
        if let IdentityOutput::Change(c) = o {
            out.push((c.kind, c.mmsi, c.t, c.other_mmsi));
        }
    };
    for r in reports {
        tr.push(r, &mut f);
        tr.advance(r.t, &mut f);
    }
    tr.finish(&mut f);
    out
}

const H: i64 = 3600;

#[test]
fn rename_reflag_mmsi_change_and_invalid_mid() {
    // 9074729 and 9321483 are valid IMO numbers.
    let c = changes(&[
        rep(273_000_001, 0, 9_074_729, "ALPHA"),
        rep(273_000_001, H, 9_074_729, "BRAVO"),
        // Same flag (RU), new MMSI.
        rep(273_000_002, 2 * H, 9_074_729, "BRAVO"),
        // Liberia.
        rep(636_000_003, 3 * H, 9_074_729, "CHARLIE"),
        // MID 200 is not allocated.
        rep(200_000_004, 4 * H, 9_074_729, "CHARLIE"),
    ]);
    let kinds: Vec<_> = c.iter().map(|x| (x.0, x.1)).collect();
    assert_eq!(
        kinds,
        vec![
            (ChangeKind::Rename, 273_000_001),
            (ChangeKind::MmsiChange, 273_000_002),
            (ChangeKind::Reflag, 636_000_003),
            (ChangeKind::InvalidMid, 200_000_004),
        ]
    );
    assert_eq!(c[2].3, Some(273_000_002));
}

#[test]
fn shared_mmsi_is_told_from_a_zombie_imo() {
    // Two ships alternate on one MMSI: shared.
    let shared = changes(&[
        rep(273_000_001, 0, 9_074_729, "ALPHA"),
        rep(273_000_009, 10, 9_321_483, "ZULU"),
        rep(273_000_001, 2 * H, 9_321_483, "ZULU"),
        rep(273_000_001, 2 * H + 360, 9_074_729, "ALPHA"),
        rep(273_000_001, 2 * H + 720, 9_321_483, "ZULU"),
    ]);
    assert_eq!(
        shared,
        vec![(
            ChangeKind::SharedMmsi,
            273_000_001,
            2 * H,
            Some(273_000_009)
        )]
    );

    // A ship takes the IMO of one silent for days, and never goes back: zombie.
    let zombie = changes(&[
        rep(273_000_001, 0, 9_074_729, "OLD ONE"),
        rep(273_000_002, 10, 9_321_483, "LIVE"),
        rep(273_000_002, 5 * 24 * H, 9_074_729, "OLD ONE"),
        rep(273_000_002, 7 * 24 * H, 9_074_729, "OLD ONE"),
    ]);
    assert_eq!(
        zombie,
        vec![(
            ChangeKind::ZombieImo,
            273_000_002,
            5 * 24 * H,
            Some(273_000_001)
        )]
    );
}

#[test]
fn a_bad_check_digit_is_reported_once() {
    let c = changes(&[
        rep(273_000_001, 0, 9_074_728, "X"),
        rep(273_000_001, 9, 9_074_728, "X"),
    ]);
    assert_eq!(c, vec![(ChangeKind::InvalidImo, 273_000_001, 0, None)]);
}

#[test]
fn the_destination_in_force_at_a_time_is_the_last_one_reported_before_it() {
    let mids = Mids::embedded().unwrap();
    let mut tr = IdentityTracker::new(IdentityConfig::default(), std::sync::Arc::new(mids));
    let dest = |t: i64, d: Option<&str>| StaticReport {
        destination: d.map(AisText::from_printable_lossy),
        ..rep(273_000_001, t, 9_074_729, "ONE")
    };
    for r in [
        dest(100, Some("RU NVS")),
        dest(200, Some("RU NVS")),
        dest(300, None),
        dest(400, Some("")),
        dest(500, Some("TRIST>UAODS")),
    ] {
        tr.push(&r, &mut |_| {});
    }
    let at = |t: i64, until: i64| {
        tr.destination_at(273_000_001, t, until)
            .map(|d| d.as_str().to_owned())
    };
    assert_eq!(at(50, 60), None, "nothing reported by then");
    assert_eq!(at(50, 150).as_deref(), Some("RU NVS"), "first heard later");
    assert_eq!(
        at(350, 350).as_deref(),
        Some("RU NVS"),
        "type 24 says nothing"
    );
    assert_eq!(at(450, 450).as_deref(), Some(""), "a blank destination");
    assert_eq!(at(900, 900).as_deref(), Some("TRIST>UAODS"));
    assert_eq!(tr.destination_at(273_000_002, 900, 900), None);

    // Kept through the saved state.
    let mut bytes = Vec::new();
    tr.save_state(&mut bytes).unwrap();
    let mut back = IdentityTracker::new(
        IdentityConfig::default(),
        std::sync::Arc::new(Mids::embedded().unwrap()),
    );
    back.load_state(&bytes).unwrap();
    assert_eq!(
        back.destination_at(273_000_001, 450, 450)
            .map(|d| d.as_str().to_owned())
            .as_deref(),
        Some("")
    );
}
