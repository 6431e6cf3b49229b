//! Scenario definitions: data files (TOML), one per scenario. See `docs/simulator.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Weights by id (terminal, port, STS area, class or ISO flag); iteration is sorted by id.
pub type Weights = BTreeMap<String, f64>;

/// A scenario: the world's extent, fleet, trade pattern, behaviour rates and receiver model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, e.g. `baltic`.
    pub name: String,
    /// One paragraph for people.
    pub description: String,
    /// Start of the simulated period, RFC 3339 UTC.
    pub start: String,
    /// Default length in days.
    pub days: u32,
    /// How many vessels of each role.
    pub fleet: Fleet,
    /// Class mix by role.
    pub classes: RoleWeights,
    /// Flag mix (ISO 3166 alpha-2) by role.
    pub flags: RoleWeights,
    /// Where cargoes load and go.
    pub trade: Trade,
    /// How often each deceptive behaviour is injected.
    pub behaviour: Behaviour,
    /// How the AIS is received.
    pub ais: AisModel,
    /// Services: ships shuttling between load and discharge ports that are not tankers of
    /// the oil trade (grain carriers of a corridor, coasters to an occupied port, patrols).
    #[serde(default)]
    pub service: Vec<Service>,
    /// Ports closed for a while (an attack, a strike): nothing departs, arrivals wait.
    #[serde(default)]
    pub closure: Vec<Closure>,
    /// Lines whose crossings the truth records (`gate_transit` events).
    #[serde(default)]
    pub gate: Vec<GateLine>,
}

/// A service: `ships` vessels loading at `load` ports and discharging at `discharge` ports in
/// turn, each call a `port_call` truth event; laden, they may wait at `wait` first (the
/// queue before an inspection or a strait; a `queue` truth event).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Name, e.g. `grain-corridor`.
    pub name: String,
    /// How many ships.
    pub ships: u32,
    /// ITU ship type (70 cargo, 35 military, 55 law enforcement).
    pub ship_type: u8,
    /// Flags (ISO 3166 alpha-2).
    pub flags: Weights,
    /// Where they load, ids of the places table.
    pub load: Weights,
    /// Where they discharge.
    pub discharge: Weights,
    /// Where laden ships wait before sailing on.
    #[serde(default)]
    pub wait: Option<WaitArea>,
    /// Share of arrivals (at the `dark_at` end) with AIS off on the approach and in port.
    #[serde(default)]
    pub dark_approach_share: f64,
    /// Hours dark before arrival.
    #[serde(default = "default_dark_approach_hours")]
    pub dark_approach_hours: [f64; 2],
    /// Which end the dark approaches are at: `load` or `discharge`.
    #[serde(default = "default_dark_at")]
    pub dark_at: String,
    /// Destinations the crews set instead of the port (false or blank ones).
    #[serde(default)]
    pub declared: Option<Declared>,
    /// Hours at berth.
    #[serde(default = "default_port_hours")]
    pub port_hours: [f64; 2],
    /// Draught in ballast and laden, metres.
    #[serde(default = "default_service_draught")]
    pub draught_m: [f64; 2],
    /// Service speed, knots.
    #[serde(default = "default_service_speed")]
    pub speed_kn: f64,
    /// Length overall, metres.
    #[serde(default = "default_service_length")]
    pub length_m: f64,
    /// Short-sea ships that leave the shipping lanes: each passage goes straight between
    /// the lanes' vertices wherever the sea allows, instead of out to the lanes' junctions
    /// and back (a coaster from the Kerch Strait to Feodosia goes along the coast).
    #[serde(default)]
    pub direct: bool,
}

fn default_dark_approach_hours() -> [f64; 2] {
    [3.0, 10.0]
}
fn default_dark_at() -> String {
    "load".into()
}
fn default_port_hours() -> [f64; 2] {
    [20.0, 60.0]
}
fn default_service_draught() -> [f64; 2] {
    [6.0, 11.5]
}
fn default_service_speed() -> f64 {
    12.0
}
fn default_service_length() -> f64 {
    190.0
}

/// AIS destinations that do not name the port of call: a share of the calls at one end
/// of a service, each with one of `destinations` (text as the crew types it: another
/// port's LOCODE, `""` for blank, `FOR ORDERS`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    /// Share of the calls.
    pub share: f64,
    /// Which end: `load` or `discharge`.
    pub at: String,
    /// What they set, weighted.
    pub destinations: Weights,
}

/// A waiting area.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitArea {
    /// Id, as the truth's `queue` events name it.
    pub id: String,
    /// Centre, degrees.
    pub lat: f64,
    /// See [`Self::lat`].
    pub lon: f64,
    /// Ships anchor within this radius, km.
    pub radius_km: f64,
    /// Hours waiting.
    pub hours: [f64; 2],
}

/// A port closed for a while.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    /// Id of the port in the places table.
    pub port: String,
    /// Start, days after the scenario's start.
    pub from_day: f64,
    /// Length, days.
    pub days: f64,
    /// What happened.
    #[serde(default)]
    pub note: String,
}

/// A gate line, `[lon, lat]` points.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateLine {
    /// Id, as the truth's `gate_transit` events name it.
    pub id: String,
    /// The line.
    pub line: Vec<[f64; 2]>,
}

/// Fleet size by role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// Shadow-fleet tankers loading at Russian terminals.
    pub shadow: u32,
    /// Shadow mother ships that wait in STS areas and take cargo from shuttles.
    pub receivers: u32,
    /// Tankers in ordinary, non-Russian trades.
    pub mainstream: u32,
    /// Other ships: cargo ships (class A) and fishing boats (class B).
    pub background: u32,
    /// Share of background vessels that are class B fishing boats.
    pub background_fishing_share: f64,
}

/// Weights by role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleWeights {
    /// Shadow-fleet shuttles.
    pub shadow: Weights,
    /// Shadow mother ships.
    pub receiver: Weights,
    /// Mainstream tankers.
    pub mainstream: Weights,
    /// Background ships (flags only; classes ignore it).
    #[serde(default)]
    pub background: Weights,
}

/// Trade pattern.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trade {
    /// Russian (or Kazakh CPC) loading terminals, ids of `data/terminals.csv`.
    pub terminals: Weights,
    /// Where Russian cargoes are discharged, ids of `data/ports.csv`.
    pub destinations: Weights,
    /// Where mother ships discharge (longer hauls).
    pub receiver_destinations: Weights,
    /// STS areas used, ids of `data/sts_areas.csv`.
    pub sts_areas: Weights,
    /// Anchorages where laden shadow tankers loiter, ids of `data/sts_areas.csv`.
    pub loiter_areas: Weights,
    /// Mainstream loading ports.
    pub mainstream_loading: Weights,
    /// Mainstream discharge ports.
    pub mainstream_discharge: Weights,
    /// Ports that background ships sail between.
    pub background_ports: Weights,
}

/// Behaviour rates. Shares are probabilities per opportunity (per cargo, per leg, per vessel).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// Share of shadow cargoes handed to a mother ship by STS.
    pub sts_share: f64,
    /// Share of received cargoes handed on again (multi-hop chains).
    pub multi_hop_share: f64,
    /// Share of STS transfers during which the giver is dark ("dark STS").
    pub dark_sts_share: f64,
    /// Share of shadow arrivals at a terminal preceded by a dark approach.
    pub dark_terminal_share: f64,
    /// Share of long shadow legs (> 2 days) with a dark period at sea.
    pub dark_voyage_share: f64,
    /// Dark period length range at sea, hours.
    pub dark_hours: [f64; 2],
    /// Share of laden shadow legs that loiter in a loiter area first.
    pub loiter_share: f64,
    /// Loitering length range, hours.
    pub loiter_hours: [f64; 2],
    /// STS duration range, hours.
    pub sts_hours: [f64; 2],
    /// Share of shadow legs with a spoofing episode.
    pub spoofing_share: f64,
    /// Share of shadow vessels that change identity (rename, reflag or new MMSI) once.
    pub identity_change_share: f64,
    /// Share of shadow vessels that switch to an MMSI with an unallocated MID.
    pub invalid_mid_share: f64,
    /// Number of shadow vessels that take the IMO of a ship scrapped during the run.
    pub zombies: u32,
    /// Number of shadow vessels that broadcast the MMSI of another active vessel.
    pub shared_mmsi: u32,
    /// Share of shadow vessels on a sanctions list in the truth file.
    pub sanctioned_share: f64,
    /// Share of background fishing trips that loiter offshore (false-positive bait).
    pub fishing_loiter_share: f64,
}

/// Receiver model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AisModel {
    /// An aggregator keeps at most one position per vessel per this many seconds (0: every
    /// report at the ITU-R M.1371 interval).
    pub downsample_s: u32,
    /// Static and voyage data interval, seconds (ITU-R M.1371: 6 minutes).
    pub static_interval_s: u32,
    /// Shore stations: one per cell of this many degrees that holds a port.
    pub station_spacing_deg: f64,
    /// Terrestrial range, nautical miles.
    pub terrestrial_range_nm: f64,
    /// Reception probability within half the range and at the edge.
    pub terrestrial_p: [f64; 2],
    /// Satellite revisit period and pass length, minutes.
    pub satellite_revisit_min: f64,
    /// Minutes each pass can hear a vessel.
    pub satellite_pass_min: f64,
    /// Probability that a satellite in view decodes a report (collisions).
    pub satellite_p: f64,
    /// Satellite delivery latency range, minutes (lines arrive out of order).
    pub satellite_latency_min: [f64; 2],
    /// Share of lines written with a corrupted checksum.
    pub bad_checksum_rate: f64,
    /// Artefacts of real feeds (see docs/simulator.md); none when the section is absent.
    #[serde(default)]
    pub artefacts: Artefacts,
}

/// Artefacts of real receiver networks, each recorded in the truth file's `artefacts` record
/// so that the eval measures how the pipeline copes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artefacts {
    /// Share of shore receptions of a position report that a second station in range hears
    /// again late and stamps with its late arrival (the relays of the DMA logs).
    #[serde(default)]
    pub late_relay_rate: f64,
    /// How late such a relay arrives, minutes.
    #[serde(default = "default_relay_minutes")]
    pub late_relay_min: [f64; 2],
    /// Share of shore stations that write no receive time (hobby receivers feeding an
    /// aggregator): everything they hear is untimed.
    #[serde(default)]
    pub untimed_station_share: f64,
    /// Share of received lines written without their tag block (a relay that strips it):
    /// untimed, scattered over every station.
    #[serde(default)]
    pub untimed_line_rate: f64,
    /// Area-wide GNSS interference: every ship inside an area broadcasts a false position
    /// near a common point while an episode lasts (the Baltic jamming and spoofing seen
    /// around Kaliningrad and the Gulf of Finland since 2023).
    #[serde(default)]
    pub interference: Vec<Interference>,
}

fn default_relay_minutes() -> [f64; 2] {
    [5.0, 40.0]
}

/// An interference area and its schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interference {
    /// Centre of the affected area, degrees.
    pub lat: f64,
    /// See [`Self::lat`].
    pub lon: f64,
    /// Radius of the affected area, kilometres.
    pub radius_km: f64,
    /// Where the false positions lie (an airport, as often reported), degrees.
    pub target_lat: f64,
    /// See [`Self::target_lat`].
    pub target_lon: f64,
    /// Scatter of the false positions around the target, kilometres.
    pub scatter_km: f64,
    /// First episode, hours after the scenario's start.
    pub first_hour: f64,
    /// Length of each episode, hours.
    pub hours: f64,
    /// Episodes repeat this often, hours (0: once).
    #[serde(default)]
    pub every_hours: f64,
}

impl Interference {
    /// Whether an episode of this area is on at `t` seconds after the start; which one.
    pub fn episode_at(&self, since_start_s: i64) -> Option<u32> {
        let h = since_start_s as f64 / 3600.0 - self.first_hour;
        if h < 0.0 {
            return None;
        }
        if self.every_hours <= 0.0 {
            return (h < self.hours).then_some(0);
        }
        let n = (h / self.every_hours).floor();
        (h - n * self.every_hours < self.hours).then_some(n as u32)
    }
}

/// The scenarios shipped with shadowfleet.
pub const BUILTIN: [(&str, &str); 3] = [
    ("baltic", include_str!("../../../scenarios/baltic.toml")),
    (
        "black_sea",
        include_str!("../../../scenarios/black_sea.toml"),
    ),
    ("global", include_str!("../../../scenarios/global.toml")),
];

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not a built-in name and not a readable file.
    #[error(
        "unknown scenario {0:?}: use one of baltic, black_sea, global, or a path to a .toml file"
    )]
    Unknown(String),
    /// The file is not valid.
    #[error("{file}: {reason}")]
    Invalid {
        /// File or scenario name.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

impl Scenario {
    /// A built-in scenario by name, or a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Scenario::parse(name_or_path, text);
        }
        match std::fs::read_to_string(name_or_path) {
            Ok(text) => Scenario::parse(name_or_path, &text),
            Err(_) => Err(ScenarioError::Unknown(name_or_path.to_owned())),
        }
    }

    /// Parses scenario TOML; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Invalid {
            file: file.to_owned(),
            reason: e.to_string(),
        })?;
        s.check(file)?;
        Ok(s)
    }

    fn check(&self, file: &str) -> Result<(), ScenarioError> {
        let bad = |reason: String| ScenarioError::Invalid {
            file: file.to_owned(),
            reason,
        };
        shadowfleet_model::Timestamp::parse_rfc3339(&self.start)
            .map_err(|e| bad(format!("start: {e}")))?;
        let b = &self.behaviour;
        for (name, v) in [
            ("behaviour.sts_share", b.sts_share),
            ("behaviour.multi_hop_share", b.multi_hop_share),
            ("behaviour.dark_sts_share", b.dark_sts_share),
            ("behaviour.dark_terminal_share", b.dark_terminal_share),
            ("behaviour.dark_voyage_share", b.dark_voyage_share),
            ("behaviour.loiter_share", b.loiter_share),
            ("behaviour.spoofing_share", b.spoofing_share),
            ("behaviour.identity_change_share", b.identity_change_share),
            ("behaviour.invalid_mid_share", b.invalid_mid_share),
            ("behaviour.sanctioned_share", b.sanctioned_share),
            (
                "fleet.background_fishing_share",
                self.fleet.background_fishing_share,
            ),
            ("ais.satellite_p", self.ais.satellite_p),
            ("ais.bad_checksum_rate", self.ais.bad_checksum_rate),
            ("ais.terrestrial_p[0]", self.ais.terrestrial_p[0]),
            ("ais.terrestrial_p[1]", self.ais.terrestrial_p[1]),
            (
                "ais.artefacts.late_relay_rate",
                self.ais.artefacts.late_relay_rate,
            ),
            (
                "ais.artefacts.untimed_station_share",
                self.ais.artefacts.untimed_station_share,
            ),
            (
                "ais.artefacts.untimed_line_rate",
                self.ais.artefacts.untimed_line_rate,
            ),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(format!(
                    "{name} = {v}: a share must be between 0 and 1"
                )));
            }
        }
        for (name, [lo, hi]) in [
            ("behaviour.dark_hours", b.dark_hours),
            ("behaviour.loiter_hours", b.loiter_hours),
            ("behaviour.sts_hours", b.sts_hours),
            ("ais.satellite_latency_min", self.ais.satellite_latency_min),
            (
                "ais.artefacts.late_relay_min",
                self.ais.artefacts.late_relay_min,
            ),
        ] {
            if !(lo >= 0.0 && hi >= lo) {
                return Err(bad(format!("{name} = [{lo}, {hi}]: need 0 <= low <= high")));
            }
        }
        if self.ais.static_interval_s == 0 || self.ais.station_spacing_deg <= 0.0 {
            return Err(bad(
                "ais.static_interval_s and ais.station_spacing_deg must be positive".into(),
            ));
        }
        if self.ais.satellite_revisit_min <= 0.0 {
            return Err(bad("ais.satellite_revisit_min must be positive".into()));
        }
        for (k, a) in self.ais.artefacts.interference.iter().enumerate() {
            let name = format!("ais.artefacts.interference[{k}]");
            if a.lat.abs() > 90.0
                || a.target_lat.abs() > 90.0
                || a.lon.abs() > 180.0
                || a.target_lon.abs() > 180.0
            {
                return Err(bad(format!("{name}: a position outside ±90/±180 degrees")));
            }
            if !(a.radius_km > 0.0 && a.hours > 0.0 && a.scatter_km >= 0.0 && a.first_hour >= 0.0) {
                return Err(bad(format!(
                    "{name}: radius_km and hours must be positive, scatter_km and first_hour not negative"
                )));
            }
            if a.every_hours != 0.0 && a.every_hours < a.hours {
                return Err(bad(format!(
                    "{name}: every_hours ({}) must be 0 (once) or at least hours ({})",
                    a.every_hours, a.hours
                )));
            }
        }
        Ok(())
    }
}
