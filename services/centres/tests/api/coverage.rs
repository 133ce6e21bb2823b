//! Coverage: communities and compounds no centre covers, centres per street.

use civicgrid_proto::centres::v1 as pb;
use civicgrid_testkit::with_token;

use crate::spawn_app;
use crate::support::*;

async fn report(
    app: &crate::TestApp,
    token: &str,
    ancestor: &str,
) -> pb::GetCoverageReportResponse {
    app.client
        .clone()
        .get_coverage_report(with_token(
            pb::GetCoverageReportRequest {
                ancestor: ancestor.to_owned(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn the_coverage_report_names_exactly_the_uncovered_places_newly_built_compounds_first() {
    let app = spawn_app().await;
    small_county(&app).await;
    let before = report(&app, &admin(), "").await;
    assert_eq!(
        before.uncovered_communities,
        ["cells/s1-m1", "cells/s1-m2", "cells/s2-m1"]
    );
    assert_eq!(
        before.uncovered_compounds,
        ["compounds/k-new", "compounds/k-s2", "compounds/k-old"]
    );

    // s1-m1's centre is linked to k-old; k-s2 gets a centre of its own; an
    // office building centre in a grid covers no community.
    let mut m1 = community_centre("s1-m1");
    m1.linked_compounds = vec!["compounds/k-old".into()];
    create(&app, &admin(), "m1-centre", m1).await.unwrap();
    create(
        &app,
        &admin(),
        "k-s2-room",
        compound_centre("k-s2", pb::CentreCategory::ResidentialCompound, 80),
    )
    .await
    .unwrap();
    let mut tower = community_centre("s1-g");
    tower.category = pb::CentreCategory::OfficeBuilding as i32;
    create(&app, &admin(), "tower", tower).await.unwrap();

    let after = report(&app, &admin(), "").await;
    assert_eq!(after.uncovered_communities, ["cells/s1-m2", "cells/s2-m1"]);
    assert_eq!(after.uncovered_compounds, ["compounds/k-new"]);
    let count = |category: pb::CentreCategory, centre_count| pb::CategoryCount {
        category: category as i32,
        centre_count,
    };
    assert_eq!(
        after.streets,
        [
            pb::StreetCoverage {
                street: "cells/s1".into(),
                community_count: 2,
                covered_community_count: 1,
                compound_count: 2,
                covered_compound_count: 1,
                centres_by_category: vec![
                    count(pb::CentreCategory::Community, 1),
                    count(pb::CentreCategory::OfficeBuilding, 1),
                ],
            },
            pb::StreetCoverage {
                street: "cells/s2".into(),
                community_count: 1,
                covered_community_count: 0,
                compound_count: 1,
                covered_compound_count: 1,
                centres_by_category: vec![count(pb::CentreCategory::ResidentialCompound, 1)],
            },
        ]
    );

    // A street admin of s2 sees only their street.
    let s2 = report(&app, &street_admin("s2"), "").await;
    assert_eq!(s2.uncovered_communities, ["cells/s2-m1"]);
    assert!(s2.uncovered_compounds.is_empty());
    assert_eq!(s2.streets.len(), 1);
    assert_eq!(
        report(&app, &admin(), "cells/s1")
            .await
            .uncovered_communities,
        ["cells/s1-m2"]
    );
}

#[tokio::test]
async fn a_community_centre_covers_only_its_own_communitys_compounds_within_the_walking_radius() {
    let app = spawn_app().await;
    small_county(&app).await;
    let point = |latitude, longitude| {
        Some(pb::GeoPoint {
            latitude,
            longitude,
        })
    };
    let place = |compound: &str, coordinates| {
        let mut client = app.client.clone();
        let compound = format!("compounds/{compound}");
        async move {
            client
                .set_compound_coordinates(with_token(
                    pb::SetCompoundCoordinatesRequest {
                        compound,
                        coordinates,
                    },
                    &admin(),
                ))
                .await
        }
    };
    // k-new about 445 m north of s1-m1's centre, k-old about 2.2 km.
    place("k-new", point(30.004, 120.0)).await.unwrap();
    place("k-old", point(30.02, 120.0)).await.unwrap();
    let status = place("k-old", point(91.0, 120.0)).await.unwrap_err();
    assert_eq!(fields(&status), ["coordinates"]);
    let status = place("k-nowhere", point(30.0, 120.0)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    assert_eq!(
        outbox_keys(&app)
            .await
            .iter()
            .filter(|k| *k == "centres.compound.located")
            .count(),
        2,
        "one event per recorded place, none for a refusal"
    );

    let mut m1 = community_centre("s1-m1");
    m1.coordinates = point(30.0, 120.0);
    create(&app, &admin(), "m1-centre", m1).await.unwrap();
    // Next to k-old, but another community's centre and an office building
    // centre do not cover it.
    let mut m2 = community_centre("s1-m2");
    m2.coordinates = point(30.0201, 120.0);
    create(&app, &admin(), "m2-centre", m2).await.unwrap();
    let mut tower = community_centre("s1-g");
    tower.category = pb::CentreCategory::OfficeBuilding as i32;
    tower.coordinates = point(30.0201, 120.0);
    create(&app, &admin(), "tower", tower).await.unwrap();

    let after = report(&app, &admin(), "").await;
    assert_eq!(
        after.uncovered_compounds,
        ["compounds/k-s2", "compounds/k-old"]
    );

    // Moving the centre 2 km north brings k-old within the radius and
    // leaves k-new (now about 1.6 km away) outside it.
    let centre = app
        .client
        .clone()
        .update_centre(with_token(
            pb::UpdateCentreRequest {
                centre: Some(pb::Centre {
                    name: "centres/m1-centre".into(),
                    coordinates: point(30.019, 120.0),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["coordinates".into()],
                }),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .centre
        .unwrap();
    assert_eq!(centre.coordinates, point(30.019, 120.0));
    let moved = report(&app, &admin(), "").await;
    assert_eq!(
        moved.uncovered_compounds,
        ["compounds/k-new", "compounds/k-s2"]
    );
}
