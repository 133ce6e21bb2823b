//! Level metrics: what centres last published about a community's
//! coverage or a centre's compliance, and what membership last published
//! about a party organisation or a community's 一肩挑, not a count of what
//! happened.
//!
//! Each `centres.coverage.changed` / `centres.compliance.changed` /
//! `membership.organisation.created|updated` /
//! `membership.community.one_shoulder.changed` is a whole state of its
//! *key* (the community, the centre, the organisation) with the key's
//! version. A level metric of a cell in a period is the sum, over the keys
//! credited to the cell, of the state with the highest version among those
//! that occurred before the period's end: the latest state as of the end of
//! the period, which carries over into later periods until a newer one
//! occurs. The producer bumps the version in the transaction that reads the
//! state, so the highest version is the latest state whatever order the
//! events arrive in; duplicates are one event. The rows below are a
//! function of each event alone, so a replay from the event store gives
//! exactly the incremental ones.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use civicgrid_proto::membership::v1 as membership;
use uuid::Uuid;

use super::metric::CellMetric;
use super::participation::{ParticipationBody, ParticipationEvent};

/// One published state's value of one level metric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level {
    /// Whose latest state counts: "cells/{community}", "centres/{id}" or
    /// "organisations/{id}".
    pub key: String,
    /// The cell credited: the community, or the cell the centre or
    /// organisation is placed at (in a compound: the compound's community).
    pub subject: String,
    /// Which level.
    pub metric: CellMetric,
    /// The key's version the event carries.
    pub version: i64,
    /// When centres published it: from the end of the periods it can
    /// stand for.
    pub occurred_at: DateTime<Utc>,
    /// The event it comes from.
    pub event_id: Uuid,
    /// The value, 0 included (a later 0 replaces an earlier 1).
    pub amount: i64,
}

/// The time in microseconds, as PostgreSQL keeps it, so a row read back
/// equals the one computed again.
fn utc(t: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    let t = t?;
    let nanos = u32::try_from(t.nanos).ok()?;
    DateTime::from_timestamp(t.seconds, nanos - nanos % 1_000)
}

/// The level rows of `events` (any order, duplicates ignored); events that
/// are not levels, or lack their place or time, give none.
pub fn levels(events: &[ParticipationEvent]) -> BTreeSet<Level> {
    let mut out = BTreeSet::new();
    for event in events {
        let (key, subject, meta, version, values) = match &event.body {
            ParticipationBody::CoverageChanged(c) => (
                c.community.clone(),
                c.community.clone(),
                c.meta.as_ref(),
                c.version,
                vec![
                    (CellMetric::CompoundsTotal, i64::from(c.compound_count)),
                    (
                        CellMetric::CompoundsCovered,
                        i64::from(c.covered_compound_count),
                    ),
                ],
            ),
            ParticipationBody::ComplianceChanged(c) => {
                let Some(compliance) = &c.compliance else {
                    continue;
                };
                (
                    compliance.centre.clone(),
                    c.ancestors
                        .last()
                        .cloned()
                        .unwrap_or_else(|| c.cell.clone()),
                    c.meta.as_ref(),
                    c.version,
                    vec![
                        (CellMetric::CentresTotal, 1),
                        (
                            CellMetric::CentresCompliant,
                            i64::from(compliance.compliant),
                        ),
                    ],
                )
            }
            ParticipationBody::OrganisationCreated(membership::OrganisationCreated {
                meta,
                organisation,
            })
            | ParticipationBody::OrganisationUpdated(membership::OrganisationUpdated {
                meta,
                organisation,
                ..
            }) => {
                let Some(o) = organisation else {
                    continue;
                };
                if !is_party_organisation(o.kind) {
                    continue;
                }
                let branch_committee = o
                    .standardisation
                    .as_ref()
                    .is_some_and(|s| s.branch_committee_formed);
                (
                    o.name.clone(),
                    // The area's last cell: its own, or for one placed in a
                    // compound the compound's community.
                    o.area.last().cloned().unwrap_or_else(|| o.cell.clone()),
                    meta.as_ref(),
                    o.version,
                    vec![
                        (CellMetric::PartyOrganisationsTotal, 1),
                        (
                            CellMetric::PartyOrganisationsWithBranchCommittee,
                            i64::from(branch_committee),
                        ),
                    ],
                )
            }
            ParticipationBody::OneShoulderChanged(c) => (
                c.community.clone(),
                c.community.clone(),
                c.meta.as_ref(),
                c.version,
                vec![
                    (CellMetric::CommunitiesTotal, 1),
                    (
                        CellMetric::CommunitiesOneShoulder,
                        i64::from(c.secretary_is_director),
                    ),
                ],
            ),
            _ => continue,
        };
        let Some(occurred_at) = utc(meta.and_then(|m| m.occurred_at.as_ref())) else {
            continue;
        };
        if key.is_empty() || !subject.starts_with("cells/") || amount_negative(&values) {
            continue;
        }
        for (metric, amount) in values {
            out.insert(Level {
                key: key.clone(),
                subject: subject.clone(),
                metric,
                version,
                occurred_at,
                event_id: event.event_id,
                amount,
            });
        }
    }
    out
}

/// Party organisations carry standardisation flags; property companies and
/// owners' committees (and a kind this build does not know) do not count.
/// The same split as membership's `Kind::is_party_organisation`.
fn is_party_organisation(kind: i32) -> bool {
    use membership::OrganisationKind as K;
    !matches!(
        K::try_from(kind),
        Err(_) | Ok(K::Unspecified | K::PropertyCompany | K::OwnersCommittee)
    )
}

fn amount_negative(values: &[(CellMetric, i64)]) -> bool {
    values.iter().any(|(_, amount)| *amount < 0)
}

/// The latest row of each key and metric occurred before `end`: the
/// highest version, ties (which centres never publishes) to the larger
/// event id. What the store's level reads compute in SQL.
pub fn latest_before<'a>(
    levels: impl IntoIterator<Item = &'a Level>,
    end: DateTime<Utc>,
) -> BTreeMap<(String, CellMetric), &'a Level> {
    let mut out: BTreeMap<(String, CellMetric), &Level> = BTreeMap::new();
    for level in levels {
        if level.occurred_at >= end {
            continue;
        }
        let entry = out
            .entry((level.key.clone(), level.metric))
            .or_insert(level);
        if (level.version, level.event_id) > (entry.version, entry.event_id) {
            *entry = level;
        }
    }
    out
}

/// Each subject's level values before `end`, by subject and metric.
pub fn values_before<'a>(
    levels: impl IntoIterator<Item = &'a Level>,
    end: DateTime<Utc>,
) -> BTreeMap<(String, CellMetric), i64> {
    let mut out = BTreeMap::new();
    for level in latest_before(levels, end).into_values() {
        *out.entry((level.subject.clone(), level.metric))
            .or_default() += level.amount;
    }
    out
}

#[cfg(test)]
mod tests {
    use civicgrid_proto::centres::v1 as centres;
    use civicgrid_proto::common::v1::EventMeta;
    use proptest::prelude::*;

    use super::*;

    const START: i64 = 1_794_276_000;

    fn meta(minutes: i64) -> Option<EventMeta> {
        Some(EventMeta {
            occurred_at: Some(prost_types::Timestamp {
                seconds: START + minutes * 60,
                nanos: 0,
            }),
            ..Default::default()
        })
    }

    fn coverage(
        community: &str,
        version: i64,
        minutes: i64,
        covered: i32,
        total: i32,
    ) -> ParticipationEvent {
        ParticipationEvent {
            event_id: Uuid::now_v7(),
            body: ParticipationBody::CoverageChanged(centres::CoverageChanged {
                meta: meta(minutes),
                community: format!("cells/{community}"),
                compound_count: total,
                covered_compound_count: covered,
                version,
                ..Default::default()
            }),
        }
    }

    fn compliance(
        centre: &str,
        cell: &str,
        version: i64,
        minutes: i64,
        compliant: bool,
    ) -> ParticipationEvent {
        ParticipationEvent {
            event_id: Uuid::now_v7(),
            body: ParticipationBody::ComplianceChanged(centres::ComplianceChanged {
                meta: meta(minutes),
                compliance: Some(centres::CentreCompliance {
                    centre: format!("centres/{centre}"),
                    compliant,
                    ..Default::default()
                }),
                ancestors: vec!["cells/c".into(), format!("cells/{cell}")],
                version,
                ..Default::default()
            }),
        }
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(START + minutes * 60, 0).unwrap()
    }

    #[test]
    fn the_latest_version_before_the_end_counts_and_a_later_zero_replaces_a_one() {
        let history = vec![
            coverage("m1", 1, 0, 1, 3),
            coverage("m1", 2, 10, 3, 3),
            coverage("m1", 3, 20, 2, 4),
            compliance("a", "m1", 1, 0, true),
            compliance("a", "m1", 2, 15, false),
            compliance("b", "g1", 1, 5, true),
        ];
        let rows = levels(&history);
        let value = |end: i64, subject: &str, metric: CellMetric| {
            values_before(&rows, at(end))
                .get(&(format!("cells/{subject}"), metric))
                .copied()
        };
        assert_eq!(
            value(0, "m1", CellMetric::CompoundsCovered),
            None,
            "nothing yet"
        );
        assert_eq!(value(5, "m1", CellMetric::CompoundsCovered), Some(1));
        assert_eq!(value(15, "m1", CellMetric::CompoundsCovered), Some(3));
        assert_eq!(value(1_000, "m1", CellMetric::CompoundsTotal), Some(4));
        assert_eq!(value(10, "m1", CellMetric::CentresCompliant), Some(1));
        assert_eq!(value(20, "m1", CellMetric::CentresCompliant), Some(0));
        assert_eq!(value(20, "m1", CellMetric::CentresTotal), Some(1));
        assert_eq!(value(20, "g1", CellMetric::CentresCompliant), Some(1));
    }

    #[test]
    fn party_organisations_count_where_their_area_lies_and_one_shoulder_per_community() {
        use membership::OrganisationKind as K;
        let organisation =
            |id: &str, kind: K, area: &[&str], version: i64, formed: bool| ParticipationEvent {
                event_id: Uuid::now_v7(),
                body: ParticipationBody::OrganisationUpdated(membership::OrganisationUpdated {
                    meta: meta(version),
                    organisation: Some(membership::Organisation {
                        name: format!("organisations/{id}"),
                        kind: kind as i32,
                        compound: "compounds/k".into(),
                        standardisation: Some(membership::Standardisation {
                            branch_committee_formed: formed,
                            ..Default::default()
                        }),
                        area: area.iter().map(|c| format!("cells/{c}")).collect(),
                        version,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            };
        let shoulder = |version: i64, holds: bool| ParticipationEvent {
            event_id: Uuid::now_v7(),
            body: ParticipationBody::OneShoulderChanged(membership::OneShoulderChanged {
                meta: meta(version),
                community: "cells/m1".into(),
                secretary_is_director: holds,
                version,
                ..Default::default()
            }),
        };
        let history = vec![
            organisation("b", K::CompoundBranch, &["c", "s", "m1"], 1, false),
            organisation("b", K::CompoundBranch, &["c", "s", "m1"], 2, true),
            // Not a party organisation: no rows at all.
            organisation("p", K::PropertyCompany, &["c", "s", "m1"], 1, true),
            shoulder(2, false),
            shoulder(1, true),
        ];
        let rows = levels(&history);
        assert_eq!(rows.len(), 8, "two per event but the property company's");
        let values = values_before(&rows, at(100));
        let value = |metric| values.get(&("cells/m1".to_owned(), metric)).copied();
        assert_eq!(value(CellMetric::PartyOrganisationsTotal), Some(1));
        assert_eq!(
            value(CellMetric::PartyOrganisationsWithBranchCommittee),
            Some(1)
        );
        assert_eq!(value(CellMetric::CommunitiesTotal), Some(1));
        assert_eq!(value(CellMetric::CommunitiesOneShoulder), Some(0));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// Any delivery order with any duplicates gives the same rows and
        /// values as the history itself, at every period end.
        #[test]
        fn duplicates_and_reordering_give_the_same_levels(
            steps in proptest::collection::vec((0..3usize, 0..5i32, any::<bool>(), 0..100i64), 1..12),
            shuffle in any::<u64>(),
            duplicates in proptest::collection::vec(any::<proptest::sample::Index>(), 0..6),
        ) {
            // Versions in history order per key, times rising with them.
            let mut version = [0i64; 3];
            let mut minutes = 0;
            let mut history = Vec::new();
            for (key, covered, compliant, gap) in steps {
                version[key] += 1;
                minutes += gap;
                let name = format!("m{key}");
                history.push(coverage(&name, version[key], minutes, covered, 4));
                history.push(compliance(&name, &name, version[key], minutes, compliant));
            }
            let expected = levels(&history);
            let mut delivered = history.clone();
            for index in &duplicates {
                delivered.push(history[index.index(history.len())].clone());
            }
            let mut state = shuffle;
            for i in (1..delivered.len()).rev() {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                delivered.swap(i, (state >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(&levels(&delivered), &expected);
            for end in [0, 50, 200, 2_000] {
                prop_assert_eq!(values_before(&levels(&delivered), at(end)), values_before(&expected, at(end)));
            }
            // In the end, each key's last step counts (history is in version order).
            let mut last_step = BTreeMap::new();
            for event in &history {
                if let ParticipationBody::CoverageChanged(c) = &event.body {
                    last_step.insert(c.community.clone(), i64::from(c.covered_compound_count));
                }
            }
            let end = values_before(&expected, at(100_000));
            for (community, covered) in last_step {
                prop_assert_eq!(end.get(&(community, CellMetric::CompoundsCovered)).copied(), Some(covered));
            }
        }
    }
}
