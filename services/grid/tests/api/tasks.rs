//! Tasks through the gRPC API: lifecycle, guards, versions, access, supervision.

#![allow(clippy::unwrap_used)]

use crate::support::TestApp;
use chrono::{Duration, Utc};
use civicgrid_grid::commands::sweep_supervision::sweep_once;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::directory_service_client::DirectoryServiceClient;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_proto::grid::v1::task_service_client::TaskServiceClient;
use civicgrid_proto::grid::v1::transition_task_request::{self as tr, Action as A};
use civicgrid_runtime::auth::Role;
use civicgrid_runtime::status::field_violations;
use civicgrid_testkit::{TestKeys, endpoint, with_token};
use tonic::Code;

pub(crate) fn admin() -> String {
    TestKeys::get().county_admin()
}

pub(crate) fn operator(department: &str) -> String {
    TestKeys::get().token(&[Role::DepartmentOperator], &[], Some(department))
}

fn housing_and_centre() -> String {
    TestKeys::get().token(
        &[Role::DepartmentOperator, Role::CommandCentre],
        &["*"],
        Some("housing"),
    )
}

fn centre() -> String {
    TestKeys::get().token(&[Role::CommandCentre], &["*"], None)
}

/// What the task tests do with the grid under test.
pub(crate) trait TaskHarness {
    async fn seed_tasks(&self);
    async fn report(&self, cell: &str, token: &str) -> pb::Task;
    async fn act(
        &self,
        task: &pb::Task,
        action: A,
        reason: &str,
        token: &str,
    ) -> Result<pb::Task, tonic::Status>;
    async fn footprint(&self, task: &pb::Task) -> (i64, i64, i64);
    async fn events(&self, prefix: &str) -> Vec<String>;
}

impl TaskHarness for TestApp {
    async fn seed_tasks(&self) {
        let mut grid = GridServiceClient::connect(endpoint(self.addr))
            .await
            .unwrap();
        for (id, parent, level) in [
            ("c", "", 1),
            ("s1", "cells/c", 2),
            ("s2", "cells/c", 2),
            ("s1-m1", "cells/s1", 3),
            ("s2-m1", "cells/s2", 3),
            ("s1-m1-g1", "cells/s1-m1", 4),
            ("s2-m1-g1", "cells/s2-m1", 4),
        ] {
            let cell = pb::Cell {
                parent: parent.into(),
                level,
                display_name: format!("Cell {id}"),
                ..Default::default()
            };
            let request = pb::CreateCellRequest {
                cell_id: id.into(),
                cell: Some(cell),
                request_id: String::new(),
            };
            grid.create_cell(with_token(request, &admin()))
                .await
                .unwrap();
        }
        let mut directory = DirectoryServiceClient::connect(endpoint(self.addr))
            .await
            .unwrap();
        for id in ["housing", "water", "power"] {
            let department = pb::Department {
                display_name: format!("Dept {id}"),
                ..Default::default()
            };
            let request = pb::CreateDepartmentRequest {
                department_id: id.into(),
                department: Some(department),
            };
            directory
                .create_department(with_token(request, &admin()))
                .await
                .unwrap();
        }
        let category = pb::Category {
            display_name: "Water leak".into(),
            fields: vec![pb::CategoryField {
                key: "floor".into(),
                display_name: "Floor".into(),
                required: true,
            }],
            ..Default::default()
        };
        let request = pb::CreateCategoryRequest {
            category_id: "leak".into(),
            category: Some(category),
        };
        directory
            .create_category(with_token(request, &admin()))
            .await
            .unwrap();
        let calendar = |minutes| {
            Some(pb::Allowance {
                minutes,
                clock: pb::DeadlineClock::Calendar as i32,
            })
        };
        let policy = pb::DeadlinePolicy {
            name: "categories/leak/deadlinePolicies/normal".into(),
            accept: calendar(60),
            check_in: calendar(120),
            resolve: calendar(24 * 60),
            r#return: calendar(120),
            ..Default::default()
        };
        directory
            .set_deadline_policy(with_token(
                pb::SetDeadlinePolicyRequest {
                    policy: Some(policy),
                },
                &admin(),
            ))
            .await
            .unwrap();
    }

    async fn report(&self, cell: &str, token: &str) -> pb::Task {
        let task = pb::Task {
            cell: format!("cells/{cell}"),
            category: "categories/leak".into(),
            urgency: pb::Urgency::Normal as i32,
            channel: pb::Channel::Resident as i32,
            description: "Water is coming through the ceiling".into(),
            fields: [("floor".to_owned(), "3".to_owned())].into_iter().collect(),
            ..Default::default()
        };
        let request = pb::ReportTaskRequest {
            task: Some(task),
            reporter_contact: "13812345678".into(),
            request_id: String::new(),
        };
        self.tasks()
            .await
            .report_task(with_token(request, token))
            .await
            .unwrap()
            .into_inner()
            .task
            .unwrap()
    }

    async fn act(
        &self,
        task: &pb::Task,
        action: A,
        reason: &str,
        token: &str,
    ) -> Result<pb::Task, tonic::Status> {
        let request = pb::TransitionTaskRequest {
            name: task.name.clone(),
            etag: task.etag.clone(),
            reason: reason.into(),
            action: Some(action),
        };
        Ok(self
            .tasks()
            .await
            .transition_task(with_token(request, token))
            .await?
            .into_inner()
            .task
            .unwrap())
    }

    /// (task version, history length, outbox rows)
    async fn footprint(&self, task: &pb::Task) -> (i64, i64, i64) {
        let id = uuid::Uuid::parse_str(task.name.trim_start_matches("tasks/")).unwrap();
        let version = sqlx::query_scalar("SELECT version FROM tasks WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let history = sqlx::query_scalar("SELECT count(*) FROM task_history WHERE task_id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let outbox = sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        (version, history, outbox)
    }

    async fn events(&self, prefix: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT routing_key FROM outbox WHERE routing_key LIKE $1 || '%' ORDER BY id",
        )
        .bind(prefix)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }
}

/// A grid with county c / street s1, s2 / community s1-m1, s2-m1 / grid
/// s1-m1-g1, s2-m1-g1; departments housing, water, power; category leak
/// (extra field `floor`, required) with a policy.
pub(crate) async fn spawn() -> TestApp {
    let app = TestApp::spawn().await;
    app.seed_tasks().await;
    app
}

pub(crate) fn whistle(lead: &str, assisting: &[&str]) -> A {
    A::Whistle(tr::Whistle {
        lead: format!("departments/{lead}"),
        assisting: assisting
            .iter()
            .map(|d| format!("departments/{d}"))
            .collect(),
    })
}

pub(crate) fn dept(d: &str) -> String {
    format!("departments/{d}")
}

#[tokio::test]
async fn a_whistled_task_runs_its_whole_life_with_history_and_an_event_per_step() {
    let app = spawn().await;
    let task = app.report("s1-m1-g1", &admin()).await;
    assert_eq!(task.state, pb::TaskState::Reported as i32);
    assert_eq!(
        task.reporter_contact, "138****5678",
        "the contact is masked in every output"
    );
    let stored: Vec<u8> = sqlx::query_scalar("SELECT reporter_contact_sealed FROM tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !stored.windows(11).any(|w| w == b"13812345678"),
        "and encrypted at rest"
    );

    let task = app
        .act(&task, A::Accept(tr::Accept {}), "", &admin())
        .await
        .unwrap();
    let task = app
        .act(&task, whistle("housing", &["water", "power"]), "", &admin())
        .await
        .unwrap();
    let task = app
        .act(
            &task,
            A::CheckIn(tr::CheckIn {
                department: String::new(),
            }),
            "",
            &operator("housing"),
        )
        .await
        .unwrap();
    let task = app
        .act(
            &task,
            A::CheckIn(tr::CheckIn {
                department: dept("water"),
            }),
            "",
            &operator("water"),
        )
        .await
        .unwrap();
    let task = app
        .act(
            &task,
            A::Return(tr::Return {
                department: dept("power"),
            }),
            "not ours",
            &operator("power"),
        )
        .await
        .unwrap();
    let until = task.assignments[0]
        .resolve_due
        .map(|t| prost_types::Timestamp {
            seconds: t.seconds + 86_400,
            ..t
        });
    let task = app
        .act(
            &task,
            A::RequestExtension(tr::RequestExtension {
                department: dept("housing"),
                until,
            }),
            "parts on order",
            &operator("housing"),
        )
        .await
        .unwrap();
    let task = app
        .act(
            &task,
            A::DecideExtension(tr::DecideExtension {
                department: dept("housing"),
                grant: true,
            }),
            "",
            &centre(),
        )
        .await
        .unwrap();
    let task = app
        .act(
            &task,
            A::ResolvePart(tr::ResolvePart {
                department: dept("water"),
            }),
            "",
            &operator("water"),
        )
        .await
        .unwrap();
    assert_eq!(
        task.state,
        pb::TaskState::Whistled as i32,
        "the lead still owes its part"
    );
    let task = app
        .act(
            &task,
            A::ResolvePart(tr::ResolvePart {
                department: dept("housing"),
            }),
            "",
            &operator("housing"),
        )
        .await
        .unwrap();
    assert_eq!(task.state, pb::TaskState::Resolved as i32);
    let task = app
        .act(
            &task,
            A::Rate(tr::Rate { satisfied: false }),
            "still dripping",
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(
        (task.state, task.reopen_count),
        (pb::TaskState::Accepted as i32, 1)
    );
    let task = app
        .act(&task, A::Start(tr::Start {}), "", &admin())
        .await
        .unwrap();
    let task = app
        .act(&task, A::ResolveByGrid(tr::ResolveByGrid {}), "", &admin())
        .await
        .unwrap();
    let task = app
        .act(&task, A::Rate(tr::Rate { satisfied: true }), "", &admin())
        .await
        .unwrap();
    assert_eq!(task.state, pb::TaskState::Closed as i32);

    let full = app
        .tasks()
        .await
        .get_task(with_token(
            pb::GetTaskRequest {
                name: task.name.clone(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    let actions: Vec<&str> = full.history.iter().map(|h| h.action.as_str()).collect();
    let expected = [
        "reported",
        "accepted",
        "whistled",
        "checked_in",
        "checked_in",
        "returned",
        "extension_requested",
        "extension_granted",
        "department_resolved",
        "department_resolved",
        "resolved",
        "rated",
        "reopened",
        "started",
        "resolved_by_grid",
        "rated",
        "closed",
    ];
    assert_eq!(actions, expected);
    assert!(
        full.history
            .iter()
            .all(|h| !h.actor.is_empty() && h.time.is_some())
    );
    let events = app.events("grid.task.").await;
    let expected_events: Vec<String> = expected.iter().map(|a| format!("grid.task.{a}")).collect();
    assert_eq!(events, expected_events);

    // The history is append-only, even for the database's owner.
    let tampered = sqlx::query("UPDATE task_history SET reason = 'edited'")
        .execute(&app.pool)
        .await;
    assert!(tampered.is_err());
}

#[tokio::test]
async fn a_returned_lead_is_still_listed_on_the_task_after_the_street_whistles_another() {
    let app = spawn().await;
    let task = app.report("s1-m1-g1", &admin()).await;
    let task = app
        .act(&task, whistle("housing", &["water"]), "", &admin())
        .await
        .unwrap();
    let whistled_at = task.assignments[0].whistle_time;
    let task = app
        .act(
            &task,
            A::Return(tr::Return {
                department: String::new(),
            }),
            "a matter for the water company",
            &operator("housing"),
        )
        .await
        .unwrap();
    assert_eq!(task.state, pb::TaskState::Returned as i32);
    let returned_at = task.assignments[0].return_time;
    assert!(returned_at.is_some());
    app.act(&task, whistle("water", &["housing"]), "", &admin())
        .await
        .unwrap();

    let full = app
        .tasks()
        .await
        .get_task(with_token(
            pb::GetTaskRequest {
                name: task.name.clone(),
            },
            &centre(),
        ))
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    let listed: Vec<(&str, i32, i32)> = full
        .assignments
        .iter()
        .map(|a| (a.department.as_str(), a.role, a.state))
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                "departments/water",
                pb::AssignmentRole::Lead as i32,
                pb::AssignmentState::Assigned as i32
            ),
            (
                "departments/housing",
                pb::AssignmentRole::Assisting as i32,
                pb::AssignmentState::Assigned as i32
            ),
            (
                "departments/housing",
                pb::AssignmentRole::Lead as i32,
                pb::AssignmentState::Returned as i32
            ),
        ]
    );
    let bounced = &full.assignments[2];
    assert_eq!(bounced.return_reason, "a matter for the water company");
    assert_eq!(bounced.whistle_time, whistled_at);
    assert_eq!(bounced.return_time, returned_at);
    assert_ne!(full.assignments[0].whistle_time, whistled_at);

    // Housing acts on its new assignment, not the returned one.
    let task = app
        .act(
            &full,
            A::CheckIn(tr::CheckIn {
                department: String::new(),
            }),
            "",
            &operator("housing"),
        )
        .await
        .unwrap();
    assert_eq!(
        task.assignments[1].state,
        pb::AssignmentState::CheckedIn as i32
    );
    assert_eq!(
        task.assignments[2].state,
        pb::AssignmentState::Returned as i32
    );
}

#[tokio::test]
async fn a_department_that_returned_the_task_has_it_no_longer_in_its_work_queue() {
    let app = spawn().await;
    let task = app.report("s1-m1-g1", &admin()).await;
    let task = app
        .act(&task, whistle("housing", &[]), "", &admin())
        .await
        .unwrap();
    let task = app
        .act(
            &task,
            A::Return(tr::Return {
                department: String::new(),
            }),
            "not ours",
            &operator("housing"),
        )
        .await
        .unwrap();
    app.act(&task, whistle("water", &[]), "", &admin())
        .await
        .unwrap();
    let mut tasks = app.tasks().await;
    let queue = |department: &'static str| {
        let mut tasks = tasks.clone();
        async move {
            tasks
                .list_work_queue(with_token(
                    pb::ListWorkQueueRequest::default(),
                    &operator(department),
                ))
                .await
                .unwrap()
                .into_inner()
                .tasks
                .len()
        }
    };
    assert_eq!(queue("water").await, 1);
    assert_eq!(queue("housing").await, 0);
    // It still reads the task it returned, with its return on it.
    let seen = tasks
        .get_task(with_token(
            pb::GetTaskRequest {
                name: task.name.clone(),
            },
            &operator("housing"),
        ))
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(seen.assignments.len(), 2);
}

#[tokio::test]
async fn forbidden_transitions_fail_their_precondition_and_change_nothing() {
    let app = spawn().await;
    let task = app.report("s1-m1-g1", &admin()).await;
    let before = app.footprint(&task).await;
    for (action, reason, token) in [
        (A::Start(tr::Start {}), "", admin()),
        (A::ResolveByGrid(tr::ResolveByGrid {}), "", admin()),
        (
            A::CheckIn(tr::CheckIn {
                department: dept("housing"),
            }),
            "",
            housing_and_centre(),
        ),
        (A::Rate(tr::Rate { satisfied: true }), "", admin()),
        (
            A::Release(tr::Release {
                department: dept("water"),
            }),
            "",
            admin(),
        ),
    ] {
        let status = app.act(&task, action, reason, &token).await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    }
    // A whistle naming a department that does not exist.
    let status = app
        .act(&task, whistle("nowhere", &[]), "", &admin())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    // A rejection without a reason is a malformed request.
    let status = app
        .act(
            &task,
            A::Reject(tr::Reject {
                kind: pb::RejectionKind::Invalid as i32,
            }),
            "",
            &admin(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&status)[0].0, "reason");
    assert_eq!(app.footprint(&task).await, before);
}

#[tokio::test]
async fn a_stale_etag_is_aborted_and_changes_nothing() {
    let app = spawn().await;
    let read = app.report("s1-m1-g1", &admin()).await;
    app.act(&read, A::Accept(tr::Accept {}), "", &admin())
        .await
        .unwrap();
    let before = app.footprint(&read).await;
    let status = app
        .act(&read, A::Reject(tr::Reject { kind: 1 }), "prank", &admin())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    assert_eq!(app.footprint(&read).await, before);
}

#[tokio::test]
async fn a_malformed_report_names_every_bad_field_and_writes_nothing() {
    let app = spawn().await;
    let task = pb::Task {
        cell: "nowhere".into(),
        category: "categories/leak".into(),
        urgency: 9,
        channel: 0,
        description: "x".repeat(4001),
        attachments: vec!["no scheme here".into()],
        ..Default::default()
    };
    let request = pb::ReportTaskRequest {
        task: Some(task),
        reporter_contact: String::new(),
        request_id: "nope".into(),
    };
    let status = app
        .tasks()
        .await
        .report_task(with_token(request, &admin()))
        .await
        .unwrap_err();
    let fields: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(
        fields,
        vec![
            "request_id",
            "task.cell",
            "task.urgency",
            "task.channel",
            "task.description",
            "task.attachments[0]"
        ]
    );

    // The category's required extra field is checked against the directory.
    let task = pb::Task {
        cell: "cells/s1-m1-g1".into(),
        category: "categories/leak".into(),
        urgency: 2,
        channel: 1,
        description: "Leak".into(),
        ..Default::default()
    };
    let request = pb::ReportTaskRequest {
        task: Some(task),
        ..Default::default()
    };
    let status = app
        .tasks()
        .await
        .report_task(with_token(request, &admin()))
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status)[0].0, "task.fields[floor]");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_retried_report_with_the_same_request_id_is_stored_once() {
    let app = spawn().await;
    let task = pb::Task {
        cell: "cells/s1-m1-g1".into(),
        category: "categories/leak".into(),
        urgency: 2,
        channel: 3,
        description: "Leak".into(),
        fields: [("floor".to_owned(), "1".to_owned())].into_iter().collect(),
        ..Default::default()
    };
    let request = pb::ReportTaskRequest {
        task: Some(task),
        reporter_contact: String::new(),
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    let first = app
        .tasks()
        .await
        .report_task(with_token(request.clone(), &admin()))
        .await
        .unwrap()
        .into_inner();
    let second = app
        .tasks()
        .await
        .report_task(with_token(request, &admin()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, second);
    assert_eq!(app.events("grid.task.reported").await.len(), 1);
}

#[tokio::test]
async fn a_department_operator_sees_and_acts_only_on_its_own_departments_tasks() {
    let app = spawn().await;
    let mine = app.report("s1-m1-g1", &admin()).await;
    let mine = app
        .act(&mine, whistle("housing", &[]), "", &admin())
        .await
        .unwrap();
    let theirs = app.report("s2-m1-g1", &admin()).await;
    let theirs = app
        .act(&theirs, whistle("water", &[]), "", &admin())
        .await
        .unwrap();
    let mut tasks = app.tasks().await;

    let listed = tasks
        .list_tasks(with_token(
            pb::ListTasksRequest::default(),
            &operator("housing"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed
            .tasks
            .iter()
            .map(|t| t.name.clone())
            .collect::<Vec<_>>(),
        vec![mine.name.clone()]
    );
    let status = tasks
        .get_task(with_token(
            pb::GetTaskRequest {
                name: theirs.name.clone(),
            },
            &operator("housing"),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // Acting for another department, or on another department's task, is refused.
    let before = app.footprint(&theirs).await;
    let status = app
        .act(
            &theirs,
            A::CheckIn(tr::CheckIn {
                department: dept("water"),
            }),
            "",
            &operator("housing"),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = app
        .act(
            &theirs,
            A::CheckIn(tr::CheckIn {
                department: String::new(),
            }),
            "",
            &operator("housing"),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(app.footprint(&theirs).await, before);

    let queue = tasks
        .list_work_queue(with_token(
            pb::ListWorkQueueRequest::default(),
            &operator("housing"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(queue.tasks.len(), 1);
}

#[tokio::test]
async fn a_grid_worker_sees_only_the_cells_of_their_duties() {
    let app = spawn().await;
    let worker = TestKeys::get().token(&[Role::GridWorker], &[], None);
    let subject = "test-grid_worker";
    let mut grid = GridServiceClient::connect(endpoint(app.addr))
        .await
        .unwrap();
    let duty = pb::StaffAssignment {
        person: subject.into(),
        person_display_name: "Wang".into(),
        role: pb::StaffRole::GridWorker as i32,
        valid_from: Some(prost_types::Timestamp {
            seconds: (Utc::now() - Duration::days(1)).timestamp(),
            nanos: 0,
        }),
        ..Default::default()
    };
    let request = pb::CreateStaffAssignmentRequest {
        parent: "cells/s1-m1-g1".into(),
        staff_assignment: Some(duty),
    };
    grid.create_staff_assignment(with_token(request, &admin()))
        .await
        .unwrap();

    let own = app.report("s1-m1-g1", &worker).await;
    let elsewhere = app.report("s2-m1-g1", &admin()).await;
    let mut tasks = app.tasks().await;
    let listed = tasks
        .list_tasks(with_token(pb::ListTasksRequest::default(), &worker))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed
            .tasks
            .iter()
            .map(|t| t.name.clone())
            .collect::<Vec<_>>(),
        vec![own.name.clone()]
    );
    let status = tasks
        .get_task(with_token(
            pb::GetTaskRequest {
                name: elsewhere.name.clone(),
            },
            &worker,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // The grid itself: the worker sees the cell of their duty (and below), nothing else.
    let listed = grid
        .list_cells(with_token(pb::ListCellsRequest::default(), &worker))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed
            .cells
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["cells/s1-m1-g1"]
    );
    for name in ["cells/s2-m1-g1", "cells/s1-m1", "cells/c"] {
        let status = grid
            .get_cell(with_token(
                pb::GetCellRequest { name: name.into() },
                &worker,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{name}");
    }

    // Reporting outside the duty is refused.
    let task = pb::Task {
        cell: "cells/s2-m1-g1".into(),
        category: "categories/leak".into(),
        urgency: 2,
        channel: 1,
        description: "Leak".into(),
        fields: [("floor".to_owned(), "1".to_owned())].into_iter().collect(),
        ..Default::default()
    };
    let status = tasks
        .report_task(with_token(
            pb::ReportTaskRequest {
                task: Some(task),
                ..Default::default()
            },
            &worker,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn two_sweepers_together_issue_each_supervision_order_exactly_once() {
    let app = spawn().await;
    let a = app.report("s1-m1-g1", &admin()).await;
    let b = app.report("s2-m1-g1", &admin()).await;
    let c = app.report("s2-m1-g1", &admin()).await;
    // Their acceptance deadlines passed two hours ago (not yet red).
    sqlx::query("UPDATE tasks SET accept_due = now() - interval '2 hours'")
        .execute(&app.pool)
        .await
        .unwrap();

    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let sweep = |barrier: std::sync::Arc<tokio::sync::Barrier>| {
        let (pool, ladder) = (app.pool.clone(), app.ladder);
        async move {
            barrier.wait().await;
            sweep_once(&pool, &ladder, Utc::now()).await.unwrap()
        }
    };
    let (first, second) = tokio::join!(sweep(barrier.clone()), sweep(barrier.clone()));
    assert_eq!(
        first + second,
        3,
        "one order per lapsed acceptance between them"
    );
    assert_eq!(
        sweep_once(&app.pool, &app.ladder, Utc::now())
            .await
            .unwrap(),
        0,
        "a later sweep adds nothing"
    );
    let orders: Vec<(i16, i16)> =
        sqlx::query_as("SELECT step, level FROM supervision_orders ORDER BY task_id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(orders, vec![(1, 2); 3]);
    assert_eq!(app.events("grid.supervision.issued").await.len(), 3);

    // Acting clears the order.
    for task in [&a, &b, &c] {
        app.act(task, A::Accept(tr::Accept {}), "", &admin())
            .await
            .unwrap();
    }
    let open: i64 =
        sqlx::query_scalar("SELECT count(*) FROM supervision_orders WHERE clear_time IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(open, 0);
    assert_eq!(app.events("grid.supervision.cleared").await.len(), 3);
}

#[tokio::test]
async fn a_sweeper_started_after_a_deadline_passed_issues_the_order_and_escalates() {
    let app = spawn().await;
    let task = app.report("s1-m1-g1", &admin()).await;
    let task = app
        .act(&task, whistle("housing", &[]), "", &admin())
        .await
        .unwrap();
    let due = task.assignments[0].check_in_due.unwrap();
    let due = chrono::DateTime::from_timestamp(due.seconds, 0).unwrap();

    // Nothing before the warning window.
    assert_eq!(
        sweep_once(&app.pool, &app.ladder, due - Duration::hours(3))
            .await
            .unwrap(),
        0
    );
    // The warning inside it.
    assert_eq!(
        sweep_once(&app.pool, &app.ladder, due - Duration::minutes(10))
            .await
            .unwrap(),
        1
    );
    // A sweeper that was down past the deadline and the red period issues both now.
    assert_eq!(
        sweep_once(&app.pool, &app.ladder, due + Duration::days(3))
            .await
            .unwrap(),
        2
    );
    let levels: Vec<i16> =
        sqlx::query_scalar("SELECT level FROM supervision_orders ORDER BY level")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(levels, vec![1, 2, 3]);
    assert_eq!(app.events("grid.supervision.escalated").await.len(), 1);

    let listed = app
        .tasks()
        .await
        .list_supervision_orders(with_token(
            pb::ListSupervisionOrdersRequest {
                open_only: true,
                ..Default::default()
            },
            &operator("housing"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.orders.len(), 3);
    assert!(
        listed
            .orders
            .iter()
            .all(|o| o.department == "departments/housing")
    );
}

#[tokio::test]
async fn statistics_count_on_time_responses_satisfaction_returns_and_reopenings() {
    let app = spawn().await;
    let task = app.report("s1-m1-g1", &admin()).await;
    let task = app
        .act(&task, A::Accept(tr::Accept {}), "", &admin())
        .await
        .unwrap();
    let task = app
        .act(&task, A::ResolveByGrid(tr::ResolveByGrid {}), "", &admin())
        .await
        .unwrap();
    let task = app
        .act(
            &task,
            A::Rate(tr::Rate { satisfied: false }),
            "no",
            &admin(),
        )
        .await
        .unwrap();
    let task = app
        .act(&task, A::ResolveByGrid(tr::ResolveByGrid {}), "", &admin())
        .await
        .unwrap();
    app.act(&task, A::Rate(tr::Rate { satisfied: true }), "", &admin())
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

    let stats = app
        .tasks()
        .await
        .get_task_statistics(with_token(
            pb::GetTaskStatisticsRequest::default(),
            &centre(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.task_count, 2);
    assert_eq!(stats.response_rate, 1.0, "the acceptance was on time");
    assert_eq!(stats.resolution_rate, 1.0);
    assert_eq!(stats.satisfaction_rate, 0.5);
    assert_eq!(stats.reopen_rate, 0.5);
    assert_eq!(stats.return_rate, 1.0, "water's only response was a return");
    let street2 = app
        .tasks()
        .await
        .get_task_statistics(with_token(
            pb::GetTaskStatisticsRequest {
                ancestor: "cells/s2".into(),
                ..Default::default()
            },
            &centre(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(street2.task_count, 1);
}

#[tokio::test]
async fn likely_duplicates_are_open_tasks_of_the_category_nearby_and_can_be_merged() {
    let app = spawn().await;
    let first = app.report("s1-m1-g1", &admin()).await;
    let second = app.report("s1-m1-g1", &admin()).await;
    let far = app.report("s2-m1-g1", &admin()).await;
    let suggested = app
        .tasks()
        .await
        .suggest_duplicates(with_token(
            pb::SuggestDuplicatesRequest {
                task: second.name.clone(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<String> = suggested
        .candidates
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(names, vec![first.name.clone()]);
    assert!(!names.contains(&far.name));
    let merged = app
        .act(
            &second,
            A::MergeAsDuplicate(tr::MergeAsDuplicate {
                duplicate_of: first.name.clone(),
            }),
            "",
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(
        (merged.state, merged.merged_into),
        (pb::TaskState::Merged as i32, first.name)
    );
}

#[tokio::test]
async fn concurrent_reports_are_each_stored_once_with_one_event_even_when_retried_together() {
    let app = spawn().await;
    let keys: Vec<String> = (0..40).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    // Forty reports and, at the same moment, a retry of each of the first ten.
    let calls = keys.iter().chain(keys[..10].iter()).map(|key| {
        let task = pb::Task {
            cell: "cells/s1-m1-g1".into(),
            category: "categories/leak".into(),
            urgency: 2,
            channel: 2,
            description: "Leak".into(),
            fields: [("floor".to_owned(), "2".to_owned())].into_iter().collect(),
            ..Default::default()
        };
        let request = pb::ReportTaskRequest {
            task: Some(task),
            reporter_contact: String::new(),
            request_id: key.clone(),
        };
        let addr = app.addr;
        async move {
            let mut client = TaskServiceClient::connect(endpoint(addr)).await.unwrap();
            client
                .report_task(with_token(request, &admin()))
                .await
                .unwrap()
                .into_inner()
                .task
                .unwrap()
                .name
        }
    });
    let names = futures::future::join_all(calls).await;
    let distinct: std::collections::HashSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), 40);
    assert_eq!(
        &names[..10],
        &names[40..],
        "each retry answers with its first report"
    );
    let tasks: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM task_history")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((tasks, history), (40, 40));
    assert_eq!(app.events("grid.task.reported").await.len(), 40);
}
