//! The grid's directory (departments, categories, deadline policies, the
//! working calendar) through its gRPC API, against real PostgreSQL; each
//! test has its own database and broker names.

#![allow(clippy::unwrap_used)]

use crate::support::TestApp;
use civicgrid_grid::domain::directory::Urgency;
use civicgrid_grid::store::directory as store;
use civicgrid_proto::google::r#type::Date;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_runtime::status::field_violations;
use civicgrid_testkit::{TestKeys, with_token};
use tonic::Code;

/// What the directory tests do with the grid under test.
trait DirectoryHarness {
    async fn directory_counts(&self) -> [i64; 5];
    async fn create_category(&self, id: &str, fields: Vec<pb::CategoryField>) -> pb::Category;
}

impl DirectoryHarness for TestApp {
    /// Rows in (departments, categories, deadline_policies, working_calendars, outbox).
    async fn directory_counts(&self) -> [i64; 5] {
        let mut counts = [0; 5];
        for (i, table) in [
            "departments",
            "categories",
            "deadline_policies",
            "working_calendars",
            "outbox",
        ]
        .iter()
        .enumerate()
        {
            counts[i] =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                    .fetch_one(&self.pool)
                    .await
                    .unwrap();
        }
        counts
    }

    async fn create_category(&self, id: &str, fields: Vec<pb::CategoryField>) -> pb::Category {
        self.directory()
            .await
            .create_category(with_token(
                pb::CreateCategoryRequest {
                    category_id: id.to_owned(),
                    category: Some(pb::Category {
                        display_name: format!("Category {id}"),
                        fields,
                        ..Default::default()
                    }),
                },
                &TestKeys::get().county_admin(),
            ))
            .await
            .unwrap()
            .into_inner()
            .category
            .unwrap()
    }
}

fn department(id: &str) -> pb::CreateDepartmentRequest {
    pb::CreateDepartmentRequest {
        department_id: id.to_owned(),
        department: Some(pb::Department {
            display_name: format!("Department {id}"),
            ..Default::default()
        }),
    }
}

fn working(minutes: i32) -> Option<pb::Allowance> {
    Some(pb::Allowance {
        minutes,
        clock: pb::DeadlineClock::Working as i32,
    })
}

fn policy(name: &str, minutes: i32) -> pb::SetDeadlinePolicyRequest {
    pb::SetDeadlinePolicyRequest {
        policy: Some(pb::DeadlinePolicy {
            name: name.to_owned(),
            accept: working(minutes),
            check_in: working(minutes * 2),
            resolve: working(minutes * 10),
            r#return: Some(pb::Allowance {
                minutes: 30,
                clock: pb::DeadlineClock::Calendar as i32,
            }),
            version: 0,
        }),
    }
}

fn date(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}

fn violated(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    field_violations(status)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

#[tokio::test]
async fn departments_and_categories_are_created_once_and_listed_in_pages() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    let centre = TestKeys::get().token(&[Role::CommandCentre], &["*"], None);
    let mut client = app.directory().await;
    for (id, token) in [
        ("water-supply", &admin),
        ("housing", &centre),
        ("transport", &admin),
        ("public-security", &admin),
        ("market-supervision", &centre),
    ] {
        let created = client
            .create_department(with_token(department(id), token))
            .await
            .unwrap()
            .into_inner()
            .department
            .unwrap();
        assert_eq!(created.name, format!("departments/{id}"));
        assert_eq!(created.version, 1);
        assert!(created.create_time.is_some());
    }
    let again = client
        .create_department(with_token(department("housing"), &admin))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);

    // Any authenticated role reads, in id order, two at a time.
    let worker = TestKeys::get().token(&[Role::GridWorker], &["cells/s1"], None);
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_departments(with_token(
                pb::ListDepartmentsRequest {
                    page_size: 2,
                    page_token: token,
                },
                &worker,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.departments.len() <= 2);
        seen.extend(page.departments.into_iter().map(|d| d.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        seen,
        vec![
            "departments/housing",
            "departments/market-supervision",
            "departments/public-security",
            "departments/transport",
            "departments/water-supply",
        ]
    );

    let parking = app
        .create_category(
            "illegal-parking",
            vec![
                pb::CategoryField {
                    key: "licence_plate".into(),
                    display_name: "车牌号 Licence plate".into(),
                    required: true,
                },
                pb::CategoryField {
                    key: "colour".into(),
                    display_name: "颜色 Colour".into(),
                    required: false,
                },
            ],
        )
        .await;
    assert_eq!(parking.name, "categories/illegal-parking");
    assert_eq!(parking.fields.len(), 2);
    app.create_category("noise", Vec::new()).await;
    app.create_category("garbage", Vec::new()).await;

    let first = client
        .list_categories(with_token(
            pb::ListCategoriesRequest {
                page_size: 2,
                page_token: String::new(),
            },
            &worker,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        first
            .categories
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["categories/garbage", "categories/illegal-parking"]
    );
    // Extra fields come back in the order they were given.
    assert_eq!(first.categories[1], parking);
    let rest = client
        .list_categories(with_token(
            pb::ListCategoriesRequest {
                page_size: 2,
                page_token: first.next_page_token.clone(),
            },
            &worker,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.categories.len(), 1);
    assert!(rest.next_page_token.is_empty());

    // A categories token is no departments token.
    let status = client
        .list_departments(with_token(
            pb::ListDepartmentsRequest {
                page_size: 2,
                page_token: first.next_page_token,
            },
            &worker,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated(&status), vec!["page_token"]);

    // The task side reads a category with its required fields.
    let mut conn = app.pool.acquire().await.unwrap();
    let stored = store::category(&mut conn, "illegal-parking")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.fields[0].key.as_str(), "licence_plate");
    assert!(stored.fields[0].required);
    assert!(
        store::department_exists(&mut conn, "housing")
            .await
            .unwrap()
    );
    assert!(!store::department_exists(&mut conn, "fire").await.unwrap());
    assert!(store::category(&mut conn, "fire").await.unwrap().is_none());
}

#[tokio::test]
async fn a_street_admin_cannot_change_the_directory_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    app.create_category("noise", Vec::new()).await;
    let before = app.directory_counts().await;
    let mut client = app.directory().await;
    for roles in [
        vec![Role::StreetAdmin],
        vec![Role::DepartmentOperator],
        vec![Role::ReadOnlyAnalyst],
    ] {
        let token = TestKeys::get().token(&roles, &["*"], None);
        let status = client
            .create_department(with_token(department("housing"), &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{roles:?}");
        let status = client
            .create_category(with_token(
                pb::CreateCategoryRequest {
                    category_id: "garbage".into(),
                    category: Some(pb::Category {
                        display_name: "垃圾".into(),
                        ..Default::default()
                    }),
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{roles:?}");
        let status = client
            .set_deadline_policy(with_token(
                policy("categories/noise/deadlinePolicies/low", 60),
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{roles:?}");
        let status = client
            .set_working_calendar(with_token(
                pb::SetWorkingCalendarRequest {
                    calendar: Some(pb::WorkingCalendar {
                        name: "workingCalendars/2026".into(),
                        ..Default::default()
                    }),
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{roles:?}");
    }
    assert_eq!(app.directory_counts().await, before);

    // Without a token nothing is read either.
    let status = client
        .list_departments(pb::ListDepartmentsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn malformed_requests_name_every_bad_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.directory().await;

    let status = client
        .create_department(with_token(
            pb::CreateDepartmentRequest {
                department_id: "Housing Bureau".into(),
                department: Some(pb::Department {
                    display_name: "  ".into(),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated(&status),
        vec!["department_id", "department.display_name"]
    );

    let status = client
        .create_category(with_token(
            pb::CreateCategoryRequest {
                category_id: "noise".into(),
                category: Some(pb::Category {
                    display_name: "噪音".into(),
                    fields: vec![pb::CategoryField {
                        key: "Decibels".into(),
                        display_name: "分贝".into(),
                        required: false,
                    }],
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated(&status), vec!["category.fields[0].key"]);

    let status = client
        .set_deadline_policy(with_token(
            pb::SetDeadlinePolicyRequest {
                policy: Some(pb::DeadlinePolicy {
                    name: "categories/noise/deadlinePolicies/asap".into(),
                    accept: Some(pb::Allowance {
                        minutes: 0,
                        clock: pb::DeadlineClock::Working as i32,
                    }),
                    check_in: Some(pb::Allowance {
                        minutes: 60,
                        clock: pb::DeadlineClock::Unspecified as i32,
                    }),
                    resolve: None,
                    r#return: working(600_000),
                    version: 0,
                }),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated(&status),
        vec![
            "policy.name",
            "policy.accept.minutes",
            "policy.check_in.clock",
            "policy.resolve",
            "policy.return.minutes",
        ]
    );

    let status = client
        .set_working_calendar(with_token(
            pb::SetWorkingCalendarRequest {
                calendar: Some(pb::WorkingCalendar {
                    name: "workingCalendars/26".into(),
                    holidays: vec![date(2026, 2, 29)],
                    make_up_working_days: vec![date(2026, 2, 14)],
                    version: 0,
                }),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated(&status),
        vec!["calendar.name", "calendar.holidays[0]"]
    );

    let status = client
        .get_working_calendar(with_token(
            pb::GetWorkingCalendarRequest {
                name: "calendars/2026".into(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated(&status), vec!["name"]);

    let status = client
        .list_deadline_policies(with_token(
            pb::ListDeadlinePoliciesRequest {
                parent: "noise".into(),
                page_size: -3,
                page_token: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated(&status), vec!["parent", "page_size"]);

    assert_eq!(app.directory_counts().await, [0; 5]);
}

#[tokio::test]
async fn a_policy_for_a_missing_category_is_a_failed_precondition() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    let status = app
        .directory()
        .await
        .set_deadline_policy(with_token(
            policy("categories/elevator-failure/deadlinePolicies/emergency", 15),
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("elevator-failure"), "{status:?}");
    assert_eq!(app.directory_counts().await, [0; 5]);

    // Listing the policies of a missing category: it is not there.
    let status = app
        .directory()
        .await
        .list_deadline_policies(with_token(
            pb::ListDeadlinePoliciesRequest {
                parent: "categories/elevator-failure".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn setting_a_policy_again_replaces_it_and_bumps_its_version() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    app.create_category("noise", Vec::new()).await;
    app.create_category("garbage", Vec::new()).await;
    let mut client = app.directory().await;

    let first = client
        .set_deadline_policy(with_token(
            policy("categories/noise/deadlinePolicies/urgent", 60),
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .policy
        .unwrap();
    assert_eq!(first.version, 1);
    assert_eq!(first.name, "categories/noise/deadlinePolicies/urgent");
    let second = client
        .set_deadline_policy(with_token(
            policy("categories/noise/deadlinePolicies/urgent", 45),
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .policy
        .unwrap();
    assert_eq!(second.version, 2);
    assert_eq!(second.accept, working(45));
    assert_eq!(
        second.r#return,
        Some(pb::Allowance {
            minutes: 30,
            clock: pb::DeadlineClock::Calendar as i32,
        })
    );

    for name in [
        "categories/noise/deadlinePolicies/emergency",
        "categories/noise/deadlinePolicies/low",
        "categories/garbage/deadlinePolicies/normal",
    ] {
        client
            .set_deadline_policy(with_token(policy(name, 120), &admin))
            .await
            .unwrap();
    }

    // One category's policies, least urgent first, in pages of two.
    let reader = TestKeys::get().token(&[Role::ReadOnlyAnalyst], &["*"], None);
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_deadline_policies(with_token(
                pb::ListDeadlinePoliciesRequest {
                    parent: "categories/noise".into(),
                    page_size: 2,
                    page_token: token,
                },
                &reader,
            ))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.policies.into_iter().map(|p| (p.name, p.version)));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        seen,
        vec![
            ("categories/noise/deadlinePolicies/low".to_owned(), 1),
            ("categories/noise/deadlinePolicies/urgent".to_owned(), 2),
            ("categories/noise/deadlinePolicies/emergency".to_owned(), 1),
        ]
    );
    let all = client
        .list_deadline_policies(with_token(
            pb::ListDeadlinePoliciesRequest::default(),
            &reader,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.policies.len(), 4);
    assert_eq!(
        all.policies[0].name,
        "categories/garbage/deadlinePolicies/normal"
    );

    // The task lifecycle's lookup sees the replacement.
    let mut conn = app.pool.acquire().await.unwrap();
    let stored = store::deadline_policy(&mut conn, "noise", Urgency::Urgent)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.accept.minutes, 45);
    assert!(
        store::deadline_policy(&mut conn, "garbage", Urgency::Low)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_working_calendar_round_trips_and_drives_deadlines() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.directory().await;
    let calendar = pb::WorkingCalendar {
        name: "workingCalendars/2026".into(),
        // Out of order and repeated: stored as a set, returned in date order.
        holidays: vec![
            date(2026, 2, 23),
            date(2026, 2, 16),
            date(2026, 2, 17),
            date(2026, 2, 18),
            date(2026, 2, 19),
            date(2026, 2, 20),
            date(2026, 2, 16),
        ],
        make_up_working_days: vec![date(2026, 2, 28), date(2026, 2, 14)],
        version: 0,
    };
    let set = client
        .set_working_calendar(with_token(
            pb::SetWorkingCalendarRequest {
                calendar: Some(calendar.clone()),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .calendar
        .unwrap();
    assert_eq!(set.version, 1);

    let reader = TestKeys::get().token(&[Role::GridWorker], &["cells/s1"], None);
    let got = client
        .get_working_calendar(with_token(
            pb::GetWorkingCalendarRequest {
                name: "workingCalendars/2026".into(),
            },
            &reader,
        ))
        .await
        .unwrap()
        .into_inner()
        .calendar
        .unwrap();
    assert_eq!(got, set);
    assert_eq!(got.name, "workingCalendars/2026");
    assert_eq!(
        got.holidays,
        vec![
            date(2026, 2, 16),
            date(2026, 2, 17),
            date(2026, 2, 18),
            date(2026, 2, 19),
            date(2026, 2, 20),
            date(2026, 2, 23),
        ]
    );
    assert_eq!(
        got.make_up_working_days,
        vec![date(2026, 2, 14), date(2026, 2, 28)]
    );

    // Replacing the year bumps its version.
    let replaced = client
        .set_working_calendar(with_token(
            pb::SetWorkingCalendarRequest {
                calendar: Some(calendar),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .calendar
        .unwrap();
    assert_eq!(replaced.version, 2);

    let missing = client
        .get_working_calendar(with_token(
            pb::GetWorkingCalendarRequest {
                name: "workingCalendars/2027".into(),
            },
            &reader,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    // The stored calendar is the one deadlines are computed with.
    let mut conn = app.pool.acquire().await.unwrap();
    let work = store::work_calendar(&mut conn).await.unwrap();
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    assert!(work.is_working_day(day(2, 14)));
    assert!(!work.is_working_day(day(2, 23)));
    assert!(work.is_working_day(day(2, 24)));
}

/// The outbox rows after row `after`: (routing key, message type, payload).
async fn events_after(app: &TestApp, after: i64) -> Vec<(String, String, Vec<u8>)> {
    sqlx::query_as(
        "SELECT routing_key, message_type, payload FROM outbox WHERE id > $1 ORDER BY id",
    )
    .bind(after)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn last_event_id(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The one event written since `after`, checked to be of `routing_key` and
/// type `M`, decoded.
async fn the_one_event<M: prost::Message + prost::Name + Default>(
    app: &TestApp,
    after: i64,
    routing_key: &str,
) -> M {
    let events = events_after(app, after).await;
    assert_eq!(events.len(), 1, "exactly one event: {events:?}");
    let (key, message_type, payload) = &events[0];
    assert_eq!(key, routing_key);
    assert_eq!(message_type, &M::full_name());
    M::decode(payload.as_slice()).unwrap()
}

fn check_meta(
    meta: Option<&civicgrid_proto::common::v1::EventMeta>,
    key: &str,
    aggregate: &str,
    version: i64,
) {
    let meta = meta.unwrap();
    assert_eq!(meta.event_type, key);
    assert_eq!(meta.producer, "grid");
    assert_eq!(meta.aggregate_id, aggregate);
    assert_eq!(meta.aggregate_version, version);
    assert_eq!(meta.actor, "test-county_admin");
}

#[tokio::test]
async fn each_directory_write_publishes_one_event_with_the_whole_resource() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.directory().await;

    let mark = last_event_id(&app).await;
    let housing = client
        .create_department(with_token(department("housing"), &admin))
        .await
        .unwrap()
        .into_inner()
        .department
        .unwrap();
    let event: pb::DepartmentCreated = the_one_event(&app, mark, "grid.department.created").await;
    check_meta(
        event.meta.as_ref(),
        "grid.department.created",
        "departments/housing",
        1,
    );
    assert_eq!(event.department.as_ref(), Some(&housing));
    assert_eq!(housing.display_name, "Department housing");

    let mark = last_event_id(&app).await;
    let leak = app
        .create_category(
            "leak",
            vec![pb::CategoryField {
                key: "floor".into(),
                display_name: "Floor".into(),
                required: true,
            }],
        )
        .await;
    let event: pb::CategoryCreated = the_one_event(&app, mark, "grid.category.created").await;
    check_meta(
        event.meta.as_ref(),
        "grid.category.created",
        "categories/leak",
        1,
    );
    assert_eq!(event.category.as_ref(), Some(&leak));
    assert_eq!(leak.fields.len(), 1);

    for (minutes, version) in [(60, 1), (45, 2)] {
        let mark = last_event_id(&app).await;
        let set = client
            .set_deadline_policy(with_token(
                policy("categories/leak/deadlinePolicies/urgent", minutes),
                &admin,
            ))
            .await
            .unwrap()
            .into_inner()
            .policy
            .unwrap();
        let event: pb::DeadlinePolicySet =
            the_one_event(&app, mark, "grid.deadline_policy.set").await;
        check_meta(
            event.meta.as_ref(),
            "grid.deadline_policy.set",
            "categories/leak/deadlinePolicies/urgent",
            version,
        );
        assert_eq!(event.policy.as_ref(), Some(&set));
        assert_eq!(set.accept, working(minutes));
    }

    let mark = last_event_id(&app).await;
    let calendar = client
        .set_working_calendar(with_token(
            pb::SetWorkingCalendarRequest {
                calendar: Some(pb::WorkingCalendar {
                    name: "workingCalendars/2026".into(),
                    holidays: vec![date(2026, 10, 1)],
                    make_up_working_days: vec![date(2026, 9, 27)],
                    version: 0,
                }),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .calendar
        .unwrap();
    let event: pb::WorkingCalendarSet =
        the_one_event(&app, mark, "grid.working_calendar.set").await;
    check_meta(
        event.meta.as_ref(),
        "grid.working_calendar.set",
        "workingCalendars/2026",
        1,
    );
    assert_eq!(event.calendar.as_ref(), Some(&calendar));
    assert_eq!(calendar.holidays, vec![date(2026, 10, 1)]);
}

#[tokio::test]
async fn a_refused_directory_write_publishes_nothing() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.directory().await;
    client
        .create_department(with_token(department("housing"), &admin))
        .await
        .unwrap();
    app.create_category("leak", Vec::new()).await;
    let before = app.directory_counts().await;
    let mark = last_event_id(&app).await;

    let taken = client
        .create_department(with_token(department("housing"), &admin))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    let taken = client
        .create_category(with_token(
            pb::CreateCategoryRequest {
                category_id: "leak".into(),
                category: Some(pb::Category {
                    display_name: "Again".into(),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    let missing = client
        .set_deadline_policy(with_token(
            policy("categories/nowhere/deadlinePolicies/urgent", 60),
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::FailedPrecondition);
    let street_admin = TestKeys::get().token(&[Role::StreetAdmin], &["s1"], None);
    let denied = client
        .set_working_calendar(with_token(
            pb::SetWorkingCalendarRequest {
                calendar: Some(pb::WorkingCalendar {
                    name: "workingCalendars/2026".into(),
                    ..Default::default()
                }),
            },
            &street_admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    assert_eq!(events_after(&app, mark).await, Vec::new());
    assert_eq!(app.directory_counts().await, before);
}
