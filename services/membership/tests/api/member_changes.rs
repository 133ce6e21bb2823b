//! Members change: updates (personal data sealed again), transfers with
//! their history, and masked paged lists.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use prost::Message;
use tonic::Code;

use crate::support::*;

async fn get(app: &TestApp, name: &str, token: &str) -> Result<pb::Member, tonic::Status> {
    app.client
        .clone()
        .get_member(with_token(
            pb::GetMemberRequest { name: name.into() },
            token,
        ))
        .await
        .map(|r| r.into_inner().member.unwrap())
}

#[tokio::test]
async fn an_update_reseals_the_phone_shows_it_masked_and_a_stale_etag_changes_nothing() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let name = register_member(&app, "m1-pc", 1).await;
    let member = get(&app, &name, &admin()).await.unwrap();
    let update = |etag: &str, phone: &str| pb::UpdateMemberRequest {
        member: Some(pb::Member {
            name: name.clone(),
            etag: etag.into(),
            phone: phone.into(),
            flow_member: true,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["phone".into(), "flow_member".into()],
        }),
    };
    let updated = app
        .client
        .clone()
        .update_member(with_token(update(&member.etag, "13711112222"), &admin()))
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(
        (updated.phone.as_str(), updated.flow_member, updated.version),
        ("137****2222", true, 2)
    );
    assert_eq!(updated.id_number, member.id_number);
    let before = counts(&app).await;
    let stale = app
        .client
        .clone()
        .update_member(with_token(update(&member.etag, "13633334444"), &admin()))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    assert_eq!(counts(&app).await, before);
    assert_eq!(get(&app, &name, &admin()).await.unwrap(), updated);
    let (key, payload) = outbox(&app).await.pop().unwrap();
    assert_eq!(key, "membership.member.updated");
    assert!(!payload.windows(11).any(|w| w == b"13711112222"));
    let event = pb::MemberUpdated::decode(payload.as_slice()).unwrap();
    assert_eq!(event.update_mask.unwrap().paths, ["phone", "flow_member"]);
    assert_eq!(event.member.unwrap().phone, "");
}

#[tokio::test]
async fn a_transfer_moves_the_member_keeps_its_history_and_moves_who_sees_it() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let name = register_member(&app, "m1-pc", 1).await;
    assert!(get(&app, &name, &street_admin("s1")).await.is_ok());
    let transfer = |to: &str| pb::TransferMemberRequest {
        name: name.clone(),
        to_organisation: format!("organisations/{to}"),
        reason: "工作调动".into(),
        etag: String::new(),
    };
    let moved = app
        .client
        .clone()
        .transfer_member(with_token(transfer("m2-pc"), &admin()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.member.unwrap().organisation, "organisations/m2-pc");
    let same = app
        .client
        .clone()
        .transfer_member(with_token(transfer("m2-pc"), &admin()))
        .await
        .unwrap_err();
    assert_eq!(same.code(), Code::FailedPrecondition);
    app.client
        .clone()
        .transfer_member(with_token(transfer("m1-pc"), &admin()))
        .await
        .unwrap();
    let history: Vec<(String, String)> = app
        .client
        .clone()
        .list_member_transfers(with_token(
            pb::ListMemberTransfersRequest { name: name.clone() },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .transfers
        .into_iter()
        .map(|t| (t.from_organisation, t.to_organisation))
        .collect();
    assert_eq!(
        history,
        [
            (
                "organisations/m1-pc".to_owned(),
                "organisations/m2-pc".to_owned()
            ),
            (
                "organisations/m2-pc".to_owned(),
                "organisations/m1-pc".to_owned()
            ),
        ]
    );
    // Back in m1: s2's admin no longer sees the member.
    assert_eq!(
        get(&app, &name, &street_admin("s2"))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let events: Vec<pb::MemberTransferred> = outbox(&app)
        .await
        .into_iter()
        .filter(|(key, _)| key == "membership.member.transferred")
        .map(|(_, p)| pb::MemberTransferred::decode(p.as_slice()).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].transfer.as_ref().unwrap().to_organisation,
        "organisations/m2-pc"
    );
}

#[tokio::test]
async fn members_are_listed_masked_by_page_within_the_callers_scope() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    for n in 1..=5 {
        register_member(&app, if n <= 3 { "m1-pc" } else { "m2-pc" }, n).await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .client
            .clone()
            .list_members(with_token(
                pb::ListMembersRequest {
                    page_size: 2,
                    page_token: token.clone(),
                    ..Default::default()
                },
                &street_admin("s1"),
            ))
            .await
            .unwrap()
            .into_inner();
        for m in &page.members {
            assert!(m.id_number.contains("****"), "{m:?}");
            assert!(m.phone.contains("****"), "{m:?}");
        }
        seen.extend(page.members.into_iter().map(|m| m.organisation));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, vec!["organisations/m1-pc"; 3]);
}
