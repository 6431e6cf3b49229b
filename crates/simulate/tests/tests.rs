#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! The simulator's truth checked against its own AIS, decoded by our decoder: dark periods are
//! silent, STS partners lie side by side, nobody sails over land, draught follows the cargo,
//! and the same seed gives the same bytes.

use std::collections::HashMap;
use std::sync::OnceLock;

use shadowfleet_decode::{Decoded, Decoder, DecoderConfig, RejectReason};
use shadowfleet_geo::{haversine_m, Land, LatLon};
use shadowfleet_model::Timestamp;
use shadowfleet_simulate::truth::{read_truth, Event, TruthRecord, Vessel};
use shadowfleet_simulate::{simulate, Scenario, SimOptions, SimReport, World};

struct Run {
    report: SimReport,
    ais: Vec<u8>,
    truth: Vec<TruthRecord>,
    msgs: Vec<Decoded>,
    rejected: u64,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| World::load(0.75).unwrap())
}

fn run(name: &str, days: u32, scale: f64, seed: u64) -> Run {
    let scenario = Scenario::load(name).unwrap();
    let world = if scenario.ais.station_spacing_deg == 0.75 {
        world()
    } else {
        &*Box::leak(Box::new(
            World::load(scenario.ais.station_spacing_deg).unwrap(),
        ))
    };
    let (mut ais, mut truth) = (Vec::new(), Vec::new());
    let opts = SimOptions {
        seed,
        days: Some(days),
        fleet_scale: scale,
    };
    let report = simulate(&scenario, world, &opts, &mut ais, &mut truth).unwrap();
    let truth = read_truth(std::str::from_utf8(&truth).unwrap()).unwrap();
    let mut msgs = Vec::new();
    let mut dec = Decoder::new(DecoderConfig::default());
    dec.push(&ais, &mut msgs);
    dec.finish(&mut msgs);
    let rejected = dec.stats().rejected(RejectReason::BadChecksum);
    Run {
        report,
        ais,
        truth,
        msgs,
        rejected,
    }
}

fn baltic() -> &'static Run {
    static R: OnceLock<Run> = OnceLock::new();
    R.get_or_init(|| run("baltic", 12, 0.6, 11))
}

fn global() -> &'static Run {
    static R: OnceLock<Run> = OnceLock::new();
    R.get_or_init(|| run("global", 10, 0.25, 5))
}

fn t(s: &str) -> i64 {
    Timestamp::parse_rfc3339(s).unwrap().unix_millis() / 1000
}

fn events<'a>(r: &'a Run, kind: &str) -> Vec<&'a Event> {
    r.truth
        .iter()
        .filter_map(|x| match x {
            TruthRecord::Event(e) if e.kind == kind => Some(e),
            _ => None,
        })
        .collect()
}

fn vessels(r: &Run) -> HashMap<u32, &Vessel> {
    r.truth
        .iter()
        .filter_map(|x| match x {
            TruthRecord::Vessel(v) => Some((v.vessel, v)),
            _ => None,
        })
        .collect()
}

/// Which vessel broadcast `mmsi` at `t`, according to the truth (None when two did).
fn owner(vs: &HashMap<u32, &Vessel>, mmsi: u32, t: i64) -> Option<u32> {
    let mut found = None;
    for v in vs.values() {
        let i = v.identities.partition_point(|id| self::t(&id.from) <= t);
        if i > 0 && v.identities[i - 1].mmsi == mmsi {
            if found.is_some() {
                return None;
            }
            found = Some(v.vessel);
        }
    }
    found
}

struct Fix {
    t: i64,
    mmsi: u32,
    pos: LatLon,
    sog: f64,
}

/// The timed position reports, late relays left out (a relay repeats an old report with
/// its late arrival time: its own UTC second gives it away).
fn fixes(r: &Run) -> Vec<Fix> {
    r.msgs
        .iter()
        .filter_map(|d| {
            let p = d.message.position()?;
            let t = d.meta.received?.unix_millis() / 1000;
            if late_relay(d) {
                return None;
            }
            Some(Fix {
                t,
                mmsi: p.mmsi,
                pos: LatLon::new(p.lat, p.lon),
                sog: f64::from(p.sog_knots.unwrap_or(0.0)),
            })
        })
        .collect()
}

/// Whether a decoded position report is a late relay: its UTC second more than 2 s from
/// its receive time's.
fn late_relay(d: &Decoded) -> bool {
    let (Some(p), Some(t)) = (d.message.position(), d.meta.received) else {
        return false;
    };
    p.second.is_some_and(|s| {
        let off = ((t.unix_millis() / 1000).rem_euclid(60) - i64::from(s)).rem_euclid(60);
        off > 2 && off < 58
    })
}

/// Spoofing intervals per vessel: positions broadcast then are not where the ship is.
fn spoofed(r: &Run, vessel: u32, t: i64) -> bool {
    events(r, "spoofing")
        .into_iter()
        .chain(events(r, "interference"))
        .any(|e| e.vessel == vessel && self::t(&e.start) <= t && t <= self::t(&e.end))
}

#[test]
fn the_ais_decodes_and_the_truth_is_complete() {
    for r in [baltic(), global()] {
        let header = match &r.truth[0] {
            TruthRecord::Header(h) => h,
            other => panic!("first record is not a header: {other:?}"),
        };
        assert_eq!(
            (header.format.as_str(), header.version),
            ("shadowfleet-truth", 3)
        );
        assert!(r.report.ais.messages > 100_000, "{:?}", r.report);
        // Every line decodes except the deliberately corrupted checksums.
        assert_eq!(
            r.rejected, r.report.ais.bad_checksums,
            "rejections other than bad checksums"
        );
        // A corrupted part of a two-sentence message loses the whole message.
        let lost = r.report.ais.messages - r.msgs.len() as u64;
        assert!(
            lost >= r.report.ais.bad_checksums && lost <= 2 * r.report.ais.bad_checksums,
            "{lost} lost"
        );
        for kind in ["port_call", "sts", "dark", "loitering", "identity_change"] {
            assert!(
                !events(r, kind).is_empty(),
                "{}: no {kind} events",
                header.scenario
            );
        }
        eprintln!("shore stations: {}", world().stations.len());
        eprintln!(
            "{}: {} vessels, {} messages ({} satellite), {} events, {} cargoes",
            header.scenario,
            r.report.vessels,
            r.report.ais.messages,
            r.report.ais.satellite,
            r.report.events,
            r.report.cargoes
        );
    }
}

#[test]
fn no_messages_inside_dark_periods() {
    for r in [baltic(), global()] {
        let vs = vessels(r);
        let fx = fixes(r);
        let mut checked = 0;
        for e in events(r, "dark") {
            let (s, en) = (t(&e.start), t(&e.end));
            let v = vs[&e.vessel];
            // The MMSIs the vessel used during the period; skip one shared with another ship.
            let mmsis: Vec<u32> = v.identities.iter().map(|i| i.mmsi).collect();
            for f in &fx {
                if f.t > s
                    && f.t < en
                    && mmsis.contains(&f.mmsi)
                    && owner(&vs, f.mmsi, f.t) == Some(e.vessel)
                {
                    panic!(
                        "vessel {} (MMSI {}) transmitted at {} inside dark period {} {}..{}",
                        e.vessel, f.mmsi, f.t, e.id, e.start, e.end
                    );
                }
            }
            checked += 1;
        }
        assert!(checked > 3, "only {checked} dark periods");
    }
}

#[test]
fn sts_partners_lie_side_by_side_at_low_speed() {
    for r in [baltic(), global()] {
        let vs = vessels(r);
        let fx = fixes(r);
        let mut by_vessel: HashMap<u32, Vec<&Fix>> = HashMap::new();
        for f in &fx {
            if let Some(v) = owner(&vs, f.mmsi, f.t) {
                by_vessel.entry(v).or_default().push(f);
            }
        }
        let (mut pairs, mut checked) = (0, 0);
        for e in events(r, "sts") {
            let (s, en) = (t(&e.start), t(&e.end));
            let other = e.other_vessel.unwrap();
            let during = |v: u32| -> Vec<&Fix> {
                by_vessel
                    .get(&v)
                    .map(|f| {
                        f.iter()
                            .copied()
                            .filter(|f| f.t >= s && f.t <= en && !spoofed(r, v, f.t))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (g, rc) = (during(e.vessel), during(other));
            if e.details["dark_side"] == "giver" {
                assert!(g.is_empty(), "dark STS {}: the giver transmitted", e.id);
            }
            for f in g.iter().chain(&rc) {
                assert!(f.sog < 2.0, "STS {}: {} kn", e.id, f.sog);
                assert!(
                    haversine_m(f.pos, LatLon::new(e.lat, e.lon)) < 1_000.0,
                    "STS {}: fix far from the meeting point",
                    e.id
                );
            }
            for a in &g {
                if let Some(b) = rc.iter().find(|b| (b.t - a.t).abs() <= 120) {
                    let d = haversine_m(a.pos, b.pos);
                    assert!(d < 500.0, "STS {}: partners {d:.0} m apart", e.id);
                    pairs += 1;
                }
            }
            checked += 1;
        }
        assert!(
            checked >= 2 && pairs > 10,
            "STS checked {checked}, simultaneous pairs {pairs}"
        );
    }
}

#[test]
fn nobody_sails_over_land() {
    let land = Land::natural_earth_10m().unwrap();
    // Canal transits are the one place a true track crosses Natural Earth land.
    let canal = |p: LatLon| (29.8..31.4).contains(&p.lat) && (32.1..32.7).contains(&p.lon);
    for r in [baltic(), global()] {
        let vs = vessels(r);
        let mut points = 0;
        for f in fixes(r) {
            let Some(v) = owner(&vs, f.mmsi, f.t) else {
                continue;
            };
            if spoofed(r, v, f.t) || canal(f.pos) {
                continue;
            }
            assert!(
                !land.contains(f.pos),
                "vessel {v} reported {:?} on land at {}",
                f.pos,
                f.t
            );
            points += 1;
        }
        // The simulator refuses to plan a route with a segment that touches land (canals
        // aside); the report says how many it checked.
        assert!(points > 50_000, "{points} points");
        assert!(
            r.report.routes > 20 && r.report.route_segments > 1000,
            "{:?}",
            r.report
        );
    }
}

#[test]
fn draught_moves_as_the_voyages_say() {
    for r in [baltic(), global()] {
        let vs = vessels(r);
        let mut statics: HashMap<u32, Vec<(i64, f32)>> = HashMap::new();
        for d in &r.msgs {
            if let (Some(s), Some(t)) = (d.message.static_data(), d.meta.received) {
                if let (Some(dr), Some(v)) =
                    (s.draught_m, owner(&vs, s.mmsi, t.unix_millis() / 1000))
                {
                    statics
                        .entry(v)
                        .or_default()
                        .push((t.unix_millis() / 1000, dr));
                }
            }
        }
        let mut checked = 0;
        for e in events(r, "port_call") {
            let (arr, upd, end) = (
                t(e.details["berth_arrival"].as_str().unwrap()),
                t(e.details["draught_update"].as_str().unwrap()),
                t(&e.end),
            );
            let (before, after) = (
                e.details["draught_before_m"].as_f64().unwrap(),
                e.details["draught_after_m"].as_f64().unwrap(),
            );
            match e.details["purpose"].as_str().unwrap() {
                "load" => assert!(
                    after > before,
                    "{}: loading did not raise the draught",
                    e.id
                ),
                "discharge" => assert!(
                    after < before,
                    "{}: discharge did not lower the draught",
                    e.id
                ),
                _ => {}
            }
            let Some(st) = statics.get(&e.vessel) else {
                continue;
            };
            for &(ts, d) in st {
                if ts >= arr && ts < upd {
                    assert!(
                        (f64::from(d) - before).abs() < 0.05,
                        "{}: {d} m before the update, truth {before}",
                        e.id
                    );
                    checked += 1;
                } else if ts >= upd && ts <= end {
                    assert!(
                        (f64::from(d) - after).abs() < 0.05,
                        "{}: {d} m after the update, truth {after}",
                        e.id
                    );
                    checked += 1;
                }
            }
        }
        assert!(
            checked > 100,
            "only {checked} static reports checked against port calls"
        );
    }
}

#[test]
fn sts_hands_cargo_on_and_chains_are_consistent() {
    for r in [baltic(), global()] {
        let sts: HashMap<&str, &Event> = events(r, "sts")
            .into_iter()
            .map(|e| (e.id.as_str(), e))
            .collect();
        let mut hops = 0;
        for x in &r.truth {
            let TruthRecord::Cargo(c) = x else { continue };
            assert!(
                c.volume_t > 0.0 && c.volume_bbl > c.volume_t * 6.0,
                "{}",
                c.id
            );
            for w in c.chain.windows(2) {
                let via = w[1].via_sts.as_deref().unwrap();
                if let Some(e) = sts.get(via) {
                    assert_eq!(
                        (e.vessel, e.other_vessel),
                        (w[0].vessel, Some(w[1].vessel)),
                        "{}: chain and STS disagree",
                        c.id
                    );
                    let g = e.details["giver_draught_m"].as_array().unwrap();
                    let rc = e.details["receiver_draught_m"].as_array().unwrap();
                    assert!(
                        g[1].as_f64() < g[0].as_f64() && rc[1].as_f64() > rc[0].as_f64(),
                        "{via}: draughts do not move"
                    );
                }
                hops += 1;
            }
            if c.terminal == "KZ-CPC-YUZHNAYA-OZEREYEVKA" {
                assert_eq!(c.origin_country, "KZ");
            }
        }
        assert!(hops > 0, "no cargo changed hands");
    }
}

#[test]
fn volumes_add_up_to_the_discharged_cargoes() {
    for r in [baltic(), global()] {
        let mut from_cargoes: HashMap<(String, String), f64> = HashMap::new();
        let mut from_volumes: HashMap<(String, String), f64> = HashMap::new();
        for x in &r.truth {
            match x {
                TruthRecord::Cargo(c) => {
                    if let Some(d) = &c.discharge {
                        *from_cargoes
                            .entry((d.country.clone(), d.time[..7].to_owned()))
                            .or_default() += c.volume_bbl;
                    }
                }
                TruthRecord::Volume(v) => {
                    *from_volumes
                        .entry((v.country.clone(), v.month.clone()))
                        .or_default() += v.volume_bbl
                }
                _ => {}
            }
        }
        assert!(!from_volumes.is_empty());
        assert_eq!(from_cargoes.len(), from_volumes.len());
        for (k, v) in &from_volumes {
            assert!((from_cargoes[k] - v).abs() < 1.0, "{k:?}");
        }
    }
}

#[test]
fn identity_changes_show_in_the_static_reports() {
    for r in [baltic(), global()] {
        let mut kinds = std::collections::BTreeSet::new();
        for e in events(r, "identity_change") {
            kinds.insert(e.details["change"].as_str().unwrap().to_owned());
            let to = &e.details["to"];
            let at = t(&e.start);
            // After the change, static reports under the new MMSI carry the new name.
            let seen = r.msgs.iter().any(|d| {
                let (Some(s), Some(ts)) = (d.message.static_data(), d.meta.received) else {
                    return false;
                };
                ts.unix_millis() / 1000 > at
                    && s.mmsi == to["mmsi"].as_u64().unwrap() as u32
                    && s.name == to["name"].as_str().filter(|n| !n.is_empty())
            });
            let ends_late = at > t(&r.report.end) - 86_400;
            assert!(
                seen || ends_late || e.details["change"] == "shared_mmsi",
                "{}: new identity never seen",
                e.id
            );
        }
        assert!(
            kinds.contains("zombie_imo")
                && kinds.contains("shared_mmsi")
                && kinds.contains("invalid_mid"),
            "{kinds:?}"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let a = run("baltic", 1, 0.2, 99);
    let b = run("baltic", 1, 0.2, 99);
    let c = run("baltic", 1, 0.2, 100);
    assert!(a.ais == b.ais, "same seed, different AIS");
    assert_eq!(a.truth, b.truth);
    assert!(a.ais != c.ais, "different seeds, same AIS");
}

#[test]
fn scenarios_are_validated_with_clear_errors() {
    let text = include_str!("../../../scenarios/baltic.toml");
    let broken = text.replace("sts_share = 0.35", "sts_share = 1.5");
    let e = Scenario::parse("broken.toml", &broken)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("broken.toml") && e.contains("behaviour.sts_share"),
        "{e}"
    );
    let unknown = text.replace("[fleet]", "[fleet]\nfrigates = 3");
    let e = Scenario::parse("unknown.toml", &unknown)
        .unwrap_err()
        .to_string();
    assert!(e.contains("frigates"), "{e}");
    assert!(Scenario::load("atlantis")
        .unwrap_err()
        .to_string()
        .contains("atlantis"));
    let place = text.replace("RU-PRIMORSK = 4", "RU-NOWHERE = 4");
    let s = Scenario::parse("place.toml", &place).unwrap();
    let e = simulate(
        &s,
        world(),
        &SimOptions {
            seed: 1,
            days: Some(1),
            fleet_scale: 0.1,
        },
        Vec::new(),
        Vec::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("RU-NOWHERE"), "{e}");
}

#[test]
fn the_artefacts_are_in_the_ais_as_the_truth_counts_them() {
    for r in [baltic(), global()] {
        let a = r
            .truth
            .iter()
            .find_map(|x| match x {
                TruthRecord::Artefacts(a) => Some(*a),
                _ => None,
            })
            .expect("an artefacts record");
        assert!(a.late_relays > 0 && a.untimed_messages > 0, "{a:?}");
        // Untimed: exactly the messages without a receive time (a corrupted checksum may
        // have taken a few).
        let untimed = r.msgs.iter().filter(|d| d.meta.received.is_none()).count() as u64;
        assert!(
            untimed <= a.untimed_messages && untimed + r.rejected >= a.untimed_messages,
            "{untimed} untimed, {a:?}"
        );
        let untimed_positions = r
            .msgs
            .iter()
            .filter(|d| d.meta.received.is_none() && d.message.position().is_some())
            .count() as u64;
        assert!(untimed_positions <= a.untimed_positions && untimed_positions > 0);
        // Late relays: reports whose own second is at odds with their receive time, heard
        // through a station other than one that heard them on time.
        let relays = r.msgs.iter().filter(|d| late_relay(d)).count() as u64;
        assert!(
            relays <= a.late_relays && relays + r.rejected >= a.late_relays,
            "{relays} relays, {a:?}"
        );
        // Interference: each vessel caught was heard broadcasting positions near the area's
        // target when the truth says it began (it may leave the area and come back within
        // one episode, so not every report of the span is false).
        let caught = events(r, "interference");
        assert!(!caught.is_empty() && a.interfered_positions > 0, "{a:?}");
        let fx = fixes(r);
        for e in caught {
            let target = LatLon::new(
                e.details["broadcast_lat"].as_f64().unwrap(),
                e.details["broadcast_lon"].as_f64().unwrap(),
            );
            let s = t(&e.start);
            let first = fx.iter().filter(|f| f.mmsi == e.mmsi && f.t == s);
            assert!(
                first.clone().count() == 0
                    || first.clone().any(|f| haversine_m(f.pos, target) < 5_000.0),
                "{}: the first false position is away from the target",
                e.id
            );
        }
    }
}

fn black_sea() -> &'static Run {
    static R: OnceLock<Run> = OnceLock::new();
    R.get_or_init(|| run("black_sea", 30, 0.5, 3))
}

#[test]
fn black_sea_services_closures_and_gates_are_in_the_truth() {
    let r = black_sea();
    assert_eq!(
        r.rejected, r.report.ais.bad_checksums,
        "rejections other than bad checksums"
    );
    let closure = r
        .truth
        .iter()
        .find_map(|x| match x {
            TruthRecord::Closure(c) => Some(c.clone()),
            _ => None,
        })
        .expect("a closure record");
    assert_eq!(closure.port, "UA-ODESA");
    let (c0, c1) = (t(&closure.start), t(&closure.end));
    let grain: std::collections::HashSet<u32> = r
        .truth
        .iter()
        .filter_map(|x| match x {
            TruthRecord::Vessel(v) if v.class == "grain-corridor" => {
                assert_eq!(v.role, "service");
                assert!(v.identities.iter().all(|i| i.ship_type == 70));
                Some(v.vessel)
            }
            _ => None,
        })
        .collect();
    assert!(grain.len() >= 30, "{}", grain.len());
    let calls = events(r, "port_call");
    let mut ua_loads = 0;
    for e in &calls {
        let place = e.details["place"].as_str().unwrap();
        // Nothing leaves the closed port while it is closed.
        if place == "UA-ODESA" && e.details.get("clipped").is_none() {
            let leave = t(&e.end);
            assert!(!(c0..c1).contains(&leave), "{e:?} left during the closure");
        }
        if grain.contains(&e.vessel) && place.starts_with("UA-") {
            assert_eq!(e.details["purpose"], "load");
            let (b, a) = (
                e.details["draught_before_m"].as_f64().unwrap(),
                e.details["draught_after_m"].as_f64().unwrap(),
            );
            assert!(a > b + 4.0, "{e:?}: the draught shows the load");
            ua_loads += 1;
        }
    }
    assert!(ua_loads >= 40, "{ua_loads}");
    // Laden grain carriers wait at the Bosporus northern approach; Danube ships off Sulina
    // before they go up the river, and their call at the river port begins when the wait
    // and the passage up the river are over.
    let danube: std::collections::HashSet<u32> = r
        .truth
        .iter()
        .filter_map(|x| match x {
            TruthRecord::Vessel(v) if v.class == "danube" => Some(v.vessel),
            _ => None,
        })
        .collect();
    assert!(danube.len() >= 5, "{}", danube.len());
    let queues = events(r, "queue");
    assert!(!queues.is_empty());
    for q in &queues {
        let ok = (grain.contains(&q.vessel) && q.details["area"] == "TR-BOSPORUS-N-ANCH")
            || (danube.contains(&q.vessel) && q.details["area"] == "RO-SULINA-ROADS");
        assert!(ok, "{q:?}");
    }
    let river_calls: Vec<_> = calls
        .iter()
        .filter(|e| matches!(e.details["place"].as_str(), Some("UA-IZMAIL" | "UA-RENI")))
        .collect();
    assert!(river_calls.len() >= danube.len(), "{}", river_calls.len());
    let start = r
        .truth
        .iter()
        .find_map(|x| match x {
            TruthRecord::Header(h) => Some(t(&h.start)),
            _ => None,
        })
        .expect("a header");
    // Calls of ships that begin the period at the river port have no wait before them.
    for c in river_calls.iter().filter(|c| t(&c.start) > start + 86_400) {
        let waited = queues.iter().any(|q| {
            q.vessel == c.vessel
                && q.details["area"] == "RO-SULINA-ROADS"
                && t(&q.end) < t(&c.start)
                && t(&c.start) - t(&q.end) < 30 * 3600
        });
        assert!(waited, "{c:?} without a wait off Sulina before it");
    }
    // Every transit of the Bosporus crosses both lines, the same way, in order.
    let transits = events(r, "gate_transit");
    // The Crimea coasters keep to the coast (`direct`): from the southern Kerch line to
    // Feodosia's anchorage (about 45 nm) in under 8 h at 9 kn, not out to the lanes'
    // junction 60 km south and back (14–16 h).
    let mut to_feodosia = 0;
    for c in calls.iter().filter(|c| c.details["place"] == "UA-FEODOSIA") {
        let s = t(&c.start);
        let Some(kerch) = transits
            .iter()
            .filter(|e| e.vessel == c.vessel && e.details["gate"] == "GATE-KERCH-S")
            .map(|e| t(&e.start))
            .filter(|&g| g < s && s - g < 24 * 3600)
            .max()
        else {
            continue;
        };
        assert!(
            s - kerch < 8 * 3600,
            "{c:?}: {} h from the Kerch line",
            (s - kerch) / 3600
        );
        to_feodosia += 1;
    }
    assert!(to_feodosia >= 3, "{to_feodosia}");
    for dir in ["left_to_right", "right_to_left"] {
        let n = |gate: &str| {
            transits
                .iter()
                .filter(|e| e.details["gate"] == gate && e.details["direction"] == dir)
                .count()
        };
        let (north, south) = (n("GATE-BOSPORUS-N"), n("GATE-BOSPORUS-S"));
        assert!(
            north > 20 && north.abs_diff(south) <= 3,
            "{dir}: {north} vs {south}"
        );
    }
    assert!(transits.iter().any(|e| e.details["gate"] == "GATE-KERCH-N"));
    // Up and down the Sulina channel: as many out as in, give or take the ships on the
    // river at either end of the period.
    let sulina = |dir: &str| {
        transits
            .iter()
            .filter(|e| e.details["gate"] == "GATE-SULINA" && e.details["direction"] == dir)
            .count()
    };
    let (up, down) = (sulina("right_to_left"), sulina("left_to_right"));
    assert!(
        up >= danube.len() && up.abs_diff(down) <= danube.len(),
        "{up} vs {down}"
    );
}
