//! Co-building agreements: near-duplicate texts flagged on a fixture of
//! Chinese agreements, commitments fulfilled, idle agreements and "two
//! new" organisations without an agreement.

use std::collections::HashMap;

use civicgrid_membership::config::MembershipSettings;
use civicgrid_membership::domain::similarity::similarity;
use civicgrid_messaging::Outcome;
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use prost::Message;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

use pb::OrganisationKind as K;

/// (id, party names, text) of each block of the fixture.
pub fn fixture() -> Vec<(String, Vec<String>, String)> {
    include_str!("../fixtures/agreements.txt")
        .split("\n---\n")
        .skip(1)
        .map(|block| {
            let (head, text) = block.split_once('\n').unwrap();
            let (id, parties) = head.split_once(": ").unwrap();
            (
                id.to_owned(),
                parties.split('|').map(str::to_owned).collect(),
                text.trim().to_owned(),
            )
        })
        .collect()
}

fn names(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

/// The fixture's near duplicates: the copies of one template.
const NEAR: [(&str, &str); 3] = [("a1", "a2"), ("a1", "a3"), ("a2", "a3")];

#[test]
fn on_the_chinese_fixture_the_template_copies_are_similar_and_the_others_are_not() {
    let texts = fixture();
    assert_eq!(texts.len(), 6);
    let threshold = MembershipSettings::default().agreement_similarity_threshold;
    for (i, (a, a_names, a_text)) in texts.iter().enumerate() {
        for (b, b_names, b_text) in &texts[i + 1..] {
            let s = similarity(a_text, &names(a_names), b_text, &names(b_names));
            if NEAR.contains(&(a.as_str(), b.as_str())) {
                assert!(s >= threshold, "{a} {b}: {s}");
            } else {
                // Far below, not just under the line.
                assert!(s < threshold / 3.0, "{a} {b}: {s}");
            }
        }
    }
}

const ACTIVITIES: usize = 3;

async fn sign(
    app: &TestApp,
    parties: &[String],
    text: &str,
    commitments: Vec<pb::Commitment>,
) -> Result<pb::Agreement, tonic::Status> {
    let now = chrono::Utc::now().timestamp();
    app.client
        .clone()
        .sign_agreement(with_token(
            pb::SignAgreementRequest {
                agreement: Some(pb::Agreement {
                    community: "cells/m1".into(),
                    parties: parties.to_vec(),
                    title: "共驻共建协议".into(),
                    text: text.into(),
                    term_start: Some(prost_types::Timestamp {
                        seconds: now - 86_400,
                        nanos: 0,
                    }),
                    term_end: Some(prost_types::Timestamp {
                        seconds: now + 365 * 86_400,
                        nanos: 0,
                    }),
                    commitments,
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner().agreement.unwrap())
}

async fn report(app: &TestApp) -> pb::GetCoBuildingReportResponse {
    app.client
        .clone()
        .get_co_building_report(with_token(
            pb::GetCoBuildingReportRequest::default(),
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn near_duplicate_chinese_agreements_are_flagged_when_signed_and_distinct_ones_are_not() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    // Every party of the fixture, by its display name.
    let mut codes: HashMap<String, String> = HashMap::new();
    for (_, parties, _) in fixture() {
        for (i, party) in parties.iter().enumerate() {
            if codes.contains_key(party) {
                continue;
            }
            let code = format!("party-{}", codes.len());
            let mut org = if i == 0 {
                organisation(K::Branch, "m1-pc", "g1")
            } else {
                organisation(K::GovernmentBody, "cc", "")
            };
            org.display_name = party.clone();
            create(&app, &admin(), &code, org).await.unwrap();
            codes.insert(party.clone(), format!("organisations/{code}"));
        }
    }
    let mut signed: HashMap<String, pb::Agreement> = HashMap::new();
    for (id, parties, text) in fixture() {
        let parties: Vec<String> = parties.iter().map(|p| codes[p].clone()).collect();
        let agreement = sign(&app, &parties, &text, vec![]).await.unwrap();
        signed.insert(id, agreement);
    }
    let flagged = |id: &str| -> Vec<String> {
        let mut names: Vec<String> = signed[id]
            .near_duplicates
            .iter()
            .map(|d| d.agreement.clone())
            .collect();
        names.sort();
        names
    };
    let name = |id: &str| signed[id].name.clone();
    assert_eq!(flagged("a1"), Vec::<String>::new());
    assert_eq!(flagged("a2"), [name("a1")]);
    let mut a3 = vec![name("a1"), name("a2")];
    a3.sort();
    assert_eq!(flagged("a3"), a3);
    for distinct in ["b1", "c1", "d1"] {
        assert_eq!(flagged(distinct), Vec::<String>::new(), "{distinct}");
    }
    let pairs: Vec<(String, String)> = report(&app)
        .await
        .near_duplicates
        .into_iter()
        .map(|p| (p.agreement, p.other))
        .collect();
    assert_eq!(pairs.len(), 3, "{pairs:?}");
    assert!(pairs.contains(&(name("a2"), name("a1"))));
    let got = app
        .client
        .clone()
        .get_agreement(with_token(
            pb::GetAgreementRequest { name: name("a3") },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .agreement
        .unwrap();
    assert_eq!(got, signed["a3"]);
}

#[tokio::test]
async fn commitments_are_fulfilled_once_and_idle_agreements_and_lonely_two_new_organisations_are_listed()
 {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    for (id, kind) in [
        ("npe-1", K::NonPublicEnterprise),
        ("so-1", K::SocialOrganisation),
    ] {
        create(&app, &admin(), id, organisation(kind, "m1-pc", ""))
            .await
            .unwrap();
    }
    let before = report(&app).await;
    assert_eq!(
        before.two_new_without_agreement,
        ["organisations/npe-1", "organisations/so-1"]
    );
    let parties = vec![
        "organisations/m1-pc".to_owned(),
        "organisations/npe-1".to_owned(),
    ];
    let due = prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() + 30 * 86_400,
        nanos: 0,
    };
    let bad = sign(
        &app,
        &parties,
        "短",
        vec![pb::Commitment {
            description: "每月一次".into(),
            owner: "organisations/so-1".into(),
            due_time: Some(due),
            ..Default::default()
        }],
    )
    .await
    .unwrap_err();
    assert_eq!(
        fields(&bad),
        ["agreement.text", "agreement.commitments[0].owner"]
    );
    let first = sign(
        &app,
        &parties,
        "非公企业每月为社区困难家庭提供一次免费家电维修服务，社区党委提供场地。",
        vec![pb::Commitment {
            description: "每月一次免费家电维修".into(),
            owner: "organisations/npe-1".into(),
            due_time: Some(due),
            ..Default::default()
        }],
    )
    .await
    .unwrap();
    let second = sign(
        &app,
        &[
            "organisations/m1-pc".to_owned(),
            "organisations/so-1".to_owned(),
        ],
        "社会组织每周为辖区独居老人开展一次上门探访，并建立服务台账按月报送社区。",
        vec![],
    )
    .await
    .unwrap();
    assert!(report(&app).await.two_new_without_agreement.is_empty());

    let commitment = first.commitments[0].name.clone();
    let fulfil = |name: String| {
        let mut client = app.client.clone();
        async move {
            client
                .fulfil_commitment(with_token(pb::FulfilCommitmentRequest { name }, &admin()))
                .await
        }
    };
    let done = fulfil(commitment.clone())
        .await
        .unwrap()
        .into_inner()
        .commitment
        .unwrap();
    assert_eq!(done.status, pb::CommitmentStatus::Fulfilled as i32);
    let again = fulfil(commitment.clone()).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    let events: Vec<(String, Vec<u8>)> = outbox(&app).await;
    let fulfilled: Vec<pb::CommitmentFulfilled> = events
        .iter()
        .filter(|(key, _)| key == "membership.agreement.commitment_fulfilled")
        .map(|(_, p)| pb::CommitmentFulfilled::decode(p.as_slice()).unwrap())
        .collect();
    assert_eq!(fulfilled.len(), 1);
    assert_eq!(fulfilled[0].commitment, commitment);
    let signed: Vec<pb::AgreementSigned> = events
        .iter()
        .filter(|(key, _)| key == "membership.agreement.signed")
        .map(|(_, p)| pb::AgreementSigned::decode(p.as_slice()).unwrap())
        .collect();
    assert_eq!(signed.len(), 2);
    assert_eq!(
        (signed[0].commitment_count, signed[0].parties.clone()),
        (1, parties.clone())
    );

    // Both were signed 100 days ago; only one has had an activity since.
    sqlx::query("UPDATE agreements SET sign_time = now() - interval '100 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        report(&app).await.idle_agreements,
        [first.name.clone(), second.name.clone()]
    );
    let held = centres::ActivityHeld {
        activity: "activities/repair-1".into(),
        activity_type: centres::ActivityType::CoBuilding as i32,
        agreement: first.name.clone(),
        cell: "cells/g1".into(),
        end_time: Some(prost_types::Timestamp {
            seconds: chrono::Utc::now().timestamp(),
            nanos: 0,
        }),
        ..Default::default()
    };
    let event_id = Uuid::now_v7();
    app.publish("centres.activity.held", event_id, &held).await;
    app.publish("centres.activity.held", event_id, &held).await;
    assert_eq!(
        app.consumers[ACTIVITIES].drain().await.unwrap(),
        [Outcome::Applied, Outcome::Duplicate]
    );
    assert_eq!(
        report(&app).await.idle_agreements,
        vec![second.name.clone()]
    );
}
