//! The analysis behind `screen`, `vessel`, `flows` and `exposure`: read a store's events,
//! identities and reference lists, screen, trace cargoes, score risk, infer the origin of
//! cargoes first seen laden, and compute the exposure. Deterministic: the same store and
//! configuration give the same output.

use std::collections::HashMap;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use shadowfleet_places::Places;
use shadowfleet_records::{Event, IdentityPeriod};
use shadowfleet_refdata::{ListKind, RefList};
use shadowfleet_risk::{
    ExposureConfig, RiskConfig, RiskInputs, ScreenConfig, ScreenMatch, VesselRisk,
};
use shadowfleet_store::{EventFilter, Store, StoredEvent};
use shadowfleet_voyages::{TraceConfig, Traced, VesselInfo, VesselKey};

/// The analysis configuration file (`--config`, TOML): one table per stage, every field
/// optional. Documented in `docs/formats.md`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisConfig {
    /// Screening thresholds.
    pub screening: ScreenConfig,
    /// Cargo tracer and volume model.
    pub voyages: TraceConfig,
    /// Risk weights and thresholds.
    pub risk: RiskConfig,
    /// Exposure origins and prices.
    pub exposure: ExposureConfig,
}

/// Everything the later commands show.
pub struct Analysis {
    /// Events with ids.
    pub events: Vec<StoredEvent>,
    /// Identity periods.
    pub identities: Vec<IdentityPeriod>,
    /// Screening matches.
    pub matches: Vec<ScreenMatch>,
    /// Traced cargoes (origins inferred where the rules allow).
    pub traced: Traced,
    /// Risk, highest first.
    pub risks: Vec<VesselRisk>,
    /// Hulls: each ship's identities joined across MMSI, IMO, name and flag changes.
    pub hulls: Vec<shadowfleet_voyages::Hull>,
    /// The configuration used.
    pub config: AnalysisConfig,
}

impl Analysis {
    /// Runs the analysis on the store's content.
    pub fn run(store: &Store, config: AnalysisConfig) -> anyhow::Result<Analysis> {
        let events = store.events(&EventFilter::default())?;
        let identities = store.identities()?;
        let lists: Vec<RefList> = store.lists()?.into_iter().map(|l| l.list).collect();
        Analysis::of(store, events, identities, &lists, config)
    }

    /// The analysis as it could have been made at `cutoff` (unix seconds): only events that had
    /// ended before it, identities as first seen before it (last seen no later), and of the
    /// sanctions and watch lists only the entries listed before it (entries without a listing
    /// date are left out: they may have been listed later). Particulars (tonnage, year built)
    /// are kept whole: they are facts about the hull, not findings.
    pub fn before(store: &Store, config: AnalysisConfig, cutoff: i64) -> anyhow::Result<Analysis> {
        let events: Vec<StoredEvent> = store
            .events(&EventFilter::default())?
            .into_iter()
            .filter(|e| e.event.end < cutoff)
            .collect();
        let identities: Vec<IdentityPeriod> = store
            .identities()?
            .into_iter()
            .filter(|i| i.first_seen < cutoff)
            .map(|mut i| {
                i.last_seen = i.last_seen.min(cutoff - 1);
                i
            })
            .collect();
        let day = shadowfleet_model::Timestamp::from_unix_seconds(cutoff).to_string();
        let day = day.get(..10).unwrap_or("");
        let lists: Vec<RefList> = store
            .lists()?
            .into_iter()
            .map(|l| {
                let mut list = l.list;
                if list.kind != ListKind::Particulars {
                    list.entries
                        .retain(|e| e.listed_on.as_deref().is_some_and(|d| d < day));
                }
                list
            })
            .collect();
        Analysis::of(store, events, identities, &lists, config)
    }

    /// The analysis of these events, identities and lists (the store gives the positions where
    /// ships were first seen laden, each before the event that needs it).
    pub fn of(
        store: &Store,
        events: Vec<StoredEvent>,
        identities: Vec<IdentityPeriod>,
        lists: &[RefList],
        config: AnalysisConfig,
    ) -> anyhow::Result<Analysis> {
        let matches = shadowfleet_risk::screen(&identities, lists, &config.screening);
        // Particulars: deadweight and year built by IMO, from particulars lists first.
        let mut dwt: HashMap<u32, f64> = HashMap::new();
        let mut built: HashMap<u32, u32> = HashMap::new();
        let mut owners: HashMap<u32, (Option<String>, Option<String>)> = HashMap::new();
        let mut ordered: Vec<&RefList> = lists.iter().collect();
        ordered.sort_by_key(|l| l.kind != ListKind::Particulars);
        for l in ordered {
            for e in &l.entries {
                if let Some(i) = e.imo.filter(|_| e.imo_valid) {
                    if let Some(d) = e.dwt {
                        dwt.entry(i).or_insert(d);
                    }
                    if let Some(y) = e.build_year {
                        built.entry(i).or_insert(y);
                    }
                    if e.owner_country.is_some() || e.insurer_country.is_some() {
                        owners
                            .entry(i)
                            .or_insert((e.owner_country.clone(), e.insurer_country.clone()));
                    }
                }
            }
        }
        let mut length: HashMap<VesselKey, f64> = HashMap::new();
        for i in &identities {
            if let Some(l) = i.length_m.filter(|l| *l > 0) {
                length.insert(VesselKey::Mmsi(i.mmsi), f64::from(l));
                if let Some(imo) = i.imo {
                    length.insert(VesselKey::Imo(imo), f64::from(l));
                }
            }
        }
        let info = |v: VesselKey| VesselInfo {
            length_m: length.get(&v).copied(),
            dwt: match v {
                VesselKey::Imo(i) => dwt.get(&i).copied(),
                VesselKey::Mmsi(_) => None,
            },
        };
        let land = shadowfleet_geo::Land::natural_earth_10m()
            .context("loading the embedded land polygons")?;
        let places = Places::embedded(&land).context("loading the embedded places")?;
        let with_ids: Vec<(i64, &Event)> = events.iter().map(|e| (e.id, &e.event)).collect();
        let mut traced =
            shadowfleet_voyages::trace(&with_ids, &identities, &places, &config.voyages, &info);
        let year = events.iter().map(|e| e.event.end).max().map_or(1970, |t| {
            shadowfleet_model::Timestamp::from_unix_seconds(t)
                .to_utc()
                .0 as i32
        });
        let inputs = RiskInputs {
            identities: &identities,
            events: &with_ids,
            traced: &traced,
            matches: &matches,
            build_year: &|imo| built.get(&imo).copied(),
            ownership: &|imo| owners.get(&imo).cloned().unwrap_or_default(),
            year,
        };
        let risks = shadowfleet_risk::score(&inputs, &config.risk);
        let by_key: HashMap<VesselKey, f64> = risks.iter().map(|r| (r.vessel, r.score)).collect();
        // The origins of cargoes whose loading was not seen: estimated within the risk
        // groups, and from where each ship was first seen laden (its first stored position
        // up to the first link of the chain) against the sea routes from loading places.
        let (likely, possible, shadow) = (
            config.risk.infer_origin_threshold,
            config.risk.possible_origin_threshold,
            config.risk.shadow_threshold,
        );
        let mut sightings: HashMap<usize, shadowfleet_voyages::Sighting> = HashMap::new();
        for f in &traced.flows {
            let (Some(d), Some(c)) = (&f.discharge, traced.cargoes.get(f.cargo)) else {
                continue;
            };
            if c.origin.is_some() || sightings.contains_key(&c.id) {
                continue;
            }
            let (Some(first), Some(discharge)) = (f.chain.first(), places.index_of(&d.place))
            else {
                continue;
            };
            if let Some(p) = store.first_position(first.mmsi, first.t)? {
                sightings.insert(
                    c.id,
                    shadowfleet_voyages::Sighting {
                        at: p.position.pos,
                        discharge,
                    },
                );
            }
        }
        // The sea lanes only when some ship was sighted: loading them and routing is most
        // of the analysis's cost.
        let lanes = if sightings.is_empty() {
            None
        } else {
            Some(
                shadowfleet_geo::SeaLanes::searoute(&land)
                    .context("loading the embedded sea lanes")?,
            )
        };
        let mut routes = lanes.as_ref().map(|lanes| {
            shadowfleet_voyages::RouteEvidence::new(
                shadowfleet_geo::Router::new(&land, lanes),
                &places,
                &traced,
                &config.voyages,
            )
        });
        shadowfleet_voyages::infer_origins(
            &mut traced,
            &places,
            &config.voyages,
            &|v| {
                let s = by_key.get(&v).copied().unwrap_or(0.0);
                // Bins of the risk score: the thresholds of the risk model and halfway
                // points below them.
                [
                    possible / 2.0,
                    possible,
                    (possible + likely) / 2.0,
                    likely,
                    shadow,
                ]
                .iter()
                .filter(|&&b| s >= b)
                .count() as u8
            },
            &mut |c| sightings.get(&c).copied(),
            routes.as_mut(),
        );
        // Hulls: joined by IMO, by the identity stage's MMSI changes, and by list entries that
        // name several MMSIs.
        let aliases: Vec<(String, String, Vec<u32>)> = lists
            .iter()
            .flat_map(|l| {
                l.entries.iter().filter(|e| e.mmsis.len() >= 2).map(|e| {
                    (
                        l.name.clone(),
                        e.entry.clone(),
                        e.mmsis.iter().map(|m| m.mmsi).collect(),
                    )
                })
            })
            .collect();
        let hulls = shadowfleet_voyages::hulls(&identities, &with_ids, &aliases);
        drop(with_ids);
        Ok(Analysis {
            events,
            identities,
            matches,
            traced,
            risks,
            hulls,
            config,
        })
    }

    /// The hull an MMSI belongs to.
    pub fn hull_of(&self, mmsi: u32) -> Option<&shadowfleet_voyages::Hull> {
        self.hulls.iter().find(|h| h.mmsis.contains(&mmsi))
    }

    /// Whether the risk model calls the vessel shadow.
    pub fn is_shadow(&self, v: VesselKey) -> bool {
        self.risks
            .iter()
            .any(|r| r.vessel == v && r.score >= self.config.risk.shadow_threshold)
    }

    /// The exposure table for months within `[from, to]`.
    pub fn exposure(
        &self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Vec<shadowfleet_risk::ExposureRow> {
        let score: HashMap<VesselKey, f64> =
            self.risks.iter().map(|r| (r.vessel, r.score)).collect();
        let risk = &self.config.risk;
        // Per MMSI on a sanctions list: its earliest listing day, `None` when undated.
        let mut listed: HashMap<u32, Option<i64>> = HashMap::new();
        for m in &self.matches {
            if m.list_kind != ListKind::Sanctions {
                continue;
            }
            let day = m
                .listed_on
                .as_deref()
                .and_then(shadowfleet_model::Timestamp::parse_day)
                .map(|t| t.unix_millis().div_euclid(1000));
            let e = listed.entry(m.mmsi).or_insert(day);
            *e = match (*e, day) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let mmsis: HashMap<VesselKey, &[u32]> = self
            .risks
            .iter()
            .map(|r| (r.vessel, r.mmsis.as_slice()))
            .collect();
        shadowfleet_risk::exposure(&self.traced, &self.config.exposure, from, to, &|v| {
            let s = score.get(&v).copied().unwrap_or(0.0);
            let one;
            let own: &[u32] = match v {
                VesselKey::Mmsi(m) => {
                    one = [m];
                    &one
                }
                _ => mmsis.get(&v).copied().unwrap_or_default(),
            };
            let days = || own.iter().filter_map(|m| listed.get(m).copied());
            shadowfleet_risk::VesselView {
                shadow: s >= risk.shadow_threshold,
                may_carry: s >= risk.possible_origin_threshold,
                sanctioned: days().next().is_some(),
                sanctioned_on: days().flatten().min(),
            }
        })
    }
}
