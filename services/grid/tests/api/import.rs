//! ImportTasks: historical tasks with their times, through the same rules
//! and events as live ones, idempotent per task, all or nothing per batch.

use chrono::{DateTime, Duration, Utc};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::transition_task_request::{self as tr, Action as A};
use civicgrid_runtime::status::field_violations;
use civicgrid_testkit::{TestKeys, with_token};
use prost::Message;
use tonic::Code;

use crate::support::TestApp;
use crate::tasks::{TaskHarness, admin, dept, operator, spawn, whistle};

fn at(time: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap(),
    })
}

fn step(time: DateTime<Utc>, actor: &str, action: A, reason: &str) -> pb::HistoricalStep {
    pb::HistoricalStep {
        time: at(time),
        actor: actor.into(),
        transition: Some(pb::TransitionTaskRequest {
            reason: reason.into(),
            action: Some(action),
            ..Default::default()
        }),
    }
}

/// A leak reported in s1-m1-g1 on `reported`, accepted, whistled to
/// housing, checked in and resolved by housing, rated satisfied.
pub(crate) fn resolved_leak(id: uuid::Uuid, reported: DateTime<Utc>) -> pb::HistoricalTask {
    let minutes = |m| reported + Duration::minutes(m);
    pb::HistoricalTask {
        name: format!("tasks/{id}"),
        task: Some(pb::Task {
            cell: "cells/s1-m1-g1".into(),
            category: "categories/leak".into(),
            urgency: pb::Urgency::Normal as i32,
            channel: pb::Channel::Resident as i32,
            description: "Water through the ceiling (old system)".into(),
            fields: [("floor".to_owned(), "3".to_owned())].into_iter().collect(),
            reporter_contact: "13812345678".into(),
            ..Default::default()
        }),
        report_time: at(reported),
        reporter: "resident-1".into(),
        steps: vec![
            step(minutes(30), "worker-1", A::Accept(tr::Accept {}), ""),
            step(minutes(40), "community-1", whistle("housing", &[]), ""),
            step(
                minutes(90),
                "housing-op",
                A::CheckIn(tr::CheckIn {
                    department: dept("housing"),
                }),
                "",
            ),
            step(
                minutes(600),
                "housing-op",
                A::ResolvePart(tr::ResolvePart {
                    department: dept("housing"),
                }),
                "",
            ),
            step(
                minutes(700),
                "resident-1",
                A::Rate(tr::Rate { satisfied: true }),
                "",
            ),
        ],
    }
}

impl TestApp {
    async fn import_tasks(
        &self,
        tasks: Vec<pb::HistoricalTask>,
        token: &str,
    ) -> Result<pb::ImportTasksResponse, tonic::Status> {
        Ok(self
            .tasks()
            .await
            .import_tasks(with_token(pb::ImportTasksRequest { tasks }, token))
            .await?
            .into_inner())
    }

    async fn task_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM tasks")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn outbox_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Imports `[good, bad]`, expects FAILED_PRECONDITION with a message
    /// starting `prefix`, and that nothing was stored or published.
    async fn assert_batch_refused(
        &self,
        good: pb::HistoricalTask,
        bad: pb::HistoricalTask,
        prefix: &str,
    ) {
        let outbox = self.outbox_count().await;
        let refused = self
            .import_tasks(vec![good, bad], &admin())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert!(
            refused.message().starts_with(prefix),
            "{}",
            refused.message()
        );
        assert_eq!(
            (self.task_count().await, self.outbox_count().await),
            (0, outbox)
        );
    }
}

/// Whole seconds (the test's times are whole minutes).
fn seconds(t: Option<prost_types::Timestamp>) -> i64 {
    t.unwrap().seconds
}

#[tokio::test]
async fn an_imported_task_keeps_its_historical_times_in_its_history_deadlines_and_events() {
    let app = spawn().await;
    let reported = (Utc::now() - Duration::days(90))
        .with_timezone(&Utc)
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    let id = uuid::Uuid::new_v4();
    let before = app.outbox_count().await;

    let outcome = app
        .import_tasks(vec![resolved_leak(id, reported)], &admin())
        .await
        .unwrap();
    assert_eq!((outcome.imported_count, outcome.skipped_count), (1, 0));

    let got = app
        .tasks()
        .await
        .get_task(with_token(
            pb::GetTaskRequest {
                name: format!("tasks/{id}"),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    let task = got.task.unwrap();
    assert!(task.imported);
    assert_eq!(task.state, pb::TaskState::Closed as i32);
    assert_eq!(task.satisfied, Some(true));
    assert_eq!(seconds(task.create_time), reported.timestamp());
    assert_eq!(task.reporter_contact, "138****5678");
    let history: Vec<(String, String, i64)> = got
        .history
        .iter()
        .map(|h| {
            (
                h.action.clone(),
                h.actor.clone(),
                seconds(h.time) - reported.timestamp(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("reported", "resident-1", 0),
            ("accepted", "worker-1", 30 * 60),
            ("whistled", "community-1", 40 * 60),
            ("checked_in", "housing-op", 90 * 60),
            ("department_resolved", "housing-op", 600 * 60),
            ("resolved", "housing-op", 600 * 60),
            ("rated", "resident-1", 700 * 60),
            ("closed", "resident-1", 700 * 60),
        ]
        .map(|(action, actor, offset)| (action.to_owned(), actor.to_owned(), offset))
    );

    // The same events as live, each stamped with its step's time.
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT routing_key, payload FROM outbox WHERE routing_key LIKE 'grid.task.%' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len() as i64, app.outbox_count().await - before);
    let events: Vec<(String, i64, bool)> = rows
        .iter()
        .map(|(key, payload)| {
            let event = pb::TaskChanged::decode(payload.as_slice()).unwrap();
            let occurred = seconds(event.meta.unwrap().occurred_at);
            (
                key.clone(),
                occurred - reported.timestamp(),
                event.task.unwrap().imported,
            )
        })
        .collect();
    let expected: Vec<(String, i64, bool)> = got
        .history
        .iter()
        .map(|h| {
            (
                format!("grid.task.{}", h.action),
                seconds(h.time) - reported.timestamp(),
                true,
            )
        })
        .collect();
    assert_eq!(events, expected);
    // Deadlines run from the historical report: the category's policy gives
    // 60 minutes to accept.
    let first = pb::TaskChanged::decode(rows[0].1.as_slice()).unwrap();
    assert_eq!(
        seconds(first.task.unwrap().accept_due),
        reported.timestamp() + 3600
    );
}

#[tokio::test]
async fn importing_the_same_tasks_again_skips_them_and_publishes_nothing_more() {
    let app = spawn().await;
    let reported = Utc::now() - Duration::days(30);
    let batch = vec![
        resolved_leak(uuid::Uuid::new_v4(), reported),
        resolved_leak(uuid::Uuid::new_v4(), reported + Duration::hours(1)),
    ];
    let first = app.import_tasks(batch.clone(), &admin()).await.unwrap();
    let (tasks, outbox) = (app.task_count().await, app.outbox_count().await);

    let again = app.import_tasks(batch, &admin()).await.unwrap();

    assert_eq!((first.imported_count, first.skipped_count), (2, 0));
    assert_eq!((again.imported_count, again.skipped_count), (0, 2));
    assert_eq!(
        (app.task_count().await, app.outbox_count().await),
        (tasks, outbox)
    );
}

#[tokio::test]
async fn a_step_the_rules_refuse_fails_the_whole_batch_naming_the_task_and_step() {
    let app = spawn().await;
    let reported = Utc::now() - Duration::days(10);
    let good = resolved_leak(uuid::Uuid::new_v4(), reported);
    let mut bad = resolved_leak(uuid::Uuid::new_v4(), reported);
    // Resolving before anyone was whistled.
    bad.steps.remove(1);

    app.assert_batch_refused(good, bad, "tasks[1].steps[1]")
        .await;
}

#[tokio::test]
async fn malformed_historical_tasks_name_every_bad_field_under_their_task_and_step() {
    let app = spawn().await;
    let reported = Utc::now() - Duration::days(10);
    let mut first = resolved_leak(uuid::Uuid::new_v4(), reported);
    first.name = "tasks/not-a-uuid".into();
    first.steps[2].time = at(reported); // before the step it follows
    let mut second = resolved_leak(uuid::Uuid::new_v4(), reported);
    second.report_time = at(Utc::now() + Duration::days(1));
    second.task.as_mut().unwrap().cell = "nowhere".into();
    second.steps[0].transition.as_mut().unwrap().action = None;

    let refused = app
        .import_tasks(vec![first, second], &admin())
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::InvalidArgument);
    let mut fields: Vec<String> = field_violations(&refused)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "tasks[0].name",
            "tasks[0].steps[2].time",
            "tasks[1].report_time",
            "tasks[1].steps[0].transition.action",
            "tasks[1].task.cell",
        ]
    );
    assert_eq!(app.task_count().await, 0);
}

#[tokio::test]
async fn only_a_county_admin_imports_tasks() {
    let app = spawn().await;
    let batch = vec![resolved_leak(
        uuid::Uuid::new_v4(),
        Utc::now() - Duration::days(1),
    )];
    let street = TestKeys::get().token(
        &[civicgrid_runtime::auth::Role::StreetAdmin],
        &["cells/s1"],
        None,
    );
    for token in [street, operator("housing")] {
        let refused = app.import_tasks(batch.clone(), &token).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    assert_eq!(app.task_count().await, 0);
    // A live report still works beside it, and is not marked imported.
    let live = app.report("s1-m1-g1", &admin()).await;
    assert!(!live.imported);
}

#[tokio::test]
async fn a_batch_merges_into_its_own_earlier_task_and_skips_a_task_named_twice() {
    let app = spawn().await;
    let reported = Utc::now() - Duration::days(5);
    let original_id = uuid::Uuid::new_v4();
    let mut original = resolved_leak(original_id, reported);
    // Accepted only: still open, so it can take a duplicate.
    original.steps.truncate(1);
    let mut duplicate = resolved_leak(uuid::Uuid::new_v4(), reported + Duration::hours(1));
    duplicate.steps = vec![step(
        reported + Duration::hours(2),
        "worker-1",
        A::MergeAsDuplicate(tr::MergeAsDuplicate {
            duplicate_of: format!("tasks/{original_id}"),
        }),
        "",
    )];

    let imported = app
        .import_tasks(vec![original.clone(), duplicate, original], &admin())
        .await
        .unwrap();

    assert_eq!((imported.imported_count, imported.skipped_count), (2, 1));
    assert_eq!(app.task_count().await, 2);
    let merged: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT merged_into FROM tasks WHERE id <> $1")
            .bind(original_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(merged, Some(original_id));
}

#[tokio::test]
async fn a_whistle_to_an_unknown_department_fails_the_batch_naming_the_step() {
    let app = spawn().await;
    let reported = Utc::now() - Duration::days(5);
    let good = resolved_leak(uuid::Uuid::new_v4(), reported);
    let mut bad = resolved_leak(uuid::Uuid::new_v4(), reported);
    bad.steps[1] = step(
        reported + Duration::minutes(40),
        "community-1",
        whistle("nobody", &[]),
        "",
    );

    app.assert_batch_refused(
        good,
        bad,
        "tasks[1].steps[1]: departments/nobody does not exist",
    )
    .await;
}
