//! Centres' coverage and compliance levels (`centres.coverage.changed` per
//! community, `centres.compliance.changed` per centre) become level
//! metrics: the latest version as of each period's end, for the community
//! and rolled up to street and county, whatever the order and however
//! often they arrive; rebuilt and replayed the same, explained, and scored
//! through the coverage formula.

use civicgrid_assessment::commands::apply_participation_event::apply_participation_event;
use civicgrid_assessment::events::participation;
use civicgrid_assessment::store::metrics::all_values;
use civicgrid_assessment::store::ratings::OtherEvent;
use civicgrid_messaging::Outcome;
use civicgrid_proto::assessment::v1 as pb;
use civicgrid_proto::centres::v1 as centres;

use crate::TestApp;
use crate::fixture;
use crate::metrics::admin;
use crate::participation::{Contract, contract, meta};
use crate::schemes::{create_version, publish_scores, publish_version};

const CELLS: usize = 0;
const CENTRES: usize = 5;
const DAY: i64 = 24 * 60;
const COVERAGE: &str = "centres.coverage.changed";
const COMPLIANCE: &str = "centres.compliance.changed";

pub(crate) fn cells(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| format!("cells/{id}")).collect()
}

/// Version `version` of `community`'s coverage, published `minutes` after
/// the fixture's start (2026-11-10 10:00 Asia/Shanghai).
fn coverage(community: &str, version: i64, minutes: i64, covered: i32, total: i32) -> Contract {
    let name = format!("cells/{community}");
    let (id, mut m) = meta("centres", COVERAGE, &name, minutes);
    m.aggregate_version = version;
    contract(
        COVERAGE,
        id,
        centres::CoverageChanged {
            meta: Some(m),
            community: name,
            ancestors: cells(&["c1", "st1", community]),
            compound_count: total,
            covered_compound_count: covered,
            version,
            ..Default::default()
        },
    )
}

/// Version `version` of a centre's compliance; `place` its ancestors.
fn compliance(
    centre: &str,
    place: &[&str],
    version: i64,
    minutes: i64,
    compliant: bool,
) -> Contract {
    let name = format!("centres/{centre}");
    let (id, mut m) = meta("centres", COMPLIANCE, &name, minutes);
    m.aggregate_version = version;
    contract(
        COMPLIANCE,
        id,
        centres::ComplianceChanged {
            meta: Some(m),
            compliance: Some(centres::CentreCompliance {
                centre: name,
                category: centres::CentreCategory::Community as i32,
                standard_version: 1,
                compliant,
                ..Default::default()
            }),
            cell: place
                .last()
                .map(|c| format!("cells/{c}"))
                .unwrap_or_default(),
            ancestors: cells(place),
            version,
            ..Default::default()
        },
    )
}

/// cm1's coverage 1/3 (Nov 10), 2/3 (Nov 15), 3/4 (Dec 10); cm2's 0/2
/// (Nov 12). Centre a at cm1 compliant (Nov 10), not (Nov 20), again (Dec
/// 5); b at grid g1 of cm1 not compliant (Nov 11); k, a compound's centre
/// of cm2, compliant (Nov 12).
fn history() -> Vec<Contract> {
    let cm1 = ["c1", "st1", "cm1"];
    let build: Vec<Box<dyn Fn() -> Contract>> = vec![
        Box::new(|| coverage("cm1", 1, 0, 1, 3)),
        Box::new(|| coverage("cm1", 2, 5 * DAY, 2, 3)),
        Box::new(|| coverage("cm1", 3, 30 * DAY, 3, 4)),
        Box::new(|| coverage("cm2", 1, 2 * DAY, 0, 2)),
        Box::new(move || compliance("a", &cm1, 1, 0, true)),
        Box::new(move || compliance("a", &cm1, 2, 10 * DAY, false)),
        Box::new(move || compliance("a", &cm1, 3, 25 * DAY, true)),
        Box::new(|| compliance("b", &["c1", "st1", "cm1", "g1"], 1, DAY, false)),
        Box::new(|| compliance("k", &["c1", "st1", "cm2"], 1, 2 * DAY, true)),
    ];
    // Built newest first, so event ids (UUIDv7, rising) run against the
    // versions: only the version may decide which state is the latest.
    let mut out: Vec<Contract> = build.iter().rev().map(|f| f()).collect();
    out.reverse();
    out
}

/// The four level metrics a test reads from a cell's metrics.
pub(crate) type Four = fn(&pb::CellMetrics) -> [i64; 4];

/// (cell, period, rolled up, the four metrics expected).
pub(crate) type Expected = (&'static str, &'static str, bool, [i64; 4]);

fn coverage_and_compliance(m: &pb::CellMetrics) -> [i64; 4] {
    [
        m.compounds_covered,
        m.compounds_total,
        m.centres_compliant,
        m.centres_total,
    ]
}

/// Asserts each row of `expected`, reading the metrics through `four`.
pub(crate) async fn assert_levels(app: &TestApp, four: Four, expected: &[Expected], when: &str) {
    for (cell, period, rolled_up, expected) in expected {
        let m = app
            .client
            .clone()
            .get_cell_metrics(admin(pb::GetCellMetricsRequest {
                name: format!("cells/{cell}/metrics/{period}"),
                rolled_up: *rolled_up,
            }))
            .await
            .unwrap()
            .into_inner()
            .metrics
            .unwrap();
        assert_eq!(
            four(&m),
            *expected,
            "{cell} {period} rolled_up={rolled_up} ({when})"
        );
    }
}

/// (cell, period, rolled up) → [compounds covered, compounds, centres
/// compliant, centres], worked out by hand from `history`.
const EXPECTED: [Expected; 12] = [
    ("cm1", "2026-10", true, [0, 0, 0, 0]),
    // Nov: cm1 at version 2 (2/3), a at version 2 (not), b not.
    ("cm1", "2026-11", false, [2, 3, 0, 1]),
    ("cm1", "2026-11", true, [2, 3, 0, 2]),
    ("cm2", "2026-11", true, [0, 2, 1, 1]),
    ("st1", "2026-11", true, [2, 5, 1, 3]),
    ("c1", "2026-11", true, [2, 5, 1, 3]),
    // Dec: cm1 at version 3 (3/4), a compliant again.
    ("cm1", "2026-12", true, [3, 4, 1, 2]),
    ("st1", "2026-12", true, [3, 6, 2, 3]),
    // A quarter and a year end with December; a later month carries it on.
    ("st1", "2026-q4", true, [3, 6, 2, 3]),
    ("c1", "2026", true, [3, 6, 2, 3]),
    ("c1", "2027-03", true, [3, 6, 2, 3]),
    ("st2", "2026-12", true, [0, 0, 0, 0]),
];

async fn assert_expected(app: &TestApp, when: &str) {
    assert_levels(app, coverage_and_compliance, &EXPECTED, when).await;
}

pub(crate) async fn app_with_cells() -> TestApp {
    let app = crate::spawn_app().await;
    for cell in fixture::cells() {
        app.publish("grid.cell.created", uuid::Uuid::now_v7(), &cell)
            .await;
    }
    app.consumers[CELLS].drain().await.unwrap();
    app
}

pub(crate) async fn all_levels(
    app: &TestApp,
) -> Vec<(uuid::Uuid, String, String, String, i64, i64)> {
    civicgrid_assessment::store::levels::all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn coverage_and_compliance_levels_twice_and_shuffled_are_the_latest_versions_rolled_up_and_replay_the_same()
 {
    let app = app_with_cells().await;
    let events = history();
    // Each twice, shuffled: the even ones newest first, the odd ones, the
    // even ones again oldest first, the odd ones again backwards.
    let n = events.len();
    let order: Vec<usize> = (0..n)
        .rev()
        .filter(|i| i % 2 == 0)
        .chain((1..n).step_by(2))
        .chain((0..n).step_by(2))
        .chain((1..n).step_by(2).rev())
        .collect();
    let mut published = 0;
    for index in order {
        (events[index].publish)(&app).await;
        published += 1;
    }
    let outcomes = app.consumers[CENTRES].drain().await.unwrap();
    let applied = outcomes.iter().filter(|o| **o == Outcome::Applied).count();
    assert_eq!((applied, outcomes.len()), (n, published));
    assert_eq!(published, 2 * n, "each came twice");
    assert_expected(&app, "applied").await;

    let levels = all_levels(&app).await;
    assert_eq!(levels.len(), 2 * events.len(), "two level rows per event");
    rebuilt_and_replayed_alike(&app, "centres", &events, coverage_and_compliance, &EXPECTED).await;
}

/// A rebuild, and a replay of `source`'s subscription (its reset, then
/// every one of `events` again, in history order), each give back the
/// applied level rows and metric values, and `expected`.
pub(crate) async fn rebuilt_and_replayed_alike(
    app: &TestApp,
    source: &str,
    events: &[Contract],
    four: Four,
    expected: &[Expected],
) {
    let (values, levels) = (all_values(&app.pool).await.unwrap(), all_levels(app).await);
    app.client
        .clone()
        .rebuild_metrics(admin(pb::RebuildMetricsRequest {}))
        .await
        .unwrap();
    assert_eq!(
        all_levels(app).await,
        levels,
        "a rebuild gives the applied levels"
    );
    assert_eq!(all_values(&app.pool).await.unwrap(), values);
    assert_levels(app, four, expected, "rebuilt").await;

    let mut tx = app.pool.begin().await.unwrap();
    for statement in participation::reset(source) {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert!(all_levels(app).await.is_empty());
    for event in events {
        let body = participation::decode(event.key, &event.payload).unwrap();
        let stored = OtherEvent {
            event_id: event.id,
            source: source.to_owned(),
            routing_key: event.key.to_owned(),
            aggregate_id: body.group(),
            occurred_at: chrono::Utc::now(),
            payload: event.payload.clone(),
        };
        let mut tx = app.pool.begin().await.unwrap();
        assert!(apply_participation_event(&mut tx, &stored).await.unwrap());
        tx.commit().await.unwrap();
    }
    assert_eq!(
        all_levels(app).await,
        levels,
        "a replay gives the applied levels"
    );
    assert_eq!(all_values(&app.pool).await.unwrap(), values);
    assert_levels(app, four, expected, "replayed").await;
}

#[tokio::test]
async fn a_level_is_explained_by_the_state_in_force_and_scored_through_the_coverage_formula() {
    let app = app_with_cells().await;
    let events = history();
    for event in &events {
        (event.publish)(&app).await;
    }
    app.consumers[CENTRES].drain().await.unwrap();

    let explain = |metric: &str| {
        let mut client = app.client.clone();
        let request = admin(pb::ExplainMetricRequest {
            name: "cells/cm1/metrics/2026-11".to_owned(),
            metric: metric.to_owned(),
            rolled_up: true,
            ..Default::default()
        });
        async move {
            client
                .explain_metric(request)
                .await
                .unwrap()
                .into_inner()
                .evidence
                .into_iter()
                .map(|e| {
                    (
                        e.event_id,
                        e.event_type,
                        e.aggregate_id,
                        e.aggregate_version,
                        e.subject,
                        e.amount,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    // cm1's coverage at version 2 stands for November, not versions 1 or 3.
    assert_eq!(
        explain("compounds_covered").await,
        [(
            events[1].id.to_string(),
            COVERAGE.to_owned(),
            "cells/cm1".to_owned(),
            2,
            "cells/cm1".to_owned(),
            2
        )]
    );
    // Both of cm1's centres, each at its latest version in November: 0 each.
    let mut compliant = explain("centres_compliant").await;
    compliant.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(
        compliant,
        [
            (
                events[5].id.to_string(),
                COMPLIANCE.to_owned(),
                "centres/a".to_owned(),
                2,
                "cells/cm1".to_owned(),
                0
            ),
            (
                events[7].id.to_string(),
                COMPLIANCE.to_owned(),
                "centres/b".to_owned(),
                1,
                "cells/g1".to_owned(),
                0
            ),
        ]
    );

    // A scheme naming the levels in coverage formulas (covered / total).
    let indicator = |id: &str, covered: &str, total: &str| pb::Indicator {
        id: id.to_owned(),
        display_name: id.to_uppercase(),
        level: pb::Level::Community as i32,
        formula: Some(pb::indicator::Formula::Coverage(pb::Coverage {
            covered: covered.to_owned(),
            total: total.to_owned(),
        })),
        weight: 1.0,
        scoring: Some(pb::indicator::Scoring::Linear(pb::Linear {
            floor: 0.0,
            target: 1.0,
        })),
        min_sample: 1,
    };
    create_version(
        &app,
        "centres",
        pb::SchemeVersion {
            display_name: "阵地覆盖与达标 Coverage and compliance".to_owned(),
            effective_from: "2026-01".to_owned(),
            redistribution: pb::Redistribution::Proportional as i32,
            indicators: vec![
                indicator("coverage", "compounds_covered", "compounds_total"),
                indicator("compliance", "centres_compliant", "centres_total"),
            ],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    publish_version(&app, "schemes/centres/versions/1")
        .await
        .unwrap();
    let ranking = publish_scores(&app, "centres", pb::Level::Community, "2026-11")
        .await
        .unwrap();
    // cm2: 0 of 2 compounds (0 points), 1 of 1 centres (100): 50. cm1: 2 of
    // 3 (66.67), 0 of 2 (0): 33.33.
    /// Subject, score, and each indicator's numerator and denominator.
    type Card<'a> = (&'a str, Option<f64>, Vec<(i64, i64)>);
    let cards: Vec<Card> = ranking
        .cards
        .iter()
        .map(|c| {
            (
                c.subject.as_str(),
                c.score,
                c.indicators
                    .iter()
                    .map(|l| (l.numerator, l.denominator))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        cards,
        [
            ("cells/cm2", Some(50.0), vec![(0, 2), (1, 1)]),
            ("cells/cm1", Some(33.33), vec![(2, 3), (0, 2)]),
        ]
    );
}
