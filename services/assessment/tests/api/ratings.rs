//! Two-way assessment: the whistling street or community rates the
//! departments it whistled, once each per task, after the resolution;
//! departments are scored from those ratings and their check-ins.

use civicgrid_proto::assessment::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, with_token};
use tonic::Code;

use crate::TestApp;
use crate::fixture::{Event, Script};
use crate::metrics::{admin, publish, seeded};
use crate::schemes::{create_version, publish_scores, publish_version};

const TASKS: usize = 2;

fn staff_of(cell: &str) -> String {
    TestKeys::get().token(&[Role::CommunityStaff], &[&format!("cells/{cell}")], None)
}

fn street_admin_of(cell: &str) -> String {
    TestKeys::get().token(&[Role::StreetAdmin], &[&format!("cells/{cell}")], None)
}

async fn rate(
    app: &TestApp,
    token: &str,
    task: &str,
    department: &str,
    grade: pb::RatingGrade,
) -> Result<pb::DepartmentRating, tonic::Status> {
    app.client
        .clone()
        .create_department_rating(with_token(
            pb::CreateDepartmentRatingRequest {
                parent: format!("tasks/{task}"),
                department_rating: Some(pb::DepartmentRating {
                    department: format!("departments/{department}"),
                    grade: grade as i32,
                    comment: "响应及时".to_owned(),
                    ..Default::default()
                }),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().department_rating.unwrap())
}

async fn deliver(app: &TestApp, events: &[Event]) {
    for event in events {
        publish(app, event).await;
    }
    app.consumers[TASKS].drain().await.unwrap();
}

async fn department(app: &TestApp, id: &str) -> pb::DepartmentMetrics {
    app.client
        .clone()
        .get_department_metrics(admin(pb::GetDepartmentMetricsRequest {
            name: format!("departments/{id}/metrics/2026-11"),
        }))
        .await
        .unwrap()
        .into_inner()
        .metrics
        .unwrap()
}

fn ratings(m: &pb::DepartmentMetrics) -> [i64; 4] {
    [
        m.ratings,
        m.ratings_satisfied,
        m.ratings_basically_satisfied,
        m.ratings_dissatisfied,
    ]
}

#[tokio::test]
async fn only_the_whistling_street_or_community_rates_once_per_department_after_resolution() {
    use pb::RatingGrade::{BasicallySatisfied, Satisfied};
    let (app, _) = seeded().await;
    // T5 in g3 (cm2): whistled to urban, checked in, not resolved yet.
    let t5 = Script::reported("t5", "g3", 60)
        .whistled(2, 10, "urban")
        .checked_in(3, 60, 24 * 60);
    let delivered = t5.events.len();
    deliver(&app, &t5.events).await;

    let refusals = [
        (
            street_admin_of("st2"),
            "t3",
            "urban",
            Code::PermissionDenied,
        ),
        (
            TestKeys::get().county_admin(),
            "t3",
            "urban",
            Code::PermissionDenied,
        ),
        (
            TestKeys::get().token(&[Role::DepartmentOperator], &[], Some("urban")),
            "t3",
            "urban",
            Code::PermissionDenied,
        ),
        (staff_of("cm2"), "t3", "urban", Code::PermissionDenied),
        (
            street_admin_of("st1"),
            "t3",
            "parks",
            Code::FailedPrecondition,
        ),
        (staff_of("cm2"), "t5", "urban", Code::FailedPrecondition),
        (staff_of("cm2"), "t404", "urban", Code::NotFound),
    ];
    for (token, task, department, code) in refusals {
        let status = rate(&app, &token, task, department, Satisfied)
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            code,
            "{task} {department}: {}",
            status.message()
        );
    }
    assert_eq!(
        ratings(&department(&app, "urban").await),
        [0; 4],
        "refusals change nothing"
    );

    let t5 = t5.department_resolved(4, 120);
    deliver(&app, &t5.events[delivered..]).await;
    let rated = rate(&app, &staff_of("cm2"), "t5", "urban", BasicallySatisfied)
        .await
        .unwrap();
    assert_eq!(rated.name, "tasks/t5/departmentRatings/urban");
    let twice = rate(&app, &street_admin_of("st1"), "t5", "urban", Satisfied)
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::AlreadyExists);
    // Housing returned t3 but was whistled for it: the street rates it too.
    rate(&app, &street_admin_of("st1"), "t3", "housing", Satisfied)
        .await
        .unwrap();
    assert_eq!(ratings(&department(&app, "urban").await), [1, 0, 1, 0]);
    assert_eq!(ratings(&department(&app, "housing").await), [1, 1, 0, 0]);

    let before = civicgrid_assessment::store::metrics::all_values(&app.pool)
        .await
        .unwrap();
    app.client
        .clone()
        .rebuild_metrics(admin(pb::RebuildMetricsRequest {}))
        .await
        .unwrap();
    assert_eq!(
        civicgrid_assessment::store::metrics::all_values(&app.pool)
            .await
            .unwrap(),
        before,
        "a rebuild keeps the ratings' counts"
    );
    let evidence = app
        .client
        .clone()
        .explain_metric(admin(pb::ExplainMetricRequest {
            name: "departments/urban/metrics/2026-11".to_owned(),
            metric: "ratings_basically_satisfied".to_owned(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].event_type, "assessment.department.rated");
    assert_eq!(evidence[0].aggregate_id, "tasks/t5");
}

/// Departments: check-ins (50) on time / check-ins, ratings (50)
/// satisfied / ratings, both linear 0 → 1.
fn department_scheme() -> pb::SchemeVersion {
    let line = |id: &str, numerator: &str, denominator: &str| pb::Indicator {
        id: id.to_owned(),
        display_name: id.to_owned(),
        level: pb::Level::Department as i32,
        formula: Some(pb::indicator::Formula::Ratio(pb::Ratio {
            numerator: numerator.to_owned(),
            denominator: denominator.to_owned(),
        })),
        weight: 50.0,
        scoring: Some(pb::indicator::Scoring::Linear(pb::Linear {
            floor: 0.0,
            target: 1.0,
        })),
        min_sample: 1,
    };
    pb::SchemeVersion {
        display_name: "两向考核".to_owned(),
        effective_from: "2026-01".to_owned(),
        redistribution: pb::Redistribution::Proportional as i32,
        indicators: vec![
            line("check-ins", "check_ins_on_time", "check_ins"),
            line("ratings", "ratings_satisfied", "ratings"),
        ],
        ..Default::default()
    }
}

async fn department_scores(app: &TestApp) -> Vec<(String, Option<f64>, i32)> {
    publish_scores(app, "two-way", pb::Level::Department, "2026-11")
        .await
        .unwrap()
        .cards
        .iter()
        .map(|c| (c.subject.clone(), c.score, c.rank))
        .collect()
}

fn row(subject: &str, score: Option<f64>, rank: i32) -> (String, Option<f64>, i32) {
    (format!("departments/{subject}"), score, rank)
}

#[tokio::test]
async fn a_departments_two_way_score_follows_its_ratings_and_its_on_time_check_ins() {
    use pb::RatingGrade::{Dissatisfied, Satisfied};
    let (app, _) = seeded().await;
    create_version(&app, "two-way", department_scheme())
        .await
        .unwrap();
    publish_version(&app, "schemes/two-way/versions/1")
        .await
        .unwrap();
    // Urban checked in on time for t3 (1/1 → 100), nobody rated yet: 100.
    // Housing returned t3 without checking in: no data, no rank.
    assert_eq!(
        department_scores(&app).await,
        [row("urban", Some(100.0), 1), row("housing", None, 0)]
    );

    rate(&app, &street_admin_of("st1"), "t3", "urban", Dissatisfied)
        .await
        .unwrap();
    rate(&app, &street_admin_of("st1"), "t3", "housing", Satisfied)
        .await
        .unwrap();
    // Urban: (50·100 + 50·0) / 100 = 50; housing: ratings only, 100.
    assert_eq!(
        department_scores(&app).await,
        [row("housing", Some(100.0), 1), row("urban", Some(50.0), 2)]
    );

    // T5: urban checks in on time and the community is satisfied:
    // check-ins 2/2 → 100, ratings 1/2 → 50: 75.
    let t5 = Script::reported("t5", "g3", 60)
        .whistled(2, 10, "urban")
        .checked_in(3, 60, 24 * 60)
        .department_resolved(4, 120);
    deliver(&app, &t5.events).await;
    rate(&app, &staff_of("cm2"), "t5", "urban", Satisfied)
        .await
        .unwrap();
    assert_eq!(
        department_scores(&app).await,
        [row("housing", Some(100.0), 1), row("urban", Some(75.0), 2)]
    );

    // T6: urban checks in an hour late (due two hours after the whistle):
    // check-ins 2/3 → 66.67, ratings still 1/2 → 50: 58.33.
    let t6 = Script::reported("t6", "g3", 60)
        .whistled(2, 10, "urban")
        .checked_in(3, 10 + 3 * 60, 24 * 60);
    deliver(&app, &t6.events).await;
    assert_eq!(
        department_scores(&app).await,
        [row("housing", Some(100.0), 1), row("urban", Some(58.33), 2)]
    );
    let urban = department(&app, "urban").await;
    assert_eq!((urban.check_ins, urban.check_ins_on_time), (3, 2));
}

#[tokio::test]
async fn racing_ratings_of_one_department_for_one_task_leave_exactly_one() {
    let app = std::sync::Arc::new(seeded().await.0);
    let contenders = 4;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(contenders));
    let mut handles = Vec::new();
    for _ in 0..contenders {
        let (app, barrier) = (app.clone(), barrier.clone());
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            rate(
                &app,
                &street_admin_of("st1"),
                "t3",
                "urban",
                pb::RatingGrade::Satisfied,
            )
            .await
        }));
    }
    let mut codes = Vec::new();
    for handle in handles {
        codes.push(handle.await.unwrap().map(|_| ()).map_err(|s| s.code()));
    }
    assert_eq!(codes.iter().filter(|c| c.is_ok()).count(), 1, "{codes:?}");
    assert!(
        codes
            .iter()
            .all(|c| matches!(c, Ok(()) | Err(Code::AlreadyExists))),
        "{codes:?}"
    );
    assert_eq!(ratings(&department(&app, "urban").await), [1, 1, 0, 0]);
}
