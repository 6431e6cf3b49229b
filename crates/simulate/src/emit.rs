//! The AIS emitter: what each ship transmits (ITU-R M.1371 reporting intervals), what shore
//! stations and satellites receive, and the NMEA lines with tag blocks that come out.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use shadowfleet_decode::messages::{
    ClassBPositionReport, Dimensions, PositionReport, StaticAndVoyageData, StaticDataPartA,
    StaticDataPartB, StaticDataPartBCommon, StaticDataReport,
};
use shadowfleet_decode::{encode_nmea, AisMessage, Body, EncodeOptions, Header};
use shadowfleet_geo::{offset_m, LatLon, METRES_PER_NM};
use shadowfleet_model::Timestamp;

use crate::fleet::{kinematics, Ship, SpoofKind};
use crate::rng::Rng;
use crate::scenario::AisModel;
use crate::world::World;
use crate::SimError;

/// Counters of one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EmitStats {
    /// Reports the ships transmitted (position and static), dark periods excluded.
    pub transmitted: u64,
    /// Messages received (lines written, a two-sentence message counting once); duplicates
    /// from several stations count each time.
    pub messages: u64,
    /// Of which by satellite.
    pub satellite: u64,
    /// Lines written with a corrupted checksum.
    pub bad_checksums: u64,
    /// Emitter steps (one per ship report slot, dark or not, heard or not).
    pub ticks: u64,
    /// Position reports heard again late through a second station (artefact).
    pub late_relays: u64,
    /// Messages written without a receive time, by stations that write none (artefact).
    pub untimed: u64,
    /// Of which position reports.
    pub untimed_positions: u64,
    /// Position reports broadcast at a false position by area-wide interference (artefact).
    pub interfered: u64,
}

impl EmitStats {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &EmitStats) {
        self.transmitted += other.transmitted;
        self.messages += other.messages;
        self.satellite += other.satellite;
        self.bad_checksums += other.bad_checksums;
        self.ticks += other.ticks;
        self.late_relays += other.late_relays;
        self.untimed += other.untimed;
        self.untimed_positions += other.untimed_positions;
        self.interfered += other.interfered;
    }
}

/// A ship caught by an interference episode: (area, episode, ship) → (MMSI, first and last
/// time, reports heard).
pub(crate) type Interfered = std::collections::BTreeMap<(u32, u32, u32), (u32, i64, i64, u32)>;

/// Turns the plans of a group of ships into received AIS lines, buffered with their receive
/// times so that the groups' lines can be merged in arrival order.
pub struct Emitter<'a> {
    model: &'a AisModel,
    world: &'a World,
    /// Lines produced since the last merge, and per line (receive time, end offset in `buf`).
    pub(crate) buf: Vec<u8>,
    pub(crate) keys: Vec<(i64, u32)>,
    /// Dark periods that ended since the last merge: (ship, period, where it came back on).
    pub(crate) darks: Vec<(usize, crate::fleet::Dark, LatLon)>,
    /// Spoofing episodes that ended since the last merge: (ship, episode).
    pub(crate) spoofs: Vec<(usize, crate::fleet::Spoof)>,
    rng: Rng,
    /// Satellite lines waiting for delivery: (arrival, sequence, pool slot).
    delayed: BinaryHeap<Reverse<(i64, u64, usize)>>,
    pool: Vec<Vec<u8>>,
    free: Vec<usize>,
    seq: u64,
    stations: StationCache,
    far: StationCache,
    group: u32,
    sentence_id: u8,
    pub stats: EmitStats,
    /// Its own random stream, so that switching artefacts on changes nothing else.
    artefact_rng: Rng,
    /// Per shore station: writes no receive time.
    untimed_station: Vec<bool>,
    /// Start of the scenario, for the interference schedule.
    start: i64,
    pub(crate) interfered: Interfered,
}

impl<'a> Emitter<'a> {
    /// The emitter of ship group `group`; each group has its own random stream.
    pub fn new(model: &'a AisModel, world: &'a World, seed: u64, group: u64, start: i64) -> Self {
        let share = model.artefacts.untimed_station_share;
        let untimed_station = world
            .stations
            .iter()
            .map(|st| share > 0.0 && (fnv1a(st.name.as_bytes()) % 10_000) as f64 / 10_000.0 < share)
            .collect();
        Emitter {
            model,
            world,
            buf: Vec::new(),
            keys: Vec::new(),
            darks: Vec::new(),
            spoofs: Vec::new(),
            rng: Rng::new(seed, u64::MAX - 1 - group),
            delayed: BinaryHeap::new(),
            pool: Vec::new(),
            free: Vec::new(),
            seq: 0,
            stations: StationCache::default(),
            far: StationCache::default(),
            group: 0,
            sentence_id: 0,
            stats: EmitStats::default(),
            artefact_rng: Rng::new(seed, u64::MAX - 1000 - group),
            untimed_station,
            start,
            interfered: Interfered::new(),
        }
    }

    /// One tick of ship `i` at `t`: records dark-period truth, transmits unless dark, and
    /// returns the time of its next tick (None: the ship is gone for good).
    /// `ships` is the group, whose first ship has index `base`.
    pub fn tick(
        &mut self,
        ships: &mut [Ship],
        base: usize,
        i: usize,
        t: i64,
    ) -> Result<Option<i64>, SimError> {
        self.release(t);
        self.stats.ticks += 1;
        let ship = &mut ships[i - base];
        // Keep an hour of past plan, so that dark-period ends can be located.
        while ship
            .schedule
            .front()
            .is_some_and(|s| s.end <= t - PLAN_TAIL_S)
        {
            ship.schedule.pop_front();
        }
        let Some(seg) = ship.segment_at(t) else {
            if ship.free_at >= crate::plan::OPEN && ship.schedule.back().is_none_or(|s| s.end <= t)
            {
                return Ok(None);
            }
            return Ok(Some(t + 60));
        };
        let (pos, sog, cog) = kinematics(seg, t);
        let (status, draught, dest, eta) = (seg.status, seg.draught_dm, seg.destination, seg.eta);
        let next = t + self.interval(ship, sog, status);

        // Dark periods: note where the ship went dark, report the period once it ends.
        let mut dark = None;
        while let Some((start, noted)) = ship.dark.front().map(|d| (d.start, d.off.is_some())) {
            if t < start {
                break;
            }
            if !noted {
                let p = ship_position(ship, start).unwrap_or(pos);
                let mmsi = ship.ident(start).mmsi;
                if let Some(d) = ship.dark.front_mut() {
                    d.off = Some((p, mmsi));
                }
            }
            let Some(d) = ship.dark.front() else { break };
            if t < d.end {
                dark = Some(d.end);
                break;
            }
            let d = d.clone();
            ship.dark.pop_front();
            let on = ship_position(ship, d.end).unwrap_or(pos);
            self.darks.push((i, d, on));
        }
        if let Some(on) = dark {
            // Nothing to send until the set comes back on.
            return Ok(Some(next.max(on)));
        }

        // Far from every shore station and no satellite overhead: nobody can hear this ship
        // until a satellite passes or it comes within range, so skip the reports.
        if let Some(skip_to) = self.unheard_until(pos, sog, t) {
            return Ok(Some(next.max(skip_to)));
        }

        // What is broadcast: the true kinematics, or a spoofed position.
        while ship.spoof.front().is_some_and(|s| s.end <= t) {
            if let Some(s) = ship.spoof.pop_front() {
                self.spoofs.push((i, s));
            }
        }
        let (shown, sog, cog) = match ship.spoof.front().filter(|s| s.start <= t) {
            None => (pos, sog, cog),
            Some(s) => match s.kind {
                SpoofKind::Offset { north_m, east_m } | SpoofKind::Jump { north_m, east_m } => {
                    (offset_m(pos, north_m, east_m), sog, cog)
                }
                SpoofKind::Circle { centre, radius_m } => {
                    let w = 8.0 * 0.514_444 / radius_m;
                    let a = w * (t - s.start) as f64;
                    (
                        offset_m(centre, radius_m * a.cos(), radius_m * a.sin()),
                        8.0,
                        (a.to_degrees() + 90.0).rem_euclid(360.0),
                    )
                }
                SpoofKind::Land { at } => (at, 0.0, 0.0),
            },
        };
        // Area-wide interference: a ship inside an active area shows a false position near
        // the area's target (its own spoofing, when on, wins).
        let mut jammed = None;
        let shown = if ship.spoof.front().is_some_and(|s| s.start <= t) {
            shown
        } else {
            match self.interference_at(pos, t) {
                None => shown,
                Some((area, episode)) => {
                    let a = &self.model.artefacts.interference[area as usize];
                    // Each ship its own spot in the scatter, a little jitter per report.
                    let h = fnv1a(&((i as u64) << 24 ^ u64::from(episode)).to_le_bytes());
                    let (u, v) = (
                        (h & 0xffff) as f64 / 65_535.0,
                        ((h >> 16) & 0xffff) as f64 / 65_535.0,
                    );
                    let r = a.scatter_km * 1000.0 * u.sqrt();
                    let ang = v * std::f64::consts::TAU;
                    let jitter =
                        || 30.0 * (((t as u64).wrapping_mul(h) >> 40) as f64 / 16_777_216.0 - 0.5);
                    jammed = Some((area, episode));
                    offset_m(
                        LatLon {
                            lat: a.target_lat,
                            lon: a.target_lon,
                        },
                        r * ang.cos() + jitter(),
                        r * ang.sin() - jitter(),
                    )
                }
            }
        };

        // Copy out what is broadcast (no allocation per message).
        let id = ship.ident(t);
        let (mmsi, imo, name, callsign, ship_type) =
            (id.mmsi, id.imo, id.name, id.callsign, id.ship_type);
        let header = |msg_type| Header {
            msg_type,
            repeat: 0,
            mmsi,
        };
        let sog_noisy = (sog + ship.rng.range(-0.15, 0.15)).max(0.0);
        let cog_noisy = (cog + ship.rng.range(-1.5, 1.5)).rem_euclid(360.0);
        let (lon, lat) = (
            (shown.lon * 600_000.0).round() as i32,
            (shown.lat * 600_000.0).round() as i32,
        );
        let position = if ship.class_b {
            AisMessage {
                header: header(18),
                body: Body::ClassBPositionReport(ClassBPositionReport {
                    speed: (sog_noisy * 10.0).round().min(1022.0) as u16,
                    accuracy: false,
                    lon,
                    lat,
                    course: (cog_noisy * 10.0).round().min(3599.0) as u16,
                    heading: 511,
                    second: (t % 60) as u8,
                    cs: true,
                    radio: 393222,
                    ..Default::default()
                }),
            }
        } else {
            AisMessage {
                header: header(1),
                body: Body::PositionReport(PositionReport {
                    status,
                    turn: 0,
                    speed: (sog_noisy * 10.0).round().min(1022.0) as u16,
                    accuracy: true,
                    lon,
                    lat,
                    course: (cog_noisy * 10.0).round().min(3599.0) as u16,
                    heading: (cog + ship.rng.range(-3.0, 3.0)).rem_euclid(360.0).round() as u16
                        % 360,
                    second: (t % 60) as u8,
                    ..Default::default()
                }),
            }
        };
        let heard = self.transmit(&position, pos, t)?;
        if let Some(s) = ship.spoof.front_mut().filter(|s| s.start <= t) {
            s.heard += u32::from(heard);
        }
        if let Some((area, episode)) = jammed {
            self.stats.interfered += 1;
            let e = self
                .interfered
                .entry((area, episode, i as u32))
                .or_insert((mmsi, t, t, 0));
            e.2 = t;
            e.3 += u32::from(heard);
        }

        if t >= ship.next_static {
            ship.next_static = t + i64::from(self.model.static_interval_s);
            let bow = (ship.length_m * 0.85).round() as u16;
            let dims = (
                bow,
                ship.length_m.round() as u16 - bow,
                (ship.beam_m / 2.0).round() as u8,
            );
            if ship.class_b {
                // Class B "CS" units send part A and part B at each static interval.
                let a = AisMessage {
                    header: header(24),
                    body: Body::StaticDataReport(StaticDataReport::PartA(StaticDataPartA {
                        shipname: name,
                    })),
                };
                self.transmit(&a, pos, t)?;
                let b = StaticDataReport::PartB(StaticDataPartB {
                    common: StaticDataPartBCommon {
                        shiptype: ship_type,
                        callsign,
                        ..Default::default()
                    },
                    dim: Dimensions {
                        to_bow: dims.0,
                        to_stern: dims.1,
                        to_port: dims.2,
                        to_starboard: dims.2,
                    },
                    mothership_mmsi: 0,
                });
                let b = AisMessage {
                    header: header(24),
                    body: Body::StaticDataReport(b),
                };
                self.transmit(&b, pos, t)?;
            } else {
                let ts = Timestamp::from_unix_seconds(eta).to_utc();
                let msg = AisMessage {
                    header: header(5),
                    body: Body::StaticAndVoyageData(StaticAndVoyageData {
                        ais_version: 2,
                        imo,
                        callsign,
                        shipname: name,
                        shiptype: ship_type,
                        to_bow: dims.0,
                        to_stern: dims.1,
                        to_port: dims.2,
                        to_starboard: dims.2,
                        epfd: 1,
                        month: if dest.is_empty() { 0 } else { ts.1 as u8 },
                        day: if dest.is_empty() { 0 } else { ts.2 as u8 },
                        hour: if dest.is_empty() { 24 } else { ts.3 as u8 },
                        minute: if dest.is_empty() { 60 } else { ts.4 as u8 },
                        draught,
                        destination: dest,
                        dte: 0,
                    }),
                };
                self.transmit(&msg, pos, t)?;
            }
        }
        Ok(Some(next))
    }

    /// Reporting interval (ITU-R M.1371-5 Annex 1 Table 1, Class B Table 2), raised to the
    /// aggregator's downsampling interval, with ±5 % jitter.
    fn interval(&self, ship: &mut Ship, sog: f64, status: u8) -> i64 {
        let itu: f64 = if ship.class_b {
            if sog <= 2.0 {
                180.0
            } else {
                30.0
            }
        } else if matches!(status, 1 | 5) && sog <= 3.0 {
            180.0
        } else if sog <= 14.0 {
            10.0
        } else if sog <= 23.0 {
            6.0
        } else {
            2.0
        };
        let base = itu.max(f64::from(self.model.downsample_s));
        (base * ship.rng.range(0.95, 1.05)).round().max(1.0) as i64
    }

    /// One transmission from true position `at`: shore stations in range hear it with a
    /// probability falling with distance; otherwise a satellite in view may. True when
    /// someone heard it.
    fn transmit(&mut self, msg: &AisMessage, at: LatLon, t: i64) -> Result<bool, SimError> {
        self.stats.transmitted += 1;
        let m = self.model;
        let range = m.terrestrial_range_nm * METRES_PER_NM;
        let mut heard = false;
        let world = self.world;
        for (s, d) in self.stations.nearest_two(world, at, range) {
            if s == u32::MAX {
                continue;
            }
            let p = if d <= range / 2.0 {
                m.terrestrial_p[0]
            } else {
                m.terrestrial_p[0]
                    + (m.terrestrial_p[1] - m.terrestrial_p[0]) * (d / range - 0.5) * 2.0
            };
            if self.rng.chance(p) {
                heard = true;
                let start = self.buf.len();
                let lost = m.artefacts.untimed_line_rate;
                let stripped = lost > 0.0 && self.artefact_rng.chance(lost);
                let timed = !(self.untimed_station[s as usize] || stripped);
                self.encode(msg, t, &world.stations[s as usize].name, start, timed)?;
                self.keys.push((t, self.buf.len() as u32));
            }
        }
        // A late relay: the other station in range hears the report again, minutes later,
        // and stamps it with its late arrival.
        let relay = m.artefacts.late_relay_rate;
        if heard && relay > 0.0 && msg.position().is_some() && self.artefact_rng.chance(relay) {
            let [_, (other, _)] = self.stations.nearest_two(world, at, range);
            if other != u32::MAX && !self.untimed_station[other as usize] {
                let [lo, hi] = m.artefacts.late_relay_min;
                // Never a whole number of minutes: the report's own second gives it away.
                let late = (self.artefact_rng.range(lo, hi) * 60.0) as i64 / 60 * 60
                    + 5
                    + self.artefact_rng.below(50) as i64;
                self.delay(msg, t + late, &world.stations[other as usize].name)?;
                self.stats.late_relays += 1;
            }
        }
        if !heard && self.satellite_in_view(at, t) && self.rng.chance(m.satellite_p) {
            let slot = self.encode_aside(msg, t, SATELLITES[(t / 6000).rem_euclid(3) as usize])?;
            let latency = self
                .rng
                .range(m.satellite_latency_min[0], m.satellite_latency_min[1]);
            self.seq += 1;
            self.delayed
                .push(Reverse((t + (latency * 60.0) as i64, self.seq, slot)));
            self.stats.satellite += 1;
            heard = true;
        }
        Ok(heard)
    }

    /// Encodes `msg` as received by `station` at `received` into a pool slot of its own,
    /// for delivery later; the slot.
    fn encode_aside(
        &mut self,
        msg: &AisMessage,
        received: i64,
        station: &str,
    ) -> Result<usize, SimError> {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.pool.push(Vec::with_capacity(256));
            self.pool.len() - 1
        });
        let mut line = std::mem::take(&mut self.pool[slot]);
        line.clear();
        std::mem::swap(&mut self.buf, &mut line);
        let result = self.encode(msg, received, station, 0, true);
        std::mem::swap(&mut self.buf, &mut line);
        self.pool[slot] = line;
        result.map(|()| slot)
    }

    /// `msg` heard by `station` and stamped `arrival`, delivered then.
    fn delay(&mut self, msg: &AisMessage, arrival: i64, station: &str) -> Result<(), SimError> {
        let slot = self.encode_aside(msg, arrival, station)?;
        self.seq += 1;
        self.delayed.push(Reverse((arrival, self.seq, slot)));
        Ok(())
    }

    /// The interference area and episode active where a ship truly is at `t`, if any.
    fn interference_at(&self, at: LatLon, t: i64) -> Option<(u32, u32)> {
        let areas = &self.model.artefacts.interference;
        areas.iter().enumerate().find_map(|(k, a)| {
            let episode = a.episode_at(t - self.start)?;
            let d = crate::world::distance_m(
                at,
                LatLon {
                    lat: a.lat,
                    lon: a.lon,
                },
            );
            (d <= a.radius_km * 1000.0).then_some((k as u32, episode))
        })
    }

    /// When the ship at `at` is out of shore range by more than [`FAR_MARGIN_M`] and no
    /// satellite is in view: the earliest time anyone could hear it (the next pass, or the
    /// time to sail the margin). `None` when it may be heard now.
    fn unheard_until(&mut self, at: LatLon, sog_kn: f64, t: i64) -> Option<i64> {
        if self.satellite_in_view(at, t) {
            return None;
        }
        let range = self.model.terrestrial_range_nm * METRES_PER_NM;
        if self
            .far
            .any_within(self.world, at, range + FAR_MARGIN_M + STATION_CELL_REACH_M)
        {
            return None;
        }
        let period = (self.model.satellite_revisit_min * 60.0).max(1.0) as i64;
        let cell =
            ((at.lat / 10.0).floor() as i64 * 37 + (at.lon / 10.0).floor() as i64).rem_euclid(97);
        let phase = cell * period / 97;
        let next_pass = t + (period - (t + phase).rem_euclid(period));
        let sail = (FAR_MARGIN_M / (sog_kn * 0.514_444).max(1.0)) as i64;
        Some(next_pass.min(t + sail).min(t + PLAN_TAIL_S / 2))
    }

    fn satellite_in_view(&self, at: LatLon, t: i64) -> bool {
        let period = self.model.satellite_revisit_min * 60.0;
        // Each 10-degree cell sees the constellation at its own phase.
        let cell =
            ((at.lat / 10.0).floor() as i64 * 37 + (at.lon / 10.0).floor() as i64).rem_euclid(97);
        let phase = cell as f64 / 97.0 * period;
        (t as f64 + phase).rem_euclid(period) < self.model.satellite_pass_min * 60.0
    }

    fn encode(
        &mut self,
        msg: &AisMessage,
        t: i64,
        station: &str,
        start: usize,
        timed: bool,
    ) -> Result<(), SimError> {
        self.group = self.group % 9999 + 1;
        self.sentence_id = (self.sentence_id + 1) % 10;
        let opts = EncodeOptions {
            channel: Some(if self.group.is_multiple_of(2) {
                b'A'
            } else {
                b'B'
            }),
            sequence_id: self.sentence_id,
            received: timed.then(|| Timestamp::from_unix_seconds(t)),
            station: Some(station),
            group_id: self.group,
            ..Default::default()
        };
        encode_nmea(msg, &opts, &mut self.buf);
        self.stats.messages += 1;
        if !timed {
            self.stats.untimed += 1;
            self.stats.untimed_positions += u64::from(msg.position().is_some());
        }
        if self.rng.chance(self.model.bad_checksum_rate) {
            // Corrupt the first checksum digit of the last sentence.
            if let Some(star) = self.buf[start..].iter().rposition(|&b| b == b'*') {
                let k = start + star + 1;
                if k < self.buf.len() {
                    self.buf[k] = if self.buf[k] == b'0' { b'1' } else { b'0' };
                    self.stats.bad_checksums += 1;
                }
            }
        }
        Ok(())
    }

    /// Adds the satellite lines that have arrived by `t`.
    fn release(&mut self, t: i64) {
        while let Some(&Reverse((arrival, _, slot))) = self.delayed.peek() {
            if arrival > t {
                break;
            }
            self.delayed.pop();
            self.buf.extend_from_slice(&self.pool[slot]);
            self.keys.push((arrival, self.buf.len() as u32));
            self.free.push(slot);
        }
    }

    /// Delivers every satellite line still in flight.
    pub fn finish(&mut self) {
        self.release(i64::MAX);
    }
}

fn ship_position(ship: &Ship, t: i64) -> Option<LatLon> {
    ship.kinematics(t).map(|k| k.0)
}

const SATELLITES: [&str; 3] = ["S-AIS-1", "S-AIS-2", "S-AIS-3"];

/// FNV-1a of `bytes`: a stable choice of which stations write no time, and of each jammed
/// ship's spot.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Past plan kept behind the emitter, seconds: dark-period ends and skipped stretches are
/// located in it.
const PLAN_TAIL_S: i64 = 4 * 3600;
/// Distance beyond shore range within which a ship is still ticked at its reporting rate.
const FAR_MARGIN_M: f64 = 50_000.0;

/// Cell size of the station cache, degrees.
const STATION_CELL_DEG: f64 = 0.1;
/// Half-diagonal of a cache cell at the equator, metres (covers any point of the cell).
const STATION_CELL_REACH_M: f64 = 8_000.0;

/// Candidate shore stations per 0.1-degree cell, filled on first visit: a tick looks at a
/// handful of stations instead of scanning the grid. Bounded by the cells ships visit.
#[derive(Default)]
struct StationCache {
    cells: std::collections::HashMap<u64, (u32, u32), std::hash::BuildHasherDefault<CellHasher>>,
    ids: Vec<u32>,
}

impl StationCache {
    /// Whether any station lies within `reach_m` of the centre of `p`'s cell.
    fn any_within(&mut self, world: &World, p: LatLon, reach_m: f64) -> bool {
        let (_, len) = self.cell(world, p, reach_m);
        len > 0
    }

    fn cell(&mut self, world: &World, p: LatLon, reach_m: f64) -> (u32, u32) {
        let r = ((p.lat + 90.0) / STATION_CELL_DEG).floor() as i64;
        let c = ((p.lon + 180.0) / STATION_CELL_DEG).floor() as i64;
        let key = (r as u64) << 32 | (c as u64 & 0xffff_ffff);
        if let Some(&v) = self.cells.get(&key) {
            return v;
        }
        let centre = LatLon {
            lat: (r as f64 + 0.5) * STATION_CELL_DEG - 90.0,
            lon: (c as f64 + 0.5) * STATION_CELL_DEG - 180.0,
        };
        let start = self.ids.len() as u32;
        world.stations_within(centre, reach_m, &mut self.ids);
        let v = (start, self.ids.len() as u32 - start);
        self.cells.insert(key, v);
        v
    }

    fn nearest_two(&mut self, world: &World, p: LatLon, range_m: f64) -> [(u32, f64); 2] {
        let (start, len) = self.cell(world, p, range_m + STATION_CELL_REACH_M);
        let mut best = [(u32::MAX, f64::INFINITY); 2];
        for &i in &self.ids[start as usize..(start + len) as usize] {
            let d = crate::world::distance_m(p, world.stations[i as usize].position);
            if d > range_m {
                continue;
            }
            if d < best[0].1 {
                best[1] = best[0];
                best[0] = (i, d);
            } else if d < best[1].1 {
                best[1] = (i, d);
            }
        }
        best
    }
}

/// A hasher for cell keys: one multiply.
#[derive(Default)]
struct CellHasher(u64);

impl std::hash::Hasher for CellHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}
