//! Organisations: create, get, list, update with etags, scope, bad input,
//! idempotency, events, the gaps report.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_proto::membership::v1::OrganisationKind as K;
use civicgrid_testkit::with_token;
use prost::Message;
use tonic::Code;

use crate::support::*;

#[tokio::test]
async fn an_organisation_is_created_in_its_cell_read_back_and_announced_in_the_same_transaction() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let mut branch = organisation(K::CompoundBranch, "m1-pc", "compounds/k1");
    branch.display_name = "锦绣花园党支部".into();
    branch.standardisation = Some(pb::Standardisation {
        branch_committee_formed: true,
        ..Default::default()
    });
    let created = create(&app, &admin(), "k1-b", branch).await.unwrap();
    assert_eq!(created.name, "organisations/k1-b");
    assert_eq!(created.compound, "compounds/k1");
    assert_eq!(created.area, ["cells/c", "cells/s1", "cells/m1"]);
    assert_eq!((created.version, created.etag.as_str()), (1, "\"1\""));

    let got = app
        .client
        .clone()
        .get_organisation(with_token(
            pb::GetOrganisationRequest {
                name: "organisations/k1-b".into(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .organisation
        .unwrap();
    assert_eq!(got, created);

    let events = outbox(&app).await;
    assert_eq!(events.len(), 6, "one event per organisation");
    let (key, payload) = events.last().unwrap();
    assert_eq!(key, "membership.organisation.created");
    let event = pb::OrganisationCreated::decode(payload.as_slice()).unwrap();
    let meta = event.meta.unwrap();
    assert_eq!(
        (meta.aggregate_id.as_str(), meta.aggregate_version),
        ("organisations/k1-b", 1)
    );
    assert_eq!(event.organisation.unwrap(), created);
}

#[tokio::test]
async fn bad_input_names_every_field_and_changes_nothing() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let before = counts(&app).await;

    let status = create(
        &app,
        &admin(),
        "Bad",
        pb::Organisation {
            kind: 0,
            cell: "m1".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        fields(&status),
        [
            "organisation_id",
            "organisation.display_name",
            "organisation.kind",
            "organisation.cell"
        ]
    );

    // Checked against stored data: a branch placed in a street, a
    // community committee under the county committee, an unknown cell.
    let street = create(&app, &admin(), "b", organisation(K::Branch, "m1-pc", "s1"))
        .await
        .unwrap_err();
    assert_eq!(fields(&street), ["organisation.cell"]);
    let wrong_parent = create(
        &app,
        &admin(),
        "m3-pc",
        organisation(K::CommunityPartyCommittee, "cc", "m1"),
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&wrong_parent), ["organisation.parent"]);
    let unknown = create(
        &app,
        &admin(),
        "b",
        organisation(K::Branch, "m1-pc", "nowhere"),
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&unknown), ["organisation.cell"]);
    let outside_parent = create(&app, &admin(), "b", organisation(K::Branch, "m1-pc", "m2"))
        .await
        .unwrap_err();
    assert_eq!(fields(&outside_parent), ["organisation.cell"]);
    let taken = create(
        &app,
        &admin(),
        "m1-pc",
        organisation(K::Branch, "m1-pc", "g1"),
    )
    .await
    .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);

    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn a_retried_create_with_the_same_request_id_returns_the_first_result_without_a_second_event()
{
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let request = pb::CreateOrganisationRequest {
        organisation_id: "g1-b".into(),
        organisation: Some(organisation(K::Branch, "m1-pc", "g1")),
        request_id: uuid::Uuid::now_v7().to_string(),
    };
    let mut client = app.client.clone();
    let first = client
        .create_organisation(with_token(request.clone(), &admin()))
        .await
        .unwrap()
        .into_inner();
    let before = counts(&app).await;
    let again = client
        .create_organisation(with_token(request, &admin()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first);
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn an_update_with_a_stale_etag_is_aborted_and_changes_nothing() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let mut client = app.client.clone();
    let update = |etag: &str, office: bool| pb::UpdateOrganisationRequest {
        organisation: Some(pb::Organisation {
            name: "organisations/m1-pc".into(),
            etag: etag.into(),
            standardisation: Some(pb::Standardisation {
                office_premises: office,
                ..Default::default()
            }),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["standardisation.office_premises".into()],
        }),
    };
    let updated = client
        .update_organisation(with_token(update("\"1\"", true), &admin()))
        .await
        .unwrap()
        .into_inner()
        .organisation
        .unwrap();
    assert_eq!(updated.version, 2);
    assert!(updated.standardisation.unwrap().office_premises);
    let before = counts(&app).await;
    let stale = client
        .update_organisation(with_token(update("\"1\"", false), &admin()))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    assert_eq!(counts(&app).await, before);
    let (key, payload) = outbox(&app).await.pop().unwrap();
    assert_eq!(key, "membership.organisation.updated");
    let event = pb::OrganisationUpdated::decode(payload.as_slice()).unwrap();
    assert_eq!(
        event.update_mask.unwrap().paths,
        ["standardisation.office_premises"]
    );
}

#[tokio::test]
async fn a_street_admin_sees_and_changes_only_their_streets_organisations() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let token = street_admin("s1");
    let mut client = app.client.clone();
    let listed: Vec<String> = client
        .list_organisations(with_token(pb::ListOrganisationsRequest::default(), &token))
        .await
        .unwrap()
        .into_inner()
        .organisations
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(listed, ["organisations/m1-pc", "organisations/s1-wc"]);
    let foreign = client
        .get_organisation(with_token(
            pb::GetOrganisationRequest {
                name: "organisations/m2-pc".into(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::NotFound);
    let before = counts(&app).await;
    let outside = create(&app, &token, "m2-b", organisation(K::Branch, "m2-pc", "m2"))
        .await
        .unwrap_err();
    assert_eq!(outside.code(), Code::PermissionDenied);
    assert_eq!(counts(&app).await, before);
    create(&app, &token, "g1-b", organisation(K::Branch, "m1-pc", "g1"))
        .await
        .unwrap();
    let operator = civicgrid_testkit::TestKeys::get().token(
        &[civicgrid_runtime::auth::Role::DepartmentOperator],
        &["*"],
        Some("housing"),
    );
    let denied = client
        .list_organisations(with_token(
            pb::ListOrganisationsRequest::default(),
            &operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn lists_filter_by_parent_cell_and_kind_and_page_through_everything() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let client = app.client.clone();
    let list = |request: pb::ListOrganisationsRequest| {
        let mut client = client.clone();
        async move {
            client
                .list_organisations(with_token(request, &admin()))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let names = |response: pb::ListOrganisationsResponse| -> Vec<String> {
        response.organisations.into_iter().map(|o| o.name).collect()
    };
    let children = list(pb::ListOrganisationsRequest {
        parent: "organisations/cc".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(
        names(children),
        ["organisations/s1-wc", "organisations/s2-wc"]
    );
    let in_s2 = list(pb::ListOrganisationsRequest {
        cell: "cells/s2".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(names(in_s2), ["organisations/m2-pc", "organisations/s2-wc"]);
    let committees = list(pb::ListOrganisationsRequest {
        kind: K::CommunityPartyCommittee as i32,
        ..Default::default()
    })
    .await;
    assert_eq!(
        names(committees),
        ["organisations/m1-pc", "organisations/m2-pc"]
    );

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(pb::ListOrganisationsRequest {
            page_size: 2,
            page_token: token.clone(),
            ..Default::default()
        })
        .await;
        token = page.next_page_token.clone();
        seen.extend(names(page));
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    let replayed = client
        .clone()
        .list_organisations(with_token(
            pb::ListOrganisationsRequest {
                kind: K::Branch as i32,
                page_token: {
                    let first = list(pb::ListOrganisationsRequest {
                        page_size: 1,
                        ..Default::default()
                    })
                    .await;
                    first.next_page_token
                },
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(fields(&replayed), ["page_token"]);
}

#[tokio::test]
async fn the_gaps_report_names_what_each_streets_and_communitys_organisations_lack() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let mut full = organisation(K::Branch, "m1-pc", "g1");
    full.standardisation = Some(pb::Standardisation {
        branch_committee_formed: true,
        office_premises: true,
        activity_premises: true,
    });
    create(&app, &admin(), "g1-b", full).await.unwrap();
    let mut partial = organisation(K::CompoundBranch, "m1-pc", "compounds/k1");
    partial.standardisation = Some(pb::Standardisation {
        branch_committee_formed: true,
        ..Default::default()
    });
    create(&app, &admin(), "k1-b", partial).await.unwrap();
    create(
        &app,
        &admin(),
        "k1-pm",
        organisation(K::PropertyCompany, "m1-pc", "compounds/k1"),
    )
    .await
    .unwrap();

    let report = app
        .client
        .clone()
        .get_standardisation_gaps(with_token(
            pb::GetStandardisationGapsRequest {
                ancestor: "cells/s1".into(),
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.community_count, 1);
    let street = &report.streets[0];
    assert_eq!(street.cell, "cells/s1");
    assert!(street.has_own_committee);
    // s1-wc, m1-pc, g1-b, k1-b: the property company is no party organisation.
    assert_eq!(street.organisation_count, 4);
    assert_eq!(
        (
            street.without_branch_committee,
            street.without_office_premises,
            street.without_activity_premises
        ),
        (2, 3, 3)
    );
    let community = &report.communities[0];
    let lacking: Vec<(&str, Vec<i32>)> = community
        .organisations
        .iter()
        .map(|o| (o.organisation.as_str(), o.gaps.clone()))
        .collect();
    use pb::StandardisationGap as G;
    assert_eq!(
        lacking,
        [
            (
                "organisations/k1-b",
                vec![G::NoOfficePremises as i32, G::NoActivityPremises as i32]
            ),
            (
                "organisations/m1-pc",
                vec![
                    G::NoBranchCommittee as i32,
                    G::NoOfficePremises as i32,
                    G::NoActivityPremises as i32
                ]
            ),
        ]
    );

    // A street admin of s2 sees only s2 and its community.
    let theirs = app
        .client
        .clone()
        .get_standardisation_gaps(with_token(
            pb::GetStandardisationGapsRequest::default(),
            &street_admin("s2"),
        ))
        .await
        .unwrap()
        .into_inner();
    let cells: Vec<&str> = theirs
        .streets
        .iter()
        .chain(&theirs.communities)
        .map(|a| a.cell.as_str())
        .collect();
    assert_eq!(cells, ["cells/s2", "cells/m2"]);
}
