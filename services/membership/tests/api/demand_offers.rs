//! Demands of a community (`centres.demand.registered`) offered to the
//! reported members (双报到) whose skills or volunteer posts take them.

use civicgrid_messaging::Outcome;
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

/// The county's tree and the work unit gov-1 the members serve in.
async fn county(app: &TestApp) {
    create_tree(app).await;
    create(
        app,
        &admin(),
        "gov-1",
        organisation(pb::OrganisationKind::GovernmentBody, "cc", ""),
    )
    .await
    .unwrap();
}

/// Member `n` of `organisation`, living in and reported to `community` with `skills`.
async fn reported(
    app: &TestApp,
    n: u32,
    organisation: &str,
    community: &str,
    skills: &[&str],
) -> pb::MemberReport {
    let member = app
        .client
        .clone()
        .register_member(with_token(
            pb::RegisterMemberRequest {
                member: Some(pb::Member {
                    full_name: "周八".into(),
                    id_number: id_number(n),
                    phone: phone(n),
                    organisation: format!("organisations/{organisation}"),
                    standing: pb::Standing::Full as i32,
                    residence_cell: format!("cells/{community}"),
                    work_unit: "organisations/gov-1".into(),
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
        .name;
    app.client
        .clone()
        .register_member_report(with_token(
            pb::RegisterMemberReportRequest {
                report: Some(pb::MemberReport {
                    member,
                    community: format!("cells/{community}"),
                    period_year: 2026,
                    skills: skills.iter().map(|s| (*s).to_owned()).collect(),
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

/// `centres.demand.registered` of a `plumbing` demand from a grid task, in `cell`.
fn registered(demand: Uuid, cell: &str) -> centres::DemandRegistered {
    let now = chrono::Utc::now();
    let at = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    };
    centres::DemandRegistered {
        meta: None,
        demand: Some(centres::Demand {
            name: format!("demands/{demand}"),
            category: "plumbing".into(),
            cell: format!("cells/{cell}"),
            quantity: 1,
            start_time: Some(at(now - chrono::Duration::hours(1))),
            end_time: Some(at(now + chrono::Duration::days(30))),
            description: "楼道水管漏水".into(),
            state: centres::DemandState::Open as i32,
            requested_by: "resident-app".into(),
            create_time: Some(at(now)),
            task: "tasks/0192f0c0-0000-7000-8000-000000000001".into(),
            ..Default::default()
        }),
    }
}

async fn offers(app: &TestApp, parent: &str) -> Result<Vec<pb::DemandOffer>, tonic::Status> {
    app.client
        .clone()
        .list_demand_offers(with_token(
            pb::ListDemandOffersRequest {
                parent: parent.to_owned(),
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner().offers)
}

fn demands_consumer(app: &TestApp) -> &civicgrid_messaging::Consumer {
    app.consumers
        .iter()
        .find(|c| c.queue_name().ends_with(".centres-demands"))
        .unwrap()
}

#[tokio::test]
async fn a_demand_is_offered_to_the_reported_member_with_its_skill_only_and_applied_once_when_delivered_twice()
 {
    let app = spawn_with_county().await;
    county(&app).await;
    let plumber = reported(&app, 1, "m1-pc", "m1", &["水电维修", "plumbing"]).await;
    let lawyer = reported(&app, 2, "m1-pc", "m1", &["legal_aid"]).await;
    let elsewhere = reported(&app, 3, "m2-pc", "m2", &["plumbing"]).await;

    let demand = Uuid::now_v7();
    let event = registered(demand, "g1");
    let event_id = Uuid::now_v7();
    app.publish("centres.demand.registered", event_id, &event)
        .await;
    app.publish("centres.demand.registered", event_id, &event)
        .await;
    // The same demand under another event id, as a republish would.
    app.publish("centres.demand.registered", Uuid::now_v7(), &event)
        .await;
    assert_eq!(
        demands_consumer(&app).drain().await.unwrap(),
        [Outcome::Applied, Outcome::Duplicate, Outcome::Applied]
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM community_demands")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);

    let offered = offers(&app, &plumber.name).await.unwrap();
    assert_eq!(
        offered,
        [pb::DemandOffer {
            demand: format!("demands/{demand}"),
            report: plumber.name.clone(),
            member: plumber.member.clone(),
            category: "plumbing".into(),
            community: "cells/m1".into(),
            cell: "cells/g1".into(),
            compound: String::new(),
            start_time: event.demand.as_ref().unwrap().start_time,
            end_time: event.demand.as_ref().unwrap().end_time,
            description: "楼道水管漏水".into(),
            task: "tasks/0192f0c0-0000-7000-8000-000000000001".into(),
        }]
    );
    // Asked by the member instead of the report: the same offer.
    assert_eq!(offers(&app, &plumber.member).await.unwrap(), offered);
    // Without the skill, or reported to another community: nothing.
    assert!(offers(&app, &lawyer.name).await.unwrap().is_empty());
    assert!(offers(&app, &elsewhere.name).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_demand_in_a_cell_the_replica_does_not_know_yet_is_retried_and_bad_parents_are_named() {
    let app = spawn_with_county().await;
    county(&app).await;
    app.publish(
        "centres.demand.registered",
        Uuid::now_v7(),
        &registered(Uuid::now_v7(), "g-new"),
    )
    .await;
    assert_eq!(
        demands_consumer(&app).consume_once().await.unwrap(),
        Some(Outcome::Requeued)
    );

    for parent in [
        "",
        "unitReports/0192f0c0-0000-7000-8000-000000000001",
        "members/x",
    ] {
        let status = offers(&app, parent).await.unwrap_err();
        assert_eq!(fields(&status), ["parent"], "{parent:?}");
    }
    let status = app
        .client
        .clone()
        .list_demand_offers(with_token(
            pb::ListDemandOffersRequest {
                parent: "memberReports/0192f0c0-0000-7000-8000-000000000001".into(),
                page_size: -1,
                page_token: "not-a-token".into(),
            },
            &admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["page_size", "page_token"]);
    let missing = offers(&app, "memberReports/0192f0c0-0000-7000-8000-000000000001")
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    // A street admin of s2 does not see m1's members.
    let plumber = reported(&app, 1, "m1-pc", "m1", &["plumbing"]).await;
    let hidden = app
        .client
        .clone()
        .list_demand_offers(with_token(
            pb::ListDemandOffersRequest {
                parent: plumber.name.clone(),
                ..Default::default()
            },
            &street_admin("s2"),
        ))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
}
