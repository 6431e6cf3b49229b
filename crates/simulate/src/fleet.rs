//! Ships, their identities and their plans.

use std::collections::VecDeque;
use std::sync::Arc;

use shadowfleet_decode::AisText;
use shadowfleet_geo::{LatLon, Route};

use crate::rng::Rng;

/// Why a ship exists in the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Shadow-fleet shuttle loading at Russian terminals.
    Shadow,
    /// Shadow mother ship waiting in STS areas.
    Receiver,
    /// Ordinary tanker.
    Mainstream,
    /// Background cargo ship (class A).
    Cargo,
    /// Background fishing boat (class B).
    Fishing,
    /// Old tanker broken up during the run; a zombie later takes its IMO.
    Scrapped,
    /// A ship of the scenario's service of this index (grain carrier, coaster, patrol).
    Service(u16),
}

impl Role {
    /// The role's name in the truth file.
    pub fn name(self) -> &'static str {
        match self {
            Role::Shadow => "shadow",
            Role::Receiver => "receiver",
            Role::Mainstream => "mainstream",
            Role::Cargo | Role::Fishing => "background",
            Role::Scrapped => "scrapped",
            Role::Service(_) => "service",
        }
    }
}

/// What a ship broadcasts about itself.
#[derive(Debug, Clone)]
pub struct Ident {
    pub mmsi: u32,
    pub imo: u32,
    pub name: AisText<20>,
    pub callsign: AisText<7>,
    pub flag: String,
    pub ship_type: u8,
}

/// How a ship moves during a segment.
#[derive(Debug, Clone)]
pub enum Motion {
    /// Along a route from its start, at constant speed (m/s).
    Sail {
        route: Arc<Route>,
        speed_mps: f64,
        /// The route segment of the last position computed (the emitter walks forward).
        cursor: std::cell::Cell<usize>,
    },
    /// Holding around a point (anchored, moored, drifting or alongside), swinging slowly.
    Hold { at: LatLon, phase: f64 },
}

/// A stretch of a ship's plan.
#[derive(Debug, Clone)]
pub struct Segment {
    pub start: i64,
    pub end: i64,
    pub motion: Motion,
    /// Navigational status broadcast.
    pub status: u8,
    /// Draught broadcast, decimetres.
    pub draught_dm: u8,
    /// Destination broadcast and ETA (unix seconds).
    pub destination: AisText<20>,
    pub eta: i64,
}

/// A spoofing episode: what is broadcast instead of the true position.
#[derive(Debug, Clone, Copy)]
pub enum SpoofKind {
    /// A constant displacement.
    Offset { north_m: f64, east_m: f64 },
    /// A circle around a fixed centre.
    Circle { centre: LatLon, radius_m: f64 },
    /// A fixed point on land.
    Land { at: LatLon },
    /// A short jump far away.
    Jump { north_m: f64, east_m: f64 },
}

impl SpoofKind {
    pub fn name(self) -> &'static str {
        match self {
            SpoofKind::Offset { .. } => "offset",
            SpoofKind::Circle { .. } => "circle",
            SpoofKind::Land { .. } => "land",
            SpoofKind::Jump { .. } => "jump",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Spoof {
    pub start: i64,
    pub end: i64,
    pub kind: SpoofKind,
    /// The MMSI broadcast at the start and the true position then (for the truth record).
    pub mmsi: u32,
    pub truth_pos: LatLon,
    /// Spoofed position reports some receiver heard: what the data can show.
    pub heard: u32,
}

/// A dark period; the off position is recorded when the emitter reaches it.
#[derive(Debug, Clone)]
pub struct Dark {
    pub start: i64,
    pub end: i64,
    pub near: String,
    pub off: Option<(LatLon, u32)>,
}

/// A cargo on board.
#[derive(Debug, Clone)]
pub struct Parcel {
    pub cargo: u32,
    pub terminal: usize,
    pub product: &'static str,
    pub volume_t: f64,
    pub loaded: i64,
    /// The loading port call event (empty when loaded before the period).
    pub load_event: String,
    pub chain: Vec<(u32, Option<String>)>,
}

/// A ship: fixed particulars, identity history, plan and emitter state.
pub struct Ship {
    pub role: Role,
    pub class: String,
    pub dwt: f64,
    pub length_m: f64,
    pub beam_m: f64,
    pub draught_m: [f64; 2],
    pub speed_kn: [f64; 2],
    pub fill_factor: f64,
    pub build_year: u32,
    pub class_b: bool,
    pub sanctioned: bool,
    /// Identity periods (from, identity), sorted by time.
    pub identities: Vec<(i64, Ident)>,
    pub schedule: VecDeque<Segment>,
    pub dark: VecDeque<Dark>,
    pub spoof: VecDeque<Spoof>,
    /// When the plan runs out, where the ship then is, and at which place.
    pub free_at: i64,
    pub pos: LatLon,
    pub place: Option<usize>,
    pub draught_dm: u8,
    pub parcels: Vec<Parcel>,
    pub hops: u32,
    pub will_change_identity: bool,
    pub scrap_at: Option<i64>,
    pub rng: Rng,
    pub next_static: i64,
    /// A service ship is laden (its draught shows it).
    pub laden: bool,
    /// The AIS destination the crew will set for the next port call instead of the port
    /// (a false or blank one); `None` names the port.
    pub declare: Option<String>,
    /// Index in the fleet (the truth's `vessel`).
    pub index: u32,
    /// The first segment planned to start before the one before it ended (previous end,
    /// start): a planner bug, which would make the ship's AIS disagree with the truth.
    pub overlap: Option<(i64, i64)>,
}

impl Ship {
    /// The identity broadcast at `t`.
    pub fn ident(&self, t: i64) -> &Ident {
        let i = self.identities.partition_point(|(from, _)| *from <= t);
        &self.identities[i.saturating_sub(1)].1
    }

    /// Adds an identity valid from `t`, keeping the history sorted.
    pub fn set_ident(&mut self, t: i64, ident: Ident) {
        let i = self.identities.partition_point(|(from, _)| *from <= t);
        self.identities.insert(i, (t, ident));
    }

    /// Appends `seg` to the plan, noting it when it starts before the last one ends.
    pub fn plan(&mut self, seg: Segment) {
        if let Some(last) = self.schedule.back() {
            if seg.start < last.end && self.overlap.is_none() {
                self.overlap = Some((last.end, seg.start));
            }
        }
        self.schedule.push_back(seg);
    }

    /// The segment covering `t`.
    pub fn segment_at(&self, t: i64) -> Option<&Segment> {
        self.schedule.iter().find(|s| s.start <= t && t < s.end)
    }

    /// True position, speed over ground (knots), course (degrees) at `t`.
    pub fn kinematics(&self, t: i64) -> Option<(LatLon, f64, f64)> {
        self.segment_at(t).map(|s| kinematics(s, t))
    }
}

/// Swing of a holding ship: radius (m) and period (s).
pub const HOLD_SWING_M: f64 = 120.0;
pub const HOLD_PERIOD_S: f64 = 6.0 * 3600.0;

/// Position, speed (knots) and course of a segment at `t`.
pub fn kinematics(s: &Segment, t: i64) -> (LatLon, f64, f64) {
    match &s.motion {
        Motion::Sail {
            route,
            speed_mps,
            cursor,
        } => {
            let d = (t - s.start) as f64 * speed_mps;
            let (p, i) = route.at_distance_from(d, cursor.get());
            cursor.set(i);
            let course = route.bearing_deg.get(i).copied().unwrap_or(0.0);
            let moving = d < route.length_m();
            (p, if moving { speed_mps / 0.514_444 } else { 0.0 }, course)
        }
        // Moored ships do not swing.
        Motion::Hold { at, .. } if s.status == 5 => (*at, 0.0, 0.0),
        Motion::Hold { at, phase } => {
            let w = std::f64::consts::TAU / HOLD_PERIOD_S;
            let a = w * t as f64 + phase;
            let p = shadowfleet_geo::offset_m(*at, HOLD_SWING_M * a.cos(), HOLD_SWING_M * a.sin());
            let speed = HOLD_SWING_M * w / 0.514_444;
            let course = (a.to_degrees() + 90.0).rem_euclid(360.0);
            (p, speed, course)
        }
    }
}
