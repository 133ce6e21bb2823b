//! Staff assignments through the gRPC API, against real PostgreSQL: who
//! holds which duty where, when, and who may see and change it.

#![allow(clippy::unwrap_used)]

use crate::support::{SMALL_COUNTY, TestApp, fields};
use chrono::{DateTime, Duration, Utc};
use civicgrid_grid::store::staff::cells_of_person;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, with_token};
use tonic::{Code, Status};

fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

fn duty(cell: &str, person: &str, role: pb::StaffRole) -> pb::CreateStaffAssignmentRequest {
    pb::CreateStaffAssignmentRequest {
        parent: format!("cells/{cell}"),
        staff_assignment: Some(pb::StaffAssignment {
            person: person.to_owned(),
            person_display_name: format!("Person {person}"),
            role: role as i32,
            home_department: if role == pb::StaffRole::SunkCadre {
                "departments/housing".to_owned()
            } else {
                String::new()
            },
            ..Default::default()
        }),
    }
}

fn between(
    mut request: pb::CreateStaffAssignmentRequest,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> pb::CreateStaffAssignmentRequest {
    if let Some(assignment) = request.staff_assignment.as_mut() {
        assignment.valid_from = Some(ts(from));
        assignment.valid_until = until.map(ts);
    }
    request
}

async fn seeded() -> TestApp {
    let app = TestApp::spawn().await;
    app.import_csv(SMALL_COUNTY).await.unwrap();
    app
}

async fn create(
    app: &TestApp,
    token: &str,
    request: pb::CreateStaffAssignmentRequest,
) -> Result<pb::StaffAssignment, Status> {
    app.client()
        .await
        .create_staff_assignment(with_token(request, token))
        .await
        .map(|r| r.into_inner().staff_assignment.unwrap())
}

async fn list(
    app: &TestApp,
    token: &str,
    request: pb::ListStaffAssignmentsRequest,
) -> Result<pb::ListStaffAssignmentsResponse, Status> {
    app.client()
        .await
        .list_staff_assignments(with_token(request, token))
        .await
        .map(|r| r.into_inner())
}

async fn end(app: &TestApp, token: &str, name: &str) -> Result<pb::StaffAssignment, Status> {
    app.client()
        .await
        .end_staff_assignment(with_token(
            pb::EndStaffAssignmentRequest { name: name.into() },
            token,
        ))
        .await
        .map(|r| r.into_inner().staff_assignment.unwrap())
}

fn names(response: &pb::ListStaffAssignmentsResponse) -> Vec<&str> {
    response
        .staff_assignments
        .iter()
        .map(|a| a.name.as_str())
        .collect()
}

async fn count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM staff_assignments")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_duty_is_created_listed_and_ended_exactly_once() {
    let app = seeded().await;
    let admin = TestKeys::get().county_admin();
    let created = create(
        &app,
        &admin,
        duty("s1-g", "wang", pb::StaffRole::GridWorker),
    )
    .await
    .unwrap();
    assert!(
        created.name.starts_with("cells/s1-g/staffAssignments/"),
        "{}",
        created.name
    );
    assert_eq!(created.person, "wang");
    assert_eq!(created.role, pb::StaffRole::GridWorker as i32);
    assert!(created.valid_from.is_some() && created.valid_until.is_none());

    let cadre = create(&app, &admin, duty("s1-g", "li", pb::StaffRole::SunkCadre))
        .await
        .unwrap();
    assert_eq!(cadre.home_department, "departments/housing");
    let stored: Option<String> =
        sqlx::query_scalar("SELECT home_department FROM staff_assignments WHERE person = 'li'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some("housing"));

    let below_street = list(
        &app,
        &admin,
        pb::ListStaffAssignmentsRequest {
            ancestor: "cells/s1".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&below_street), vec![&created.name, &cadre.name]);
    let in_the_grid_itself = list(
        &app,
        &admin,
        pb::ListStaffAssignmentsRequest {
            ancestor: "cells/s1-g".into(),
            person: "wang".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&in_the_grid_itself), vec![&created.name]);
    let before_end = Utc::now();
    assert_eq!(
        cells_of_person(&app.pool, "wang", before_end)
            .await
            .unwrap(),
        vec!["s1-g"]
    );

    let ended = end(&app, &admin, &created.name).await.unwrap();
    assert!(ended.valid_until.is_some());
    let now = list(&app, &admin, pb::ListStaffAssignmentsRequest::default())
        .await
        .unwrap();
    assert_eq!(names(&now), vec![&cadre.name]);
    assert!(
        cells_of_person(&app.pool, "wang", Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        cells_of_person(&app.pool, "wang", before_end)
            .await
            .unwrap(),
        vec!["s1-g"],
        "history stays"
    );

    let again = end(&app, &admin, &created.name).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    let missing = end(
        &app,
        &admin,
        "cells/s1-g/staffAssignments/0190a6d4-0000-7000-8000-000000000000",
    )
    .await
    .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn lists_and_lookups_show_only_duties_valid_at_the_time_asked() {
    let app = seeded().await;
    let admin = TestKeys::get().county_admin();
    let now = Utc::now();
    let days = Duration::days;
    let past = create(
        &app,
        &admin,
        between(
            duty("s1-g", "zhao", pb::StaffRole::GridChief),
            now - days(10),
            Some(now - days(5)),
        ),
    )
    .await
    .unwrap();
    let current = create(
        &app,
        &admin,
        between(
            duty("s2-g", "zhao", pb::StaffRole::GridChief),
            now - days(4),
            None,
        ),
    )
    .await
    .unwrap();
    let future = create(
        &app,
        &admin,
        between(
            duty("s1-b", "zhao", pb::StaffRole::BuildingChief),
            now + days(5),
            Some(now + days(30)),
        ),
    )
    .await
    .unwrap();

    let at = |when: Option<DateTime<Utc>>| pb::ListStaffAssignmentsRequest {
        person: "zhao".into(),
        valid_at: when.map(ts),
        ..Default::default()
    };
    let listed = list(&app, &admin, at(None)).await.unwrap();
    assert_eq!(names(&listed), vec![&current.name]);
    let listed = list(&app, &admin, at(Some(now - days(7)))).await.unwrap();
    assert_eq!(names(&listed), vec![&past.name]);
    let listed = list(&app, &admin, at(Some(now + days(6)))).await.unwrap();
    assert_eq!(names(&listed), vec![&current.name, &future.name]);
    // The end is exclusive.
    let listed = list(&app, &admin, at(Some(now - days(5)))).await.unwrap();
    assert!(listed.staff_assignments.is_empty());

    assert_eq!(
        cells_of_person(&app.pool, "zhao", now).await.unwrap(),
        vec!["s2-g"]
    );
    assert_eq!(
        cells_of_person(&app.pool, "zhao", now + days(6))
            .await
            .unwrap(),
        vec!["s1-b", "s2-g"]
    );
    assert!(
        cells_of_person(&app.pool, "zhao", now - days(20))
            .await
            .unwrap()
            .is_empty()
    );

    // A planned duty called off before it begins never becomes valid.
    let called_off = end(&app, &admin, &future.name).await.unwrap();
    assert_eq!(called_off.valid_until, called_off.valid_from);
    let listed = list(&app, &admin, at(Some(now + days(6)))).await.unwrap();
    assert_eq!(names(&listed), vec![&current.name]);
}

#[tokio::test]
async fn a_street_admin_assigns_and_sees_duties_only_in_their_own_street() {
    let app = seeded().await;
    let admin = TestKeys::get().county_admin();
    let street1 = TestKeys::get().token(&[Role::StreetAdmin], &["cells/s1"], None);
    let foreign = create(
        &app,
        &admin,
        duty("s2-g", "qian", pb::StaffRole::GridWorker),
    )
    .await
    .unwrap();
    let own = create(
        &app,
        &street1,
        duty("s1-g", "sun", pb::StaffRole::GridWorker),
    )
    .await
    .unwrap();
    let before = count(&app).await;

    let status = create(
        &app,
        &street1,
        duty("s2-g", "sun", pb::StaffRole::GridWorker),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = end(&app, &street1, &foreign.name).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    for ancestor in ["", "cells/c"] {
        let listed = list(
            &app,
            &street1,
            pb::ListStaffAssignmentsRequest {
                ancestor: ancestor.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(names(&listed), vec![&own.name], "{ancestor:?}");
    }
    let listed = list(
        &app,
        &street1,
        pb::ListStaffAssignmentsRequest {
            person: "qian".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(listed.staff_assignments.is_empty());
    let status = list(
        &app,
        &street1,
        pb::ListStaffAssignmentsRequest {
            ancestor: "cells/s2".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // Reading is open to every role in scope; assigning is not.
    let worker = TestKeys::get().token(&[Role::GridWorker], &["cells/s1"], None);
    let status = create(
        &app,
        &worker,
        duty("s1-g", "zhou", pb::StaffRole::GridWorker),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = end(&app, &worker, &own.name).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let analyst = TestKeys::get().token(&[Role::ReadOnlyAnalyst], &["cells/s1"], None);
    let listed = list(&app, &analyst, pb::ListStaffAssignmentsRequest::default())
        .await
        .unwrap();
    assert_eq!(names(&listed), vec![&own.name]);
    // A grid worker reads only the cells of their own duties (none here).
    let listed = list(&app, &worker, pb::ListStaffAssignmentsRequest::default())
        .await
        .unwrap();
    assert!(listed.staff_assignments.is_empty());
    assert_eq!(count(&app).await, before);
}

#[tokio::test]
async fn a_duty_must_suit_the_cells_level_and_not_be_held_twice_at_once() {
    let app = seeded().await;
    let admin = TestKeys::get().county_admin();
    let status = create(&app, &admin, duty("s1-b", "wu", pb::StaffRole::GridChief))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        status.message(),
        "a grid chief serves in a grid, not in a building"
    );
    let status = create(
        &app,
        &admin,
        duty("nowhere", "wu", pb::StaffRole::GridChief),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let now = Utc::now();
    let first = between(
        duty("s1-g", "wu", pb::StaffRole::GridChief),
        now,
        Some(now + Duration::days(30)),
    );
    create(&app, &admin, first).await.unwrap();
    let overlapping = between(
        duty("s1-g", "wu", pb::StaffRole::GridChief),
        now + Duration::days(10),
        None,
    );
    let status = create(&app, &admin, overlapping).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    // Back to back is fine, and so is another duty in the same period.
    let next = between(
        duty("s1-g", "wu", pb::StaffRole::GridChief),
        now + Duration::days(30),
        None,
    );
    create(&app, &admin, next).await.unwrap();
    create(&app, &admin, duty("s1-g", "wu", pb::StaffRole::GridWorker))
        .await
        .unwrap();
    assert_eq!(count(&app).await, 3);
}

#[tokio::test]
async fn duties_are_listed_in_pages_bound_to_their_query() {
    let app = seeded().await;
    let admin = TestKeys::get().county_admin();
    let mut created = Vec::new();
    for person in ["a1", "a2", "a3", "a4", "a5"] {
        created.push(
            create(
                &app,
                &admin,
                duty("s1-g", person, pb::StaffRole::GridWorker),
            )
            .await
            .unwrap()
            .name,
        );
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = list(
            &app,
            &admin,
            pb::ListStaffAssignmentsRequest {
                ancestor: "cells/s1".into(),
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        pages += 1;
        seen.extend(page.staff_assignments.into_iter().map(|a| a.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
        // A token is only good for the query it came from.
        let status = list(
            &app,
            &admin,
            pb::ListStaffAssignmentsRequest {
                ancestor: "cells/s2".into(),
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(fields(&status), vec!["page_token"]);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created);
}

#[tokio::test]
async fn malformed_staff_requests_name_every_bad_field_and_write_nothing() {
    let app = seeded().await;
    let admin = TestKeys::get().county_admin();
    let status = create(
        &app,
        &admin,
        pb::CreateStaffAssignmentRequest {
            parent: "s1-g".into(),
            staff_assignment: Some(pb::StaffAssignment {
                person: "".into(),
                person_display_name: "  ".into(),
                role: 0,
                home_department: "housing".into(),
                valid_from: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -5,
                }),
                ..Default::default()
            }),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        fields(&status),
        vec![
            "parent",
            "staff_assignment.person",
            "staff_assignment.person_display_name",
            "staff_assignment.role",
            "staff_assignment.home_department",
            "staff_assignment.valid_from",
        ]
    );
    let now = Utc::now();
    let backwards = between(
        duty("s1-g", "x", pb::StaffRole::GridWorker),
        now,
        Some(now - Duration::hours(1)),
    );
    let status = create(&app, &admin, backwards).await.unwrap_err();
    assert_eq!(fields(&status), vec!["staff_assignment.valid_until"]);
    let status = create(
        &app,
        &admin,
        pb::CreateStaffAssignmentRequest {
            parent: "cells/s1-g".into(),
            staff_assignment: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&status), vec!["staff_assignment"]);

    let status = list(
        &app,
        &admin,
        pb::ListStaffAssignmentsRequest {
            ancestor: "s1".into(),
            person: "two words".into(),
            valid_at: Some(prost_types::Timestamp {
                seconds: i64::MAX,
                nanos: 0,
            }),
            page_size: -1,
            page_token: "garbage".into(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        fields(&status),
        vec!["ancestor", "person", "valid_at", "page_size", "page_token"]
    );

    for name in [
        "",
        "cells/s1-g",
        "cells/s1-g/staffAssignments/not-a-uuid",
        "staffAssignments/0190a6d4-0000-7000-8000-000000000000",
    ] {
        let status = end(&app, &admin, name).await.unwrap_err();
        assert_eq!(fields(&status), vec!["name"], "{name:?}");
    }
    assert_eq!(count(&app).await, 0);
}
