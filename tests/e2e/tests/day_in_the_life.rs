//! A day in the life of a county (issue 12), the four services running as
//! in production (background relays and consumers, each service on its own
//! database): a resident's request goes from the grid to two whistles, a
//! return, a late check-in under supervision, a dissatisfied rating and a
//! reopening to its close; reported party members attend a co-building
//! activity; the community rates the departments; and at the period's end
//! every metric, explanation and score says exactly what happened, while
//! the first request's trace reaches every service that consumes it.
//!
//! The numbers asserted are worked out by hand from the story (see the
//! comments beside each expectation), never read back from the services.

#![allow(clippy::unwrap_used)]

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use civicgrid_e2e::{
    County, PATIENCE, Workers, id_number, m1_centre, once_replicated, replica_copies, shanghai_hour,
};
use civicgrid_grid::commands::sweep_supervision::sweep_once;
use civicgrid_membership::domain::report::Quarter;
use civicgrid_proto::assessment::v1 as assessment;
use civicgrid_proto::assessment::v1::assessment_service_client::AssessmentServiceClient;
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::centres::v1::centres_service_client::CentresServiceClient;
use civicgrid_proto::grid::v1 as grid;
use civicgrid_proto::grid::v1::directory_service_client::DirectoryServiceClient;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_proto::grid::v1::task_service_client::TaskServiceClient;
use civicgrid_proto::grid::v1::transition_task_request::{self as tr, Action};
use civicgrid_proto::membership::v1 as membership;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, endpoint, eventually, with_token};
use tonic::transport::Channel;

/// The first lead, who returns the task as not theirs.
const HOUSING: &str = "departments/housing";
/// The second lead, who checks in on time.
const WATER: &str = "departments/water-supply";
/// Assisting in both whistles; checks in late the second time.
const URBAN: &str = "departments/urban-management";
const RETURN_REASON: &str = "漏水点在供水主管上,不属住建职责";
const DISSATISFIED_REASON: &str = "楼道仍在渗水";
/// The indicator scheme the county publishes for the period.
const SCHEME: &str = "schemes/day";
/// Each check-in at the co-building activity credits two volunteer hours.
const VOLUNTEER_MINUTES: i32 = 120;
/// The centres' demand category `categories/pipe-leak` is mapped to.
const PLUMBING: &str = "plumbing";

struct Clients {
    grid: GridServiceClient<Channel>,
    directory: DirectoryServiceClient<Channel>,
    tasks: TaskServiceClient<Channel>,
    membership: MembershipServiceClient<Channel>,
    centres: CentresServiceClient<Channel>,
    assessment: AssessmentServiceClient<Channel>,
}

async fn clients(county: &County) -> Clients {
    let addr = |name: &str| endpoint(county.all().find(|s| s.name == name).unwrap().addr);
    let channel = |name: &str| {
        let addr = addr(name);
        async move {
            tonic::transport::Endpoint::from_shared(addr)
                .unwrap()
                .connect()
                .await
                .unwrap()
        }
    };
    let grid = channel("grid").await;
    Clients {
        grid: GridServiceClient::new(grid.clone()),
        directory: DirectoryServiceClient::new(grid.clone()),
        tasks: TaskServiceClient::new(grid),
        membership: MembershipServiceClient::new(channel("membership").await),
        centres: CentresServiceClient::new(channel("centres").await),
        assessment: AssessmentServiceClient::new(channel("assessment").await),
    }
}

/// Who acts in the story, each with the token their system would hold.
struct Tokens {
    /// The county data centre: lays the county out, publishes schemes and scores.
    admin: String,
    /// The residents' app (an integration client) in the community: reports and rates.
    resident: String,
    /// The grid worker on duty in g1 (subject `test-grid_worker`).
    grid_worker: String,
    /// The community's staff: whistle, organise the activity, rate departments.
    community: String,
    /// The command centre: reads supervision orders.
    command_centre: String,
}

impl Tokens {
    fn new() -> Tokens {
        let keys = TestKeys::get();
        Tokens {
            admin: keys.county_admin(),
            resident: keys.token(&[Role::IntegrationClient], &["cells/m1"], None),
            grid_worker: keys.token(&[Role::GridWorker], &[], None),
            community: keys.token(&[Role::CommunityStaff], &["cells/m1"], None),
            command_centre: keys.token(&[Role::CommandCentre], &["*"], None),
        }
    }

    /// An operator of `department` ("departments/{id}").
    fn operator(department: &str) -> String {
        let id = department.trim_start_matches("departments/");
        TestKeys::get().token(&[Role::DepartmentOperator], &[], Some(id))
    }
}

/// County c, street s1, community m1, grid g1; three departments; the
/// pipe-leak category whose departments must check in within a minute;
/// the grid worker on duty in g1.
async fn lay_out_the_county(c: &mut Clients, t: &Tokens) {
    for (id, parent, level, name) in [
        ("c", "", grid::CellLevel::County, "示范县"),
        ("s1", "cells/c", grid::CellLevel::Street, "青山街道"),
        ("m1", "cells/s1", grid::CellLevel::Community, "和平社区"),
        ("g1", "cells/m1", grid::CellLevel::Grid, "和平社区第一网格"),
    ] {
        c.grid
            .create_cell(with_token(
                grid::CreateCellRequest {
                    cell_id: id.into(),
                    cell: Some(grid::Cell {
                        parent: parent.into(),
                        level: level as i32,
                        display_name: name.into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &t.admin,
            ))
            .await
            .unwrap();
    }
    for (department, name) in [
        (HOUSING, "住房和城乡建设局"),
        (WATER, "供水公司"),
        (URBAN, "城市管理局"),
    ] {
        c.directory
            .create_department(with_token(
                grid::CreateDepartmentRequest {
                    department_id: department.trim_start_matches("departments/").into(),
                    department: Some(grid::Department {
                        display_name: name.into(),
                        ..Default::default()
                    }),
                },
                &t.admin,
            ))
            .await
            .unwrap();
    }
    c.directory
        .create_category(with_token(
            grid::CreateCategoryRequest {
                category_id: "pipe-leak".into(),
                category: Some(grid::Category {
                    display_name: "供水管道漏水".into(),
                    ..Default::default()
                }),
            },
            &t.admin,
        ))
        .await
        .unwrap();
    // The shortest check-in allowance the policy takes (one minute of wall
    // time) makes a real check-in late within the test; every other step
    // has a day, so nothing else lapses while the test runs.
    let calendar = |minutes| {
        Some(grid::Allowance {
            minutes,
            clock: grid::DeadlineClock::Calendar as i32,
        })
    };
    c.directory
        .set_deadline_policy(with_token(
            grid::SetDeadlinePolicyRequest {
                policy: Some(grid::DeadlinePolicy {
                    name: "categories/pipe-leak/deadlinePolicies/normal".into(),
                    accept: calendar(24 * 60),
                    check_in: calendar(1),
                    resolve: calendar(24 * 60),
                    r#return: calendar(24 * 60),
                    ..Default::default()
                }),
            },
            &t.admin,
        ))
        .await
        .unwrap();
    c.grid
        .create_staff_assignment(with_token(
            grid::CreateStaffAssignmentRequest {
                parent: "cells/g1".into(),
                staff_assignment: Some(grid::StaffAssignment {
                    person: "test-grid_worker".into(),
                    person_display_name: "网格员小李".into(),
                    role: grid::StaffRole::GridWorker as i32,
                    ..Default::default()
                }),
            },
            &t.admin,
        ))
        .await
        .unwrap();
}

/// One transition of `task` by `token`.
async fn act(
    c: &mut Clients,
    task: &grid::Task,
    action: Action,
    reason: &str,
    token: &str,
) -> grid::Task {
    c.tasks
        .transition_task(with_token(
            grid::TransitionTaskRequest {
                name: task.name.clone(),
                etag: task.etag.clone(),
                reason: reason.into(),
                action: Some(action),
            },
            token,
        ))
        .await
        .unwrap_or_else(|status| panic!("{}: {status:?}", task.name))
        .into_inner()
        .task
        .unwrap()
}

fn whistle(lead: &str, assisting: &str) -> Action {
    Action::Whistle(tr::Whistle {
        lead: lead.into(),
        assisting: vec![assisting.into()],
    })
}

fn assignment<'a>(task: &'a grid::Task, department: &str) -> &'a grid::DepartmentAssignment {
    task.assignments
        .iter()
        .find(|a| a.department == department && a.state != grid::AssignmentState::Returned as i32)
        .unwrap_or_else(|| panic!("{department} has no open assignment: {task:?}"))
}

/// The party side of the community: its committee and a government body
/// whose three in-service members live in g1 and report to m1 this year
/// (双报到), the unit's own report, and a co-building agreement between
/// the two with one commitment.
struct Party {
    members: Vec<String>,
    member_reports: Vec<String>,
    unit_report: String,
    agreement: String,
    commitment: String,
}

async fn the_party_side(c: &mut Clients, t: &Tokens, year: i32) -> Party {
    use membership::OrganisationKind as K;
    for (id, kind, parent, cell) in [
        ("cc", K::CountyCommittee, "", "cells/c"),
        (
            "s1-wc",
            K::StreetWorkingCommittee,
            "organisations/cc",
            "cells/s1",
        ),
        (
            "m1-pc",
            K::CommunityPartyCommittee,
            "organisations/s1-wc",
            "cells/m1",
        ),
        ("gov-1", K::GovernmentBody, "organisations/cc", ""),
    ] {
        once_replicated("an organisation placed in a replicated cell", || {
            let mut client = c.membership.clone();
            let request = with_token(
                membership::CreateOrganisationRequest {
                    organisation_id: id.into(),
                    organisation: Some(membership::Organisation {
                        display_name: format!("组织 {id}"),
                        kind: kind as i32,
                        parent: parent.into(),
                        cell: cell.into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &t.admin,
            );
            async move { client.create_organisation(request).await }
        })
        .await;
    }
    let mut members = Vec::new();
    let mut member_reports = Vec::new();
    for (n, full_name) in [(1, "张伟"), (2, "李娜"), (3, "王强")] {
        let member = once_replicated("a member living in a replicated grid", || {
            let mut client = c.membership.clone();
            let request = with_token(
                membership::RegisterMemberRequest {
                    member: Some(membership::Member {
                        full_name: full_name.into(),
                        id_number: id_number(100 + n),
                        phone: format!("1390000010{n}"),
                        organisation: "organisations/m1-pc".into(),
                        standing: membership::Standing::Full as i32,
                        residence_cell: "cells/g1".into(),
                        work_unit: "organisations/gov-1".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &t.admin,
            );
            async move { client.register_member(request).await }
        })
        .await
        .into_inner()
        .member
        .unwrap()
        .name;
        let report = c
            .membership
            .register_member_report(with_token(
                membership::RegisterMemberReportRequest {
                    report: Some(membership::MemberReport {
                        member: member.clone(),
                        community: "cells/m1".into(),
                        period_year: year,
                        // The first member also offers plumbing, the
                        // demand category the county maps pipe leaks to.
                        skills: if n == 1 {
                            vec!["水电维修".into(), PLUMBING.into()]
                        } else {
                            vec!["水电维修".into()]
                        },
                        ..Default::default()
                    }),
                },
                &t.admin,
            ))
            .await
            .unwrap()
            .into_inner()
            .report
            .unwrap()
            .name;
        members.push(member);
        member_reports.push(report);
    }
    let unit_report = c
        .membership
        .register_unit_report(with_token(
            membership::RegisterUnitReportRequest {
                report: Some(membership::UnitReport {
                    unit: "organisations/gov-1".into(),
                    community: "cells/m1".into(),
                    period_year: year,
                    resources: vec![membership::PledgedResource {
                        category: "volunteers".into(),
                        capacity: 3,
                        unit: "people".into(),
                        description: "供水管网抢修志愿服务".into(),
                    }],
                    ..Default::default()
                }),
            },
            &t.admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap()
        .name;
    let now = Utc::now();
    let at = |t: chrono::DateTime<Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    };
    let agreement = c
        .membership
        .sign_agreement(with_token(
            membership::SignAgreementRequest {
                agreement: Some(membership::Agreement {
                    community: "cells/m1".into(),
                    parties: vec!["organisations/m1-pc".into(), "organisations/gov-1".into()],
                    title: "和平社区与县水务局共驻共建协议".into(),
                    text: "双方共同开展供水管网巡查与居民节水宣传,每季度至少组织一次共建活动,\
                           在职党员到社区报到并参加志愿服务。"
                        .into(),
                    term_start: Some(at(now - chrono::Duration::days(1))),
                    term_end: Some(at(now + chrono::Duration::days(365))),
                    commitments: vec![membership::Commitment {
                        description: "每季度组织一次共建活动".into(),
                        owner: "organisations/gov-1".into(),
                        due_time: Some(at(now + chrono::Duration::days(30))),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            &t.community,
        ))
        .await
        .unwrap()
        .into_inner()
        .agreement
        .unwrap();
    Party {
        members,
        member_reports,
        unit_report,
        agreement: agreement.name,
        commitment: agreement.commitments[0].name.clone(),
    }
}

/// The community's party-mass service centre and a co-building activity
/// under the agreement there, today 10:00-12:00 Shanghai time: today,
/// whatever the hour, so the activity (counted when it ends) falls in the
/// quarter of the check-ins and of the task.
async fn co_building_activity(c: &mut Clients, t: &Tokens, agreement: &str) -> String {
    let centre = m1_centre(&c.centres, &t.admin, "和平社区党群服务中心").await;
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let at = |hour: u32| shanghai_hour(today, hour);
    c.centres
        .create_activity(with_token(
            centres::CreateActivityRequest {
                parent: centre.name,
                activity: Some(centres::Activity {
                    display_name: "供水管网巡查共建活动".into(),
                    organiser: "organisations/m1-pc".into(),
                    activity_type: centres::ActivityType::CoBuilding as i32,
                    agreement: agreement.into(),
                    start_time: Some(at(10)),
                    end_time: Some(at(12)),
                    capacity: 10,
                    volunteer_minutes: VOLUNTEER_MINUTES,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &t.community,
        ))
        .await
        .unwrap()
        .into_inner()
        .activity
        .unwrap()
        .name
}

/// Polls `fetch` until it yields `expected`; on timeout fails showing the
/// last value seen beside the expected one.
async fn settles<T, F, Fut>(what: &str, expected: &T, mut fetch: F) -> T
where
    T: PartialEq + Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let seen = fetch().await;
        if seen.as_ref() == Some(expected) {
            return seen.unwrap();
        }
        if tokio::time::Instant::now() >= deadline {
            assert_eq!(seen.as_ref(), Some(expected), "{what} within {PATIENCE:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn cell_metrics(
    c: &Clients,
    t: &Tokens,
    cell: &str,
    period: &str,
    rolled_up: bool,
) -> Option<assessment::CellMetrics> {
    c.assessment
        .clone()
        .get_cell_metrics(with_token(
            assessment::GetCellMetricsRequest {
                name: format!("cells/{cell}/metrics/{period}"),
                rolled_up,
            },
            &t.admin,
        ))
        .await
        .ok()
        .and_then(|r| r.into_inner().metrics)
}

async fn department_metrics(
    c: &Clients,
    t: &Tokens,
    department: &str,
    period: &str,
) -> Option<assessment::DepartmentMetrics> {
    c.assessment
        .clone()
        .get_department_metrics(with_token(
            assessment::GetDepartmentMetricsRequest {
                name: format!("{department}/metrics/{period}"),
            },
            &t.admin,
        ))
        .await
        .ok()
        .and_then(|r| r.into_inner().metrics)
}

/// The events behind one count, as (event type, subject, amount, event id).
async fn explain(
    c: &Clients,
    t: &Tokens,
    metrics: &str,
    metric: &str,
) -> Vec<(String, String, i64, String)> {
    let mut evidence: Vec<(String, String, i64, String)> = c
        .assessment
        .clone()
        .explain_metric(with_token(
            assessment::ExplainMetricRequest {
                name: metrics.into(),
                metric: metric.into(),
                // A cell's events of its whole subtree; departments have none.
                rolled_up: metrics.starts_with("cells/"),
                page_size: 1000,
                page_token: String::new(),
            },
            &t.admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .evidence
        .into_iter()
        .map(|e| (e.event_type, e.subject, e.amount, e.event_id))
        .collect();
    evidence.sort();
    evidence
}

/// Ids of the events `pool`'s service published under `routing_key`.
async fn published(pool: &sqlx::PgPool, routing_key: &str) -> Vec<String> {
    let ids: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT event_id FROM outbox WHERE routing_key = $1 ORDER BY id")
            .bind(routing_key)
            .fetch_all(pool)
            .await
            .unwrap();
    ids.into_iter().map(|id| id.to_string()).collect()
}

/// Whether an AMQP topic `pattern` (`*` one word, `#` any number) matches `key`.
fn topic_matches(pattern: &str, key: &str) -> bool {
    fn words(pattern: &[&str], key: &[&str]) -> bool {
        match (pattern.split_first(), key.split_first()) {
            (None, None) => true,
            (Some((&"#", rest)), _) => {
                words(rest, key) || key.split_first().is_some_and(|(_, k)| words(pattern, k))
            }
            (Some((p, rest)), Some((k, keys))) => (*p == "*" || p == k) && words(rest, keys),
            _ => false,
        }
    }
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = key.split('.').collect();
    words(&pattern, &key)
}

/// One line of a score card as asserted: indicator, status, numerator,
/// denominator, value, points, effective weight.
type Line = (String, i32, i64, i64, Option<f64>, Option<f64>, f64);

fn lines(card: &assessment::ScoreCard) -> Vec<Line> {
    card.indicators
        .iter()
        .map(|l| {
            (
                l.indicator.clone(),
                l.status,
                l.numerator,
                l.denominator,
                l.value,
                l.points,
                l.effective_weight,
            )
        })
        .collect()
}

fn scored(id: &str, n: i64, d: i64, value: f64, points: f64, weight: f64) -> Line {
    (
        id.into(),
        assessment::IndicatorStatus::Scored as i32,
        n,
        d,
        Some(value),
        Some(points),
        weight,
    )
}

fn insufficient(id: &str) -> Line {
    (
        id.into(),
        assessment::IndicatorStatus::InsufficientData as i32,
        0,
        0,
        None,
        None,
        0.0,
    )
}

fn ratio(
    id: &str,
    level: assessment::Level,
    n: &str,
    d: &str,
    weight: f64,
) -> assessment::Indicator {
    assessment::Indicator {
        id: id.into(),
        display_name: id.into(),
        level: level as i32,
        formula: Some(assessment::indicator::Formula::Ratio(assessment::Ratio {
            numerator: n.into(),
            denominator: d.into(),
        })),
        weight,
        scoring: Some(assessment::indicator::Scoring::Linear(assessment::Linear {
            floor: 0.0,
            target: 1.0,
        })),
        min_sample: 0,
    }
}

/// The small scheme the county scores the period with.
fn scheme(effective_from: String) -> assessment::SchemeVersion {
    use assessment::Level as L;
    let count = |id: &str, metric: &str, weight, scoring| assessment::Indicator {
        id: id.into(),
        display_name: id.into(),
        level: L::Street as i32,
        formula: Some(assessment::indicator::Formula::Count(assessment::Count {
            metric: metric.into(),
        })),
        weight,
        scoring: Some(scoring),
        min_sample: 0,
    };
    assessment::SchemeVersion {
        display_name: "一日考核".into(),
        effective_from,
        redistribution: assessment::Redistribution::Proportional as i32,
        indicators: vec![
            ratio(
                "c-resolution",
                L::Community,
                "tasks_resolved_on_time",
                "tasks_resolved",
                40.0,
            ),
            ratio(
                "c-satisfaction",
                L::Community,
                "tasks_satisfied",
                "tasks_rated",
                30.0,
            ),
            ratio(
                "c-participation",
                L::Community,
                "reported_members_active",
                "members_reported",
                30.0,
            ),
            ratio(
                "s-response",
                L::Street,
                "tasks_accepted_on_time",
                "tasks_reported",
                40.0,
            ),
            // Fewer supervision orders score higher: 0 orders 100 points, 4 or more none.
            count(
                "s-supervision",
                "supervision_orders",
                30.0,
                assessment::indicator::Scoring::Linear(assessment::Linear {
                    floor: 4.0,
                    target: 0.0,
                }),
            ),
            count(
                "s-volunteering",
                "volunteer_minutes",
                30.0,
                assessment::indicator::Scoring::Banded(assessment::Banded {
                    bands: vec![
                        assessment::Band {
                            from: 0.0,
                            points: 0.0,
                        },
                        assessment::Band {
                            from: 120.0,
                            points: 50.0,
                        },
                        assessment::Band {
                            from: 240.0,
                            points: 100.0,
                        },
                    ],
                }),
            ),
            ratio(
                "d-check-in",
                L::Department,
                "check_ins_on_time",
                "check_ins",
                40.0,
            ),
            ratio(
                "d-resolution",
                L::Department,
                "parts_resolved_on_time",
                "parts_resolved",
                30.0,
            ),
            ratio(
                "d-rating",
                L::Department,
                "ratings_satisfied",
                "ratings",
                30.0,
            ),
        ],
        ..Default::default()
    }
}

async fn publish_scores(
    c: &mut Clients,
    t: &Tokens,
    level: assessment::Level,
    period: &str,
) -> assessment::Ranking {
    c.assessment
        .publish_scores(with_token(
            assessment::PublishScoresRequest {
                scheme: SCHEME.into(),
                level: level as i32,
                period: period.into(),
            },
            &t.admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .ranking
        .unwrap()
}

/// (subject, display name, score, rank) of each card, in ranking order.
fn standings(ranking: &assessment::Ranking) -> Vec<(String, String, Option<f64>, i32)> {
    ranking
        .cards
        .iter()
        .map(|c| (c.subject.clone(), c.display_name.clone(), c.score, c.rank))
        .collect()
}

/// A resident reports a leak through the residents' app, in a trace of
/// their own: the request the test follows into every consumer.
async fn a_resident_reports_a_leak(day: &mut Day, trace_id: &str) -> grid::Task {
    // Centres and membership know the leak's grid before it is reported:
    // a report they cannot place yet would be retried, and each retry is
    // one more consumer span in the trace asserted at the end.
    for service in day.county.replicas.iter() {
        eventually(PATIENCE, "the replicas to hold g1", || async {
            (replica_copies(&service.pool, "g1").await.0 == 1).then_some(())
        })
        .await;
    }
    let (c, t) = (&mut day.c, &day.t);
    let mut report = with_token(
        grid::ReportTaskRequest {
            task: Some(grid::Task {
                cell: "cells/g1".into(),
                category: "categories/pipe-leak".into(),
                urgency: grid::Urgency::Normal as i32,
                channel: grid::Channel::Resident as i32,
                description: "3号楼楼道顶上的水管在漏水".into(),
                ..Default::default()
            }),
            reporter_contact: "13812345678".into(),
            request_id: uuid::Uuid::new_v4().to_string(),
        },
        &t.resident,
    );
    report.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    let task = c
        .tasks
        .report_task(report)
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(task.state, grid::TaskState::Reported as i32);
    assert_eq!(task.reporter_contact, "138****5678");
    task
}

/// The grid takes the task on and cannot solve it; the community whistles
/// housing (returned) then the water company, urban management assisting
/// both times: returns the task and when urban management's check-in lapses.
async fn the_grid_cannot_solve_it_and_the_community_whistles_twice(
    day: &mut Day,
    task: grid::Task,
) -> (grid::Task, chrono::DateTime<Utc>) {
    let (c, t) = (&mut day.c, &day.t);
    // The grid takes it on and cannot solve it; the community whistles
    // housing to lead with urban management assisting.
    let task = act(c, &task, Action::Accept(tr::Accept {}), "", &t.grid_worker).await;
    let task = act(c, &task, Action::Start(tr::Start {}), "", &t.grid_worker).await;
    let task = act(c, &task, whistle(HOUSING, URBAN), "", &t.community).await;
    assert_eq!(task.state, grid::TaskState::Whistled as i32);
    // Housing returns it as not its business: back with the community,
    // which whistles the water company to lead, urban management again
    // assisting.
    let task = act(
        c,
        &task,
        Action::Return(tr::Return {
            department: HOUSING.into(),
        }),
        RETURN_REASON,
        &Tokens::operator(HOUSING),
    )
    .await;
    assert_eq!(task.state, grid::TaskState::Returned as i32);
    let task = act(c, &task, whistle(WATER, URBAN), "", &t.community).await;
    // The water company checks in at once, within its minute.
    let task = act(
        c,
        &task,
        Action::CheckIn(tr::CheckIn {
            department: WATER.into(),
        }),
        "",
        &Tokens::operator(WATER),
    )
    .await;
    let water = assignment(&task, WATER);
    assert!(
        water.check_in_time.map(|t| (t.seconds, t.nanos))
            <= water.check_in_due.map(|t| (t.seconds, t.nanos)),
        "the water company's check-in right after the whistle must be on time: {water:?}"
    );
    let urban_due = assignment(&task, URBAN).check_in_due.unwrap();
    let urban_due = chrono::DateTime::from_timestamp(urban_due.seconds, 0).unwrap()
        + chrono::Duration::seconds(1);
    assert_eq!(
        task.assignments
            .iter()
            .map(|a| (a.department.as_str(), a.role, a.state))
            .collect::<Vec<_>>(),
        vec![
            (
                WATER,
                grid::AssignmentRole::Lead as i32,
                grid::AssignmentState::CheckedIn as i32
            ),
            (
                URBAN,
                grid::AssignmentRole::Assisting as i32,
                grid::AssignmentState::Assigned as i32
            ),
            (
                HOUSING,
                grid::AssignmentRole::Lead as i32,
                grid::AssignmentState::Returned as i32
            ),
        ]
    );
    (task, urban_due)
}

/// While urban management's minute runs out, the party side of the
/// community goes about its day: three in-service members of the water
/// bureau report to the community where they live, the bureau reports as a
/// unit and signs a co-building agreement, and two of the three attend its
/// co-building activity (the third registers and stays away).
async fn reported_members_attend_a_co_building_activity(day: &mut Day) -> Party {
    let (c, t, q) = (&mut day.c, &day.t, day.q);
    let party = the_party_side(c, t, q.year).await;
    let activity = co_building_activity(c, t, &party.agreement).await;
    for member in &party.members {
        c.centres
            .create_registration(with_token(
                centres::CreateRegistrationRequest {
                    parent: activity.clone(),
                    registration: Some(centres::Registration {
                        attendee: member.clone(),
                        ..Default::default()
                    }),
                },
                &t.community,
            ))
            .await
            .unwrap();
    }
    for member in &party.members[..2] {
        let checkin = c
            .centres
            .record_checkin(with_token(
                centres::RecordCheckinRequest {
                    parent: activity.clone(),
                    attendee: member.clone(),
                    walk_in: false,
                },
                &t.community,
            ))
            .await
            .unwrap()
            .into_inner()
            .checkin
            .unwrap();
        assert_eq!(checkin.volunteer_minutes, VOLUNTEER_MINUTES);
        assert_eq!(checkin.recorded_by, "test-community_staff");
    }
    let closed = c
        .centres
        .close_activity(with_token(
            centres::CloseActivityRequest {
                name: activity.clone(),
            },
            &t.community,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.no_shows, 1);
    assert_eq!(
        closed.activity.unwrap().state,
        centres::ActivityState::Held as i32
    );
    c.membership
        .fulfil_commitment(with_token(
            membership::FulfilCommitmentRequest {
                name: party.commitment.clone(),
            },
            &t.community,
        ))
        .await
        .unwrap();
    party
}

/// The grid's own supervision sweep, run once urban management's deadline
/// has really passed, orders it to check in; it does, late; both resolve.
async fn urban_management_checks_in_late_under_supervision_and_both_resolve(
    day: &mut Day,
    task: grid::Task,
    urban_due: chrono::DateTime<Utc>,
) -> grid::Task {
    let (county, c, t) = (&day.county, &mut day.c, &day.t);
    // Urban management's check-in deadline passes; the grid's supervision
    // sweep, run at the real time, issues it exactly one order.
    eventually(
        PATIENCE * 2,
        "urban management's check-in deadline to pass",
        || async { (Utc::now() > urban_due).then_some(()) },
    )
    .await;
    let issued = sweep_once(&county.grid.pool, &county.grid_ladder, Utc::now())
        .await
        .unwrap();
    assert_eq!(issued, 1, "one order: urban management's late check-in");
    let supervision = c.tasks.clone();
    let orders = |open_only: bool| {
        let mut tasks = supervision.clone();
        let request = with_token(
            grid::ListSupervisionOrdersRequest {
                parent: task.name.clone(),
                open_only,
                ..Default::default()
            },
            &t.command_centre,
        );
        async move {
            tasks
                .list_supervision_orders(request)
                .await
                .unwrap()
                .into_inner()
                .orders
        }
    };
    let open = orders(true).await;
    assert_eq!(
        open.iter()
            .map(|o| (
                o.department.as_str(),
                o.step,
                o.level,
                o.clear_time.is_some()
            ))
            .collect::<Vec<_>>(),
        vec![(
            URBAN,
            grid::SupervisedStep::CheckIn as i32,
            grid::SupervisionLevel::Order as i32,
            false
        )]
    );

    // Urban management checks in late, which settles the order; both
    // departments resolve their parts and the task is resolved.
    let task = c
        .tasks
        .get_task(with_token(
            grid::GetTaskRequest {
                name: task.name.clone(),
            },
            &t.command_centre,
        ))
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    let task = act(
        c,
        &task,
        Action::CheckIn(tr::CheckIn {
            department: URBAN.into(),
        }),
        "",
        &Tokens::operator(URBAN),
    )
    .await;
    assert!(
        orders(true).await.is_empty(),
        "the late check-in settles the order"
    );
    let all = orders(false).await;
    assert_eq!(all.len(), 1);
    assert!(all[0].clear_time.is_some());
    let task = act(
        c,
        &task,
        Action::ResolvePart(tr::ResolvePart {
            department: WATER.into(),
        }),
        "",
        &Tokens::operator(WATER),
    )
    .await;
    assert_eq!(task.state, grid::TaskState::Whistled as i32);
    let task = act(
        c,
        &task,
        Action::ResolvePart(tr::ResolvePart {
            department: URBAN.into(),
        }),
        "",
        &Tokens::operator(URBAN),
    )
    .await;
    assert_eq!(task.state, grid::TaskState::Resolved as i32);
    task
}

/// The resident's two ratings, and the task's whole history.
async fn the_resident_is_dissatisfied_so_it_reopens_then_closes(
    day: &mut Day,
    task: grid::Task,
) -> grid::Task {
    let (c, t) = (&mut day.c, &day.t);
    // The resident is not satisfied: the task reopens with the grid, which
    // resolves it itself this time; the resident is satisfied and it closes.
    let task = act(
        c,
        &task,
        Action::Rate(tr::Rate { satisfied: false }),
        DISSATISFIED_REASON,
        &t.resident,
    )
    .await;
    assert_eq!(task.state, grid::TaskState::Accepted as i32);
    assert_eq!(task.reopen_count, 1);
    let task = act(
        c,
        &task,
        Action::ResolveByGrid(tr::ResolveByGrid {}),
        "",
        &t.grid_worker,
    )
    .await;
    let task = act(
        c,
        &task,
        Action::Rate(tr::Rate { satisfied: true }),
        "",
        &t.resident,
    )
    .await;
    assert_eq!(task.state, grid::TaskState::Closed as i32);
    assert_eq!(task.satisfied, Some(true));
    let history = c
        .tasks
        .get_task(with_token(
            grid::GetTaskRequest {
                name: task.name.clone(),
            },
            &t.command_centre,
        ))
        .await
        .unwrap()
        .into_inner()
        .history;
    let resident = "test-integration_client";
    let worker = "test-grid_worker";
    let community = "test-community_staff";
    let operator = "test-department_operator";
    assert_eq!(
        history
            .iter()
            .map(|h| (
                h.sequence,
                h.action.as_str(),
                h.actor.as_str(),
                h.department.as_str(),
                h.reason.as_str()
            ))
            .collect::<Vec<_>>(),
        vec![
            (1, "reported", resident, "", ""),
            (2, "accepted", worker, "", ""),
            (3, "started", worker, "", ""),
            (4, "whistled", community, HOUSING, ""),
            (5, "returned", operator, HOUSING, RETURN_REASON),
            (6, "whistled", community, WATER, ""),
            (7, "checked_in", operator, WATER, ""),
            (8, "checked_in", operator, URBAN, ""),
            (9, "department_resolved", operator, WATER, ""),
            (10, "department_resolved", operator, URBAN, ""),
            (11, "resolved", operator, URBAN, ""),
            (12, "rated", resident, "", DISSATISFIED_REASON),
            (13, "reopened", resident, "", DISSATISFIED_REASON),
            (14, "resolved_by_grid", worker, "", ""),
            (15, "rated", resident, "", ""),
            (16, "closed", resident, "", ""),
        ]
    );
    task
}

/// The community's two-way rating of each department it whistled, once
/// assessment has seen the task resolved.
async fn the_community_rates_the_departments(day: &mut Day, task: &grid::Task) {
    let (c, t) = (&mut day.c, &day.t);
    for (department, grade, comment) in [
        (WATER, assessment::RatingGrade::Satisfied, "响应及时"),
        (
            URBAN,
            assessment::RatingGrade::BasicallySatisfied,
            "报到超时",
        ),
        (HOUSING, assessment::RatingGrade::Dissatisfied, "推诿退回"),
    ] {
        once_replicated("a rating of a resolved task", || {
            let mut client = c.assessment.clone();
            let request = with_token(
                assessment::CreateDepartmentRatingRequest {
                    parent: task.name.clone(),
                    department_rating: Some(assessment::DepartmentRating {
                        department: department.into(),
                        grade: grade as i32,
                        comment: comment.into(),
                        ..Default::default()
                    }),
                },
                &t.community,
            );
            async move { client.create_department_rating(request).await }
        })
        .await;
    }
}

/// What membership made of the check-ins and the activity.
async fn membership_credits_attendance_hours_and_points(day: &mut Day, party: &Party) {
    let (c, t, q) = (&mut day.c, &day.t, day.q);
    // Membership: two of the three reported members took part, each
    // earning 2 points (volunteer_service) and two volunteer hours; the
    // unit's feedback card counts them; the third is "reported but never
    // took part".
    let quarter = membership::Quarter {
        year: q.year,
        quarter: i32::try_from(q.quarter).unwrap(),
    };
    // Listed by report name: the expectation is sorted the same way.
    let mut members: Vec<membership::MemberParticipation> = party
        .member_reports
        .iter()
        .zip(&party.members)
        .zip([1, 1, 0])
        .map(
            |((report, member), attended)| membership::MemberParticipation {
                report: report.clone(),
                member: member.clone(),
                attended,
                attended_since_registration: attended,
            },
        )
        .collect();
    members.sort_by(|a, b| a.report.cmp(&b.report));
    let participation = settles(
        "membership's participation of the community",
        &membership::GetParticipationResponse {
            members,
            units: vec![membership::UnitParticipation {
                report: party.unit_report.clone(),
                unit: "organisations/gov-1".into(),
                attended: 2,
                attended_since_registration: 2,
            }],
            community_attended: 2,
            members_never_took_part: vec![party.member_reports[2].clone()],
            units_never_took_part: vec![],
        },
        || {
            let mut client = c.membership.clone();
            let request = with_token(
                membership::GetParticipationRequest {
                    community: "cells/m1".into(),
                    quarter: Some(quarter),
                },
                &t.admin,
            );
            async move {
                let mut response = client.get_participation(request).await.ok()?.into_inner();
                response.members.sort_by(|a, b| a.report.cmp(&b.report));
                Some(response)
            }
        },
    )
    .await;
    assert_eq!(participation.community_attended, 2);
    for (member, balance) in party.members.iter().zip([2, 2, 0]) {
        let points = c
            .membership
            .get_points_balance(with_token(
                membership::GetPointsBalanceRequest {
                    member: member.clone(),
                },
                &t.admin,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(points.balance, balance, "{member}");
        assert_eq!(
            points
                .entries
                .iter()
                .map(|e| (e.rule.as_str(), e.points))
                .collect::<Vec<_>>(),
            if balance == 0 {
                vec![]
            } else {
                vec![("volunteer_service", 2)]
            },
            "{member}"
        );
    }
    let card = c
        .membership
        .get_unit_feedback_card(with_token(
            membership::GetUnitFeedbackCardRequest {
                report: party.unit_report.clone(),
                quarter: Some(quarter),
            },
            &t.admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .card
        .unwrap();
    assert_eq!(
        (
            card.members_reported,
            card.members_took_part,
            card.attendances,
            card.volunteer_minutes,
            card.members_absent.clone()
        ),
        (3, 2, 2, 240, vec![party.members[2].clone()])
    );
    settles(
        "membership to record the co-building activity under the agreement",
        &true,
        || {
            let mut client = c.membership.clone();
            let request = with_token(
                membership::GetAgreementRequest {
                    name: party.agreement.clone(),
                },
                &t.admin,
            );
            async move {
                let agreement = client.get_agreement(request).await.ok()?.into_inner();
                Some(agreement.agreement?.last_activity_time.is_some())
            }
        },
    )
    .await;
}

/// Every cell's and department's metrics of the period, exactly.
async fn assessment_counts_every_fact_of_the_period(day: &mut Day) {
    let (c, t, period) = (&mut day.c, &day.t, day.period.as_str());
    // Assessment, at the period's end. The task (in g1): reported 1,
    // accepted on time 1, resolved on time 1 (its last resolution, the
    // grid's, within the day), rated and satisfied 1 (the last rating),
    // reopened 1, one lead return, two whistles, one supervision order, no
    // warning or red. The party side (in m1): one unit and three member
    // reports, two of them active, one agreement signed with an activity and
    // its commitment fulfilled on time, two check-ins by members, one
    // activity held, 2 x 120 volunteer minutes.
    let task_facts = assessment::CellMetrics {
        tasks_reported: 1,
        tasks_accepted: 1,
        tasks_accepted_on_time: 1,
        tasks_resolved: 1,
        tasks_resolved_on_time: 1,
        tasks_rated: 1,
        tasks_satisfied: 1,
        reopenings: 1,
        returns: 1,
        whistles: 2,
        supervision_warnings: 0,
        supervision_orders: 1,
        supervision_red: 0,
        response_rate: Some(1.0),
        resolution_rate: Some(1.0),
        on_time_resolution_rate: Some(1.0),
        satisfaction_rate: Some(1.0),
        whistles_per_task: Some(2.0),
        ..Default::default()
    };
    let party_facts = assessment::CellMetrics {
        units_reported: 1,
        members_reported: 3,
        reported_members_active: 2,
        agreements_signed: 1,
        agreements_with_activity: 1,
        commitments_fulfilled: 1,
        commitments_fulfilled_on_time: 1,
        checkins: 2,
        member_checkins: 2,
        activities_held: 1,
        volunteer_minutes: 2 * i64::from(VOLUNTEER_MINUTES),
        // m1-centre, a level from centres.compliance.changed: it has no
        // zones, so it falls short of the community standard. No compounds:
        // its coverage is 0 of 0.
        centres_total: 1,
        centres_compliant: 0,
        // m1-pc, a level from membership.organisation.created: a party
        // organisation without a branch committee. No posts: no 一肩挑
        // state published for m1.
        party_organisations_total: 1,
        ..Default::default()
    };
    let both = assessment::CellMetrics {
        units_reported: party_facts.units_reported,
        members_reported: party_facts.members_reported,
        reported_members_active: party_facts.reported_members_active,
        agreements_signed: party_facts.agreements_signed,
        agreements_with_activity: party_facts.agreements_with_activity,
        commitments_fulfilled: party_facts.commitments_fulfilled,
        commitments_fulfilled_on_time: party_facts.commitments_fulfilled_on_time,
        checkins: party_facts.checkins,
        member_checkins: party_facts.member_checkins,
        activities_held: party_facts.activities_held,
        volunteer_minutes: party_facts.volunteer_minutes,
        centres_total: party_facts.centres_total,
        ..task_facts.clone()
    };
    let named =
        |cell: &str, rolled_up: bool, facts: &assessment::CellMetrics| assessment::CellMetrics {
            name: format!("cells/{cell}/metrics/{period}"),
            cell: format!("cells/{cell}"),
            period: period.to_owned(),
            rolled_up,
            ..facts.clone()
        };
    // Party organisations rolled up: m1-pc in m1; s1-wc too in s1; cc and
    // gov-1 (placed nowhere, in its parent's area: the county) too in c.
    for (cell, rolled_up, facts, party_organisations) in [
        ("g1", false, &task_facts, 0),
        ("m1", false, &party_facts, 1),
        ("m1", true, &both, 1),
        ("s1", true, &both, 2),
        ("c", true, &both, 4),
    ] {
        let expected = assessment::CellMetrics {
            party_organisations_total: party_organisations,
            ..named(cell, rolled_up, facts)
        };
        settles(
            &format!("assessment's metrics of {cell} (rolled up: {rolled_up})"),
            &expected,
            || cell_metrics(c, t, cell, period, rolled_up),
        )
        .await;
    }
    // Departments: housing was whistled once and returned it; the water
    // company was whistled once and checked in and resolved on time; urban
    // management was whistled twice, checked in once, late (its one
    // supervision order), and resolved on time. The community rated them
    // dissatisfied, satisfied and basically satisfied.
    let department = |id: &str| assessment::DepartmentMetrics {
        name: format!("{id}/metrics/{period}"),
        department: id.into(),
        period: period.to_owned(),
        ..Default::default()
    };
    let expected_departments = [
        assessment::DepartmentMetrics {
            parts_assigned: 1,
            returns: 1,
            ratings: 1,
            ratings_dissatisfied: 1,
            rating_satisfaction_rate: Some(0.0),
            ..department(HOUSING)
        },
        assessment::DepartmentMetrics {
            parts_assigned: 1,
            check_ins: 1,
            check_ins_on_time: 1,
            parts_resolved: 1,
            parts_resolved_on_time: 1,
            check_in_on_time_rate: Some(1.0),
            resolution_on_time_rate: Some(1.0),
            ratings: 1,
            ratings_satisfied: 1,
            rating_satisfaction_rate: Some(1.0),
            ..department(WATER)
        },
        assessment::DepartmentMetrics {
            parts_assigned: 2,
            check_ins: 1,
            check_ins_on_time: 0,
            parts_resolved: 1,
            parts_resolved_on_time: 1,
            supervision_orders: 1,
            check_in_on_time_rate: Some(0.0),
            resolution_on_time_rate: Some(1.0),
            ratings: 1,
            ratings_basically_satisfied: 1,
            rating_satisfaction_rate: Some(0.0),
            ..department(URBAN)
        },
    ];
    for expected in &expected_departments {
        settles(
            &format!("assessment's metrics of {}", expected.department),
            expected,
            || department_metrics(c, t, &expected.department, period),
        )
        .await;
    }
}

/// ExplainMetric leads from the counts to the events the grid and centres published.
async fn each_count_is_explained_by_the_events_behind_it(day: &mut Day) {
    let (county, c, t, period) = (&day.county, &mut day.c, &day.t, day.period.as_str());
    let grid_event = |key: &str| {
        let pool = county.grid.pool.clone();
        let key = key.to_owned();
        async move { published(&pool, &key).await }
    };
    let street = format!("cells/s1/metrics/{period}");
    let supervision_issued = grid_event("grid.supervision.issued").await;
    assert_eq!(supervision_issued.len(), 1);
    assert_eq!(
        explain(c, t, &street, "supervision_orders").await,
        vec![(
            "grid.supervision.issued".to_owned(),
            "cells/g1".to_owned(),
            1,
            supervision_issued[0].clone()
        )]
    );
    assert_eq!(
        explain(
            c,
            t,
            &format!("{URBAN}/metrics/{period}"),
            "supervision_orders"
        )
        .await,
        vec![(
            "grid.supervision.issued".to_owned(),
            URBAN.to_owned(),
            1,
            supervision_issued[0].clone()
        )]
    );
    let reopened = grid_event("grid.task.reopened").await;
    assert_eq!(
        explain(c, t, &street, "reopenings").await,
        vec![(
            "grid.task.reopened".to_owned(),
            "cells/g1".to_owned(),
            1,
            reopened[0].clone()
        )]
    );
    let mut whistled: Vec<(String, String, i64, String)> = grid_event("grid.task.whistled")
        .await
        .into_iter()
        .map(|id| {
            (
                "grid.task.whistled".to_owned(),
                "cells/g1".to_owned(),
                1,
                id,
            )
        })
        .collect();
    whistled.sort();
    assert_eq!(explain(c, t, &street, "whistles").await, whistled);
    let centres_pool = &county.all().find(|s| s.name == "centres").unwrap().pool;
    let mut checkins: Vec<(String, String, i64, String)> =
        published(centres_pool, "centres.checkin.recorded")
            .await
            .into_iter()
            .map(|id| {
                (
                    "centres.checkin.recorded".to_owned(),
                    "cells/m1".to_owned(),
                    i64::from(VOLUNTEER_MINUTES),
                    id,
                )
            })
            .collect();
    checkins.sort();
    assert_eq!(checkins.len(), 2);
    assert_eq!(explain(c, t, &street, "volunteer_minutes").await, checkins);
}

/// A small scheme published for the period, its three rankings and the
/// departments' score card.
async fn the_periods_scores_and_score_card_follow_from_the_counts(day: &mut Day) {
    let (c, t, q, period) = (&mut day.c, &day.t, day.q, day.period.as_str());
    // Scores: the county publishes a small scheme in force from the
    // quarter's first month and scores the period.
    let first_month = (q.quarter - 1) * 3 + 1;
    let version = c
        .assessment
        .create_scheme_version(with_token(
            assessment::CreateSchemeVersionRequest {
                parent: SCHEME.into(),
                scheme_version: Some(scheme(format!("{}-{first_month:02}", q.year))),
                scheme_file: String::new(),
            },
            &t.admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .scheme_version
        .unwrap();
    c.assessment
        .publish_scheme_version(with_token(
            assessment::PublishSchemeVersionRequest {
                name: version.name.clone(),
            },
            &t.admin,
        ))
        .await
        .unwrap();

    // The community: resolved on time 1/1 (100 points, weight 40),
    // satisfied 1/1 (100, 30), reported members active 2/3 (66.67, 30):
    // (4000 + 3000 + 2000) / 100 = 90.
    let communities = publish_scores(c, t, assessment::Level::Community, period).await;
    assert_eq!(communities.revision, 1);
    assert_eq!(communities.scheme_version, version.name);
    assert_eq!(
        standings(&communities),
        vec![("cells/m1".to_owned(), "和平社区".to_owned(), Some(90.0), 1)]
    );
    assert_eq!(
        lines(&communities.cards[0]),
        vec![
            scored("c-resolution", 1, 1, 1.0, 100.0, 40.0),
            scored("c-satisfaction", 1, 1, 1.0, 100.0, 30.0),
            scored(
                "c-participation",
                2,
                3,
                2.0 / 3.0,
                100.0 * (2.0 / 3.0),
                30.0
            ),
        ]
    );
    // The street: accepted on time 1/1 (100, weight 40), one supervision
    // order on a scale from 4 (0 points) to 0 (100): 75 (weight 30), 240
    // volunteer minutes reach the top band: 100 (weight 30):
    // (4000 + 2250 + 3000) / 100 = 92.5.
    let streets = publish_scores(c, t, assessment::Level::Street, period).await;
    assert_eq!(
        standings(&streets),
        vec![("cells/s1".to_owned(), "青山街道".to_owned(), Some(92.5), 1)]
    );
    assert_eq!(
        lines(&streets.cards[0]),
        vec![
            scored("s-response", 1, 1, 1.0, 100.0, 40.0),
            scored("s-supervision", 1, 0, 1.0, 75.0, 30.0),
            scored("s-volunteering", 240, 0, 240.0, 100.0, 30.0),
        ]
    );
    let supervision_line = &streets.cards[0].indicators[1];
    assert_eq!(
        supervision_line.metrics,
        format!("cells/s1/metrics/{period}")
    );
    assert_eq!(supervision_line.numerator_metric, "supervision_orders");
    // Departments: the water company 100 on all three; urban management
    // checked in late (0, weight 40), resolved on time (100, 30), basically
    // satisfied is not satisfied (0, 30): 30; housing has no check-in and
    // no resolution to score (insufficient data), so its rating (0) carries
    // the whole weight: 0.
    let departments = publish_scores(c, t, assessment::Level::Department, period).await;
    assert_eq!(
        standings(&departments),
        vec![
            (WATER.to_owned(), "water-supply".to_owned(), Some(100.0), 1),
            (
                URBAN.to_owned(),
                "urban-management".to_owned(),
                Some(30.0),
                2
            ),
            (HOUSING.to_owned(), "housing".to_owned(), Some(0.0), 3),
        ]
    );
    assert_eq!(
        departments.cards.iter().map(lines).collect::<Vec<_>>(),
        vec![
            vec![
                scored("d-check-in", 1, 1, 1.0, 100.0, 40.0),
                scored("d-resolution", 1, 1, 1.0, 100.0, 30.0),
                scored("d-rating", 1, 1, 1.0, 100.0, 30.0),
            ],
            vec![
                scored("d-check-in", 0, 1, 0.0, 0.0, 40.0),
                scored("d-resolution", 1, 1, 1.0, 100.0, 30.0),
                scored("d-rating", 0, 1, 0.0, 0.0, 30.0),
            ],
            vec![
                insufficient("d-check-in"),
                insufficient("d-resolution"),
                scored("d-rating", 0, 1, 0.0, 0.0, 100.0),
            ],
        ]
    );
    // The score card as the joint conference gets it.
    let export = c
        .assessment
        .export_ranking(with_token(
            assessment::ExportRankingRequest {
                name: departments.name.clone(),
            },
            &t.admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(export.filename, format!("day-department-{period}.csv"));
    let csv = std::str::from_utf8(&export.csv).unwrap();
    let none = "数据不足 insufficient data";
    assert_eq!(
        csv.strip_prefix('\u{feff}')
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        vec![
            "名次 Rank,对象 Subject,名称 Name,得分 Score,\
             d-check-in 值 value,d-check-in 得分 points,\
             d-resolution 值 value,d-resolution 得分 points,\
             d-rating 值 value,d-rating 得分 points"
                .to_owned(),
            format!("1,{WATER},water-supply,100.00,1.00,100.00,1.00,100.00,1.00,100.00"),
            format!("2,{URBAN},urban-management,30.00,0.00,0.00,1.00,100.00,0.00,0.00"),
            format!("3,{HOUSING},housing,0.00,{none},{none},{none},{none},0.00,0.00"),
        ]
    );
}

/// The leak enters the demand list (需求清单) of its community in centres,
/// once, naming the task; membership offers it to the one reported member
/// whose skills take it (the first: plumbing), not to the other two.
async fn the_leak_is_a_demand_of_its_community_offered_to_the_member_with_the_skill(
    day: &mut Day,
    leak: &str,
    party: &Party,
) {
    let (c, t) = (&day.c, &day.t);
    let demands = settles(
        "the leak to enter centres' demand list",
        &vec![(
            leak.to_owned(),
            PLUMBING.to_owned(),
            "cells/g1".to_owned(),
            1,
            "3号楼楼道顶上的水管在漏水".to_owned(),
            centres::DemandState::Open as i32,
        )],
        || {
            let mut client = c.centres.clone();
            let request = with_token(centres::ListDemandsRequest::default(), &t.admin);
            async move {
                let demands = client
                    .list_demands(request)
                    .await
                    .ok()?
                    .into_inner()
                    .demands;
                Some(
                    demands
                        .into_iter()
                        .map(|d| {
                            (
                                d.task,
                                d.category,
                                d.cell,
                                d.quantity,
                                d.description,
                                d.state,
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            }
        },
    )
    .await;
    assert_eq!(demands.len(), 1);
    let demand = c
        .centres
        .clone()
        .list_demands(with_token(centres::ListDemandsRequest::default(), &t.admin))
        .await
        .unwrap()
        .into_inner()
        .demands
        .remove(0);
    // The reporter is named by their token's subject; the contact stays in
    // the grid.
    assert_eq!(demand.requested_by, "test-integration_client");
    assert!(!format!("{demand:?}").contains("5678"));

    // Offered to the first member's report only.
    let expected: Vec<Vec<(String, String)>> = party
        .member_reports
        .iter()
        .enumerate()
        .map(|(i, report)| {
            if i == 0 {
                vec![(demand.name.clone(), report.clone())]
            } else {
                Vec::new()
            }
        })
        .collect();
    settles("membership to offer the leak", &expected, || {
        let client = c.membership.clone();
        let reports = party.member_reports.clone();
        let token = t.admin.clone();
        let leak = leak.to_owned();
        async move {
            let mut all = Vec::new();
            for report in reports {
                let offers = client
                    .clone()
                    .list_demand_offers(with_token(
                        membership::ListDemandOffersRequest {
                            parent: report,
                            ..Default::default()
                        },
                        &token,
                    ))
                    .await
                    .ok()?
                    .into_inner()
                    .offers;
                if offers.iter().any(|o| o.task != leak) {
                    return None;
                }
                all.push(
                    offers
                        .into_iter()
                        .map(|o| (o.demand, o.report))
                        .collect::<Vec<_>>(),
                );
            }
            Some(all)
        }
    })
    .await;
}

/// Which services' subscriptions bind `key`, in the county's order.
fn consumers_of(county: &County, key: &str) -> Vec<&'static str> {
    county
        .replicas
        .iter()
        .filter(|service| {
            service.consumers.iter().any(|consumer| {
                consumer
                    .subscription()
                    .queue
                    .bindings
                    .iter()
                    .any(|pattern| topic_matches(pattern, key))
            })
        })
        .map(|service| service.name)
        .collect()
}

/// The trace of the resident's report, from the recorded spans: the
/// grid's call, one `grid.task.reported process` span in each service
/// consuming the report (assessment counts it, centres enters it as a
/// demand), and one `centres.demand.registered process` span in each
/// service consuming the demand centres published on the consumer's trace
/// (membership, which offers it): all four services.
async fn the_report_is_traced_into_every_service_that_consumes_it(day: &mut Day, trace_id: &str) {
    let county = &day.county;
    let reported = consumers_of(county, "grid.task.reported");
    let demanded = consumers_of(county, "centres.demand.registered");
    assert_eq!(reported, vec!["centres", "assessment"]);
    assert_eq!(demanded, vec!["membership"]);
    // (span name, service), sorted; a consumer span's service is the one
    // whose consumer reads its queue (`messaging.destination`).
    let service_of = |queue: &str| -> String {
        county
            .replicas
            .iter()
            .find(|service| service.consumers.iter().any(|c| c.queue_name() == queue))
            .map_or_else(
                || format!("unknown queue {queue}"),
                |service| service.name.to_owned(),
            )
    };
    let mut expected: Vec<(String, String)> = vec![(
        "/civicgrid.grid.v1.TaskService/ReportTask".to_owned(),
        "grid".to_owned(),
    )];
    for (key, services) in [
        ("grid.task.reported", &reported),
        ("centres.demand.registered", &demanded),
    ] {
        for service in services {
            expected.push((format!("{key} process"), (*service).to_owned()));
        }
    }
    expected.sort();
    let spans = settles(
        "the report's trace to reach every consumer down the chain",
        &expected,
        || async {
            let mut seen: Vec<(String, String)> =
                civicgrid_runtime::telemetry::recorded_spans(trace_id)
                    .into_iter()
                    .filter_map(|span| {
                        if span.name == "/civicgrid.grid.v1.TaskService/ReportTask" {
                            return Some((span.name, "grid".to_owned()));
                        }
                        if !span.name.ends_with(" process") {
                            return None;
                        }
                        let service = service_of(span.destination.as_deref().unwrap_or_default());
                        Some((span.name, service))
                    })
                    .collect();
            seen.sort();
            Some(seen)
        },
    )
    .await;
    let mut reached: Vec<&str> = spans.iter().map(|(_, service)| service.as_str()).collect();
    reached.sort_unstable();
    reached.dedup();
    assert_eq!(reached, ["assessment", "centres", "grid", "membership"]);
}

/// The four services of a county, the day's actors and the period it counts in.
struct Day {
    county: County,
    c: Clients,
    t: Tokens,
    q: Quarter,
    period: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_in_the_county_shows_exactly_in_the_periods_metrics_and_scores_and_the_first_request_is_traced_into_every_consumer()
 {
    // No warning rung (0 minutes before a deadline) and no background sweep
    // during the test (an hour apart): the test runs the grid's own sweep
    // once the deadline has really passed, so the orders issued do not
    // depend on when a timer happens to fire on a loaded machine.
    // Centres enters pipe leaks in the demand list as plumbing demands.
    let county = County::start_county(
        Workers::Background,
        |_| {},
        |grid| {
            grid.supervision_warning_before_minutes = 0;
            grid.supervision_sweep_interval_ms = 3_600_000;
        },
        |centres| {
            centres
                .task_demand_categories
                .insert("categories/pipe-leak".to_owned(), PLUMBING.to_owned());
        },
    )
    .await;
    let t = Tokens::new();
    let mut c = clients(&county).await;
    lay_out_the_county(&mut c, &t).await;
    let q = Quarter::of(Utc::now());
    let period = format!("{}-q{}", q.year, q.quarter);
    let mut day = Day {
        county,
        c,
        t,
        q,
        period,
    };

    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let task = a_resident_reports_a_leak(&mut day, &trace_id).await;
    let leak = task.name.clone();
    let (task, urban_due) =
        the_grid_cannot_solve_it_and_the_community_whistles_twice(&mut day, task).await;
    let party = reported_members_attend_a_co_building_activity(&mut day).await;
    the_leak_is_a_demand_of_its_community_offered_to_the_member_with_the_skill(
        &mut day, &leak, &party,
    )
    .await;
    let task = urban_management_checks_in_late_under_supervision_and_both_resolve(
        &mut day, task, urban_due,
    )
    .await;
    let task = the_resident_is_dissatisfied_so_it_reopens_then_closes(&mut day, task).await;
    the_community_rates_the_departments(&mut day, &task).await;

    // At the period's end.
    membership_credits_attendance_hours_and_points(&mut day, &party).await;
    assessment_counts_every_fact_of_the_period(&mut day).await;
    each_count_is_explained_by_the_events_behind_it(&mut day).await;
    the_periods_scores_and_score_card_follow_from_the_counts(&mut day).await;
    the_report_is_traced_into_every_service_that_consumes_it(&mut day, &trace_id).await;
}
