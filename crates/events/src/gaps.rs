//! AIS gaps: a segment silent for at least [`GapConfig::min_hours`], and the subset that looks
//! like intentional disabling (Global Fishing Watch; Welch et al. 2022): at least
//! [`GapConfig::intentional_min_hours`] and starting more than
//! [`GapConfig::intentional_min_shore_nm`] from shore. See `docs/detectors/gaps.md`.

use std::collections::HashMap;

use shadowfleet_geo::{haversine_m, Land, METRES_PER_NM};
use shadowfleet_tracks::{Report, TrackPoint};

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapConfig {
    /// Shortest silence reported as a gap, hours (GFW raw gaps: 6 h).
    pub min_hours: f64,
    /// Shortest silence that can count as intentional disabling, hours (GFW/Welch: 12 h).
    pub intentional_min_hours: f64,
    /// Minimum distance from shore of the last position before the gap, nautical miles, for
    /// intentional disabling (GFW/Welch: 50 nm, where reception is good).
    pub intentional_min_shore_nm: f64,
    /// Open segments remembered per MMSI.
    pub segments_per_mmsi: usize,
}

impl Default for GapConfig {
    fn default() -> Self {
        GapConfig {
            min_hours: 6.0,
            intentional_min_hours: 12.0,
            intentional_min_shore_nm: 50.0,
            segments_per_mmsi: 8,
        }
    }
}

/// A gap in one track segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gap {
    /// MMSI.
    pub mmsi: u32,
    /// Track segment.
    pub segment: u64,
    /// Last report before the gap.
    pub off: Report,
    /// First report after it.
    pub on: Report,
    /// Length, hours.
    pub hours: f64,
    /// Great-circle distance between the off and on positions, nautical miles.
    pub distance_nm: f64,
    /// Distance over time, knots.
    pub implied_speed_kn: f64,
    /// Distance from shore of the off position, nautical miles (capped at the search radius).
    pub off_shore_nm: f64,
    /// Meets the intentional-disabling definition.
    pub intentional: bool,
}

/// Finds gaps in a stream of track points (each MMSI in time order, as the track builder
/// releases them).
pub struct GapDetector<'a> {
    config: GapConfig,
    land: &'a Land,
    last: HashMap<u32, Vec<(u64, Report)>>,
}

impl<'a> GapDetector<'a> {
    /// A detector measuring distance from shore on `land`.
    pub fn new(config: GapConfig, land: &'a Land) -> Self {
        GapDetector {
            config,
            land,
            last: HashMap::new(),
        }
    }

    /// Takes the next point; reports the gap it ends, if any.
    pub fn push(&mut self, p: &TrackPoint, out: &mut dyn FnMut(Gap)) {
        let r = p.report;
        let seen = self.last.entry(r.mmsi).or_default();
        let prev = match seen.iter_mut().find(|(s, _)| *s == p.segment) {
            Some(slot) => Some(std::mem::replace(&mut slot.1, r)),
            None => {
                if seen.len() >= self.config.segments_per_mmsi {
                    if let Some(k) = seen
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, x)| x.1.t)
                        .map(|(k, _)| k)
                    {
                        seen.swap_remove(k);
                    }
                }
                seen.push((p.segment, r));
                None
            }
        };
        let Some(off) = prev else { return };
        let hours = (r.t - off.t) as f64 / 3600.0;
        if hours < self.config.min_hours {
            return;
        }
        let distance_nm = haversine_m(off.pos, r.pos) / METRES_PER_NM;
        let reach = self.config.intentional_min_shore_nm * METRES_PER_NM;
        let off_shore_nm = self.land.distance_to_shore_m(off.pos, reach + 1.0) / METRES_PER_NM;
        out(Gap {
            mmsi: r.mmsi,
            segment: p.segment,
            off,
            on: r,
            hours,
            distance_nm,
            implied_speed_kn: distance_nm / hours,
            off_shore_nm,
            intentional: hours >= self.config.intentional_min_hours
                && off_shore_nm > self.config.intentional_min_shore_nm,
        });
    }
}
