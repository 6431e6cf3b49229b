//! References to the places events happen at.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a place is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    /// A Russian (or Kazakh CPC) oil export terminal.
    Terminal,
    /// A port or refinery terminal.
    #[default]
    Port,
    /// A ship-to-ship transfer area.
    StsArea,
}

impl PlaceKind {
    /// `terminal`, `port` or `sts_area`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::Terminal => "terminal",
            PlaceKind::Port => "port",
            PlaceKind::StsArea => "sts_area",
        }
    }
}

/// A terminal, port or STS area an event refers to, by the id of the places table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct PlaceRef {
    /// Id, e.g. `RU-PRIMORSK` (embedded places), a UN/LOCODE or `WPI-n` (ports added with
    /// `--ports`).
    pub id: String,
    /// Kind.
    pub kind: PlaceKind,
    /// Name.
    pub name: String,
    /// Country (ISO 3166 alpha-2) of the port, or whose waters an STS area lies in.
    pub country: String,
}
