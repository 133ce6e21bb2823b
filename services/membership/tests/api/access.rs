//! Access: a community's staff reads only its subtree; a department
//! operator reads no member data at all.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, with_token};
use tonic::Code;

use crate::support::*;

fn community_staff(community: &str) -> String {
    TestKeys::get().token(
        &[Role::CommunityStaff],
        &[&format!("cells/{community}")],
        None,
    )
}

fn department_operator() -> String {
    TestKeys::get().token(&[Role::DepartmentOperator], &["*"], Some("housing"))
}

#[tokio::test]
async fn a_communitys_staff_cannot_read_members_or_organisations_outside_its_subtree() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    create(
        &app,
        &admin(),
        "g1-b",
        organisation(pb::OrganisationKind::Branch, "m1-pc", "g1"),
    )
    .await
    .unwrap();
    let ours = register_member(&app, "g1-b", 1).await;
    let theirs = register_member(&app, "m2-pc", 2).await;
    let staff = community_staff("m1");
    let mut client = app.client.clone();

    // Organisations: its own committee and below, nothing beside or above.
    for (name, expected) in [
        ("organisations/m1-pc", Code::Ok),
        ("organisations/g1-b", Code::Ok),
        ("organisations/m2-pc", Code::NotFound),
        ("organisations/s1-wc", Code::NotFound),
        ("organisations/cc", Code::NotFound),
    ] {
        let got = client
            .get_organisation(with_token(
                pb::GetOrganisationRequest { name: name.into() },
                &staff,
            ))
            .await;
        assert_eq!(
            got.map(|_| Code::Ok).unwrap_or_else(|s| s.code()),
            expected,
            "{name}"
        );
    }
    let listed: Vec<String> = client
        .list_organisations(with_token(pb::ListOrganisationsRequest::default(), &staff))
        .await
        .unwrap()
        .into_inner()
        .organisations
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(listed, ["organisations/g1-b", "organisations/m1-pc"]);

    // Members: by name and by ID number, only those of its organisations.
    let get = |name: String| {
        let mut client = app.client.clone();
        let staff = staff.clone();
        async move {
            client
                .get_member(with_token(pb::GetMemberRequest { name }, &staff))
                .await
                .map(|r| r.into_inner().member.unwrap())
        }
    };
    assert_eq!(get(ours.clone()).await.unwrap().full_name, "李*");
    let hidden = get(theirs.clone()).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert!(!hidden.message().contains("m2"), "{hidden:?}");
    let looked_up = client
        .lookup_member(with_token(
            pb::LookupMemberRequest {
                id_number: id_number(2),
            },
            &staff,
        ))
        .await
        .unwrap_err();
    assert_eq!(looked_up.code(), Code::NotFound);
    assert!(
        client
            .lookup_member(with_token(
                pb::LookupMemberRequest {
                    id_number: id_number(1),
                },
                &staff,
            ))
            .await
            .is_ok()
    );

    // What is derived from members and organisations stays inside too.
    let gaps = client
        .get_standardisation_gaps(with_token(
            pb::GetStandardisationGapsRequest::default(),
            &staff,
        ))
        .await
        .unwrap()
        .into_inner();
    let cells: Vec<&str> = gaps
        .streets
        .iter()
        .chain(&gaps.communities)
        .map(|a| a.cell.as_str())
        .collect();
    assert_eq!(cells, ["cells/m1"]);
    let outside = client
        .get_participation(with_token(
            pb::GetParticipationRequest {
                community: "cells/m2".into(),
                quarter: Some(pb::Quarter {
                    year: 2026,
                    quarter: 4,
                }),
            },
            &staff,
        ))
        .await
        .unwrap_err();
    assert_eq!(outside.code(), Code::NotFound);
    let posts = client
        .list_posts(with_token(
            pb::ListPostsRequest {
                member: theirs.clone(),
                ..Default::default()
            },
            &staff,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(posts.posts.is_empty());
    // Nor can it write outside: a member of m2-pc is refused and nothing changes.
    let before = counts(&app).await;
    let refused = client
        .register_member(with_token(
            pb::RegisterMemberRequest {
                member: Some(pb::Member {
                    full_name: "吴九".into(),
                    id_number: id_number(3),
                    phone: phone(3),
                    organisation: "organisations/m2-pc".into(),
                    standing: pb::Standing::Full as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &staff,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn a_department_operator_sees_no_member_data() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let member = register_member(&app, "m1-pc", 1).await;
    let operator = department_operator();
    let mut client = app.client.clone();
    let denied = |result: Result<(), tonic::Status>| match result {
        Ok(()) => panic!("a department operator read member data"),
        Err(status) => status.code(),
    };
    let codes = vec![
        denied(
            client
                .get_member(with_token(pb::GetMemberRequest { name: member.clone() }, &operator))
                .await
                .map(|_| ()),
        ),
        denied(
            client
                .lookup_member(with_token(
                    pb::LookupMemberRequest {
                        id_number: id_number(1),
                    },
                    &operator,
                ))
                .await
                .map(|_| ()),
        ),
        denied(
            client
                .list_posts(with_token(pb::ListPostsRequest::default(), &operator))
                .await
                .map(|_| ()),
        ),
        denied(
            client
                .get_participation(with_token(
                    pb::GetParticipationRequest {
                        community: "cells/m1".into(),
                        quarter: Some(pb::Quarter { year: 2026, quarter: 4 }),
                    },
                    &operator,
                ))
                .await
                .map(|_| ()),
        ),
        denied(
            client
                .get_organisation(with_token(
                    pb::GetOrganisationRequest {
                        name: "organisations/m1-pc".into(),
                    },
                    &operator,
                ))
                .await
                .map(|_| ()),
        ),
        denied(
            client
                .import_members(with_token(
                    pb::ImportMembersRequest {
                        content: b"full_name,id_number,phone,organisation,standing,flow_member,residence_cell,work_unit\n".to_vec(),
                        validate_only: true,
                    },
                    &operator,
                ))
                .await
                .map(|_| ()),
        ),
    ];
    assert_eq!(codes, vec![Code::PermissionDenied; 6]);
}
