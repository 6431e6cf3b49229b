//! One hull identity across MMSI, IMO, name and flag changes.
//!
//! The MMSIs the data saw are joined into hulls by three kinds of link, each kept with its
//! basis: the same valid IMO number broadcast (`imo`), the identity stage seeing one track go
//! on under a new MMSI (`track_continuity`, an `mmsi_change` event), and one list entry naming
//! several MMSIs, current and legacy (`list_alias`). A zombie — a ship broadcasting the IMO of
//! a scrapped one (a `zombie_imo` event) — is not joined by the stolen IMO: it stays a hull of
//! its own (joined by its own former IMO where it broadcast one). Each identity period of a hull is a link with its validity interval (first and last
//! seen) and the basis that tied it to the hull.
//!
//! A hull's id is stable for the same data: `H-IMO<n>` from the smallest IMO of its
//! IMO-linked periods, else `H-MMSI<n>` from its smallest MMSI.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use shadowfleet_records::{ChangeKind, Event, EventDetails, IdentityPeriod};

use crate::trace::zombie_mmsis;

/// Why an identity period belongs to its hull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "basis")]
pub enum LinkBasis {
    /// The hull's first identity (by first sighting), or one broadcast the hull's IMO.
    Imo {
        /// The IMO number.
        imo: u32,
    },
    /// The first identity of a hull with no IMO.
    Mmsi,
    /// The identity stage saw the track go on under this MMSI (an `mmsi_change` event).
    TrackContinuity {
        /// The MMSI before.
        from_mmsi: u32,
        /// The event.
        event: i64,
    },
    /// A list entry names this MMSI with another of the hull's.
    ListAlias {
        /// The list.
        list: String,
        /// Its entry.
        entry: String,
    },
}

/// One identity period of a hull.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HullLink {
    /// MMSI.
    pub mmsi: u32,
    /// IMO broadcast, if any.
    pub imo: Option<u32>,
    /// Name broadcast.
    pub name: String,
    /// Flag of the MMSI's MID.
    pub flag: Option<String>,
    /// First seen, unix seconds.
    pub from: i64,
    /// Last seen, unix seconds.
    pub to: i64,
    /// Why it belongs to the hull.
    pub basis: LinkBasis,
}

/// A hull: the identities of one physical ship.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Hull {
    /// Stable id (`H-IMO<n>` or `H-MMSI<n>`).
    pub id: String,
    /// MMSIs, ascending.
    pub mmsis: Vec<u32>,
    /// IMO numbers broadcast, ascending.
    pub imos: Vec<u32>,
    /// Identity periods, oldest first, each with its basis.
    pub links: Vec<HullLink>,
    /// A zombie: it broadcast the IMO of a scrapped ship.
    pub zombie: bool,
}

struct Sets {
    parent: HashMap<u32, u32>,
}

impl Sets {
    fn find(&mut self, x: u32) -> u32 {
        let p = *self.parent.entry(x).or_insert(x);
        if p == x {
            return x;
        }
        let r = self.find(p);
        self.parent.insert(x, r);
        r
    }

    fn join(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller root wins: the result does not depend on the order of joins.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent.insert(hi, lo);
        }
    }
}

/// The hulls of `identities`, linked by IMO, by the `mmsi_change` events among `events`
/// (with their store ids) and by list entries naming several MMSIs (`aliases`: list name,
/// entry id, its MMSIs).
pub fn hulls(
    identities: &[IdentityPeriod],
    events: &[(i64, &Event)],
    aliases: &[(String, String, Vec<u32>)],
) -> Vec<Hull> {
    // A zombie's stolen IMO (the IMO of its `zombie_imo` event) links nothing; its own
    // IMO, broadcast before the theft, does.
    let stolen: HashSet<(u32, u32)> = events
        .iter()
        .filter_map(|(_, e)| match &e.details {
            EventDetails::IdentityChange(c) if c.change == ChangeKind::ZombieImo => {
                c.to.imo.or(e.imo).map(|i| (e.mmsi, i))
            }
            _ => None,
        })
        .collect();
    let zombies = zombie_mmsis(events);
    let is_stolen = |mmsi: u32, imo: u32| stolen.contains(&(mmsi, imo));
    let seen: HashSet<u32> = identities.iter().map(|i| i.mmsi).collect();
    let mut sets = Sets {
        parent: seen.iter().map(|&m| (m, m)).collect(),
    };
    // Links by IMO (a zombie's stolen IMO links nothing).
    let mut by_imo: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for i in identities {
        if let Some(imo) = i.imo.filter(|&imo| !is_stolen(i.mmsi, imo)) {
            by_imo.entry(imo).or_default().push(i.mmsi);
        }
    }
    for mmsis in by_imo.values() {
        for w in mmsis.windows(2) {
            sets.join(w[0], w[1]);
        }
    }
    let mut continuity: HashMap<u32, (u32, i64)> = HashMap::new();
    for (id, e) in events {
        if let EventDetails::IdentityChange(c) = &e.details {
            if c.change != ChangeKind::MmsiChange {
                continue;
            }
            let Some(from) = &c.from else { continue };
            let (a, b) = (from.mmsi, c.to.mmsi);
            if a != b && seen.contains(&a) && seen.contains(&b) {
                sets.join(a, b);
                continuity.entry(b).or_insert((a, *id));
            }
        }
    }
    let mut alias_of: HashMap<u32, (String, String)> = HashMap::new();
    for (list, entry, mmsis) in aliases {
        let here: Vec<u32> = mmsis.iter().copied().filter(|m| seen.contains(m)).collect();
        for w in here.windows(2) {
            sets.join(w[0], w[1]);
        }
        if here.len() >= 2 {
            for &m in &here[1..] {
                alias_of.entry(m).or_insert((list.clone(), entry.clone()));
            }
        }
    }
    // Group the identity periods by hull.
    let mut groups: BTreeMap<u32, Vec<&IdentityPeriod>> = BTreeMap::new();
    for i in identities {
        let r = sets.find(i.mmsi);
        groups.entry(r).or_default().push(i);
    }
    let mut out = Vec::with_capacity(groups.len());
    for periods in groups.values_mut() {
        periods.sort_by_key(|p| (p.first_seen, p.mmsi));
        let zombie = periods
            .iter()
            .any(|p| zombies.contains(&p.mmsi) && p.imo.is_some_and(|i| is_stolen(p.mmsi, i)));
        let imos: BTreeSet<u32> = periods.iter().filter_map(|p| p.imo).collect();
        let linked_imos: BTreeSet<u32> = periods
            .iter()
            .filter_map(|p| p.imo.filter(|&i| !is_stolen(p.mmsi, i)))
            .collect();
        let mmsis: BTreeSet<u32> = periods.iter().map(|p| p.mmsi).collect();
        let id = match linked_imos.iter().next() {
            Some(imo) => format!("H-IMO{imo}"),
            None => format!("H-MMSI{}", mmsis.iter().next().copied().unwrap_or(0)),
        };
        let first_mmsi = periods.first().map(|p| p.mmsi);
        let links = periods
            .iter()
            .map(|p| {
                let basis = match p.imo.filter(|&i| !is_stolen(p.mmsi, i)) {
                    Some(imo) => LinkBasis::Imo { imo },
                    _ => match (continuity.get(&p.mmsi), alias_of.get(&p.mmsi)) {
                        (Some(&(from_mmsi, event)), _) if Some(p.mmsi) != first_mmsi => {
                            LinkBasis::TrackContinuity { from_mmsi, event }
                        }
                        (_, Some((list, entry))) if Some(p.mmsi) != first_mmsi => {
                            LinkBasis::ListAlias {
                                list: list.clone(),
                                entry: entry.clone(),
                            }
                        }
                        _ => LinkBasis::Mmsi,
                    },
                };
                HullLink {
                    mmsi: p.mmsi,
                    imo: p.imo,
                    name: p.name.clone(),
                    flag: p.flag.clone(),
                    from: p.first_seen,
                    to: p.last_seen,
                    basis,
                }
            })
            .collect();
        out.push(Hull {
            id,
            mmsis: mmsis.into_iter().collect(),
            imos: imos.into_iter().collect(),
            links,
            zombie,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use shadowfleet_records::{Confidence, ConfidenceLevel, IdentityChangeDetails, IdentityRef};

    fn period(mmsi: u32, imo: Option<u32>, name: &str, from: i64) -> IdentityPeriod {
        IdentityPeriod {
            mmsi,
            imo,
            name: name.into(),
            callsign: String::new(),
            flag: None,
            ship_type: Some(80),
            length_m: None,
            beam_m: None,
            first_seen: from,
            last_seen: from + 100,
        }
    }

    fn change(kind: ChangeKind, from: u32, to: u32, imo: Option<u32>) -> Event {
        Event {
            mmsi: to,
            imo,
            other_mmsi: None,
            start: 50,
            end: 50,
            lat: 0.0,
            lon: 0.0,
            confidence: Confidence::new(ConfidenceLevel::High, Vec::new()),
            truncated_start: false,
            truncated_end: false,
            details: EventDetails::IdentityChange(IdentityChangeDetails {
                change: kind,
                from: Some(IdentityRef {
                    mmsi: from,
                    imo,
                    name: String::new(),
                    callsign: String::new(),
                    flag: None,
                    ship_type: None,
                }),
                to: IdentityRef {
                    mmsi: to,
                    imo,
                    name: String::new(),
                    callsign: String::new(),
                    flag: None,
                    ship_type: None,
                },
                evidence: String::new(),
            }),
        }
    }

    #[test]
    fn imo_continuity_and_list_aliases_make_one_hull_and_a_zombie_stays_apart() {
        let ids = vec![
            // One ship: renamed and re-flagged under a new MMSI, same IMO.
            period(111_000_001, Some(9_410_246), "GAZO PEARL", 0),
            period(222_000_002, Some(9_410_246), "PEARL", 200),
            // Its MMSI changed again without an IMO; the identity stage saw the track go on.
            period(333_000_003, None, "PRL", 400),
            // A ship with no IMO whose two MMSIs a watch list gives as one entry.
            period(444_000_004, None, "NOIMO", 0),
            period(555_000_005, None, "NOIMO 2", 300),
            // A zombie broadcasting the scrapped ship's IMO.
            period(666_000_006, Some(9_179_842), "ANGARA", 500),
            period(777_000_007, Some(9_179_842), "ANGARA", 0),
        ];
        let events = [
            change(ChangeKind::MmsiChange, 222_000_002, 333_000_003, None),
            change(
                ChangeKind::ZombieImo,
                777_000_007,
                666_000_006,
                Some(9_179_842),
            ),
        ];
        let with_ids: Vec<(i64, &Event)> = events.iter().zip([7, 8]).map(|(e, i)| (i, e)).collect();
        let aliases = vec![(
            "watchlist".to_owned(),
            "46".to_owned(),
            vec![444_000_004, 555_000_005, 999_999_999],
        )];
        let h = hulls(&ids, &with_ids, &aliases);
        let by_id: HashMap<&str, &Hull> = h.iter().map(|h| (h.id.as_str(), h)).collect();
        let pearl = by_id["H-IMO9410246"];
        assert_eq!(pearl.mmsis, vec![111_000_001, 222_000_002, 333_000_003]);
        assert_eq!(pearl.links[0].basis, LinkBasis::Imo { imo: 9_410_246 });
        assert_eq!(
            pearl.links[2].basis,
            LinkBasis::TrackContinuity {
                from_mmsi: 222_000_002,
                event: 7
            }
        );
        let noimo = by_id["H-MMSI444000004"];
        assert_eq!(noimo.mmsis, vec![444_000_004, 555_000_005]);
        assert!(matches!(noimo.links[1].basis, LinkBasis::ListAlias { .. }));
        // The scrapped ship keeps its IMO's hull; the zombie is its own.
        assert_eq!(by_id["H-IMO9179842"].mmsis, vec![777_000_007]);
        let zombie = by_id["H-MMSI666000006"];
        assert!(zombie.zombie);
        assert_eq!(zombie.links[0].basis, LinkBasis::Mmsi);
        assert_eq!(h.len(), 4);
    }
}
