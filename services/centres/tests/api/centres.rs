//! Centres: CRUD with etags, idempotency, scope, refusals that write nothing.

use civicgrid_proto::centres::v1 as pb;
use civicgrid_testkit::with_token;
use prost::Message;
use tonic::Code;

use crate::spawn_app;
use crate::support::*;

#[tokio::test]
async fn a_centre_of_every_category_is_registered_with_its_event_in_the_same_transaction() {
    let app = spawn_app().await;
    small_county(&app).await;
    use pb::CentreCategory::*;
    let mut made = vec![
        create(&app, &admin(), "m1-centre", community_centre("s1-m1"))
            .await
            .unwrap(),
    ];
    made.push(
        create(
            &app,
            &admin(),
            "k-old-room",
            compound_centre("k-old", ResidentialCompound, 80),
        )
        .await
        .unwrap(),
    );
    for (id, category) in [
        ("park", IndustrialPark),
        ("tower", OfficeBuilding),
        ("market", BusinessDistrict),
        ("transport", IndustrySystem),
        ("factory", NonPublicEnterprise),
        ("charity", SocialOrganisation),
    ] {
        let mut centre = community_centre("s1-g");
        centre.category = category as i32;
        made.push(create(&app, &admin(), id, centre).await.unwrap());
    }
    assert_eq!(made.len(), 8);
    let community = &made[0];
    assert_eq!(community.name, "centres/m1-centre");
    assert_eq!(community.ancestors, ["cells/c", "cells/s1", "cells/s1-m1"]);
    assert_eq!((community.version, community.etag.as_str()), (1, "\"1\""));
    assert_eq!(community.time_zone, "Asia/Shanghai");
    assert_eq!(community.opening_hours, hours());
    assert_eq!(made[1].compound, "compounds/k-old");
    assert_eq!(made[1].ancestors, ["cells/c", "cells/s1", "cells/s1-m1"]);

    let read = app
        .client
        .clone()
        .get_centre(with_token(
            pb::GetCentreRequest {
                name: "centres/m1-centre".into(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .centre
        .unwrap();
    assert_eq!(&read, community);

    assert_eq!(outbox_keys(&app).await, REGISTERED.repeat(8));
    let (payload,): (Vec<u8>,) = sqlx::query_as("SELECT payload FROM outbox ORDER BY id LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let event = pb::CentreRegistered::decode(payload.as_slice()).unwrap();
    let meta = event.meta.unwrap();
    assert_eq!(
        (meta.aggregate_id.as_str(), meta.aggregate_version),
        ("centres/m1-centre", 1)
    );
    assert_eq!(event.centre.as_ref(), Some(community));
}

#[tokio::test]
async fn a_retried_create_with_the_same_request_id_is_stored_once() {
    let app = spawn_app().await;
    small_county(&app).await;
    let key = uuid::Uuid::now_v7().to_string();
    let first = create_with_key(&app, &admin(), "m1-centre", community_centre("s1-m1"), &key)
        .await
        .unwrap();
    let again = create_with_key(&app, &admin(), "m1-centre", community_centre("s1-m1"), &key)
        .await
        .unwrap();
    assert_eq!(first, again);
    let status = create(&app, &admin(), "m1-centre", community_centre("s1-m1"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    let (centres, _, _, outbox) = counts(&app).await;
    assert_eq!((centres, outbox), (1, REGISTERED.len() as i64));
}

#[tokio::test]
async fn an_update_applies_its_mask_and_a_stale_etag_is_aborted_changing_nothing() {
    let app = spawn_app().await;
    small_county(&app).await;
    let created = create(&app, &admin(), "m1-centre", community_centre("s1-m1"))
        .await
        .unwrap();
    let update = |centre: pb::Centre, paths: &[&str]| {
        let mut client = app.client.clone();
        let request = pb::UpdateCentreRequest {
            centre: Some(centre),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.iter().map(|p| p.to_string()).collect(),
            }),
        };
        async move {
            client
                .update_centre(with_token(request, &admin()))
                .await
                .map(|r| r.into_inner().centre.unwrap())
        }
    };
    let mut change = created.clone();
    change.display_name = "Renamed".into();
    change.floor_area_square_metres = 250;
    // Not masked: ignored.
    change.owner_organisation = "organisations/other".into();
    let updated = update(
        change.clone(),
        &["display_name", "floor_area_square_metres"],
    )
    .await
    .unwrap();
    assert_eq!(
        (
            updated.display_name.as_str(),
            updated.floor_area_square_metres,
            updated.owner_organisation.as_str(),
            updated.version
        ),
        ("Renamed", 250, "organisations/party-committee", 2)
    );

    // `change` still carries version 1's etag.
    change.display_name = "Lost".into();
    let status = update(change, &["display_name"]).await.unwrap_err();
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    let before = counts(&app).await;
    let read = app
        .client
        .clone()
        .get_centre(with_token(
            pb::GetCentreRequest {
                name: created.name.clone(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .centre
        .unwrap();
    assert_eq!(read, updated);
    // The floor area is what the standard checks: compliance again, no coverage.
    assert_eq!(
        outbox_keys(&app).await,
        [
            &REGISTERED[..],
            &["centres.centre.updated", "centres.compliance.changed"]
        ]
        .concat()
    );
    assert_eq!(counts(&app).await, before);

    let status = update(updated.clone(), &["category"]).await.unwrap_err();
    assert_eq!(fields(&status), ["update_mask"]);
}

#[tokio::test]
async fn a_street_admin_sees_and_registers_centres_only_in_their_street() {
    let app = spawn_app().await;
    small_county(&app).await;
    create(&app, &admin(), "s1-centre", community_centre("s1-m1"))
        .await
        .unwrap();
    create(&app, &admin(), "s2-centre", community_centre("s2-m1"))
        .await
        .unwrap();
    let token = street_admin("s1");
    let listed: Vec<String> = app
        .client
        .clone()
        .list_centres(with_token(pb::ListCentresRequest::default(), &token))
        .await
        .unwrap()
        .into_inner()
        .centres
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(listed, ["centres/s1-centre"]);
    let status = app
        .client
        .clone()
        .get_centre(with_token(
            pb::GetCentreRequest {
                name: "centres/s2-centre".into(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let before = counts(&app).await;
    let status = create(&app, &token, "s2-other", community_centre("s2-m1"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn centres_are_listed_by_category_and_ancestor_a_page_at_a_time() {
    let app = spawn_app().await;
    small_county(&app).await;
    for id in ["a", "b", "c"] {
        let mut centre = community_centre("s1-g");
        centre.category = pb::CentreCategory::OfficeBuilding as i32;
        create(&app, &admin(), id, centre).await.unwrap();
    }
    create(&app, &admin(), "m2", community_centre("s1-m2"))
        .await
        .unwrap();
    create(&app, &admin(), "s2", community_centre("s2-m1"))
        .await
        .unwrap();
    let list = |ancestor: &str, category: pb::CentreCategory, page_token: String| {
        let mut client = app.client.clone();
        let request = pb::ListCentresRequest {
            ancestor: ancestor.to_owned(),
            category: category as i32,
            page_size: 2,
            page_token,
        };
        async move {
            client
                .list_centres(with_token(request, &admin()))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let first = list(
        "cells/s1",
        pb::CentreCategory::OfficeBuilding,
        String::new(),
    )
    .await;
    let names: Vec<_> = first.centres.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["centres/a", "centres/b"]);
    let second = list(
        "cells/s1",
        pb::CentreCategory::OfficeBuilding,
        first.next_page_token,
    )
    .await;
    let names: Vec<_> = second.centres.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        (names, second.next_page_token.as_str()),
        (vec!["centres/c"], "")
    );
    let communities = list("cells/s1", pb::CentreCategory::Community, String::new()).await;
    let names: Vec<_> = communities
        .centres
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["centres/m2"]);
}

#[tokio::test]
async fn a_centre_at_an_unknown_or_unfitting_place_is_refused_naming_the_field_and_nothing_is_written()
 {
    let app = spawn_app().await;
    small_county(&app).await;
    let before = counts(&app).await;
    // Unknown cell.
    let status = create(&app, &admin(), "x", community_centre("nowhere"))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["centre.cell"]);
    // A community centre must sit at a community cell, not a grid.
    let status = create(&app, &admin(), "x", community_centre("s1-g"))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["centre.cell"]);
    // Unknown compound.
    let status = create(
        &app,
        &admin(),
        "x",
        compound_centre("k-none", pb::CentreCategory::ResidentialCompound, 80),
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&status), ["centre.compound"]);
    // A linked compound of another street's community, and an unknown one.
    let mut centre = community_centre("s1-m1");
    centre.linked_compounds = vec![
        "compounds/k-old".into(),
        "compounds/k-s2".into(),
        "compounds/k-none".into(),
    ];
    let status = create(&app, &admin(), "x", centre).await.unwrap_err();
    assert_eq!(
        fields(&status),
        ["centre.linked_compounds[1]", "centre.linked_compounds[2]"]
    );
    // Bad fields, parsed before anything is read.
    let mut centre = community_centre("s1-m1");
    centre.zones[1].zone_id = "hall".into();
    centre.opening_hours[0].closes = "25:00".into();
    let status = create(&app, &admin(), "x", centre).await.unwrap_err();
    assert_eq!(
        fields(&status),
        ["centre.opening_hours[0].closes", "centre.zones[1].zone_id"]
    );
    assert_eq!(counts(&app).await, before);
}
