//! Joint conferences: issues raised with an owner and a due date, tracked
//! to resolution; overdue ones listed.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use prost::Message;
use tonic::Code;

use crate::support::*;

fn at(offset_days: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() + offset_days * 86_400,
        nanos: 0,
    })
}

#[tokio::test]
async fn issues_are_tracked_to_resolution_and_the_overdue_ones_are_listed() {
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
    let mut client = app.client.clone();
    let conference = client
        .create_conference(with_token(
            pb::CreateConferenceRequest {
                conference: Some(pb::Conference {
                    kind: pb::ConferenceKind::CommunityBigPartyCommittee as i32,
                    cell: "cells/m1".into(),
                    display_name: "城东社区大党委".into(),
                    member_units: vec!["organisations/m1-pc".into(), "organisations/gov-1".into()],
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .conference
        .unwrap();
    let meeting = client
        .record_meeting(with_token(
            pb::RecordMeetingRequest {
                parent: conference.name.clone(),
                meeting: Some(pb::Meeting {
                    topic: "老旧小区停车难".into(),
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .meeting
        .unwrap();
    let raise = |title: &str, owner: &str, due: Option<prost_types::Timestamp>| {
        pb::RaiseConferenceIssueRequest {
            parent: conference.name.clone(),
            issue: Some(pb::ConferenceIssue {
                meeting: meeting.name.clone(),
                title: title.into(),
                owner: format!("organisations/{owner}"),
                due_time: due,
                ..Default::default()
            }),
        }
    };
    let late = client
        .raise_conference_issue(with_token(raise("停车位规划", "gov-1", at(-3)), &admin()))
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    let later = client
        .raise_conference_issue(with_token(raise("路灯维修", "m1-pc", at(-1)), &admin()))
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    client
        .raise_conference_issue(with_token(raise("垃圾分类", "m1-pc", at(10)), &admin()))
        .await
        .unwrap();
    let outsider = client
        .raise_conference_issue(with_token(raise("无关", "m2-pc", at(10)), &admin()))
        .await
        .unwrap_err();
    assert_eq!(fields(&outsider), ["issue.owner"]);

    let overdue = |token: String| {
        let mut client = app.client.clone();
        async move {
            client
                .list_overdue_conference_issues(with_token(
                    pb::ListOverdueConferenceIssuesRequest::default(),
                    &token,
                ))
                .await
                .unwrap()
                .into_inner()
                .issues
                .into_iter()
                .map(|i| i.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        overdue(admin()).await,
        [late.name.clone(), later.name.clone()]
    );
    assert!(overdue(street_admin("s2")).await.is_empty());

    let resolve = |name: String| pb::ResolveConferenceIssueRequest {
        name,
        resolution: "新增停车位40个".into(),
    };
    let resolved = client
        .resolve_conference_issue(with_token(resolve(late.name.clone()), &admin()))
        .await
        .unwrap()
        .into_inner()
        .issue
        .unwrap();
    assert!(resolved.resolve_time.is_some());
    let again = client
        .resolve_conference_issue(with_token(resolve(late.name.clone()), &admin()))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert_eq!(overdue(admin()).await, vec![later.name.clone()]);

    let events = outbox(&app).await;
    let raised: Vec<pb::ConferenceIssueRaised> = events
        .iter()
        .filter(|(k, _)| k == "membership.conference_issue.raised")
        .map(|(_, p)| pb::ConferenceIssueRaised::decode(p.as_slice()).unwrap())
        .collect();
    assert_eq!(raised.len(), 3);
    assert_eq!(
        (raised[0].cell.as_str(), raised[0].owner.as_str()),
        ("cells/m1", "organisations/gov-1")
    );
    let done: Vec<pb::ConferenceIssueResolved> = events
        .iter()
        .filter(|(k, _)| k == "membership.conference_issue.resolved")
        .map(|(_, p)| pb::ConferenceIssueResolved::decode(p.as_slice()).unwrap())
        .collect();
    assert_eq!(done.len(), 1);
    assert!(!done[0].on_time);
}
