//! Membership's and centres' contract events (published here as their
//! producers will) become cell metrics: exact counts rolled up to the
//! community, the same twice and in reverse, rebuilt the same, explained.

use civicgrid_messaging::Outcome;
use civicgrid_proto::assessment::v1 as pb;
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::common::v1::EventMeta;
use civicgrid_proto::membership::v1 as membership;
use uuid::Uuid;

use crate::TestApp;
use crate::fixture::at;
use crate::metrics::{admin, seeded};

const MEMBERSHIP: usize = 4;
const CENTRES: usize = 5;
const DAY: i64 = 24 * 60;

/// Publishes one contract event as its producer would.
type Publish = Box<dyn Fn(&TestApp) -> futures::future::BoxFuture<'_, ()> + Send + Sync>;

/// A contract event: routing key, id and how to publish it.
pub(crate) struct Contract {
    pub(crate) key: &'static str,
    pub(crate) id: Uuid,
    pub(crate) publish: Publish,
    /// The encoded message.
    pub(crate) payload: Vec<u8>,
}

pub(crate) fn meta(producer: &str, key: &str, aggregate: &str, minutes: i64) -> (Uuid, EventMeta) {
    let id = Uuid::now_v7();
    (
        id,
        EventMeta {
            event_id: id.to_string(),
            occurred_at: Some(at(minutes)),
            producer: producer.to_owned(),
            aggregate_id: aggregate.to_owned(),
            aggregate_version: 1,
            event_type: key.to_owned(),
            ..Default::default()
        },
    )
}

pub(crate) fn contract<M: prost::Name + Clone + Send + Sync + 'static>(
    key: &'static str,
    id: Uuid,
    message: M,
) -> Contract {
    Contract {
        key,
        id,
        payload: prost::Message::encode_to_vec(&message),
        publish: Box::new(move |app| {
            let message = message.clone();
            Box::pin(async move { app.publish(key, id, &message).await })
        }),
    }
}

fn history() -> Vec<Contract> {
    let mut out = Vec::new();
    let (id, m) = meta(
        "membership",
        "membership.report.unit_registered",
        "unitReports/u1",
        0,
    );
    out.push(contract(
        "membership.report.unit_registered",
        id,
        membership::UnitReportRegistered {
            meta: Some(m),
            report: "unitReports/u1".into(),
            unit: "organisations/tax-bureau".into(),
            community: "cells/cm1".into(),
            period_year: 2026,
            registered_at: Some(at(0)),
            ..Default::default()
        },
    ));
    for member in ["m1", "m2"] {
        let (id, m) = meta(
            "membership",
            "membership.report.member_registered",
            "memberReports/x",
            0,
        );
        out.push(contract(
            "membership.report.member_registered",
            id,
            membership::MemberReportRegistered {
                meta: Some(m),
                report: format!("memberReports/{member}"),
                member: format!("members/{member}"),
                community: "cells/cm1".into(),
                period_year: 2026,
                registered_at: Some(at(10)),
                ..Default::default()
            },
        ));
    }
    for (agreement, minutes) in [("ag1", 20), ("ag2", 30)] {
        let (id, m) = meta(
            "membership",
            "membership.agreement.signed",
            agreement,
            minutes,
        );
        out.push(contract(
            "membership.agreement.signed",
            id,
            membership::AgreementSigned {
                meta: Some(m),
                agreement: format!("agreements/{agreement}"),
                community: "cells/cm1".into(),
                commitment_count: 1,
                term_start: Some(at(minutes)),
                ..Default::default()
            },
        ));
        // ag1's commitment on time, ag2's a day late.
        let (id, m) = meta(
            "membership",
            "membership.agreement.commitment_fulfilled",
            agreement,
            3 * DAY,
        );
        out.push(contract(
            "membership.agreement.commitment_fulfilled",
            id,
            membership::CommitmentFulfilled {
                meta: Some(m),
                agreement: format!("agreements/{agreement}"),
                commitment: format!("agreements/{agreement}/commitments/c1"),
                community: "cells/cm1".into(),
                due_time: Some(at(if agreement == "ag1" { 4 * DAY } else { 2 * DAY })),
                fulfilled_at: Some(at(3 * DAY)),
            },
        ));
    }
    for (issue, on_time) in [("i1", true), ("i2", false)] {
        let name = format!("conferences/jc1/issues/{issue}");
        let (id, m) = meta(
            "membership",
            "membership.conference_issue.raised",
            &name,
            40,
        );
        out.push(contract(
            "membership.conference_issue.raised",
            id,
            membership::ConferenceIssueRaised {
                meta: Some(m),
                issue: name.clone(),
                cell: "cells/cm1".into(),
                owner: "organisations/urban".into(),
                due_time: Some(at(5 * DAY)),
                raised_at: Some(at(40)),
            },
        ));
        let (id, m) = meta(
            "membership",
            "membership.conference_issue.resolved",
            &name,
            6 * DAY,
        );
        out.push(contract(
            "membership.conference_issue.resolved",
            id,
            membership::ConferenceIssueResolved {
                meta: Some(m),
                issue: name,
                cell: "cells/cm1".into(),
                owner: "organisations/urban".into(),
                due_time: Some(at(5 * DAY)),
                resolved_at: Some(at(if on_time { 4 * DAY } else { 6 * DAY })),
                on_time,
            },
        ));
    }
    // m1 takes part in a1 (g1) with a resident; a2 (g2) serves agreement ag1.
    for member in ["members/m1", ""] {
        let (id, m) = meta(
            "centres",
            "centres.checkin.recorded",
            "activities/a1",
            2 * DAY,
        );
        out.push(contract(
            "centres.checkin.recorded",
            id,
            centres::CheckinRecorded {
                meta: Some(m),
                checkin: format!("activities/a1/checkins/{}", Uuid::now_v7()),
                activity: "activities/a1".into(),
                centre: "centres/ct1".into(),
                member: member.into(),
                cell: "cells/g1".into(),
                volunteer_minutes: 90,
                checked_in_at: Some(at(2 * DAY)),
                ..Default::default()
            },
        ));
    }
    for (activity, cell, agreement) in [("a1", "g1", ""), ("a2", "g2", "agreements/ag1")] {
        let (id, m) = meta("centres", "centres.activity.held", activity, 2 * DAY + 60);
        out.push(contract(
            "centres.activity.held",
            id,
            centres::ActivityHeld {
                meta: Some(m),
                activity: format!("activities/{activity}"),
                centre: "centres/ct1".into(),
                agreement: agreement.into(),
                cell: format!("cells/{cell}"),
                end_time: Some(at(2 * DAY + 60)),
                attended: 2,
                ..Default::default()
            },
        ));
    }
    let (id, m) = meta("centres", "centres.project.started", "projects/p1", DAY);
    out.push(contract(
        "centres.project.started",
        id,
        centres::ProjectStarted {
            meta: Some(m),
            project: "projects/p1".into(),
            demand: "demands/d1".into(),
            resource: "resources/r1".into(),
            category: "legal_aid".into(),
            cell: "cells/g1".into(),
            started_at: Some(at(DAY)),
            ..Default::default()
        },
    ));
    let (id, m) = meta(
        "centres",
        "centres.project.completed",
        "projects/p1",
        4 * DAY,
    );
    out.push(contract(
        "centres.project.completed",
        id,
        centres::ProjectCompleted {
            meta: Some(m),
            project: "projects/p1".into(),
            cell: "cells/g1".into(),
            completed_at: Some(at(4 * DAY)),
            rating: 5,
            ..Default::default()
        },
    ));
    out
}

fn participation(m: &pb::CellMetrics) -> [i64; 17] {
    [
        m.units_reported,
        m.members_reported,
        m.reported_members_active,
        m.reports_ended,
        m.agreements_signed,
        m.agreements_with_activity,
        m.commitments_fulfilled,
        m.commitments_fulfilled_on_time,
        m.conference_issues_raised,
        m.conference_issues_resolved,
        m.conference_issues_resolved_on_time,
        m.checkins,
        m.member_checkins,
        m.activities_held,
        m.projects_started,
        m.projects_completed,
        m.projects_rated_satisfied,
    ]
}

async fn cm1(app: &TestApp) -> pb::CellMetrics {
    app.client
        .clone()
        .get_cell_metrics(admin(pb::GetCellMetricsRequest {
            name: "cells/cm1/metrics/2026-11".to_owned(),
            rolled_up: true,
        }))
        .await
        .unwrap()
        .into_inner()
        .metrics
        .unwrap()
}

#[tokio::test]
async fn membership_and_centres_contract_events_twice_in_reverse_give_the_hand_counted_community_metrics()
 {
    let (app, _) = seeded().await;
    let events = history();
    for event in events.iter().rev() {
        (event.publish)(&app).await;
        (event.publish)(&app).await;
    }
    let mut outcomes = app.consumers[MEMBERSHIP].drain().await.unwrap();
    outcomes.extend(app.consumers[CENTRES].drain().await.unwrap());
    let applied = outcomes.iter().filter(|o| **o == Outcome::Applied).count();
    assert_eq!((applied, outcomes.len()), (events.len(), 2 * events.len()));

    // 1 unit and 2 members reported, m1 active; 2 agreements, ag1 with an
    // activity; 2 commitments, 1 on time; 2 issues raised and resolved, 1
    // on time; 2 check-ins, 1 of a member; 2 activities; 1 project started,
    // completed and rated 5.
    let expected = [1, 2, 1, 0, 2, 1, 2, 1, 2, 2, 1, 2, 1, 2, 1, 1, 1];
    assert_eq!(participation(&cm1(&app).await), expected);
    assert_eq!(
        cm1(&app).await.volunteer_minutes,
        180,
        "two check-ins of 90 minutes"
    );

    let before = civicgrid_assessment::store::metrics::all_values(&app.pool)
        .await
        .unwrap();
    app.client
        .clone()
        .rebuild_metrics(admin(pb::RebuildMetricsRequest {}))
        .await
        .unwrap();
    let after = civicgrid_assessment::store::metrics::all_values(&app.pool)
        .await
        .unwrap();
    assert_eq!(after, before, "a rebuild gives the incremental metrics");

    let active = app
        .client
        .clone()
        .explain_metric(admin(pb::ExplainMetricRequest {
            name: "cells/cm1/metrics/2026-11".to_owned(),
            metric: "reported_members_active".to_owned(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .evidence;
    let member_checkin = events
        .iter()
        .find(|e| e.key == "centres.checkin.recorded")
        .unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(
        active[0].event_id,
        member_checkin.id.to_string(),
        "the check-in that made m1 active"
    );
    assert_eq!(active[0].event_type, "centres.checkin.recorded");
}

#[tokio::test]
async fn contract_events_in_any_order_give_the_same_metrics() {
    let (app, _) = seeded().await;
    let events = history();
    // Every other event first, then the rest backwards.
    let order: Vec<usize> = (0..events.len())
        .step_by(2)
        .chain((1..events.len()).step_by(2).rev())
        .collect();
    for index in order {
        (events[index].publish)(&app).await;
    }
    app.consumers[MEMBERSHIP].drain().await.unwrap();
    app.consumers[CENTRES].drain().await.unwrap();
    assert_eq!(
        participation(&cm1(&app).await),
        [1, 2, 1, 0, 2, 1, 2, 1, 2, 2, 1, 2, 1, 2, 1, 1, 1]
    );
}

/// What `civicgrid replay` of each subscription does to the store: its
/// reset statements, then every one of its producer's events applied
/// again. Each gives back exactly the metrics before, ratings and the
/// other subscriptions' numbers included.
#[tokio::test]
async fn replaying_any_one_subscription_from_its_producer_gives_back_the_same_metrics() {
    use civicgrid_assessment::commands::apply_grid_event::apply_grid_event;
    use civicgrid_assessment::commands::apply_participation_event::apply_participation_event;
    use civicgrid_assessment::events::{SUPERVISION_RESET, TASKS_RESET, participation};
    use civicgrid_assessment::store::metrics::all_values;
    use civicgrid_assessment::store::ratings::OtherEvent;

    let (app, grid_events) = seeded().await;
    let contracts = history();
    for event in &contracts {
        (event.publish)(&app).await;
    }
    app.consumers[MEMBERSHIP].drain().await.unwrap();
    app.consumers[CENTRES].drain().await.unwrap();
    let token = civicgrid_testkit::TestKeys::get().token(
        &[civicgrid_runtime::auth::Role::StreetAdmin],
        &["cells/st1"],
        None,
    );
    app.client
        .clone()
        .create_department_rating(civicgrid_testkit::with_token(
            pb::CreateDepartmentRatingRequest {
                parent: "tasks/t3".to_owned(),
                department_rating: Some(pb::DepartmentRating {
                    department: "departments/urban".to_owned(),
                    grade: pb::RatingGrade::Satisfied as i32,
                    ..Default::default()
                }),
            },
            &token,
        ))
        .await
        .unwrap();
    let before = all_values(&app.pool).await.unwrap();
    let stored = crate::metrics::stored(&grid_events);

    let reset = |statements: Vec<String>| {
        let pool = app.pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            for statement in statements {
                sqlx::query(sqlx::AssertSqlSafe(statement))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
    };
    for (statements, prefix) in [
        (TASKS_RESET, "grid.task."),
        (SUPERVISION_RESET, "grid.supervision."),
    ] {
        reset(statements.iter().map(|s| (*s).to_owned()).collect()).await;
        for event in stored.iter().filter(|e| e.routing_key.starts_with(prefix)) {
            let mut tx = app.pool.begin().await.unwrap();
            apply_grid_event(&mut tx, event).await.unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(
            all_values(&app.pool).await.unwrap(),
            before,
            "replay of {prefix}*"
        );
    }
    for source in ["membership", "centres"] {
        reset(participation::reset(source)).await;
        for contract in contracts.iter().filter(|c| c.key.starts_with(source)) {
            let body = participation::decode(contract.key, &contract.payload).unwrap();
            let event = OtherEvent {
                event_id: contract.id,
                source: source.to_owned(),
                routing_key: contract.key.to_owned(),
                aggregate_id: body.group(),
                occurred_at: chrono::Utc::now(),
                payload: contract.payload.clone(),
            };
            let mut tx = app.pool.begin().await.unwrap();
            apply_participation_event(&mut tx, &event).await.unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(
            all_values(&app.pool).await.unwrap(),
            before,
            "replay of {source}"
        );
    }
}
