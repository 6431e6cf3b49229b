//! The detectors, and the registry that lists them: one line per detector names its
//! configuration section and its type. The line makes the section a field of
//! [`DetectorConfig`] (a table of the configuration file) and puts the detector in the
//! pipeline built by [`build`], in the order listed. Each detector is one file here, with its
//! definition, thresholds, events and unit tests; `docs/detectors/` documents each.

pub mod encounters;
pub mod gaps;
pub mod interference;
pub mod loitering;
pub mod port_calls;
pub mod spoofing;
pub mod zone;

use serde::{Deserialize, Serialize};
use shadowfleet_decode::DecoderConfig;
use shadowfleet_identities::IdentityConfig;
use shadowfleet_tracks::TrackConfig;

use crate::detector::{Detector, DetectorError, Reference, Register};

/// Thresholds shared by the detectors' enrichment of their findings.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrichConfig {
    /// How long after an event the draught the crew enters is still attributed to it, hours.
    pub draught_wait_hours: f64,
    /// Smallest draught change that counts as loading or discharging, metres.
    pub draught_change_m: f64,
    /// A gap or loitering is "near" a terminal or STS area within this distance, nautical
    /// miles.
    pub near_place_nm: f64,
    /// Spoofing findings of one MMSI this close in time are one event, hours.
    pub spoofing_merge_hours: f64,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        EnrichConfig {
            draught_wait_hours: 6.0,
            draught_change_m: 0.5,
            near_place_nm: 20.0,
            spoofing_merge_hours: 1.0,
        }
    }
}

/// Declares the registry: `section: Type,` per detector.
macro_rules! detectors {
    ($( $(#[$doc:meta])* $section:ident: $detector:ty, )+) => {
        /// Every threshold of every stage; `Default` gives the published defaults.
        /// Deserialises from TOML with one table per stage (`[tracks]`, `[identity]`,
        /// `[enrich]`, and one per detector: `[gaps]`, `[encounters]`, ...), every key
        /// optional, unknown keys an error.
        #[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct DetectorConfig {
            /// Track building.
            pub tracks: TrackConfig,
            /// Identity timelines.
            pub identity: IdentityConfig,
            /// Enrichment shared by the detectors.
            pub enrich: EnrichConfig,
            $( $(#[$doc])* pub $section: <$detector as Register>::Config, )+
        }

        /// The configuration section of each detector, in pipeline order.
        pub const SECTIONS: &[&str] = &[$(stringify!($section)),+];

        /// Every registered detector, built from `config` over `reference`, in the order
        /// listed.
        pub fn build(
            config: &DetectorConfig,
            reference: &Reference,
        ) -> Result<Vec<Box<dyn Detector>>, DetectorError> {
            Ok(vec![
                $( Box::new(<$detector as Register>::new(config, reference)?) as Box<dyn Detector>, )+
            ])
        }
    };
}

detectors! {
    /// AIS gaps.
    gaps: gaps::GapDetector,
    /// Port calls.
    port_calls: port_calls::PortCallDetector,
    /// Encounters (before loitering, which reads the encounters of the same hours).
    encounters: encounters::EncounterDetector,
    /// Loitering.
    loitering: loitering::LoiteringDetector,
    /// Area-wide GNSS interference (before spoofing, which asks it about false positions).
    interference: interference::InterferenceDetector,
    /// Spoofing.
    spoofing: spoofing::SpoofingDetector,
    /// Zones and gates.
    zones: zone::ZoneDetector,
}

impl DetectorConfig {
    /// The decoder settings detection runs with: the same transmission heard by several
    /// receivers within the track stage's duplicate window
    /// ([`TrackConfig::duplicate_window_s`]) is dropped by the decoder, before its fields are
    /// decoded — the track builder would drop it as a duplicate anyway (same MMSI, same
    /// position, within the window), so the events are the same, only found sooner.
    pub fn decoder_config(&self) -> DecoderConfig {
        let ms = self
            .tracks
            .duplicate_window_s
            .clamp(0, i64::from(u32::MAX) / 1000)
            * 1000;
        DecoderConfig {
            drop_repeats_within_ms: u32::try_from(ms).ok(),
            ..DecoderConfig::default()
        }
    }
}
