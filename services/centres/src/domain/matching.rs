//! Supply meets demand (三单制): proposing demand-resource pairs, each with
//! the reasons for its rank. Pure: the caller reads the open demands and
//! idle resources and stores what is claimed.
//!
//! A pair is proposed only when the categories are the same, the resource
//! lies in the demand's street and its time window overlaps the demand's.
//! Pairs are ranked by grid proximity (same compound, then same community,
//! then same street), then by capacity (covering the quantity asked before
//! covering part of it), then by time (covering the whole window before
//! part of it), then by demand and resource id so the order is total.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where a demand or resource is in the grid: its street and community
/// cells, and its compound when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridPlace {
    /// The street cell's id.
    pub street: String,
    /// The community cell's id.
    pub community: String,
    /// The compound's id, if any.
    pub compound: Option<String>,
}

/// What matching needs of an open demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDemand {
    /// Its id.
    pub id: Uuid,
    /// Category code, e.g. `elderly_care`.
    pub category: String,
    /// Where it is.
    pub place: GridPlace,
    /// How much is asked.
    pub quantity: i32,
    /// Needed from.
    pub start: DateTime<Utc>,
    /// Needed until (exclusive).
    pub end: DateTime<Utc>,
}

/// What matching needs of an idle resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleResource {
    /// Its id.
    pub id: Uuid,
    /// Category code.
    pub category: String,
    /// Where it is offered.
    pub place: GridPlace,
    /// How much it offers.
    pub capacity: i32,
    /// Available from.
    pub start: DateTime<Utc>,
    /// Available until (exclusive).
    pub end: DateTime<Utc>,
}

/// How close a resource is to a demand, closest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proximity {
    /// In the demand's compound.
    SameCompound,
    /// In the demand's community.
    SameCommunity,
    /// In the demand's street.
    SameStreet,
}

/// One proposed pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// 1 for the best pair.
    pub rank: usize,
    /// The demand.
    pub demand: Uuid,
    /// The resource.
    pub resource: Uuid,
    /// How close.
    pub proximity: Proximity,
    /// Why it ranks where it does, one reason per criterion.
    pub reasons: Vec<String>,
}

fn proximity(demand: &GridPlace, resource: &GridPlace) -> Option<Proximity> {
    if demand.compound.is_some() && demand.compound == resource.compound {
        Some(Proximity::SameCompound)
    } else if demand.community == resource.community {
        Some(Proximity::SameCommunity)
    } else if demand.street == resource.street {
        Some(Proximity::SameStreet)
    } else {
        None
    }
}

fn hours(minutes: i64) -> String {
    if minutes % 60 == 0 {
        format!("{}h", minutes / 60)
    } else {
        format!("{minutes}min")
    }
}

struct Candidate {
    proposal: Proposal,
    covers_quantity: bool,
    covers_window: bool,
}

fn candidate(demand: &OpenDemand, resource: &IdleResource) -> Option<Candidate> {
    if demand.category != resource.category || resource.capacity < 1 {
        return None;
    }
    let proximity = proximity(&demand.place, &resource.place)?;
    let overlap_start = demand.start.max(resource.start);
    let overlap_end = demand.end.min(resource.end);
    if overlap_end <= overlap_start {
        return None;
    }
    let mut reasons = vec![format!("same category `{}`", demand.category)];
    reasons.push(match proximity {
        Proximity::SameCompound => format!(
            "same compound `{}`",
            demand.place.compound.as_deref().unwrap_or_default()
        ),
        Proximity::SameCommunity => format!("same community `{}`", demand.place.community),
        Proximity::SameStreet => format!("same street `{}`", demand.place.street),
    });
    let covers_quantity = resource.capacity >= demand.quantity;
    reasons.push(if covers_quantity {
        format!(
            "capacity {} covers the {} asked",
            resource.capacity, demand.quantity
        )
    } else {
        format!(
            "capacity {} covers {} of the {} asked",
            resource.capacity, resource.capacity, demand.quantity
        )
    });
    let covers_window = resource.start <= demand.start && resource.end >= demand.end;
    reasons.push(if covers_window {
        "available for the whole time window".to_owned()
    } else {
        format!(
            "available {} of the {} window",
            hours((overlap_end - overlap_start).num_minutes()),
            hours((demand.end - demand.start).num_minutes())
        )
    });
    Some(Candidate {
        proposal: Proposal {
            rank: 0,
            demand: demand.id,
            resource: resource.id,
            proximity,
            reasons,
        },
        covers_quantity,
        covers_window,
    })
}

fn order(a: &Candidate, b: &Candidate) -> Ordering {
    a.proposal
        .proximity
        .cmp(&b.proposal.proximity)
        .then(b.covers_quantity.cmp(&a.covers_quantity))
        .then(b.covers_window.cmp(&a.covers_window))
        .then(a.proposal.demand.cmp(&b.proposal.demand))
        .then(a.proposal.resource.cmp(&b.proposal.resource))
}

/// Every pair worth proposing, best first.
pub fn propose(demands: &[OpenDemand], resources: &[IdleResource]) -> Vec<Proposal> {
    let mut candidates: Vec<Candidate> = demands
        .iter()
        .flat_map(|demand| {
            resources
                .iter()
                .filter_map(move |resource| candidate(demand, resource))
        })
        .collect();
    candidates.sort_by(order);
    candidates
        .into_iter()
        .enumerate()
        .map(|(index, candidate)| Proposal {
            rank: index + 1,
            ..candidate.proposal
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-12-{day:02}T{hour:02}:00:00+08:00"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn place(street: &str, community: &str, compound: Option<&str>) -> GridPlace {
        GridPlace {
            street: street.into(),
            community: community.into(),
            compound: compound.map(str::to_owned),
        }
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// Street s1 with communities m1 (compounds k1, k2) and m2; street s2.
    fn fixture() -> (Vec<OpenDemand>, Vec<IdleResource>) {
        let demand = |n, category: &str, place, quantity, start, end| OpenDemand {
            id: id(n),
            category: category.into(),
            place,
            quantity,
            start,
            end,
        };
        let resource = |n, category: &str, place, capacity, start, end| IdleResource {
            id: id(n),
            category: category.into(),
            place,
            capacity,
            start,
            end,
        };
        let demands = vec![
            // Elderly meals for 4 in compound k1, Monday 11:00-13:00.
            demand(
                1,
                "elderly_care",
                place("s1", "m1", Some("k1")),
                4,
                at(7, 11),
                at(7, 13),
            ),
            // A small wish (微心愿): a school bag for a child in m2, all week.
            demand(
                2,
                "small_wish",
                place("s1", "m2", None),
                1,
                at(7, 0),
                at(14, 0),
            ),
            // Legal aid in s2: nothing there offers it.
            demand(
                3,
                "legal_aid",
                place("s2", "m3", None),
                1,
                at(7, 9),
                at(7, 12),
            ),
        ];
        let resources = vec![
            // The k1 property company's canteen, 6 meals, Monday 10:00-14:00.
            resource(
                11,
                "elderly_care",
                place("s1", "m1", Some("k1")),
                6,
                at(7, 10),
                at(7, 14),
            ),
            // A reported unit in m1 (no compound): 2 carers, Monday 12:00-18:00.
            resource(
                12,
                "elderly_care",
                place("s1", "m1", None),
                2,
                at(7, 12),
                at(7, 18),
            ),
            // A hospital branch in m2: 10 carers all December.
            resource(
                13,
                "elderly_care",
                place("s1", "m2", None),
                10,
                at(1, 0),
                at(31, 0),
            ),
            // A member in m2 pledging small wishes.
            resource(
                14,
                "small_wish",
                place("s1", "m2", None),
                3,
                at(1, 0),
                at(31, 0),
            ),
            // Legal aid in s1: another street, not proposed for s2's demand.
            resource(
                15,
                "legal_aid",
                place("s1", "m1", None),
                5,
                at(1, 0),
                at(31, 0),
            ),
            // Elderly care in s2: another street, not proposed for s1's demand.
            resource(
                16,
                "elderly_care",
                place("s2", "m3", None),
                9,
                at(1, 0),
                at(31, 0),
            ),
            // Elderly care in k1 but only on Tuesday: no overlap.
            resource(
                17,
                "elderly_care",
                place("s1", "m1", Some("k1")),
                9,
                at(8, 10),
                at(8, 14),
            ),
        ];
        (demands, resources)
    }

    #[test]
    fn the_fixture_gets_exactly_these_pairs_in_this_order_for_these_reasons() {
        let (demands, resources) = fixture();
        let proposals = propose(&demands, &resources);
        let got: Vec<(usize, u128, u128, Vec<&str>)> = proposals
            .iter()
            .map(|p| {
                (
                    p.rank,
                    p.demand.as_u128(),
                    p.resource.as_u128(),
                    p.reasons.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    1,
                    1,
                    11,
                    vec![
                        "same category `elderly_care`",
                        "same compound `k1`",
                        "capacity 6 covers the 4 asked",
                        "available for the whole time window",
                    ]
                ),
                (
                    2,
                    2,
                    14,
                    vec![
                        "same category `small_wish`",
                        "same community `m2`",
                        "capacity 3 covers the 1 asked",
                        "available for the whole time window",
                    ]
                ),
                (
                    3,
                    1,
                    12,
                    vec![
                        "same category `elderly_care`",
                        "same community `m1`",
                        "capacity 2 covers 2 of the 4 asked",
                        "available 1h of the 2h window",
                    ]
                ),
                (
                    4,
                    1,
                    13,
                    vec![
                        "same category `elderly_care`",
                        "same street `s1`",
                        "capacity 10 covers the 4 asked",
                        "available for the whole time window",
                    ]
                ),
            ]
        );
    }

    #[test]
    fn proximity_outranks_capacity_and_capacity_outranks_time() {
        let (demands, mut resources) = fixture();
        // A k1 resource that covers only part of the quantity still beats a
        // same-community one that covers it all.
        resources.push(IdleResource {
            id: id(18),
            category: "elderly_care".into(),
            place: place("s1", "m1", Some("k1")),
            capacity: 1,
            start: at(7, 11),
            end: at(7, 12),
        });
        resources.push(IdleResource {
            id: id(19),
            category: "elderly_care".into(),
            place: place("s1", "m1", None),
            capacity: 8,
            start: at(7, 12),
            end: at(7, 13),
        });
        let order: Vec<u128> = propose(&demands[..1], &resources)
            .iter()
            .map(|p| p.resource.as_u128())
            .collect();
        // k1 full, k1 partial; m1 full capacity (part time), m1 partial; street.
        assert_eq!(order, [11, 18, 19, 12, 13]);
    }

    #[test]
    fn nothing_is_proposed_across_streets_categories_or_disjoint_windows() {
        let (demands, resources) = fixture();
        assert!(propose(&demands[2..], &resources).is_empty());
        assert!(propose(&demands, &[]).is_empty());
    }
}
