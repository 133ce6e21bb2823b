//! The points ledger: append-only, balances derived, capped per rule and
//! quarter, once per source event; check-ins award volunteer points.

use std::sync::Arc;

use civicgrid_messaging::Outcome;
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::support::*;

fn award(member: &str, rule: &str, source: &str) -> pb::AwardPointsRequest {
    pb::AwardPointsRequest {
        member: member.into(),
        rule: rule.into(),
        reason: "表彰".into(),
        source_event_id: source.into(),
    }
}

async fn balance(app: &TestApp, member: &str) -> pb::GetPointsBalanceResponse {
    app.client
        .clone()
        .get_points_balance(with_token(
            pb::GetPointsBalanceRequest {
                member: member.into(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn points_events(app: &TestApp) -> usize {
    outbox(app)
        .await
        .iter()
        .filter(|(key, _)| key == "membership.points.awarded")
        .count()
}

#[tokio::test]
async fn awards_are_capped_per_quarter_once_per_source_and_the_ledger_is_append_only() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let member = register_member(&app, "m1-pc", 1).await;
    let mut client = app.client.clone();
    let mut awarded = Vec::new();
    for source in ["s1", "s2", "s3"] {
        let entry = client
            .award_points(with_token(award(&member, "commendation", source), &admin()))
            .await
            .unwrap()
            .into_inner()
            .entry
            .map(|e| e.points);
        awarded.push(entry);
    }
    // 10 each, capped at 20 a quarter.
    assert_eq!(awarded, [Some(10), Some(10), None]);
    let again = client
        .award_points(with_token(award(&member, "commendation", "s1"), &admin()))
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(again.source_event_id, "s1");
    assert_eq!(balance(&app, &member).await.balance, 20);
    assert_eq!(points_events(&app).await, 2);
    let unknown = client
        .award_points(with_token(award(&member, "bribery", "s9"), &admin()))
        .await
        .unwrap_err();
    assert_eq!(fields(&unknown), ["rule"]);
    let changed = sqlx::query("UPDATE points_entries SET points = 100")
        .execute(&app.pool)
        .await;
    assert!(changed.is_err(), "the ledger took an update");
    assert_eq!(balance(&app, &member).await.balance, 20);
}

#[tokio::test]
async fn concurrent_awards_never_pass_the_cap() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let member = register_member(&app, "m1-pc", 1).await;
    let barrier = Arc::new(Barrier::new(5));
    let contenders: Vec<_> = (0..5)
        .map(|i| {
            let (barrier, mut client) = (barrier.clone(), app.client.clone());
            let request = with_token(award(&member, "commendation", &format!("c{i}")), &admin());
            tokio::spawn(async move {
                barrier.wait().await;
                client
                    .award_points(request)
                    .await
                    .map(|r| r.into_inner().entry.is_some())
            })
        })
        .collect();
    let mut granted = 0;
    for contender in contenders {
        if let Ok(true) = contender.await.unwrap() {
            granted += 1;
        }
    }
    assert_eq!(granted, 2);
    assert_eq!(balance(&app, &member).await.balance, 20);
}

#[tokio::test]
async fn a_members_checkin_earns_volunteer_points_once_however_often_it_is_delivered() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let member = register_member(&app, "m1-pc", 1).await;
    let checkin = |id: &str| centres::CheckinRecorded {
        checkin: format!("activities/a1/checkins/{id}"),
        activity: "activities/a1".into(),
        member: member.clone(),
        cell: "cells/g1".into(),
        volunteer_minutes: 60,
        checked_in_at: Some(prost_types::Timestamp {
            seconds: chrono::Utc::now().timestamp(),
            nanos: 0,
        }),
        ..Default::default()
    };
    let first = Uuid::now_v7();
    app.publish("centres.checkin.recorded", first, &checkin("c1"))
        .await;
    app.publish("centres.checkin.recorded", first, &checkin("c1"))
        .await;
    app.publish("centres.checkin.recorded", Uuid::now_v7(), &checkin("c1"))
        .await;
    app.publish("centres.checkin.recorded", Uuid::now_v7(), &checkin("c2"))
        .await;
    assert_eq!(
        app.consumers[2].drain().await.unwrap(),
        [
            Outcome::Applied,
            Outcome::Duplicate,
            Outcome::Applied,
            Outcome::Applied
        ]
    );
    let got = balance(&app, &member).await;
    assert_eq!(got.balance, 4);
    assert_eq!(got.entries.len(), 2);
    assert!(
        got.entries
            .iter()
            .all(|e| e.rule == "volunteer_service" && e.points == 2)
    );
    assert_eq!(points_events(&app).await, 2);
}
