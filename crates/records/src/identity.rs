//! Vessel identities over time.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One identity of an MMSI over its validity period: what the ship said it was in its static
/// reports from `first_seen` to `last_seen`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct IdentityPeriod {
    /// MMSI.
    pub mmsi: u32,
    /// IMO number, when broadcast (not validated here; see [`shadowfleet_model::Imo`]).
    pub imo: Option<u32>,
    /// Name.
    pub name: String,
    /// Call sign.
    pub callsign: String,
    /// Flag from the MMSI's MID (ISO 3166 alpha-2); `None` for an unallocated MID.
    pub flag: Option<String>,
    /// Ship and cargo type (ITU-R M.1371 Table 53).
    pub ship_type: Option<u8>,
    /// Length, metres.
    pub length_m: Option<u16>,
    /// Beam, metres.
    pub beam_m: Option<u16>,
    /// First static report with this identity, unix seconds.
    pub first_seen: i64,
    /// Last static report with this identity, unix seconds.
    pub last_seen: i64,
}

impl IdentityPeriod {
    /// Whether the ship type says tanker (ITU types 80–89).
    pub fn is_tanker(&self) -> bool {
        self.ship_type.is_some_and(|t| (80..=89).contains(&t))
    }
}

/// What kind of identity change (see `docs/detectors/identity.md`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Same IMO and MMSI, new name.
    #[default]
    Rename,
    /// The IMO appears under an MMSI whose MID stands for another flag.
    Reflag,
    /// The IMO appears under a new MMSI of the same flag.
    MmsiChange,
    /// The IMO appears under an MMSI whose MID is not allocated (or a new MMSI has one).
    InvalidMid,
    /// An MMSI takes an IMO last broadcast by another MMSI (a dead ship's identity).
    ZombieImo,
    /// An MMSI changes IMO, and the IMO was not seen before.
    ImoChange,
    /// Two ships broadcast one MMSI.
    SharedMmsi,
    /// An IMO number whose check digit is wrong.
    InvalidImo,
}

impl ChangeKind {
    /// The name used in events: `rename`, `reflag`, `mmsi_change`, `invalid_mid`,
    /// `zombie_imo`, `imo_change`, `shared_mmsi`, `invalid_imo`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Rename => "rename",
            ChangeKind::Reflag => "reflag",
            ChangeKind::MmsiChange => "mmsi_change",
            ChangeKind::InvalidMid => "invalid_mid",
            ChangeKind::ZombieImo => "zombie_imo",
            ChangeKind::ImoChange => "imo_change",
            ChangeKind::SharedMmsi => "shared_mmsi",
            ChangeKind::InvalidImo => "invalid_imo",
        }
    }
}
