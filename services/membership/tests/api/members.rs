//! Members: registration with personal data sealed, masked everywhere,
//! found by ID number through the blind index, one member per ID number.

use std::sync::Arc;

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, with_token};
use prost::Message;
use tokio::sync::Barrier;
use tonic::Code;

use crate::support::*;

/// The GB 11643-1999 example number, written with a lowercase check character.
const ID_NUMBER: &str = "11010519491231002x";
const STORED_ID_NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13812345678";
const NAME: &str = "王小明";

fn member(organisation: &str, id_number: &str) -> pb::Member {
    pb::Member {
        full_name: NAME.into(),
        id_number: id_number.into(),
        phone: PHONE.into(),
        organisation: format!("organisations/{organisation}"),
        standing: pb::Standing::Full as i32,
        flow_member: true,
        residence_cell: "cells/g1".into(),
        ..Default::default()
    }
}

async fn register(
    app: &TestApp,
    token: &str,
    member: pb::Member,
    request_id: &str,
) -> Result<pb::Member, tonic::Status> {
    app.client
        .clone()
        .register_member(with_token(
            pb::RegisterMemberRequest {
                member: Some(member),
                request_id: request_id.into(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().member.unwrap())
}

async fn lookup(app: &TestApp, token: &str, id_number: &str) -> Result<pb::Member, tonic::Status> {
    app.client
        .clone()
        .lookup_member(with_token(
            pb::LookupMemberRequest {
                id_number: id_number.into(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().member.unwrap())
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_registered_member_is_shown_masked_and_found_by_id_number_through_the_blind_index() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let registered = register(&app, &admin(), member("m1-pc", ID_NUMBER), "")
        .await
        .unwrap();
    assert_eq!(registered.full_name, "王**");
    assert_eq!(registered.id_number, "1****************X");
    assert_eq!(registered.phone, "138****5678");
    assert_eq!(registered.organisation, "organisations/m1-pc");
    assert!(registered.flow_member);

    // Either case of the check character finds the member.
    for number in [ID_NUMBER, STORED_ID_NUMBER] {
        assert_eq!(lookup(&app, &admin(), number).await.unwrap(), registered);
    }
    let got = app
        .client
        .clone()
        .get_member(with_token(
            pb::GetMemberRequest {
                name: registered.name.clone(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(got, registered);
    let unknown = lookup(&app, &admin(), "440524200001010013").await;
    assert_eq!(unknown.map_err(|s| s.code()).err(), Some(Code::NotFound));
}

#[tokio::test]
async fn personal_data_is_stored_only_sealed_and_the_event_carries_none_of_it() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    register(&app, &admin(), member("m1-pc", ID_NUMBER), "")
        .await
        .unwrap();
    // Every column of the member row, as text and as bytes.
    let (row_text,): (String,) = sqlx::query_as("SELECT m::text FROM members m")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let sealed: (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT full_name_sealed, id_number_sealed, id_number_index, phone_sealed FROM members",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    for secret in [STORED_ID_NUMBER, "11010519491231002", PHONE, NAME] {
        assert!(!row_text.contains(secret), "{secret} in {row_text}");
        for bytes in [&sealed.0, &sealed.1, &sealed.2, &sealed.3] {
            assert!(!contains(bytes, secret), "{secret} in a sealed column");
        }
    }
    let (key, payload) = outbox(&app).await.pop().unwrap();
    assert_eq!(key, "membership.member.registered");
    for secret in [
        STORED_ID_NUMBER,
        "11010519491231002",
        PHONE,
        NAME,
        "5678",
        "王",
    ] {
        assert!(!contains(&payload, secret), "{secret} in the event");
    }
    let event = pb::MemberRegistered::decode(payload.as_slice()).unwrap();
    let sent = event.member.unwrap();
    assert_eq!(
        (
            sent.full_name.as_str(),
            sent.id_number.as_str(),
            sent.phone.as_str()
        ),
        ("", "", "")
    );
    assert_eq!(event.meta.unwrap().aggregate_id, sent.name);
}

#[tokio::test]
async fn a_second_member_with_the_same_id_number_is_refused_also_under_concurrency() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    register(&app, &admin(), member("m1-pc", ID_NUMBER), "")
        .await
        .unwrap();
    let again = register(&app, &admin(), member("m2-pc", STORED_ID_NUMBER), "")
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    assert!(!again.message().contains("11010519491231002"), "{again:?}");

    // Eight contenders for a new number, started together: one wins.
    let number = "440524200001010013";
    let barrier = Arc::new(Barrier::new(8));
    let contenders: Vec<_> = (0..8)
        .map(|_| {
            let barrier = barrier.clone();
            let mut client = app.client.clone();
            let request = with_token(
                pb::RegisterMemberRequest {
                    member: Some(member("m1-pc", number)),
                    request_id: String::new(),
                },
                &admin(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                client.register_member(request).await.map_err(|s| s.code())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for contender in contenders {
        outcomes.push(contender.await.unwrap().map(|_| ()));
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
    assert_eq!(counts(&app).await.1, 2);
}

#[tokio::test]
async fn bad_id_numbers_and_phones_are_named_and_nothing_is_written() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let before = counts(&app).await;
    let cases = [
        ("110105194912310021", PHONE, vec!["member.id_number"]), // check character
        ("330102199002300011", PHONE, vec!["member.id_number"]), // 30 February
        ("330102209901010014", PHONE, vec!["member.id_number"]), // future
        ("11010519491231002", PHONE, vec!["member.id_number"]),  // 17 digits
        ("1101051949A231002X", PHONE, vec!["member.id_number"]), // a letter inside
        (ID_NUMBER, "12812345678", vec!["member.phone"]),
        ("", "", vec!["member.id_number", "member.phone"]),
    ];
    for (id_number, phone, expected) in cases {
        let mut bad = member("m1-pc", id_number);
        bad.phone = phone.into();
        let status = register(&app, &admin(), bad, "").await.unwrap_err();
        assert_eq!(fields(&status), expected, "{id_number} {phone}");
    }
    let mut no_such = member("m1-pc", ID_NUMBER);
    no_such.organisation = "organisations/nope".into();
    let status = register(&app, &admin(), no_such, "").await.unwrap_err();
    assert_eq!(fields(&status), ["member.organisation"]);
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn a_retried_registration_with_the_same_request_id_returns_the_first_member() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let request_id = uuid::Uuid::now_v7().to_string();
    let first = register(&app, &admin(), member("m1-pc", ID_NUMBER), &request_id)
        .await
        .unwrap();
    let before = counts(&app).await;
    let again = register(&app, &admin(), member("m1-pc", ID_NUMBER), &request_id)
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn members_outside_the_callers_street_are_not_found_and_department_operators_see_none() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    register(&app, &admin(), member("m2-pc", ID_NUMBER), "")
        .await
        .unwrap();
    let other_street = lookup(&app, &street_admin("s1"), ID_NUMBER)
        .await
        .unwrap_err();
    assert_eq!(other_street.code(), Code::NotFound);
    assert!(lookup(&app, &street_admin("s2"), ID_NUMBER).await.is_ok());
    let operator = TestKeys::get().token(&[Role::DepartmentOperator], &["*"], Some("housing"));
    let denied = lookup(&app, &operator, ID_NUMBER).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let before = counts(&app).await;
    let refused = register(
        &app,
        &street_admin("s1"),
        member("m2-pc", "440524200001010013"),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(counts(&app).await, before);
}
