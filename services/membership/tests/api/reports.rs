//! Dual reporting (双报到) and participation from centres' check-ins.

use std::sync::Arc;

use civicgrid_membership::domain::report::Quarter;
use civicgrid_messaging::Outcome;
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use prost::Message;
use tokio::sync::Barrier;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

/// The index of the check-in subscription among the app's consumers.
const CHECKINS: usize = 2;

async fn in_service_member(app: &TestApp, n: u32, work_unit: &str) -> String {
    app.client
        .clone()
        .register_member(with_token(
            pb::RegisterMemberRequest {
                member: Some(pb::Member {
                    full_name: "周八".into(),
                    id_number: id_number(n),
                    phone: phone(n),
                    organisation: "organisations/m1-pc".into(),
                    standing: pb::Standing::Full as i32,
                    residence_cell: "cells/g1".into(),
                    work_unit: format!("organisations/{work_unit}"),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap()
        .name
}

async fn member_report(
    app: &TestApp,
    member: &str,
    year: i32,
) -> Result<pb::MemberReport, tonic::Status> {
    app.client
        .clone()
        .register_member_report(with_token(
            pb::RegisterMemberReportRequest {
                report: Some(pb::MemberReport {
                    member: member.into(),
                    community: "cells/m1".into(),
                    period_year: year,
                    skills: vec!["法律咨询".into()],
                    volunteer_posts: vec!["楼栋长助理".into()],
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner().report.unwrap())
}

async fn unit_report(app: &TestApp, unit: &str, year: i32) -> pb::UnitReport {
    app.client
        .clone()
        .register_unit_report(with_token(
            pb::RegisterUnitReportRequest {
                report: Some(pb::UnitReport {
                    unit: format!("organisations/{unit}"),
                    community: "cells/m1".into(),
                    period_year: year,
                    resources: vec![pb::PledgedResource {
                        category: "legal_aid".into(),
                        capacity: 20,
                        unit: "hours".into(),
                        description: "每月法律讲座".into(),
                    }],
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap()
}

fn checkin(id: &str, member: &str, at: chrono::DateTime<chrono::Utc>) -> centres::CheckinRecorded {
    centres::CheckinRecorded {
        meta: None,
        checkin: format!("activities/a1/checkins/{id}"),
        activity: "activities/a1".into(),
        centre: "centres/m1-centre".into(),
        organiser: "organisations/m1-pc".into(),
        activity_type: centres::ActivityType::VolunteerService as i32,
        member: member.into(),
        cell: "cells/g1".into(),
        volunteer_minutes: 30,
        checked_in_at: Some(prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        }),
        ..Default::default()
    }
}

async fn participation(app: &TestApp, year: i32, quarter: i32) -> pb::GetParticipationResponse {
    app.client
        .clone()
        .get_participation(with_token(
            pb::GetParticipationRequest {
                community: "cells/m1".into(),
                quarter: Some(pb::Quarter { year, quarter }),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn setup() -> (TestApp, String, String) {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    create(
        &app,
        &admin(),
        "gov-1",
        organisation(pb::OrganisationKind::GovernmentBody, "cc", ""),
    )
    .await
    .unwrap();
    let a = in_service_member(&app, 1, "gov-1").await;
    let b = in_service_member(&app, 2, "gov-1").await;
    (app, a, b)
}

#[tokio::test]
async fn reported_but_never_took_part_and_quarterly_participation_follow_checkins_applied_once() {
    let (app, a, b) = setup().await;
    // Check-ins a minute from now fall after the registrations below; the
    // quarter is the one that holds them in China's time, and the next one
    // starts at its end.
    let at = chrono::Utc::now() + chrono::Duration::minutes(1);
    let q = Quarter::of(at);
    let next = Quarter::of(q.end());
    let (year, quarter) = (q.year, i32::try_from(q.quarter).unwrap());
    let unit = unit_report(&app, "gov-1", year).await;
    let report_a = member_report(&app, &a, year).await.unwrap();
    let report_b = member_report(&app, &b, year).await.unwrap();
    let before = participation(&app, year, quarter).await;
    assert_eq!(
        before.members_never_took_part,
        [report_a.name.clone(), report_b.name.clone()]
    );
    assert_eq!(before.units_never_took_part, vec![unit.name.clone()]);

    let event = checkin("c1", &a, at);
    let event_id = Uuid::now_v7();
    app.publish("centres.checkin.recorded", event_id, &event)
        .await;
    app.publish("centres.checkin.recorded", event_id, &event)
        .await;
    // The same check-in again under another event id, as a republish would.
    app.publish("centres.checkin.recorded", Uuid::now_v7(), &event)
        .await;
    // A resident who is no party member, and A again in the next quarter
    // (its first hour in Shanghai, still the last of this one in UTC).
    app.publish(
        "centres.checkin.recorded",
        Uuid::now_v7(),
        &checkin("c2", "", at),
    )
    .await;
    let new_year = q.end() + chrono::Duration::minutes(30);
    app.publish(
        "centres.checkin.recorded",
        Uuid::now_v7(),
        &checkin("c3", &a, new_year),
    )
    .await;
    assert_eq!(
        app.consumers[CHECKINS].drain().await.unwrap(),
        [
            Outcome::Applied,
            Outcome::Duplicate,
            Outcome::Applied,
            Outcome::Applied,
            Outcome::Applied
        ]
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM checkins")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 3);

    let q4 = participation(&app, year, quarter).await;
    let per_member: Vec<(&str, i32, i32)> = q4
        .members
        .iter()
        .map(|m| (m.member.as_str(), m.attended, m.attended_since_registration))
        .collect();
    assert_eq!(per_member, [(a.as_str(), 1, 2), (b.as_str(), 0, 0)]);
    assert_eq!(q4.members_never_took_part, vec![report_b.name.clone()]);
    assert!(q4.units_never_took_part.is_empty());
    assert_eq!(
        (
            q4.units[0].attended,
            q4.units[0].attended_since_registration
        ),
        (1, 2)
    );
    assert_eq!(q4.community_attended, 2);
    let next_quarter = participation(&app, next.year, i32::try_from(next.quarter).unwrap()).await;
    assert_eq!(next_quarter.community_attended, 1);

    let card = app
        .client
        .clone()
        .get_unit_feedback_card(with_token(
            pb::GetUnitFeedbackCardRequest {
                report: unit.name.clone(),
                quarter: Some(pb::Quarter { year, quarter }),
            },
            &admin(),
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
            card.volunteer_minutes
        ),
        (2, 1, 1, 30)
    );
    assert_eq!(card.members_absent, vec![b.clone()]);
    assert_eq!(card.resources[0].category, "legal_aid");
}

#[tokio::test]
async fn one_active_member_report_per_year_is_enforced_also_under_concurrency() {
    let (app, a, b) = setup().await;
    let barrier = Arc::new(Barrier::new(6));
    let contenders: Vec<_> = (0..6)
        .map(|_| {
            let barrier = barrier.clone();
            let app_client = app.client.clone();
            let a = a.clone();
            tokio::spawn(async move {
                let mut client = app_client;
                let request = with_token(
                    pb::RegisterMemberReportRequest {
                        report: Some(pb::MemberReport {
                            member: a,
                            community: "cells/m1".into(),
                            period_year: 2026,
                            ..Default::default()
                        }),
                    },
                    &admin(),
                );
                barrier.wait().await;
                client
                    .register_member_report(request)
                    .await
                    .map(|_| ())
                    .map_err(|s| s.code())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for contender in contenders {
        outcomes.push(contender.await.unwrap());
    }
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| o.is_ok() || *o == Err(Code::AlreadyExists)),
        "{outcomes:?}"
    );
    let active: i64 =
        sqlx::query_scalar("SELECT count(*) FROM member_reports WHERE ended_at IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(active, 1);

    // Re-registering for the next year ends this year's report.
    let next = member_report(&app, &a, 2027).await.unwrap();
    assert_eq!(next.work_unit, "organisations/gov-1");
    let ended: Vec<pb::ReportEnded> = outbox(&app)
        .await
        .into_iter()
        .filter(|(key, _)| key == "membership.report.ended")
        .map(|(_, payload)| pb::ReportEnded::decode(payload.as_slice()).unwrap())
        .collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].reason, "re-registered for 2027");
    assert_eq!(ended[0].community, "cells/m1");

    // A member without a work unit does not report; an ended report cannot end again.
    let idle = register_member(&app, "m1-pc", 9).await;
    let refused = member_report(&app, &idle, 2026).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let report_b = member_report(&app, &b, 2026).await.unwrap();
    let end = |name: String| {
        let mut client = app.client.clone();
        async move {
            client
                .end_report(with_token(
                    pb::EndReportRequest {
                        name,
                        reason: "搬离本社区".into(),
                    },
                    &admin(),
                ))
                .await
        }
    };
    end(report_b.name.clone()).await.unwrap();
    let again = end(report_b.name.clone()).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    // Ended, a new report for the same year is accepted.
    member_report(&app, &b, 2026).await.unwrap();

    let registered: Vec<pb::MemberReportRegistered> = outbox(&app)
        .await
        .into_iter()
        .filter(|(key, _)| key == "membership.report.member_registered")
        .map(|(_, payload)| pb::MemberReportRegistered::decode(payload.as_slice()).unwrap())
        .collect();
    assert_eq!(registered.len(), 4);
    assert_eq!(registered[0].member, a);
    assert_eq!(registered[0].community, "cells/m1");
    assert_eq!(registered[0].work_unit, "organisations/gov-1");
}
