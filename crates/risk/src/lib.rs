//! What analysts act on: sanctions screening, per-vessel risk scores with the evidence behind
//! each indicator, and the country exposure report. Definitions and weights:
//! `docs/screening.md`, `docs/risk.md`, `docs/exposure.md`.

pub mod exposure;
pub mod score;
pub mod screening;

pub use exposure::{
    exposure, is_month, month_of, ExposureConfig, ExposureRow, InferredCount, VesselView,
};
pub use score::{roc_auc, score, Indicator, RiskConfig, RiskInputs, VesselRisk, INDICATORS};
pub use screening::{normalise_name, screen, ListingState, ScreenConfig, ScreenMatch};
