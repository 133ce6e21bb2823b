//! Must-show 4: on a small county scored with the demo scheme file, a
//! street's score is traced down, indicator by indicator, through
//! ExplainMetric to the tasks, check-ins and ratings behind it; and a
//! department's two-way score down to the streets' ratings of it.

use std::collections::{BTreeSet, HashSet};

use civicgrid_proto::assessment::v1 as pb;
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::membership::v1 as membership;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, with_token};

use crate::TestApp;
use crate::fixture::at;
use crate::metrics::{admin, seeded};
use crate::participation::{Contract, contract, meta};
use crate::schemes::{publish_scores, publish_version};

const DEMO_SCHEME: &str = include_str!("../../schemes/demo-county.json");

/// Two members reported to cm1, one of whom takes part in an activity
/// held in g1.
fn participation() -> Vec<Contract> {
    let mut out = Vec::new();
    for member in ["m1", "m2"] {
        let key = "membership.report.member_registered";
        let (id, m) = meta("membership", key, &format!("memberReports/{member}"), 0);
        out.push(contract(
            key,
            id,
            membership::MemberReportRegistered {
                meta: Some(m),
                report: format!("memberReports/{member}"),
                member: format!("members/{member}"),
                community: "cells/cm1".into(),
                period_year: 2026,
                registered_at: Some(at(0)),
                ..Default::default()
            },
        ));
    }
    let key = "centres.checkin.recorded";
    let (id, m) = meta("centres", key, "activities/a1", 600);
    out.push(contract(
        key,
        id,
        centres::CheckinRecorded {
            meta: Some(m),
            checkin: "activities/a1/checkins/k1".into(),
            activity: "activities/a1".into(),
            member: "members/m1".into(),
            cell: "cells/g1".into(),
            checked_in_at: Some(at(600)),
            ..Default::default()
        },
    ));
    let key = "centres.activity.held";
    let (id, m) = meta("centres", key, "activities/a1", 700);
    out.push(contract(
        key,
        id,
        centres::ActivityHeld {
            meta: Some(m),
            activity: "activities/a1".into(),
            cell: "cells/g1".into(),
            end_time: Some(at(700)),
            attended: 1,
            ..Default::default()
        },
    ));
    out
}

/// Every event behind every scored line of `card`: (type, aggregate, id).
async fn trace(
    app: &TestApp,
    card: &pb::ScoreCard,
    rolled_up: bool,
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in &card.indicators {
        if line.status != pb::IndicatorStatus::Scored as i32 {
            continue;
        }
        let mut metrics = vec![(line.numerator_metric.clone(), line.numerator)];
        if !line.denominator_metric.is_empty() {
            metrics.push((line.denominator_metric.clone(), line.denominator));
        }
        for (metric, count) in metrics {
            let evidence = app
                .client
                .clone()
                .explain_metric(admin(pb::ExplainMetricRequest {
                    name: line.metrics.clone(),
                    metric: metric.clone(),
                    rolled_up,
                    page_size: 1000,
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner()
                .evidence;
            assert_eq!(evidence.len() as i64, count, "{}: {metric}", line.indicator);
            out.extend(
                evidence
                    .into_iter()
                    .map(|e| (e.event_type, e.aggregate_id, e.event_id)),
            );
        }
    }
    out
}

#[tokio::test]
async fn a_streets_score_under_the_demo_scheme_traces_down_to_its_tasks_check_ins_and_ratings() {
    let (app, grid_events) = seeded().await;
    let contracts = participation();
    for event in &contracts {
        (event.publish)(&app).await;
    }
    app.consumers[4].drain().await.unwrap();
    app.consumers[5].drain().await.unwrap();
    let street = TestKeys::get().token(&[Role::StreetAdmin], &["cells/st1"], None);
    app.client
        .clone()
        .create_department_rating(with_token(
            pb::CreateDepartmentRatingRequest {
                parent: "tasks/t3".to_owned(),
                department_rating: Some(pb::DepartmentRating {
                    department: "departments/urban".to_owned(),
                    grade: pb::RatingGrade::Satisfied as i32,
                    ..Default::default()
                }),
            },
            &street,
        ))
        .await
        .unwrap();

    let loaded = app
        .client
        .clone()
        .create_scheme_version(admin(pb::CreateSchemeVersionRequest {
            parent: "schemes/demo".to_owned(),
            scheme_file: DEMO_SCHEME.to_owned(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .scheme_version
        .unwrap();
    publish_version(&app, &loaded.name).await.unwrap();
    let streets = publish_scores(&app, "demo", pb::Level::Street, "2026-11")
        .await
        .unwrap();
    // st1: response 1/4 is below the 0.6 floor: 0; on time 2/3: 16.67;
    // satisfied 2/2: 100; reported members active 1/2: 40; 1 activity: 60.
    // (25·0 + 25·16.67 + 25·100 + 15·40 + 10·60) / 100 = 41.17.
    let st1 = &streets.cards[0];
    assert_eq!(
        (st1.subject.as_str(), st1.score, st1.rank),
        ("cells/st1", Some(41.17), 1)
    );

    let traced = trace(&app, st1, true).await;
    let known: HashSet<String> = grid_events
        .iter()
        .map(|e| e.id().to_string())
        .chain(contracts.iter().map(|c| c.id.to_string()))
        .collect();
    assert!(
        traced.iter().all(|(_, _, id)| known.contains(id)),
        "only published events"
    );
    let types: BTreeSet<&str> = traced.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "centres.activity.held",
            "centres.checkin.recorded",
            "grid.task.accepted",
            "grid.task.rated",
            "grid.task.reported",
            "grid.task.resolved",
            "grid.task.resolved_by_grid",
            "membership.report.member_registered",
        ])
    );
    let tasks: BTreeSet<&str> = traced
        .iter()
        .filter(|(t, _, _)| t.starts_with("grid.task."))
        .map(|(_, a, _)| a.as_str())
        .collect();
    assert_eq!(
        tasks,
        BTreeSet::from(["tasks/t1", "tasks/t2", "tasks/t3", "tasks/t4"])
    );
    let ratings: Vec<&str> = traced
        .iter()
        .filter(|(t, _, _)| t == "grid.task.rated")
        .map(|(_, a, _)| a.as_str())
        .collect();
    assert_eq!(
        ratings.len(),
        4,
        "t1's and t2's last residents' ratings, as rated and as satisfied"
    );

    let departments = publish_scores(&app, "demo", pb::Level::Department, "2026-11")
        .await
        .unwrap();
    // urban: checked in on time 1/1: 100; resolved late 0/1: 0; rated
    // satisfied 1/1: 100. (40·100 + 30·0 + 30·100) / 100 = 70.
    let urban = departments
        .cards
        .iter()
        .find(|c| c.subject == "departments/urban")
        .unwrap();
    assert_eq!(urban.score, Some(70.0));
    let traced = trace(&app, urban, false).await;
    let types: BTreeSet<&str> = traced.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "assessment.department.rated",
            "grid.task.checked_in",
            "grid.task.department_resolved",
        ])
    );
}
