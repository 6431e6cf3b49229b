//! Hand-made tracks for the detectors' unit tests.

use shadowfleet_geo::LatLon;
use shadowfleet_tracks::{Position, TrackPoint};

/// 2026-01-01T00:00:00Z: test times count from here.
pub const T0: i64 = 1_767_225_600;

/// A track point of vessel `vessel` (MMSI `273_000_000 + vessel`), segment 1, `t` seconds
/// after [`T0`], at `pos`, reporting `sog` knots.
pub fn point(vessel: u32, t: i64, pos: LatLon, sog: f32) -> TrackPoint {
    TrackPoint {
        position: Position {
            mmsi: 273_000_000 + vessel,
            t: T0 + t,
            pos,
            sog_knots: Some(sog),
            cog_deg: None,
            nav_status: None,
            second: None,
            station: None,
            source: Default::default(),
        },
        vessel,
        segment: 1,
        previous: None,
    }
}

/// `n` points of `vessel` every `step` seconds from `from`, at `pos(i)` and `sog` knots.
pub fn every(
    vessel: u32,
    from: i64,
    step: i64,
    n: usize,
    sog: f32,
    pos: impl Fn(usize) -> LatLon,
) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| point(vessel, from + step * i as i64, pos(i), sog))
        .collect()
}

/// Points of several vessels merged into one stream in time order (as the track builder
/// releases them).
pub fn merged(tracks: &[Vec<TrackPoint>]) -> Vec<TrackPoint> {
    let mut all: Vec<TrackPoint> = tracks.iter().flatten().copied().collect();
    all.sort_by_key(|p| (p.position.t, p.vessel));
    all
}

/// The point `m` metres east of `p`.
pub fn east(p: LatLon, m: f64) -> LatLon {
    shadowfleet_geo::offset_m(p, 0.0, m)
}

/// What detectors run in: the embedded reference data and the pipeline's shared state,
/// for tests of a detector (or a few together) through the [`crate::Detector`] trait.
pub struct Harness {
    reference: crate::Reference,
    identities: shadowfleet_identities::IdentityTracker,
    enrich: crate::EnrichConfig,
    recent: crate::detector::RecentEncounters,
    interference: crate::detector::InterferenceAreas,
}

impl Harness {
    /// A harness over the embedded land, places and MIDs.
    #[allow(clippy::expect_used, reason = "tests fail loudly")]
    pub fn new() -> Harness {
        let reference = crate::Reference::embedded().expect("embedded reference data");
        let identities = shadowfleet_identities::IdentityTracker::new(
            Default::default(),
            reference.mids.clone(),
        );
        Harness {
            reference,
            identities,
            enrich: crate::EnrichConfig::default(),
            recent: Default::default(),
            interference: Default::default(),
        }
    }

    /// The reference data the detectors run over.
    pub fn reference(&self) -> &crate::Reference {
        &self.reference
    }

    /// Runs `detectors` in turn over `points` (in time order), advancing the watermark to
    /// each point's time every five minutes, then finishes them; the events, in order.
    pub fn run_all(
        &mut self,
        detectors: &mut [&mut dyn crate::Detector],
        points: &[TrackPoint],
    ) -> Vec<shadowfleet_records::Event> {
        let mut events = Vec::new();
        let mut two = Vec::new();
        let mut advanced = i64::MIN;
        let mut cx = crate::Context {
            reference: &self.reference,
            identities: &self.identities,
            enrich: &self.enrich,
            recent: &self.recent,
            interference: &mut self.interference,
            events: &mut events,
            two_places: &mut two,
        };
        for p in points {
            if p.position.t >= advanced.saturating_add(300) {
                advanced = p.position.t;
                for d in detectors.iter_mut() {
                    d.advance(advanced, &mut cx);
                }
            }
            for d in detectors.iter_mut() {
                d.point(p, &mut cx);
            }
        }
        for d in detectors.iter_mut() {
            d.finish(&mut cx);
        }
        events
    }

    /// [`Harness::run_all`] with one detector.
    pub fn run(
        &mut self,
        detector: &mut dyn crate::Detector,
        points: &[TrackPoint],
    ) -> Vec<shadowfleet_records::Event> {
        self.run_all(&mut [detector], points)
    }
}
