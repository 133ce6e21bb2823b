//! The demand, resource and project lists: proposals ranked with their
//! reasons, a claimed match becoming a project with milestones and a
//! rating, unmatched demands and idle resources, and resources taken from
//! membership's report events.

use std::sync::Arc;

use civicgrid_messaging::Outcome;
use civicgrid_proto::centres::v1 as pb;
use civicgrid_proto::membership::v1 as membership;
use civicgrid_testkit::with_token;
use prost::Message;
use tokio::sync::Barrier;
use tonic::{Code, Status};

use crate::spawn_app;
use crate::support::*;

fn at(day: u32, hour: u32) -> Option<prost_types::Timestamp> {
    let at =
        chrono::DateTime::parse_from_rfc3339(&format!("2026-12-{day:02}T{hour:02}:00:00+08:00"))
            .unwrap();
    Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

fn place(at: &str) -> (String, String) {
    if at.starts_with("k-") {
        (String::new(), format!("compounds/{at}"))
    } else {
        (format!("cells/{at}"), String::new())
    }
}

async fn demand(
    app: &crate::TestApp,
    category: &str,
    at_place: &str,
    quantity: i32,
    window: (u32, u32, u32, u32),
) -> Result<pb::Demand, Status> {
    let (cell, compound) = place(at_place);
    app.client
        .clone()
        .create_demand(with_token(
            pb::CreateDemandRequest {
                demand: Some(pb::Demand {
                    category: category.into(),
                    cell,
                    compound,
                    quantity,
                    start_time: at(window.0, window.1),
                    end_time: at(window.2, window.3),
                    small_wish: category == "small_wish",
                    description: "asked".into(),
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner().demand.unwrap())
}

async fn resource(
    app: &crate::TestApp,
    category: &str,
    at_place: &str,
    capacity: i32,
    window: (u32, u32, u32, u32),
) -> pb::Resource {
    let (cell, compound) = place(at_place);
    app.client
        .clone()
        .create_resource(with_token(
            pb::CreateResourceRequest {
                resource: Some(pb::Resource {
                    category: category.into(),
                    cell,
                    compound,
                    capacity,
                    start_time: at(window.0, window.1),
                    end_time: at(window.2, window.3),
                    provider: "organisations/helpers".into(),
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .resource
        .unwrap()
}

async fn claim(app: &crate::TestApp, demand: &str, resource: &str) -> Result<pb::Project, Status> {
    app.client
        .clone()
        .claim_match(with_token(
            pb::ClaimMatchRequest {
                demand: demand.to_owned(),
                resource: resource.to_owned(),
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner().project.unwrap())
}

async fn events<M: Message + Default>(app: &crate::TestApp, key: &str) -> Vec<M> {
    let payloads: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM outbox WHERE routing_key = $1 ORDER BY id")
            .bind(key)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    payloads
        .iter()
        .map(|p| M::decode(p.as_slice()).unwrap())
        .collect()
}

async fn idle(app: &crate::TestApp) -> Vec<pb::Resource> {
    app.client
        .clone()
        .list_resources(with_token(
            pb::ListResourcesRequest {
                idle_only: true,
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .resources
}

#[tokio::test]
async fn proposals_rank_with_reasons_and_a_claimed_match_becomes_a_project_completed_with_a_rating()
{
    let app = spawn_app().await;
    small_county(&app).await;
    let meals = demand(&app, "elderly_care", "k-new", 4, (7, 11, 7, 13))
        .await
        .unwrap();
    let wish = demand(&app, "small_wish", "s1-m2", 1, (7, 0, 14, 0))
        .await
        .unwrap();
    let canteen = resource(&app, "elderly_care", "k-new", 6, (7, 10, 7, 14)).await;
    let carers = resource(&app, "elderly_care", "s1-m1", 2, (7, 12, 7, 18)).await;
    let gifts = resource(&app, "small_wish", "s1-m2", 3, (1, 0, 31, 0)).await;
    // Another street's legal aid matches nothing.
    resource(&app, "legal_aid", "s2-m1", 5, (1, 0, 31, 0)).await;

    let proposals = app
        .client
        .clone()
        .list_match_proposals(with_token(
            pb::ListMatchProposalsRequest::default(),
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .proposals;
    let pairs: Vec<(i32, &str, &str)> = proposals
        .iter()
        .map(|p| (p.rank, p.demand.as_str(), p.resource.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            (1, meals.name.as_str(), canteen.name.as_str()),
            (2, wish.name.as_str(), gifts.name.as_str()),
            (3, meals.name.as_str(), carers.name.as_str()),
        ]
    );
    assert_eq!(
        proposals[2].reasons,
        [
            "same category `elderly_care`",
            "same community `s1-m1`",
            "capacity 2 covers 2 of the 4 asked",
            "available 1h of the 2h window",
        ]
    );

    let project = claim(&app, &meals.name, &canteen.name).await.unwrap();
    assert_eq!(project.state, pb::ProjectState::Started as i32);
    let status = claim(&app, &meals.name, &carers.name).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    // A pair that does not match is refused with the reason.
    let status = claim(&app, &wish.name, &carers.name).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("same category"),
        "{}",
        status.message()
    );
    let started = events::<pb::ProjectStarted>(&app, "centres.project.started").await;
    assert_eq!(started.len(), 1);
    assert_eq!(
        (
            started[0].project.as_str(),
            started[0].demand.as_str(),
            started[0].resource.as_str(),
            started[0].category.as_str(),
            started[0].cell.as_str(),
            started[0].compound.as_str()
        ),
        (
            project.name.as_str(),
            meals.name.as_str(),
            canteen.name.as_str(),
            "elderly_care",
            "",
            "compounds/k-new"
        )
    );

    let unmatched = app
        .client
        .clone()
        .list_demands(with_token(
            pb::ListDemandsRequest {
                unmatched_only: true,
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .demands;
    assert_eq!(
        unmatched
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        [wish.name.as_str()]
    );
    let idle_names: Vec<String> = idle(&app).await.into_iter().map(|r| r.name).collect();
    assert_eq!(idle_names.len(), 3);
    assert!(!idle_names.contains(&canteen.name));

    let mut client = app.client.clone();
    let milestone = client
        .record_project_milestone(with_token(
            pb::RecordProjectMilestoneRequest {
                project: project.name.clone(),
                milestone: Some(pb::Milestone {
                    title: "First week of meals delivered".into(),
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .project
        .unwrap();
    assert_eq!(milestone.milestones.len(), 1);
    let complete = |rating| {
        let mut client = app.client.clone();
        let name = project.name.clone();
        async move {
            client
                .complete_project(with_token(
                    pb::CompleteProjectRequest { name, rating },
                    &admin(),
                ))
                .await
                .map(|r| r.into_inner().project.unwrap())
        }
    };
    assert_eq!(fields(&complete(0).await.unwrap_err()), ["rating"]);
    let done = complete(5).await.unwrap();
    assert_eq!(
        (done.state, done.rating),
        (pb::ProjectState::Completed as i32, 5)
    );
    let status = complete(4).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let completed = events::<pb::ProjectCompleted>(&app, "centres.project.completed").await;
    assert_eq!(completed.len(), 1);
    assert_eq!(
        (completed[0].rating, completed[0].compound.as_str()),
        (5, "compounds/k-new")
    );
}

#[tokio::test]
async fn two_racing_claims_of_one_demand_make_exactly_one_project() {
    let app = Arc::new(spawn_app().await);
    small_county(&app).await;
    let need = demand(&app, "venue", "s1-m1", 1, (7, 9, 7, 12))
        .await
        .unwrap();
    let a = resource(&app, "venue", "s1-m1", 1, (7, 9, 7, 12)).await;
    let b = resource(&app, "venue", "k-old", 1, (7, 9, 7, 12)).await;
    let barrier = Arc::new(Barrier::new(2));
    let mut tasks = Vec::new();
    for r in [a.name.clone(), b.name.clone()] {
        let (app, barrier, d) = (app.clone(), barrier.clone(), need.name.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            claim(&app, &d, &r).await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    assert_eq!(won, 1);
    let projects: i64 = sqlx::query_scalar("SELECT count(*) FROM projects")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(projects, 1);
    assert_eq!(idle(&app).await.len(), 1, "the losing resource stays idle");
}

#[tokio::test]
async fn membership_report_events_become_idle_resources_once_and_an_ended_report_withdraws_them() {
    let app = spawn_app().await;
    small_county(&app).await;
    let unit = membership::UnitReportRegistered {
        report: "unitReports/u1".into(),
        unit: "organisations/county-hospital".into(),
        community: "cells/s1-m1".into(),
        period_year: 2026,
        resources: vec![
            membership::PledgedResource {
                category: "elderly_care".into(),
                capacity: 5,
                unit: "people".into(),
                description: "Nurses for home visits".into(),
            },
            membership::PledgedResource {
                category: "legal_aid".into(),
                capacity: 2,
                unit: "hours".into(),
                description: String::new(),
            },
        ],
        ..Default::default()
    };
    let member = membership::MemberReportRegistered {
        report: "memberReports/p1".into(),
        member: "members/m-7".into(),
        community: "cells/s1-m2".into(),
        period_year: 2026,
        skills: vec!["legal_aid".into()],
        ..Default::default()
    };
    let consumer = app
        .consumers
        .iter()
        .find(|c| c.queue_name().contains("membership-reports"))
        .unwrap();
    let unit_id = uuid::Uuid::now_v7();
    app.publish("membership.report.unit_registered", unit_id, &unit)
        .await;
    app.publish(
        "membership.report.member_registered",
        uuid::Uuid::now_v7(),
        &member,
    )
    .await;
    // A redelivery of the same event changes nothing.
    app.publish("membership.report.unit_registered", unit_id, &unit)
        .await;
    let outcomes = consumer.drain().await.unwrap();
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Applied, Outcome::Duplicate]
    );
    let resources = idle(&app).await;
    let seen: Vec<(String, i32, String, String, String)> = resources
        .iter()
        .map(|r| {
            (
                r.category.clone(),
                r.capacity,
                r.cell.clone(),
                r.provider.clone(),
                r.source.clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "elderly_care".to_owned(),
                5,
                "cells/s1-m1".to_owned(),
                "organisations/county-hospital".to_owned(),
                "unitReports/u1".to_owned()
            ),
            (
                "legal_aid".to_owned(),
                2,
                "cells/s1-m1".to_owned(),
                "organisations/county-hospital".to_owned(),
                "unitReports/u1".to_owned()
            ),
            (
                "legal_aid".to_owned(),
                1,
                "cells/s1-m2".to_owned(),
                "members/m-7".to_owned(),
                "memberReports/p1".to_owned()
            ),
        ]
    );
    // The report's year is when the pledge is available.
    let new_year = |year: i32| {
        let at =
            chrono::DateTime::parse_from_rfc3339(&format!("{year}-01-01T00:00:00+08:00")).unwrap();
        Some(prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        })
    };
    assert_eq!(
        (resources[0].start_time, resources[0].end_time),
        (new_year(2026), new_year(2027))
    );

    let ended = membership::ReportEnded {
        report: "unitReports/u1".into(),
        community: "cells/s1-m1".into(),
        reason: "withdrew".into(),
        ..Default::default()
    };
    app.publish("membership.report.ended", uuid::Uuid::now_v7(), &ended)
        .await;
    assert_eq!(consumer.drain().await.unwrap(), [Outcome::Applied]);
    let left: Vec<String> = idle(&app).await.into_iter().map(|r| r.source).collect();
    assert_eq!(left, ["memberReports/p1"]);
    assert_eq!(
        events::<pb::ResourceChanged>(&app, "centres.resource.withdrawn")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn a_street_admin_sees_and_enters_only_their_streets_demands_and_a_refusal_writes_nothing() {
    let app = spawn_app().await;
    small_county(&app).await;
    let s1 = demand(&app, "venue", "s1-m1", 1, (7, 9, 7, 12))
        .await
        .unwrap();
    demand(&app, "venue", "s2-m1", 1, (7, 9, 7, 12))
        .await
        .unwrap();
    let listed = app
        .client
        .clone()
        .list_demands(with_token(
            pb::ListDemandsRequest::default(),
            &street_admin("s1"),
        ))
        .await
        .unwrap()
        .into_inner()
        .demands;
    assert_eq!(
        listed.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        [s1.name.as_str()]
    );
    let before = outbox_keys(&app).await.len();
    let outside = app
        .client
        .clone()
        .create_demand(with_token(
            pb::CreateDemandRequest {
                demand: Some(pb::Demand {
                    category: "venue".into(),
                    cell: "cells/s2-m1".into(),
                    quantity: 1,
                    start_time: at(7, 9),
                    end_time: at(7, 12),
                    ..Default::default()
                }),
            },
            &street_admin("s1"),
        ))
        .await
        .unwrap_err();
    assert_eq!(outside.code(), Code::PermissionDenied, "{outside:?}");
    let status = demand(&app, "Venue!", "s1", 0, (7, 12, 7, 9))
        .await
        .unwrap_err();
    assert_eq!(
        fields(&status),
        ["demand.category", "demand.quantity", "demand.end_time"]
    );
    // A street is above community level: there is no community to match in.
    let status = demand(&app, "venue", "s1", 1, (7, 9, 7, 12))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["demand.cell"]);
    assert_eq!(outbox_keys(&app).await.len(), before);
}
