//! A check-in recorded at a centre reaches membership (participation) and
//! assessment (metrics) through the broker, and is applied once in each
//! even when the broker delivers it again: the four services running as in
//! production, each on its own database, background relays and consumers.

#![allow(clippy::unwrap_used)]

use civicgrid_e2e::{
    County, PATIENCE, Workers, id_number, m1_centre, once_replicated, shanghai_hour,
};
use civicgrid_membership::domain::report::Quarter;
use civicgrid_proto::assessment::v1 as assessment;
use civicgrid_proto::assessment::v1::assessment_service_client::AssessmentServiceClient;
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::centres::v1::centres_service_client::CentresServiceClient;
use civicgrid_proto::grid::v1 as grid;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_proto::membership::v1 as membership;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use civicgrid_testkit::{TestKeys, endpoint, eventually, with_token};
use tonic::transport::Channel;

struct Clients {
    grid: GridServiceClient<Channel>,
    membership: MembershipServiceClient<Channel>,
    centres: CentresServiceClient<Channel>,
    assessment: AssessmentServiceClient<Channel>,
}

async fn clients(county: &County) -> Clients {
    let addr = |name: &str| county.all().find(|s| s.name == name).unwrap().addr;
    Clients {
        grid: GridServiceClient::connect(endpoint(addr("grid")))
            .await
            .unwrap(),
        membership: MembershipServiceClient::connect(endpoint(addr("membership")))
            .await
            .unwrap(),
        centres: CentresServiceClient::connect(endpoint(addr("centres")))
            .await
            .unwrap(),
        assessment: AssessmentServiceClient::connect(endpoint(addr("assessment")))
            .await
            .unwrap(),
    }
}

/// County c, street s1, community m1, grid g1.
async fn cells(c: &mut Clients, admin: &str) {
    for (id, parent, level) in [
        ("c", "", grid::CellLevel::County),
        ("s1", "cells/c", grid::CellLevel::Street),
        ("m1", "cells/s1", grid::CellLevel::Community),
        ("g1", "cells/m1", grid::CellLevel::Grid),
    ] {
        c.grid
            .create_cell(with_token(
                grid::CreateCellRequest {
                    cell_id: id.into(),
                    cell: Some(grid::Cell {
                        parent: parent.into(),
                        level: level as i32,
                        display_name: format!("Cell {id}"),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                admin,
            ))
            .await
            .unwrap();
    }
}

/// The community's party committee m1-pc (with its county and street
/// committees), a government body, and one of its members living in g1,
/// reported to m1 this year.
async fn party(c: &mut Clients, admin: &str, year: i32) -> String {
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
        // The member's work unit: an in-service member reports to the
        // community where they live (双报到).
        ("gov-1", K::GovernmentBody, "organisations/cc", ""),
    ] {
        let mut client = c.membership.clone();
        once_replicated("an organisation placed in a replicated cell", || {
            let mut client = client.clone();
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
                admin,
            );
            async move { client.create_organisation(request).await }
        })
        .await;
        let _ = &mut client;
    }
    let member = once_replicated("a member living in a replicated grid", || {
        let mut client = c.membership.clone();
        let request = with_token(
            membership::RegisterMemberRequest {
                member: Some(membership::Member {
                    full_name: "王五".into(),
                    id_number: id_number(7),
                    phone: "13900000007".into(),
                    organisation: "organisations/m1-pc".into(),
                    standing: membership::Standing::Full as i32,
                    residence_cell: "cells/g1".into(),
                    work_unit: "organisations/gov-1".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            admin,
        );
        async move { client.register_member(request).await }
    })
    .await
    .into_inner()
    .member
    .unwrap()
    .name;
    c.membership
        .register_member_report(with_token(
            membership::RegisterMemberReportRequest {
                report: Some(membership::MemberReport {
                    member: member.clone(),
                    community: "cells/m1".into(),
                    period_year: year,
                    skills: vec!["法律咨询".into()],
                    ..Default::default()
                }),
            },
            admin,
        ))
        .await
        .unwrap();
    member
}

/// A community centre at m1 and a volunteer activity of m1-pc there.
async fn activity(c: &mut Clients, admin: &str) -> String {
    let centre = m1_centre(&c.centres, admin, "第一社区党群服务中心").await;
    // Tomorrow 10:00-11:00 in Shanghai: inside one opening period
    // whenever the test runs.
    let tomorrow =
        (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive() + chrono::Duration::days(1);
    let at = |hour: u32| shanghai_hour(tomorrow, hour);
    c.centres
        .create_activity(with_token(
            centres::CreateActivityRequest {
                parent: centre.name,
                activity: Some(centres::Activity {
                    display_name: "楼道清洁志愿服务".into(),
                    organiser: "organisations/m1-pc".into(),
                    activity_type: centres::ActivityType::VolunteerService as i32,
                    start_time: Some(at(10)),
                    end_time: Some(at(11)),
                    capacity: 10,
                    volunteer_minutes: 60,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .activity
        .unwrap()
        .name
}

async fn participation(
    c: &Clients,
    admin: &str,
    q: Quarter,
) -> membership::GetParticipationResponse {
    c.membership
        .clone()
        .get_participation(with_token(
            membership::GetParticipationRequest {
                community: "cells/m1".into(),
                quarter: Some(membership::Quarter {
                    year: q.year,
                    quarter: i32::try_from(q.quarter).unwrap(),
                }),
            },
            admin,
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn metrics(c: &Clients, admin: &str, q: Quarter) -> Option<assessment::CellMetrics> {
    c.assessment
        .clone()
        .get_cell_metrics(with_token(
            assessment::GetCellMetricsRequest {
                name: format!("cells/m1/metrics/{}-q{}", q.year, q.quarter),
                rolled_up: true,
            },
            admin,
        ))
        .await
        .ok()
        .and_then(|r| r.into_inner().metrics)
}

/// Republishes every `centres.checkin.recorded` centres has published,
/// with its own message id, as a broker redelivery after a lost ack would.
async fn redeliver_checkins(county: &County) {
    let centres = county.all().find(|s| s.name == "centres").unwrap();
    let rows: Vec<(uuid::Uuid, String, Vec<u8>)> = sqlx::query_as(
        "SELECT event_id, message_type, payload FROM outbox \
         WHERE routing_key = 'centres.checkin.recorded' AND published_at IS NOT NULL",
    )
    .fetch_all(&centres.pool)
    .await
    .unwrap();
    assert!(!rows.is_empty());
    let connection = lapin::Connection::connect(&county.broker.url, Default::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    for (event_id, message_type, payload) in rows {
        channel
            .basic_publish(
                county.broker.exchange.as_str().into(),
                "centres.checkin.recorded".into(),
                Default::default(),
                &payload,
                lapin::BasicProperties::default()
                    .with_message_id(event_id.to_string().into())
                    .with_type(message_type.as_str().into()),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkin_at_a_centre_is_applied_once_by_membership_and_by_assessment() {
    let county = County::start(Workers::Background).await;
    let admin = TestKeys::get().county_admin();
    let mut c = clients(&county).await;
    let q = Quarter::of(chrono::Utc::now());
    cells(&mut c, &admin).await;
    let member = party(&mut c, &admin, q.year).await;
    let activity = activity(&mut c, &admin).await;
    let before = participation(&c, &admin, q).await;
    assert_eq!(before.members_never_took_part.len(), 1);

    // The member registers and the organiser confirms the check-in.
    c.centres
        .create_registration(with_token(
            centres::CreateRegistrationRequest {
                parent: activity.clone(),
                registration: Some(centres::Registration {
                    attendee: member.clone(),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .unwrap();
    c.centres
        .record_checkin(with_token(
            centres::RecordCheckinRequest {
                parent: activity.clone(),
                attendee: member.clone(),
                walk_in: false,
            },
            &admin,
        ))
        .await
        .unwrap();

    // Membership: the member took part this quarter.
    let seen = eventually(PATIENCE, "membership applied the check-in", || async {
        let p = participation(&c, &admin, q).await;
        (p.community_attended == 1).then_some(p)
    })
    .await;
    assert!(seen.members_never_took_part.is_empty());
    let mine = seen.members.iter().find(|m| m.member == member).unwrap();
    assert_eq!(mine.attended, 1);
    // Assessment: the community's quarter counts one check-in by a member.
    let counted = eventually(PATIENCE, "assessment applied the check-in", || async {
        metrics(&c, &admin, q).await.filter(|m| m.checkins == 1)
    })
    .await;
    assert_eq!(counted.member_checkins, 1);
    assert_eq!(counted.volunteer_minutes, 60);

    // Delivered again, then a walk-in behind it as a marker: once the
    // marker is seen, the redelivery was consumed, and counted nothing.
    redeliver_checkins(&county).await;
    c.centres
        .record_checkin(with_token(
            centres::RecordCheckinRequest {
                parent: activity.clone(),
                attendee: "residents/walk-in-1".into(),
                walk_in: true,
            },
            &admin,
        ))
        .await
        .unwrap();
    let after = eventually(PATIENCE, "membership applied the marker", || async {
        let p = participation(&c, &admin, q).await;
        (p.community_attended == 2).then_some(p)
    })
    .await;
    assert_eq!(
        after
            .members
            .iter()
            .find(|m| m.member == member)
            .unwrap()
            .attended,
        1
    );
    let after = eventually(PATIENCE, "assessment applied the marker", || async {
        metrics(&c, &admin, q).await.filter(|m| m.checkins == 2)
    })
    .await;
    assert_eq!(after.member_checkins, 1);
}
