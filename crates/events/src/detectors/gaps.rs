//! AIS gaps: a segment silent for at least [`GapConfig::min_hours`], and the subset that looks
//! like intentional disabling (Global Fishing Watch; Welch et al. 2022): at least
//! [`GapConfig::intentional_min_hours`] and starting more than
//! [`GapConfig::intentional_min_shore_nm`] from shore. See `docs/detectors/gaps.md`.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use shadowfleet_geo::{haversine_m, Land, LatLon, METRES_PER_NM};
use shadowfleet_records::{round2, round6, Confidence, Event, EventKind, GapDetails, ReportRef};
use shadowfleet_tracks::{Position, TrackPoint};

use crate::detector::{Context, Detector, DetectorError, Partition, Reference, Register};
use crate::detectors::DetectorConfig;

/// Thresholds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
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
    /// Reception is measured per cell of this size, degrees.
    pub reception_cell_deg: f64,
    /// A gap is likely dark when a transmitting vessel would be this unlikely to stay
    /// unheard so long: with `f` the best share of the gap's hours in which the cell of the
    /// off or the on position heard other vessels, the chance is `(1 - f)^hours` (reception
    /// quality decides, as in Welch et al. 2022; here measured from the data itself).
    pub max_unheard_probability: f64,
}

impl Default for GapConfig {
    fn default() -> Self {
        GapConfig {
            min_hours: 6.0,
            intentional_min_hours: 12.0,
            intentional_min_shore_nm: 50.0,
            segments_per_mmsi: 8,
            reception_cell_deg: 1.0,
            max_unheard_probability: 0.01,
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
    pub off: Position,
    /// First report after it.
    pub on: Position,
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
    /// Share of the gap's hours in which other vessels were heard in the cell of the off and
    /// of the on position (`None` when no vessel was ever heard there in that time).
    pub reception: (Option<f64>, Option<f64>),
    /// Chance that a transmitting vessel stays unheard this long given the reception.
    pub unheard_probability: f64,
    /// Intentional by GFW's rule, or silent where others were heard: likely switched off.
    pub likely_dark: bool,
}

/// Hours of reception history kept per cell (a 96-hour ring of hourly counters).
pub const HOURS: usize = 96;

/// (hour, reports heard in it) for the last [`HOURS`] hours, by hour modulo [`HOURS`].
type HourRing = [(i64, u32); HOURS];

/// Which hours each cell heard any vessel: a ring of [`HOURS`] hourly counters per cell.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Reception {
    cell_deg: f64,
    #[serde(with = "shadowfleet_records::state::boxed_array_map")]
    cells: FxHashMap<(i32, i32), Box<HourRing>>,
}

impl Reception {
    /// Cells of `cell_deg` degrees.
    pub fn new(cell_deg: f64) -> Self {
        Reception {
            cell_deg: cell_deg.max(0.01),
            cells: FxHashMap::default(),
        }
    }

    fn key(&self, p: LatLon) -> (i32, i32) {
        (
            (p.lat / self.cell_deg).floor() as i32,
            (p.lon / self.cell_deg).floor() as i32,
        )
    }

    /// Records a report heard at `p` at unix second `t`.
    pub fn record(&mut self, p: LatLon, t: i64) {
        let hour = t.div_euclid(3600);
        let key = self.key(p);
        let ring = self
            .cells
            .entry(key)
            .or_insert_with(|| Box::new([(i64::MIN, 0); HOURS]));
        let slot = &mut ring[hour.rem_euclid(HOURS as i64) as usize];
        if slot.0 == hour {
            slot.1 = slot.1.saturating_add(1);
        } else if slot.0 < hour {
            *slot = (hour, 1);
        }
    }

    /// Share of the whole hours strictly inside (`from`, `to`) (at most the last [`HOURS`])
    /// in which the cell of `p` heard anything; `None` when it heard nothing at all or the
    /// span holds no whole hour.
    pub fn share(&self, p: LatLon, from: i64, to: i64) -> Option<f64> {
        let ring = self.cells.get(&self.key(p))?;
        let first = from.div_euclid(3600) + 1;
        let last = to.div_euclid(3600) - 1;
        let first = first.max(last - HOURS as i64 + 1);
        if last < first {
            return None;
        }
        let heard = (first..=last)
            .filter(|h| {
                let s = ring[h.rem_euclid(HOURS as i64) as usize];
                s.0 == *h && s.1 > 0
            })
            .count();
        (heard > 0).then(|| heard as f64 / (last - first + 1) as f64)
    }
}

/// What the gap detector keeps of one open segment.
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
struct SegmentState {
    segment: u64,
    /// The segment's last report.
    last: Position,
    /// The vessel's longest silence, on every segment, since that report, seconds.
    vessel_silence: i64,
    /// Whether another segment of the vessel had reported within `min_hours` before that
    /// report: two transmitters on one MMSI, not one vessel's positions moving elsewhere.
    concurrent: bool,
}

/// The open segments of one vessel and its last report on any.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct VesselSegments {
    last_any: Option<i64>,
    /// Inline while there is one (see [`crate::slots::Few`]).
    segments: crate::slots::Few<SegmentState>,
}

/// Finds gaps in a stream of track points (each MMSI in time order, as the track builder
/// releases them).
pub struct GapDetector {
    config: GapConfig,
    land: Arc<Land>,
    /// Per vessel (the track builder's index), its open segments.
    last: Vec<VesselSegments>,
    reception: Reception,
}

impl GapDetector {
    /// A detector measuring distance from shore on `land`.
    pub fn new(config: GapConfig, land: Arc<Land>) -> Self {
        GapDetector {
            config,
            land,
            last: Vec::new(),
            reception: Reception::new(config.reception_cell_deg),
        }
    }

    /// Takes the next point; reports the gap it ends, if any.
    pub fn push(&mut self, p: &TrackPoint, out: &mut dyn FnMut(Gap)) {
        let r = p.position;
        self.reception.record(r.pos, r.t);
        let min_s = (self.config.min_hours * 3600.0) as i64;
        let v = crate::slots::per_vessel(&mut self.last, p.vessel, VesselSegments::default);
        let since_any = v.last_any.map_or(0, |t| r.t - t);
        v.last_any = Some(r.t);
        for s in v
            .segments
            .as_mut_slice()
            .iter_mut()
            .filter(|s| s.segment != p.segment)
        {
            s.vessel_silence = s.vessel_silence.max(since_any);
        }
        let concurrent = v
            .segments
            .as_slice()
            .iter()
            .any(|s| s.segment != p.segment && s.last.t >= r.t - min_s);
        let fresh = SegmentState {
            segment: p.segment,
            last: r,
            vessel_silence: 0,
            concurrent,
        };
        let prev = match v
            .segments
            .as_mut_slice()
            .iter_mut()
            .find(|s| s.segment == p.segment)
        {
            Some(slot) => {
                let before = *slot;
                *slot = fresh;
                Some(before)
            }
            None => {
                if v.segments.len() >= self.config.segments_per_mmsi {
                    if let Some(k) = v
                        .segments
                        .as_slice()
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, x)| x.last.t)
                        .map(|(k, _)| k)
                    {
                        v.segments.swap_remove(k);
                    }
                }
                v.segments.push(fresh);
                None
            }
        };
        // The vessel went on reporting from elsewhere (its positions jumped away and came
        // back: spoofing or interference, reported by those detectors): not a silence.
        let prev = prev.filter(|s| s.concurrent || s.vessel_silence.max(since_any) >= min_s);
        let prev = prev.map(|s| s.last);
        let Some(off) = prev else { return };
        let hours = (r.t - off.t) as f64 / 3600.0;
        if hours < self.config.min_hours {
            return;
        }
        let distance_nm = haversine_m(off.pos, r.pos) / METRES_PER_NM;
        let reach = self.config.intentional_min_shore_nm * METRES_PER_NM;
        let off_shore_nm = self.land.distance_to_shore_m(off.pos, reach + 1.0) / METRES_PER_NM;
        let intentional = hours >= self.config.intentional_min_hours
            && off_shore_nm > self.config.intentional_min_shore_nm;
        let reception = (
            self.reception.share(off.pos, off.t, r.t),
            self.reception.share(r.pos, off.t, r.t),
        );
        let best = reception.0.unwrap_or(0.0).max(reception.1.unwrap_or(0.0));
        let unheard = (1.0 - best).powf(hours);
        out(Gap {
            mmsi: r.mmsi,
            segment: p.segment,
            off,
            on: r,
            hours,
            distance_nm,
            implied_speed_kn: distance_nm / hours,
            off_shore_nm,
            intentional,
            reception,
            unheard_probability: unheard,
            likely_dark: intentional || unheard <= self.config.max_unheard_probability,
        });
    }
}

impl Register for GapDetector {
    type Config = GapConfig;

    fn new(config: &DetectorConfig, reference: &Reference) -> Result<Self, DetectorError> {
        Ok(GapDetector::new(config.gaps, Arc::clone(&reference.land)))
    }
}

impl Detector for GapDetector {
    shadowfleet_records::persist_fields!("gaps"; last, reception);

    fn kind(&self) -> EventKind {
        EventKind::Gap
    }

    /// Global: a gap is one vessel's, but its likelihood is read from the reception model,
    /// which every vessel's reports feed (a cell where others were heard during the silence).
    fn partition(&self) -> Partition {
        Partition::Global
    }

    fn prefetch(&self, vessel: u32) {
        crate::slots::prefetch(&self.last, vessel);
    }

    fn point(&mut self, p: &TrackPoint, cx: &mut Context<'_>) {
        self.push(p, &mut |g| {
            let e = gap_event(&g, cx);
            cx.emit(e);
        });
    }

    fn advance(&mut self, _watermark: i64, _cx: &mut Context<'_>) {}

    fn finish(&mut self, _cx: &mut Context<'_>) {}

    fn cut_by_data(&self) -> bool {
        false
    }
}

/// How sure a gap is a deliberate silence: by Global Fishing Watch's intentional-disabling
/// definition, and by how well others were heard around it (Welch et al. 2022).
fn gap_confidence(g: &Gap) -> Confidence {
    let mut why = Vec::new();
    if g.intentional {
        why.push(format!(
            "{:.0} h of silence beginning {:.0} nm off shore (GFW's intentional-disabling definition)",
            g.hours, g.off_shore_nm
        ));
    }
    let best = match (g.reception.0, g.reception.1) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    match best {
        Some(f) => why.push(format!(
            "other vessels were heard in its cell in {:.0} % of the gap's hours",
            f * 100.0
        )),
        None => why.push(
            "no other vessel was heard in its cells during the gap: reception there is unknown"
                .into(),
        ),
    }
    if !g.likely_dark {
        why.push(format!(
            "a transmitting vessel could have stayed unheard this long (chance {:.2})",
            g.unheard_probability
        ));
        return Confidence::low(why);
    }
    match best {
        Some(f) if f >= 0.5 => Confidence::high(why),
        Some(_) => Confidence::medium(why),
        // Satellite-only or sparse waters: a silence there proves little (GFW's and Welch
        // et al.'s definitions assume reception is known to be good).
        None => Confidence::low(why),
    }
}

/// The event of a gap: where it went silent, where it came back, the terminal or STS area
/// near either end.
fn gap_event(g: &Gap, cx: &Context<'_>) -> Event {
    let near = cx.near_place(g.off.pos).or_else(|| cx.near_place(g.on.pos));
    Event {
        mmsi: g.mmsi,
        imo: cx.imo(g.mmsi),
        other_mmsi: None,
        start: g.off.t,
        end: g.on.t,
        lat: g.off.pos.lat,
        lon: g.off.pos.lon,
        confidence: gap_confidence(g),
        truncated_start: false,
        truncated_end: false,
        details: GapDetails {
            hours: round2(g.hours),
            distance_nm: round2(g.distance_nm),
            implied_speed_kn: round2(g.implied_speed_kn),
            off_shore_nm: round2(g.off_shore_nm),
            intentional: g.intentional,
            likely_dark: g.likely_dark,
            unheard_probability: g.unheard_probability,
            reception_off: g.reception.0.map(round2),
            reception_on: g.reception.1.map(round2),
            near: near.and_then(|i| cx.place_ref(i)),
            on_lat: round6(g.on.pos.lat),
            on_lon: round6(g.on.pos.lon),
            evidence: vec![
                ReportRef::new(g.mmsi, g.off.t, g.off.pos),
                ReportRef::new(g.mmsi, g.on.t, g.on.pos),
            ],
            feed_outage: None,
        }
        .into(),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use crate::testing::{every, merged, point};

    const H: i64 = 3600;
    /// Mid-Atlantic, far from any shore.
    const OPEN_SEA: LatLon = LatLon {
        lat: 40.0,
        lon: -40.0,
    };
    /// In the Gulf of Finland off Kotka, a few miles from shore.
    const NEAR_SHORE: LatLon = LatLon {
        lat: 60.35,
        lon: 26.9,
    };

    fn gaps(points: &[TrackPoint], config: GapConfig) -> Vec<Gap> {
        let land = Arc::new(Land::natural_earth_10m().expect("land"));
        let mut d = GapDetector::new(config, land);
        let mut out = Vec::new();
        for p in points {
            d.push(p, &mut |g| out.push(g));
        }
        out
    }

    #[test]
    fn a_silence_of_exactly_the_minimum_is_a_gap_and_one_second_less_is_not() {
        let c = GapConfig::default();
        let min = (c.min_hours * 3600.0) as i64;
        let at = [point(1, 0, OPEN_SEA, 10.0), point(1, min, OPEN_SEA, 10.0)];
        assert_eq!(gaps(&at, c).len(), 1);
        let under = [
            point(1, 0, OPEN_SEA, 10.0),
            point(1, min - 1, OPEN_SEA, 10.0),
        ];
        assert!(gaps(&under, c).is_empty());
    }

    #[test]
    fn intentional_needs_twelve_hours_and_fifty_miles_off_shore() {
        let c = GapConfig::default();
        let g = |pos, hours: i64| {
            let pts = [point(1, 0, pos, 10.0), point(1, hours * H, pos, 10.0)];
            gaps(&pts, c).into_iter().next().expect("a gap")
        };
        assert!(g(OPEN_SEA, 12).intentional);
        assert!(!g(OPEN_SEA, 11).intentional);
        let near = g(NEAR_SHORE, 12);
        assert!(!near.intentional, "{} nm off shore", near.off_shore_nm);
        assert!(near.off_shore_nm < c.intentional_min_shore_nm);
    }

    #[test]
    fn silent_where_others_were_heard_is_likely_dark_and_alone_it_is_not() {
        let c = GapConfig::default();
        let quiet = [point(1, 0, OPEN_SEA, 10.0), point(1, 8 * H, OPEN_SEA, 10.0)];
        let alone = gaps(&quiet, c);
        assert_eq!(alone.len(), 1);
        assert!(!alone[0].likely_dark && alone[0].reception == (None, None));
        // Another vessel in the same cell heard every ten minutes throughout.
        let other = every(2, 0, 600, 8 * 6 + 1, 10.0, |_| OPEN_SEA);
        let heard = gaps(&merged(&[quiet.to_vec(), other]), c);
        assert_eq!(heard.len(), 1);
        assert!(heard[0].likely_dark, "{:?}", heard[0].reception);
    }

    #[test]
    fn a_vessel_reporting_from_elsewhere_meanwhile_is_not_silent() {
        let c = GapConfig::default();
        // Segment 1 silent for 7 h while the vessel's positions, jumped away to segment 2,
        // are heard hourly, then back: the vessel transmitted throughout.
        let mut pts = vec![point(1, 0, OPEN_SEA, 10.0)];
        for h in 1..7 {
            let mut p = point(
                1,
                h * H,
                LatLon {
                    lat: 10.0,
                    lon: -40.0,
                },
                10.0,
            );
            p.segment = 2;
            pts.push(p);
        }
        pts.push(point(1, 7 * H, OPEN_SEA, 10.0));
        assert!(gaps(&pts, c).is_empty());
        // Silent on every segment for 7 h: a gap.
        let mut quiet = vec![point(1, 0, OPEN_SEA, 10.0)];
        let mut p = point(
            1,
            H / 2,
            LatLon {
                lat: 10.0,
                lon: -40.0,
            },
            10.0,
        );
        p.segment = 2;
        quiet.push(p);
        quiet.push(point(1, 7 * H, OPEN_SEA, 10.0));
        assert_eq!(gaps(&quiet, c).len(), 1);
    }

    #[test]
    fn a_gap_belongs_to_its_segment() {
        let c = GapConfig::default();
        // Two transmitters on one MMSI: segment 1 silent for 7 h while segment 2, reporting
        // before and during it, goes on hourly.
        let mut pts = Vec::new();
        for h in -3..0 {
            let mut p = point(
                1,
                h * H,
                LatLon {
                    lat: 10.0,
                    lon: -40.0,
                },
                10.0,
            );
            p.segment = 2;
            pts.push(p);
        }
        pts.push(point(1, 0, OPEN_SEA, 10.0));
        for h in 1..7 {
            let mut p = point(
                1,
                h * H,
                LatLon {
                    lat: 10.0,
                    lon: -40.0,
                },
                10.0,
            );
            p.segment = 2;
            pts.push(p);
        }
        pts.push(point(1, 7 * H, OPEN_SEA, 10.0));
        let found = gaps(&pts, c);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].segment, found[0].on.t - found[0].off.t),
            (1, 7 * H)
        );
    }
}
