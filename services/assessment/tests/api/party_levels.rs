//! Membership's levels: party organisations (`membership.organisation.
//! created|updated`, latest version per organisation) and 一肩挑
//! (`membership.community.one_shoulder.changed`, latest version per
//! community) become level metrics for the community and rolled up to
//! street and county, whatever the order and however often they arrive,
//! and rebuild and replay the same.

use civicgrid_messaging::Outcome;
use civicgrid_proto::assessment::v1 as pb;
use civicgrid_proto::membership::v1 as membership;

use crate::TestApp;
use crate::levels::{
    Expected, all_levels, app_with_cells, assert_levels, cells, rebuilt_and_replayed_alike,
};
use crate::participation::{Contract, contract, meta};

const MEMBERSHIP: usize = 4;
const DAY: i64 = 24 * 60;
const CREATED: &str = "membership.organisation.created";
const UPDATED: &str = "membership.organisation.updated";
const ONE_SHOULDER: &str = "membership.community.one_shoulder.changed";

/// Version `version` of organisation `id` (created at version 1), placed
/// at the last of `area` or, with `compound`, in that compound of it.
fn organisation(
    id: &str,
    kind: membership::OrganisationKind,
    area: &[&str],
    compound: bool,
    version: i64,
    minutes: i64,
    branch_committee: bool,
) -> Contract {
    let name = format!("organisations/{id}");
    let key = if version == 1 { CREATED } else { UPDATED };
    let (event_id, mut m) = meta("membership", key, &name, minutes);
    m.aggregate_version = version;
    let organisation = membership::Organisation {
        name,
        display_name: id.to_uppercase(),
        kind: kind as i32,
        cell: if compound {
            String::new()
        } else {
            format!("cells/{}", area.last().unwrap())
        },
        compound: if compound {
            format!("compounds/{id}-k")
        } else {
            String::new()
        },
        standardisation: Some(membership::Standardisation {
            branch_committee_formed: branch_committee,
            office_premises: true,
            activity_premises: false,
        }),
        area: cells(area),
        version,
        ..Default::default()
    };
    if version == 1 {
        contract(
            CREATED,
            event_id,
            membership::OrganisationCreated {
                meta: Some(m),
                organisation: Some(organisation),
            },
        )
    } else {
        contract(
            UPDATED,
            event_id,
            membership::OrganisationUpdated {
                meta: Some(m),
                organisation: Some(organisation),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["standardisation".to_owned()],
                }),
            },
        )
    }
}

/// Version `version` of 一肩挑 in `community` (of street st1).
fn one_shoulder(community: &str, version: i64, minutes: i64, holds: bool) -> Contract {
    let name = format!("cells/{community}");
    let (id, mut m) = meta("membership", ONE_SHOULDER, &name, minutes);
    m.aggregate_version = version;
    contract(
        ONE_SHOULDER,
        id,
        membership::OneShoulderChanged {
            meta: Some(m),
            community: name,
            ancestors: cells(&["c1", "st1", community]),
            committee: format!("organisations/{community}-pc"),
            secretary_is_director: holds,
            version,
        },
    )
}

/// cm1-pc without a branch committee (Nov 10), with (Nov 15), without
/// (Dec 10); g1-b, a branch in grid g1 of cm1, without (Nov 11), with (Dec
/// 5); cm2-b in a compound of cm2, with (Nov 12); st1-wc with (Nov 10); a
/// property company in a compound of cm1, not a party organisation. 一肩挑
/// in cm1 no (Nov 10), yes (Nov 20), no (Dec 5); in cm2 yes (Nov 12).
fn history() -> Vec<Contract> {
    use membership::OrganisationKind as K;
    let cm1 = ["c1", "st1", "cm1"];
    let cm2 = ["c1", "st1", "cm2"];
    let g1 = ["c1", "st1", "cm1", "g1"];
    let build: Vec<Box<dyn Fn() -> Contract>> = vec![
        Box::new(move || {
            organisation(
                "cm1-pc",
                K::CommunityPartyCommittee,
                &cm1,
                false,
                1,
                0,
                false,
            )
        }),
        Box::new(move || {
            organisation(
                "cm1-pc",
                K::CommunityPartyCommittee,
                &cm1,
                false,
                2,
                5 * DAY,
                true,
            )
        }),
        Box::new(move || {
            organisation(
                "cm1-pc",
                K::CommunityPartyCommittee,
                &cm1,
                false,
                3,
                30 * DAY,
                false,
            )
        }),
        Box::new(move || organisation("g1-b", K::Branch, &g1, false, 1, DAY, false)),
        Box::new(move || organisation("g1-b", K::Branch, &g1, false, 2, 25 * DAY, true)),
        Box::new(move || organisation("cm2-b", K::Branch, &cm2, true, 1, 2 * DAY, true)),
        Box::new(|| {
            organisation(
                "st1-wc",
                K::StreetWorkingCommittee,
                &["c1", "st1"],
                false,
                1,
                0,
                true,
            )
        }),
        Box::new(move || organisation("cm1-pm", K::PropertyCompany, &cm1, true, 1, 0, false)),
        Box::new(|| one_shoulder("cm1", 1, 0, false)),
        Box::new(|| one_shoulder("cm1", 2, 10 * DAY, true)),
        Box::new(|| one_shoulder("cm1", 3, 25 * DAY, false)),
        Box::new(|| one_shoulder("cm2", 1, 2 * DAY, true)),
    ];
    // Built newest first, so event ids (UUIDv7, rising) run against the
    // versions: only the version may decide which state is the latest.
    let mut out: Vec<Contract> = build.iter().rev().map(|f| f()).collect();
    out.reverse();
    out
}

fn party(m: &pb::CellMetrics) -> [i64; 4] {
    [
        m.party_organisations_total,
        m.party_organisations_with_branch_committee,
        m.communities_total,
        m.communities_one_shoulder,
    ]
}

/// (cell, period, rolled up) → [party organisations, with a branch
/// committee, communities, with 一肩挑], worked out by hand from `history`.
const EXPECTED: [Expected; 14] = [
    ("cm1", "2026-10", true, [0, 0, 0, 0]),
    // Nov: cm1-pc at version 2 (with), g1-b at 1 (without); 一肩挑 at 2.
    ("cm1", "2026-11", false, [1, 1, 1, 1]),
    ("cm1", "2026-11", true, [2, 1, 1, 1]),
    ("g1", "2026-11", true, [1, 0, 0, 0]),
    // cm2-b sits in a compound: counted for its community.
    ("cm2", "2026-11", false, [1, 1, 1, 1]),
    ("st1", "2026-11", false, [1, 1, 0, 0]),
    ("st1", "2026-11", true, [4, 3, 2, 2]),
    ("c1", "2026-11", true, [4, 3, 2, 2]),
    // Dec: cm1-pc without again, g1-b with; no 一肩挑 in cm1.
    ("cm1", "2026-12", true, [2, 1, 1, 0]),
    ("st1", "2026-12", true, [4, 3, 2, 1]),
    // A quarter and a year end with December; a later month carries it on.
    ("st1", "2026-q4", true, [4, 3, 2, 1]),
    ("c1", "2026", true, [4, 3, 2, 1]),
    ("c1", "2027-03", true, [4, 3, 2, 1]),
    ("st2", "2026-12", true, [0, 0, 0, 0]),
];

async fn assert_expected(app: &TestApp, when: &str) {
    assert_levels(app, party, &EXPECTED, when).await;
}

#[tokio::test]
async fn party_organisation_and_one_shoulder_levels_twice_and_shuffled_are_the_latest_versions_rolled_up_and_replay_the_same()
 {
    let app = app_with_cells().await;
    let events = history();
    // Each twice, shuffled: the odd ones backwards, the even ones, the odd
    // ones again forwards, the even ones again newest first.
    let n = events.len();
    let order: Vec<usize> = (1..n)
        .step_by(2)
        .rev()
        .chain((0..n).step_by(2))
        .chain((1..n).step_by(2))
        .chain((0..n).rev().filter(|i| i % 2 == 0))
        .collect();
    for &index in &order {
        (events[index].publish)(&app).await;
    }
    let outcomes = app.consumers[MEMBERSHIP].drain().await.unwrap();
    let applied = outcomes.iter().filter(|o| **o == Outcome::Applied).count();
    assert_eq!((applied, outcomes.len()), (n, 2 * n));
    assert_expected(&app, "applied").await;

    // Two rows per event, none for the property company.
    assert_eq!(all_levels(&app).await.len(), 2 * (n - 1));
    rebuilt_and_replayed_alike(&app, "membership", &events, party, &EXPECTED).await;
}
