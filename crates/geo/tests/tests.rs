#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! Land mask and sea routing against real places.

use shadowfleet_geo::{haversine_m, Land, LatLon, Router, SeaLanes};
use std::sync::OnceLock;

fn world() -> &'static (Land, SeaLanes) {
    static W: OnceLock<(Land, SeaLanes)> = OnceLock::new();
    W.get_or_init(|| {
        let land = Land::natural_earth_10m().unwrap();
        let lanes = SeaLanes::searoute(&land).unwrap();
        (land, lanes)
    })
}

#[test]
fn known_points_are_land_or_sea() {
    let (land, _) = world();
    for (name, lat, lon) in [
        ("Moscow", 55.75, 37.62),
        ("Delhi", 28.6, 77.2),
        ("Paris", 48.85, 2.35),
        ("Suez canal", 30.6, 32.33),
    ] {
        assert!(
            land.contains(LatLon::new(lat, lon)),
            "{name} should be land"
        );
    }
    for (name, lat, lon) in [
        ("Gulf of Finland", 60.0, 26.0),
        ("Bosporus", 41.1, 29.065),
        ("Great Belt", 55.3, 10.95),
        ("Kerch Strait", 45.3, 36.55),
        ("Arabian Sea", 15.0, 65.0),
        ("Black Sea", 43.0, 34.0),
    ] {
        assert!(
            !land.contains(LatLon::new(lat, lon)),
            "{name} should be sea"
        );
    }
}

#[test]
fn routes_between_terminals_and_markets_never_touch_land_outside_canals() {
    let (land, lanes) = world();
    let (edges, crossing, moved) = lanes.edge_counts();
    eprintln!(
        "land: {} edges, {:.1} MB",
        land.edge_count(),
        land.heap_bytes() as f64 / 1e6
    );
    eprintln!("searoute: {edges} edges, {moved} nodes moved off land, {crossing} edges touch Natural Earth 10m land before repair");
    let mut router = Router::new(land, lanes);
    let places = [
        ("Primorsk", 60.33, 28.66),
        ("Novorossiysk", 44.68, 37.84),
        ("Sikka", 22.45, 69.75),
        ("Laconian Gulf", 36.6, 22.7),
        ("Rotterdam", 51.98, 4.05),
        ("Qingdao", 35.98, 120.35),
    ];
    for (i, a) in places.iter().enumerate() {
        for b in &places[i + 1..] {
            let from = land
                .nearest_sea(LatLon::new(a.1, a.2), 200.0, 20_000.0)
                .unwrap();
            let to = land
                .nearest_sea(LatLon::new(b.1, b.2), 200.0, 20_000.0)
                .unwrap();
            let route = router
                .route(from, to)
                .unwrap_or_else(|e| panic!("{} -> {}: {e}", a.0, b.0));
            assert!(route.length_m() >= haversine_m(from, to) * 0.999);
            for (k, w) in route.points.windows(2).enumerate() {
                if !route.canal[k] {
                    assert!(
                        !land.segment_touches(w[0], w[1]),
                        "{} -> {}: segment {k} {:?} touches land",
                        a.0,
                        b.0,
                        w
                    );
                }
            }
            eprintln!(
                "{} -> {}: {:.0} nm, {} points",
                a.0,
                b.0,
                route.length_m() / 1852.0,
                route.points.len()
            );
        }
    }
}
