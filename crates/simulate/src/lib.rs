//! `shadowfleet simulate`: a deterministic synthetic world of tankers, seen through AIS
//! receivers, with the ground truth every later stage is scored against.
//!
//! The world is real geography (terminals, ports, STS areas, the searoute lane network, Natural
//! Earth land), a fleet drawn from a scenario file, and a discrete-event planner that gives each
//! ship voyages: load (draught up), sail, hand cargo to a mother ship by STS (possibly several
//! hops), discharge (draught down). Deceptive behaviour is injected with its truth: dark
//! periods, dark STS, loitering, spoofing and identity changes. The emitter turns the plans into
//! ITU-R M.1371 reports as shore stations and satellites receive them, written as NMEA with tag
//! blocks through the decoder crate's encoder. See `docs/simulator.md`.
//!
//! Same seed, same bytes: every random draw comes from [`rng::Rng`] streams keyed by the seed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use shadowfleet_decode::AisText;
use shadowfleet_model::Timestamp;

mod emit;
pub mod export;
mod fleet;
mod plan;
pub mod published;
pub mod rng;
pub mod scenario;
pub mod truth;
pub mod world;

pub use emit::EmitStats;
pub use scenario::{Scenario, ScenarioError};
pub use world::World;

use fleet::{Ident, Parcel, Role, Ship};
use plan::{callsign, imo_number, mmsi_for, pick, pick_key, ship_name, Planner, OPEN};
use rng::Rng;
use truth::TruthRecord;

/// Why a simulation failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Reference data or scenario content is unusable.
    #[error("{0}")]
    Data(String),
    /// Writing the output failed.
    #[error("{0}")]
    Io(String),
}

/// Run options on top of the scenario.
#[derive(Debug, Clone, Copy)]
pub struct SimOptions {
    /// Seed: same seed, same bytes.
    pub seed: u64,
    /// Days to simulate (the scenario's default when None).
    pub days: Option<u32>,
    /// Multiplies every fleet count.
    pub fleet_scale: f64,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct SimReport {
    /// Ships simulated.
    pub vessels: usize,
    /// AIS counters.
    pub ais: EmitStats,
    /// Truth records written, by kind: events, cargoes.
    pub events: u64,
    /// Cargo records.
    pub cargoes: u64,
    /// Distinct routes planned; each was checked to touch no land outside canals.
    pub routes: u64,
    /// Route segments checked against land.
    pub route_segments: u64,
    /// Wall-clock seconds spent planning voyages (routing included) and emitting AIS.
    pub planning_s: f64,
    /// See `planning_s`.
    pub emitting_s: f64,
    /// Simulated period.
    pub start: String,
    /// End of the period (exclusive).
    pub end: String,
}

/// RFC 3339 UTC text of unix seconds.
pub fn rfc3339(t: i64) -> String {
    Timestamp::from_unix_seconds(t).to_string()
}

const DAY: i64 = 86_400;
/// How far the planner runs ahead of the emitter.
const HORIZON: i64 = 2 * DAY;
/// The emitter's step between planner runs.
const SLICE: i64 = 3600;

fn scaled(n: u32, f: f64) -> usize {
    (f64::from(n) * f).round() as usize
}

/// A run kept in memory (for tests and small experiments): the AIS bytes, the parsed truth
/// records and the report. `scenario` is a built-in name or a TOML path.
pub fn simulate_in_memory(
    scenario: &str,
    opts: &SimOptions,
) -> Result<(Vec<u8>, Vec<TruthRecord>, SimReport), SimError> {
    let scenario = Scenario::load(scenario).map_err(|e| SimError::Data(e.to_string()))?;
    let world = World::load(scenario.ais.station_spacing_deg)?;
    let (mut ais, mut truth) = (Vec::new(), Vec::new());
    let report = simulate(&scenario, &world, opts, &mut ais, &mut truth)?;
    let text = String::from_utf8(truth).map_err(|e| SimError::Io(e.to_string()))?;
    let records = truth::read_truth(&text).map_err(|e| SimError::Data(format!("truth: {e}")))?;
    Ok((ais, records, report))
}

/// Runs a scenario: writes AIS lines to `ais` and truth NDJSON to `truth`.
pub fn simulate<A: Write, T: Write>(
    scenario: &Scenario,
    world: &World,
    opts: &SimOptions,
    ais: A,
    truth: T,
) -> Result<SimReport, SimError> {
    simulate_reporting(scenario, world, opts, ais, truth, &mut |_| {})
}

/// [`simulate`], telling `progress` the share of the simulated period done (0 to 1) after
/// each hour of it.
pub fn simulate_reporting<A: Write, T: Write>(
    scenario: &Scenario,
    world: &World,
    opts: &SimOptions,
    ais: A,
    mut truth: T,
    progress: &mut dyn FnMut(f64),
) -> Result<SimReport, SimError> {
    let start = Timestamp::parse_rfc3339(&scenario.start)
        .map_err(|e| SimError::Data(format!("start: {e}")))?
        .unix_millis()
        / 1000;
    let days = opts.days.unwrap_or(scenario.days);
    let end = start + i64::from(days) * DAY;
    let mut planner = Planner::new(world, scenario, start, end, opts.seed);
    planner.validate()?;
    write_record(
        &mut truth,
        &TruthRecord::Header(truth::Header {
            format: "shadowfleet-truth".into(),
            version: truth::TRUTH_VERSION,
            scenario: scenario.name.clone(),
            seed: opts.seed,
            start: rfc3339(start),
            end: rfc3339(end),
            generator: format!("shadowfleet {}", env!("CARGO_PKG_VERSION")),
        }),
    )?;

    let mut ships = build_fleet(scenario, world, opts, start, end)?;
    let clock = std::time::Instant::now();
    let mut planning = std::time::Duration::ZERO;
    let mut plan_heap = BinaryHeap::new();
    // Mother ships first, so that laden shuttles can already meet them.
    let order = (0..ships.len())
        .filter(|&i| ships[i].role == Role::Receiver)
        .chain((0..ships.len()).filter(|&i| ships[i].role != Role::Receiver));
    for i in order.collect::<Vec<_>>() {
        initial_plan(&mut planner, &mut ships, i, start)?;
        if ships[i].free_at < OPEN {
            plan_heap.push(Reverse((ships[i].free_at, i as u32)));
        }
    }
    special_identities(&mut planner, &mut ships, scenario, start, end);
    planning += clock.elapsed();

    // The ships are emitted in two fixed groups, one per thread, whose lines are merged in
    // arrival order after each slice: two cores, and the same bytes on any machine.
    let split = ships.len().div_ceil(2);
    let mut emitters = [
        emit::Emitter::new(&scenario.ais, world, opts.seed, 0, start),
        emit::Emitter::new(&scenario.ais, world, opts.seed, 1, start),
    ];
    let mut tx_heaps = [BinaryHeap::new(), BinaryHeap::new()];
    for (i, s) in ships.iter_mut().enumerate() {
        s.next_static = start + s.rng.below(360) as i64;
        tx_heaps[usize::from(i >= split)].push(Reverse((start + s.rng.below(60) as i64, i as u32)));
    }
    let mut ais = ais;
    let (mut events, mut cargoes) = (0u64, 0u64);
    let mut slice = start;
    while slice < end {
        let next = (slice + SLICE).min(end);
        let plan_clock = std::time::Instant::now();
        while let Some(&Reverse((f, i))) = plan_heap.peek() {
            if f >= next + HORIZON {
                break;
            }
            plan_heap.pop();
            if f >= end {
                continue;
            }
            planner.plan(&mut ships, i as usize)?;
            let i = i as usize;
            for j in std::iter::once(i).chain(planner.woken.iter().copied()) {
                if let Some((end, start)) = ships[j].overlap {
                    return Err(SimError::Data(format!(
                        "planner bug: vessel {j}'s plan has a segment starting at {} before the \
                         previous one ends at {}",
                        rfc3339(start),
                        rfc3339(end)
                    )));
                }
            }
            if ships[i].free_at < OPEN {
                plan_heap.push(Reverse((ships[i].free_at, i as u32)));
            }
            // A mother ship given a cargo is free again after the transfer.
            for j in std::mem::take(&mut planner.woken) {
                plan_heap.push(Reverse((ships[j].free_at, j as u32)));
            }
        }
        planning += plan_clock.elapsed();
        {
            let (first, second) = ships.split_at_mut(split);
            let [e0, e1] = &mut emitters;
            let [h0, h1] = &mut tx_heaps;
            let r0 = std::thread::scope(|scope| {
                let other = scope.spawn(|| emit_slice(e1, second, split, h1, next, end));
                let mine = emit_slice(e0, first, 0, h0, next, end);
                let theirs = other
                    .join()
                    .unwrap_or_else(|_| Err(SimError::Io("an emitter thread panicked".into())));
                mine.and(theirs)
            });
            r0?;
        }
        if next >= end {
            emitters.iter_mut().for_each(|e| e.finish());
        }
        merge_lines(&mut emitters, &mut ais)?;
        for e in &mut emitters {
            for (i, d, on) in e.darks.drain(..) {
                let (off, mmsi) = d.off.unwrap_or((on, 0));
                planner.dark_event(i, mmsi, &d, off, on);
            }
            for (i, s) in e.spoofs.drain(..) {
                planner.spoofing_event(i, &s);
            }
        }
        drain_records(&mut planner.records, &mut truth, &mut events, &mut cargoes)?;
        slice = next;
        progress((slice - start) as f64 / (end - start).max(1) as f64);
    }
    ais.flush()
        .map_err(|e| SimError::Io(format!("writing AIS: {e}")))?;
    let mut stats = EmitStats::default();
    let mut interfered = emit::Interfered::new();
    for e in &mut emitters {
        stats.add(&e.stats);
        interfered.append(&mut e.interfered);
    }

    // Dark periods still running at the end, cargoes still at sea, vessels, volumes.
    for (i, s) in ships.iter_mut().enumerate() {
        while let Some(sp) = s.spoof.pop_front() {
            if sp.start < end {
                planner.spoofing_event(i, &sp);
            }
        }
        while let Some(d) = s.dark.pop_front() {
            if d.start < end {
                let at = s.kinematics(end - 1).map(|k| k.0).unwrap_or(s.pos);
                let off = d.off.unwrap_or((at, s.ident(d.start).mmsi));
                let d = fleet::Dark {
                    off: Some(off),
                    ..d
                };
                planner.dark_event(i, off.1, &d, off.0, at);
            }
        }
        for p in std::mem::take(&mut s.parcels) {
            let r = planner.cargo_record(&p, None);
            planner.records.push(r);
        }
    }
    for ((area, episode, i), (mmsi, first, last, heard)) in interfered {
        if heard > 0 {
            let a = &scenario.ais.artefacts.interference[area as usize];
            planner.interference_event(i as usize, mmsi, (first, last), (area, episode), a, heard);
        }
    }
    planner
        .records
        .push(TruthRecord::Artefacts(truth::Artefacts {
            late_relays: stats.late_relays,
            untimed_messages: stats.untimed,
            untimed_positions: stats.untimed_positions,
            interfered_positions: stats.interfered,
        }));
    for c in &scenario.closure {
        let (from, to) = planner.closure_span(c);
        planner.records.push(TruthRecord::Closure(truth::Closure {
            port: c.port.clone(),
            start: rfc3339(from),
            end: rfc3339(to),
            note: c.note.clone(),
        }));
    }
    for (i, s) in ships.iter().enumerate() {
        planner.records.push(vessel_record(i, s, start, end));
    }
    for ((country, month, origin), v) in std::mem::take(&mut planner.volumes) {
        planner.records.push(TruthRecord::Volume(truth::Volume {
            country,
            month,
            origin_country: origin,
            cargoes: v.cargoes,
            volume_t: v.tonnes,
            volume_bbl: v.barrels,
            via_sts_bbl: v.via_sts_barrels,
        }));
    }
    drain_records(&mut planner.records, &mut truth, &mut events, &mut cargoes)?;
    truth
        .flush()
        .map_err(|e| SimError::Io(format!("writing truth: {e}")))?;
    Ok(SimReport {
        vessels: ships.len(),
        ais: stats,
        events,
        cargoes,
        planning_s: planning.as_secs_f64(),
        emitting_s: (clock.elapsed() - planning).as_secs_f64(),
        routes: planner.routes_checked,
        route_segments: planner.segments_checked,
        start: rfc3339(start),
        end: rfc3339(end),
    })
}

/// Runs one emitter over its ships' ticks before `until`.
fn emit_slice(
    emitter: &mut emit::Emitter<'_>,
    ships: &mut [Ship],
    base: usize,
    heap: &mut BinaryHeap<Reverse<(i64, u32)>>,
    until: i64,
    end: i64,
) -> Result<(), SimError> {
    while let Some(&Reverse((t, i))) = heap.peek() {
        if t >= until {
            break;
        }
        heap.pop();
        if let Some(n) = emitter.tick(ships, base, i as usize, t)? {
            if n < end {
                heap.push(Reverse((n, i)));
            }
        }
    }
    Ok(())
}

/// Writes the lines of both emitters in order of receive time (the first group first on
/// ties) and empties their buffers.
fn merge_lines<A: Write>(
    emitters: &mut [emit::Emitter<'_>; 2],
    out: &mut A,
) -> Result<(), SimError> {
    let io = |e: std::io::Error| SimError::Io(format!("writing AIS: {e}"));
    let [a, b] = emitters;
    let (mut i, mut j) = (0, 0);
    let (mut from_a, mut from_b) = (0usize, 0usize);
    while i < a.keys.len() || j < b.keys.len() {
        let take_a = j == b.keys.len() || (i < a.keys.len() && a.keys[i].0 <= b.keys[j].0);
        if take_a {
            let to = a.keys[i].1 as usize;
            out.write_all(&a.buf[from_a..to]).map_err(io)?;
            from_a = to;
            i += 1;
        } else {
            let to = b.keys[j].1 as usize;
            out.write_all(&b.buf[from_b..to]).map_err(io)?;
            from_b = to;
            j += 1;
        }
    }
    for e in [a, b] {
        e.buf.clear();
        e.keys.clear();
    }
    Ok(())
}

/// One truth record as a line of NDJSON.
fn write_record<T: Write>(truth: &mut T, r: &TruthRecord) -> Result<(), SimError> {
    serde_json::to_writer(&mut *truth, r)
        .map_err(|e| SimError::Io(format!("writing truth: {e}")))?;
    truth
        .write_all(b"\n")
        .map_err(|e| SimError::Io(format!("writing truth: {e}")))
}

/// Writes and counts the records the planner has produced so far.
fn drain_records<T: Write>(
    records: &mut Vec<TruthRecord>,
    truth: &mut T,
    events: &mut u64,
    cargoes: &mut u64,
) -> Result<(), SimError> {
    for r in records.drain(..) {
        match r {
            TruthRecord::Event(_) => *events += 1,
            TruthRecord::Cargo(_) => *cargoes += 1,
            _ => {}
        }
        write_record(truth, &r)?;
    }
    Ok(())
}

/// Share of the sanctioned vessels designated before the data start; the others are designated
/// during the simulated period or within [`LATE_DESIGNATION_DAYS`] after it.
const DESIGNATED_BEFORE: f64 = 0.65;
/// How long after the simulated period the last designations fall, days.
const LATE_DESIGNATION_DAYS: i64 = 60;
/// How far before the start the earliest designations fall, days (EU package 14 was 2024-06-25).
const EARLY_DESIGNATION_DAYS: i64 = 700;

/// The day vessel `i` (sanctioned) was designated: a hash of what the seeded world gave it (its
/// index, first IMO and build year), so that no random draw of the simulation moves.
fn designation_day(i: usize, s: &Ship, start: i64, end: i64) -> Option<String> {
    if !s.sanctioned {
        return None;
    }
    let imo = s.identities.first().map_or(0, |(_, id)| u64::from(id.imo));
    let mut h = (i as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(imo << 20)
        .wrapping_add(u64::from(s.build_year));
    // splitmix64's finaliser.
    h ^= h >> 30;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    let u = (h >> 11) as f64 / (1u64 << 53) as f64;
    let t = if u < DESIGNATED_BEFORE {
        start - DAY * (1 + (u / DESIGNATED_BEFORE * EARLY_DESIGNATION_DAYS as f64) as i64)
    } else {
        let span = (end - start) / DAY + LATE_DESIGNATION_DAYS;
        let f = (u - DESIGNATED_BEFORE) / (1.0 - DESIGNATED_BEFORE);
        start + DAY * (f * span as f64) as i64
    };
    Some(rfc3339(t)[..10].to_owned())
}

fn vessel_record(i: usize, s: &Ship, start: i64, end: i64) -> TruthRecord {
    TruthRecord::Vessel(truth::Vessel {
        vessel: i as u32,
        role: s.role.name().into(),
        shadow: matches!(s.role, Role::Shadow | Role::Receiver),
        sanctioned: s.sanctioned,
        class: s.class.clone(),
        dwt: s.dwt,
        length_m: s.length_m,
        beam_m: s.beam_m,
        draught_m: s.draught_m,
        build_year: s.build_year,
        ais_class: if s.class_b { "B" } else { "A" }.into(),
        identities: s
            .identities
            .iter()
            .map(|(from, id)| truth::Identity {
                from: rfc3339((*from).max(start)),
                mmsi: id.mmsi,
                imo: id.imo,
                name: id.name.as_str().to_owned(),
                callsign: id.callsign.as_str().to_owned(),
                flag: id.flag.clone(),
                ship_type: id.ship_type,
            })
            .collect(),
        scrapped: s.scrap_at.map(rfc3339),
        designated_on: designation_day(i, s, start, end),
    })
}

fn build_fleet(
    scenario: &Scenario,
    world: &World,
    opts: &SimOptions,
    start: i64,
    end: i64,
) -> Result<Vec<Ship>, SimError> {
    let f = &scenario.fleet;
    let scale = opts.fleet_scale;
    let background = scaled(f.background, scale);
    let fishing = (background as f64 * f.background_fishing_share).round() as usize;
    let roles: Vec<Role> = std::iter::repeat_n(Role::Shadow, scaled(f.shadow, scale))
        .chain(std::iter::repeat_n(
            Role::Receiver,
            scaled(f.receivers, scale),
        ))
        .chain(std::iter::repeat_n(
            Role::Mainstream,
            scaled(f.mainstream, scale),
        ))
        .chain(std::iter::repeat_n(Role::Cargo, background - fishing))
        .chain(std::iter::repeat_n(Role::Fishing, fishing))
        .chain(std::iter::repeat_n(
            Role::Scrapped,
            scenario.behaviour.zombies as usize,
        ))
        .chain(scenario.service.iter().enumerate().flat_map(|(k, sv)| {
            std::iter::repeat_n(Role::Service(k as u16), scaled(sv.ships, scale))
        }))
        .collect();
    let mut ships = Vec::with_capacity(roles.len());
    // IMO numbers are unique (a zombie's stolen IMO comes later, on purpose).
    let mut imos = std::collections::HashSet::new();
    for (i, role) in roles.into_iter().enumerate() {
        let mut rng = Rng::new(opts.seed, i as u64);
        let (classes, flags) = match role {
            Role::Shadow => (&scenario.classes.shadow, &scenario.flags.shadow),
            Role::Receiver => (&scenario.classes.receiver, &scenario.flags.receiver),
            Role::Mainstream | Role::Scrapped => {
                (&scenario.classes.mainstream, &scenario.flags.mainstream)
            }
            Role::Cargo | Role::Fishing => {
                (&scenario.classes.mainstream, &scenario.flags.background)
            }
            Role::Service(k) => (
                &scenario.classes.mainstream,
                &scenario.service[usize::from(k)].flags,
            ),
        };
        let flag = pick_key(&mut rng, flags);
        let tanker = !matches!(role, Role::Cargo | Role::Fishing | Role::Service(_));
        let (class, dwt, length, beam, draught, speed, fill) = if tanker {
            let name = pick_key(&mut rng, classes);
            let c = world
                .class(&name)
                .map(|k| &world.classes[k])
                .ok_or_else(|| {
                    SimError::Data(format!(
                        "scenario {}: unknown tanker class {name:?}",
                        scenario.name
                    ))
                })?;
            let dwt = rng.range(c.dwt[0], c.dwt[1]).round();
            (
                c.name.clone(),
                dwt,
                c.length_m,
                c.beam_m,
                c.draught_m,
                c.speed_kn,
                c.fill_factor,
            )
        } else if let Role::Service(k) = role {
            let sv = &scenario.service[usize::from(k)];
            (
                sv.name.clone(),
                0.0,
                sv.length_m,
                (sv.length_m / 6.5).round(),
                sv.draught_m,
                [sv.speed_kn, sv.speed_kn],
                0.0,
            )
        } else if role == Role::Fishing {
            (
                "fishing".into(),
                0.0,
                24.0,
                7.0,
                [3.5, 3.5],
                [9.0, 9.0],
                0.0,
            )
        } else {
            (
                "cargo".into(),
                0.0,
                190.0,
                30.0,
                [9.5, 9.5],
                [14.0, 14.0],
                0.0,
            )
        };
        let build_year = match role {
            Role::Shadow | Role::Receiver => 1999 + rng.below(12) as u32,
            Role::Scrapped => 1996 + rng.below(5) as u32,
            Role::Mainstream => 2009 + rng.below(15) as u32,
            _ => 1995 + rng.below(28) as u32,
        };
        let ship_type = match role {
            Role::Cargo => 70,
            Role::Fishing => 30,
            Role::Service(k) => scenario.service[usize::from(k)].ship_type,
            _ => 80 + rng.below(2) as u8 * 4,
        };
        let ident = Ident {
            mmsi: mmsi_for(world, &flag, &mut rng),
            imo: if role == Role::Fishing {
                0
            } else {
                loop {
                    let n = imo_number(&mut rng);
                    if imos.insert(n) {
                        break n;
                    }
                }
            },
            name: AisText::from_str_lossy(&ship_name(&mut rng, tanker)),
            callsign: AisText::from_str_lossy(&callsign(&mut rng)),
            flag,
            ship_type,
        };
        let b = &scenario.behaviour;
        let shadow = matches!(role, Role::Shadow | Role::Receiver);
        ships.push(Ship {
            role,
            class,
            dwt,
            length_m: length,
            beam_m: beam,
            draught_m: draught,
            speed_kn: speed,
            fill_factor: fill,
            build_year,
            class_b: role == Role::Fishing,
            sanctioned: shadow && rng.chance(b.sanctioned_share),
            identities: vec![(i64::MIN / 2, ident)],
            schedule: Default::default(),
            dark: Default::default(),
            spoof: Default::default(),
            free_at: start,
            pos: Default::default(),
            place: None,
            draught_dm: (draught[0] * 10.0).round() as u8,
            parcels: Vec::new(),
            hops: 0,
            will_change_identity: role == Role::Shadow && rng.chance(b.identity_change_share),
            scrap_at: (role == Role::Scrapped)
                .then(|| start + ((end - start) as f64 * rng.range(0.1, 0.3)) as i64),
            rng,
            next_static: start,
            declare: None,
            laden: false,
            index: i as u32,
            overlap: None,
        });
    }
    Ok(ships)
}

/// The state each ship is in when the period starts.
fn initial_plan(
    planner: &mut Planner<'_>,
    ships: &mut [Ship],
    i: usize,
    start: i64,
) -> Result<(), SimError> {
    let sc = planner.scenario;
    let world = planner.world;
    let role = ships[i].role;
    match role {
        Role::Receiver => {
            let s = &mut ships[i];
            let area = pick(&mut s.rng, world, &sc.trade.sts_areas)?;
            s.place = Some(area);
            let at = planner.point_in_area(area, &mut s.rng);
            s.pos = at;
            let phase = s.rng.range(0.0, std::f64::consts::TAU);
            Planner::hold(s, at, (start - 3600, OPEN), 1, "", phase);
            s.free_at = OPEN;
            planner.pool.push((i, area));
        }
        Role::Cargo | Role::Fishing => {
            let s = &mut ships[i];
            let home = pick(&mut s.rng, world, &sc.trade.background_ports)?;
            wait_at_anchorage(s, world, home, start, 5);
        }
        Role::Service(k) => {
            // In ballast: half are in the middle of a call at a load port (it began up to a
            // call's length before the start, so that departures flow from the first day),
            // half leave a discharge port's anchorage over the first week.
            let sv = &sc.service[usize::from(k)];
            let s = &mut ships[i];
            let loading = s.rng.chance(0.5);
            let list = if loading { &sv.load } else { &sv.discharge };
            let place = pick(&mut s.rng, world, list)?;
            s.draught_dm = plan::draught_dm(s);
            wait_at_anchorage(s, world, place, start, 1);
            let until = if loading {
                s.schedule.clear();
                start - (s.rng.f64() * (sv.port_hours[1] + 20.0) * 3600.0) as i64
            } else {
                start + (s.rng.f64() * 7.0 * DAY as f64) as i64
            };
            if let Some(seg) = s.schedule.back_mut() {
                seg.end = until;
            }
            s.free_at = until;
        }
        Role::Shadow | Role::Mainstream | Role::Scrapped => {
            let russian = role == Role::Shadow;
            let (loading, discharge) = if russian {
                (&sc.trade.terminals, &sc.trade.destinations)
            } else {
                (&sc.trade.mainstream_loading, &sc.trade.mainstream_discharge)
            };
            let phase = ships[i].rng.f64();
            let progress = ships[i].rng.range(0.05, 0.9);
            if phase < 0.3 {
                // Waiting at a loading place's anchorage.
                let s = &mut ships[i];
                let place = pick(&mut s.rng, world, loading)?;
                wait_at_anchorage(s, world, place, start, 1);
            } else if phase < 0.65 {
                // Laden, part-way to a discharge port.
                let s = &mut ships[i];
                let place = pick(&mut s.rng, world, loading)?;
                s.place = Some(place);
                s.pos = world.places[place].anchorage;
                let product = world.places[place]
                    .products
                    .first()
                    .copied()
                    .unwrap_or("crude");
                let volume_t = (s.dwt * s.fill_factor * s.rng.range(0.9, 1.0)).round();
                let cargo = planner.new_cargo_id();
                s.parcels.push(Parcel {
                    cargo,
                    terminal: place,
                    product,
                    volume_t,
                    loaded: start - DAY,
                    load_event: String::new(),
                    chain: vec![(i as u32, None)],
                });
                s.draught_dm = plan::draught_dm(s);
                planner.deliver(ships, i, start, Some(progress))?;
            } else {
                // In ballast, part-way back from a discharge port.
                let s = &mut ships[i];
                let place = pick(&mut s.rng, world, discharge)?;
                s.place = Some(place);
                s.pos = world.places[place].anchorage;
                planner.load(&mut ships[i], i, start, Some(progress))?;
            }
        }
    }
    Ok(())
}

/// The start of the period finds the ship at `place`'s anchorage until some time in the
/// first day, with navigational status `status`.
fn wait_at_anchorage(s: &mut Ship, world: &World, place: usize, start: i64, status: u8) {
    s.place = Some(place);
    s.pos = world.places[place].anchorage;
    let until = start + (s.rng.f64() * DAY as f64) as i64;
    let phase = s.rng.range(0.0, std::f64::consts::TAU);
    Planner::hold(s, s.pos, (start - 3600, until), status, "", phase);
    s.free_at = until;
}

/// Zombies, shared MMSIs and unallocated MIDs: identity events fixed at the start.
fn special_identities(
    planner: &mut Planner<'_>,
    ships: &mut [Ship],
    scenario: &Scenario,
    start: i64,
    end: i64,
) {
    let world = planner.world;
    let b = &scenario.behaviour;
    let shadow: Vec<usize> = (0..ships.len())
        .filter(|&i| ships[i].role == Role::Shadow)
        .collect();
    let others: Vec<usize> = (0..ships.len())
        .filter(|&i| ships[i].role == Role::Mainstream)
        .collect();
    let scrapped: Vec<usize> = (0..ships.len())
        .filter(|&i| ships[i].role == Role::Scrapped)
        .collect();
    let mut rng = Rng::new(planner.rng.next_u64(), 7);
    let mut used = std::collections::BTreeSet::new();
    let mut take = |rng: &mut Rng| -> Option<usize> {
        for _ in 0..64 {
            let i = *shadow.get(rng.below(shadow.len()))?;
            if used.insert(i) {
                return Some(i);
            }
        }
        None
    };
    if shadow.is_empty() {
        return;
    }
    for &s in &scrapped {
        let Some(z) = take(&mut rng) else { break };
        let scrap = ships[s].scrap_at.unwrap_or(start);
        let t = scrap + (rng.range(2.0, 6.0) * DAY as f64) as i64;
        if t >= end {
            continue;
        }
        let old = ships[z].ident(t).clone();
        let dead = ships[s].ident(scrap).clone();
        let new = Ident {
            imo: dead.imo,
            name: dead.name,
            ..old.clone()
        };
        planner.identity_event(
            &ships[z],
            z,
            t,
            "zombie_imo",
            &old,
            &new,
            Some((s as u32, dead.mmsi)),
        );
        ships[z].set_ident(t, new);
    }
    for _ in 0..b.shared_mmsi {
        let (Some(z), false) = (take(&mut rng), others.is_empty()) else {
            break;
        };
        let a = others[rng.below(others.len())];
        let t = start + ((end - start) as f64 * rng.range(0.1, 0.6)) as i64;
        let old = ships[z].ident(t).clone();
        let victim = ships[a].ident(t).mmsi;
        let new = Ident {
            mmsi: victim,
            ..old.clone()
        };
        planner.identity_event(
            &ships[z],
            z,
            t,
            "shared_mmsi",
            &old,
            &new,
            Some((a as u32, victim)),
        );
        ships[z].set_ident(t, new);
    }
    let n_invalid = (shadow.len() as f64 * b.invalid_mid_share).round() as usize;
    for _ in 0..n_invalid {
        let Some(z) = take(&mut rng) else { break };
        if world.unallocated_mids.is_empty() {
            break;
        }
        let t = start + ((end - start) as f64 * rng.range(0.1, 0.6)) as i64;
        let old = ships[z].ident(t).clone();
        let mid = world.unallocated_mids[rng.below(world.unallocated_mids.len())];
        let new = Ident {
            mmsi: mid * 1_000_000 + 100_000 + rng.below(900_000) as u32,
            flag: "??".into(),
            ..old.clone()
        };
        planner.identity_event(&ships[z], z, t, "invalid_mid", &old, &new, None);
        ships[z].set_ident(t, new);
    }
}
