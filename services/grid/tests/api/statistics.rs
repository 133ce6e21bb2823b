//! GetTaskStatistics from the kept tallies (per community and day of
//! report) agrees with the history counted step by step, for every scope,
//! subtree and window, before and after the deltas are folded.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use civicgrid_grid::domain::access::TaskScope;
use civicgrid_grid::store::tallies;
use civicgrid_grid::store::tasks::{self, TaskFilter};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::transition_task_request::{self as tr, Action as A};
use civicgrid_testkit::with_token;

use crate::import::resolved_leak;
use crate::tasks::{TaskHarness, admin, dept, operator, spawn, whistle};

/// The `i`th historical task: a day and more ago, 17 hours apart (so they
/// fall across midnights), alternately in s1 and s2; every third rated
/// unsatisfied (and reopened), every fourth checked in days late.
fn varied(i: i64, now: DateTime<Utc>) -> pb::HistoricalTask {
    let reported = now - Duration::hours(24 + 17 * i);
    let mut task = resolved_leak(uuid::Uuid::new_v4(), reported);
    if i % 2 == 1 {
        task.task.as_mut().unwrap().cell = "cells/s2-m1-g1".into();
    }
    if i % 3 == 0 {
        let rating = task.steps[4].transition.as_mut().unwrap();
        rating.action = Some(A::Rate(tr::Rate { satisfied: false }));
        rating.reason = "still leaking".into();
    }
    if i % 4 == 0 && i >= 8 {
        let late = reported + Duration::days(3);
        for (k, step) in task.steps.iter_mut().enumerate().skip(2) {
            let time = late + Duration::minutes(10 * k as i64);
            step.time = Some(prost_types::Timestamp {
                seconds: time.timestamp(),
                nanos: 0,
            });
        }
    }
    task
}

/// Midnight in China Standard Time, `days` before today's.
fn cst_midnight(now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    let today = (now + Duration::hours(8)).date_naive();
    (today - Duration::days(days))
        .and_time(NaiveTime::MIN)
        .and_utc()
        - Duration::hours(8)
}

#[tokio::test]
async fn statistics_from_the_tallies_match_the_history_for_every_scope_subtree_and_window() {
    let app = spawn().await;
    let now = Utc::now();
    let imported = app
        .tasks()
        .await
        .import_tasks(with_token(
            pb::ImportTasksRequest {
                tasks: (0..30).map(|i| varied(i, now)).collect(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(imported.imported_count, 30);
    // Live steps too: their deltas come one transition at a time.
    let live = app.report("s1-m1-g1", &admin()).await;
    app.act(&live, A::Accept(tr::Accept {}), "", &admin())
        .await
        .unwrap();
    let other = app.report("s2-m1-g1", &admin()).await;
    let other = app
        .act(&other, whistle("housing", &["water"]), "", &admin())
        .await
        .unwrap();
    app.act(
        &other,
        A::Return(tr::Return {
            department: dept("water"),
        }),
        "not ours",
        &operator("water"),
    )
    .await
    .unwrap();

    let everything = TaskScope {
        everything: true,
        ..TaskScope::default()
    };
    let cells = |roots: &[&str]| TaskScope {
        cell_roots: roots.iter().map(|r| r.to_string()).collect(),
        ..TaskScope::default()
    };
    let scopes = [
        everything,
        cells(&["s1"]),
        cells(&["s2-m1", "s1"]),
        cells(&["s1-m1-g1"]),
    ];
    let subtrees = [
        None,
        Some("/c/s1/"),
        Some("/c/s2/s2-m1/"),
        Some("/c/s1/s1-m1/s1-m1-g1/"),
    ];
    let windows = [
        (None, None),
        (Some(now - Duration::days(10)), None),
        (None, Some(now - Duration::days(3))),
        (
            Some(now - Duration::days(12) - Duration::hours(3)),
            Some(now - Duration::days(2) + Duration::hours(5)),
        ),
        (Some(cst_midnight(now, 15)), Some(cst_midnight(now, 2))),
        (
            Some(cst_midnight(now, 5) + Duration::hours(1)),
            Some(cst_midnight(now, 5) + Duration::hours(20)),
        ),
    ];
    let mut filters = Vec::new();
    for scope in &scopes {
        for subtree in subtrees {
            for (after, before) in windows {
                filters.push(TaskFilter {
                    scope: scope.clone(),
                    ancestor_path: subtree.map(str::to_owned),
                    reported_after: after,
                    reported_before: before,
                    ..TaskFilter::default()
                });
            }
        }
    }

    let mut from_tallies = 0;
    for round in ["before the fold", "after the fold"] {
        for filter in &filters {
            let kept = tasks::statistics(&app.pool, filter).await.unwrap();
            let counted = tasks::statistics_from_history(&app.pool, filter)
                .await
                .unwrap();
            assert_eq!(kept, counted, "{round}: {filter:?}");
            if tallies::answer_for(&app.pool, filter).await.unwrap() && kept.task_count > 0 {
                from_tallies += 1;
            }
        }
        tallies::fold(&app.pool).await.unwrap();
        tallies::vacuum(&app.pool).await.unwrap();
        let deltas: i64 = sqlx::query_scalar("SELECT count(*) FROM task_tally_deltas")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(deltas, 0, "the fold leaves no delta behind");
    }
    // The comparison meant something: the tallies answered most filters
    // and counted tasks, and the whole county's numbers are the expected ones.
    assert!(
        from_tallies > 60,
        "{from_tallies} filters answered from the tallies"
    );
    let all = tasks::statistics(&app.pool, &filters[0]).await.unwrap();
    assert_eq!(all.task_count, 32);
    assert_eq!(
        all.satisfaction_rate,
        20.0 / 30.0,
        "every third rated unsatisfied"
    );
    assert_eq!(
        all.return_rate,
        1.0 / 31.0,
        "one return beside 30 check-ins"
    );
    assert!(all.response_rate < 1.0, "the late check-ins count");
}
