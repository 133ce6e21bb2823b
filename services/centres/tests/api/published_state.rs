//! The level events assessment builds coverage and compliance metrics
//! from: `centres.compliance.changed` per centre and
//! `centres.coverage.changed` per community, written with the change that
//! causes them, each carrying the next version of its centre or community.

use civicgrid_messaging::Outcome;
use civicgrid_proto::centres::v1 as pb;
use civicgrid_proto::grid::v1 as grid;
use civicgrid_testkit::with_token;
use uuid::Uuid;

use crate::spawn_app;
use crate::support::*;

const COMPLIANCE: &str = "centres.compliance.changed";
const COVERAGE: &str = "centres.coverage.changed";
/// The compound subscription among the app's consumers.
const COMPOUNDS: usize = 1;

fn ancestors(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| format!("cells/{id}")).collect()
}

fn coverage(
    community: &str,
    path: &[&str],
    covered: i32,
    uncovered: &[&str],
    version: i64,
) -> pb::CoverageChanged {
    pb::CoverageChanged {
        meta: None,
        community: format!("cells/{community}"),
        ancestors: ancestors(path),
        compound_count: covered + uncovered.len() as i32,
        covered_compound_count: covered,
        uncovered_compounds: uncovered.iter().map(|k| format!("compounds/{k}")).collect(),
        version,
    }
}

/// The coverage events without their meta, after checking it names the
/// community at the event's version.
async fn coverage_events(app: &crate::TestApp) -> Vec<pb::CoverageChanged> {
    published::<pb::CoverageChanged>(app, COVERAGE)
        .await
        .into_iter()
        .map(|mut event| {
            let meta = event.meta.take().unwrap();
            assert_eq!(
                (
                    meta.aggregate_id.as_str(),
                    meta.aggregate_version,
                    meta.event_type.as_str()
                ),
                (event.community.as_str(), event.version, COVERAGE)
            );
            event
        })
        .collect()
}

async fn compliance_events(app: &crate::TestApp) -> Vec<pb::ComplianceChanged> {
    published::<pb::ComplianceChanged>(app, COMPLIANCE)
        .await
        .into_iter()
        .map(|mut event| {
            let meta = event.meta.take().unwrap();
            let centre = event.compliance.as_ref().unwrap().centre.clone();
            assert_eq!(
                (meta.aggregate_id, meta.aggregate_version),
                (centre, event.version)
            );
            event
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn compliance(
    centre: &str,
    category: pb::CentreCategory,
    standard_version: i64,
    missing: &[pb::CentreFunction],
    shortfall: i32,
    (cell, compound): (&str, &str),
    path: &[&str],
    version: i64,
) -> pb::ComplianceChanged {
    pb::ComplianceChanged {
        meta: None,
        compliance: Some(pb::CentreCompliance {
            centre: format!("centres/{centre}"),
            category: category as i32,
            standard_version,
            compliant: missing.is_empty() && shortfall == 0,
            missing_functions: missing.iter().map(|f| *f as i32).collect(),
            area_shortfall_square_metres: shortfall,
        }),
        cell: cell.to_owned(),
        compound: compound.to_owned(),
        ancestors: ancestors(path),
        version,
    }
}

#[tokio::test]
async fn registering_updating_and_a_new_standard_publish_each_centres_compliance_and_each_communitys_coverage()
 {
    use pb::CentreCategory::{Community, ResidentialCompound};
    use pb::CentreFunction::*;
    let app = spawn_app().await;
    small_county(&app).await;
    let m1 = ["c", "s1", "s1-m1"];
    let s2m1 = ["c", "s2", "s2-m1"];

    // A full community centre linked to k-old; k-new stays uncovered.
    let mut centre = community_centre("s1-m1");
    centre.linked_compounds = vec!["compounds/k-old".into()];
    let created = create(&app, &admin(), "m1-centre", centre).await.unwrap();
    // 50 m² with only a party-mass room at k-s2: short of 60 m² and
    // convenience services.
    create(
        &app,
        &admin(),
        "k-s2-room",
        compound_centre("k-s2", ResidentialCompound, 50),
    )
    .await
    .unwrap();

    // m1-centre loses three zones (compliance) and is linked to k-new too
    // (coverage); a rename alone publishes neither.
    let mut change = created.clone();
    change.zones.truncate(1);
    change.linked_compounds = vec!["compounds/k-old".into(), "compounds/k-new".into()];
    change.display_name = "Renamed".into();
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
                .unwrap()
        }
    };
    let updated = update(change, &["zones", "linked_compounds"])
        .await
        .into_inner()
        .centre
        .unwrap();
    let mut rename = updated.clone();
    rename.display_name = "Renamed".into();
    update(rename, &["display_name"]).await;

    // A laxer compound standard: one event for the one compound centre,
    // none for the community centre.
    let standard = app
        .client
        .clone()
        .list_standards(with_token(pb::ListStandardsRequest {}, &admin()))
        .await
        .unwrap()
        .into_inner()
        .standards
        .into_iter()
        .find(|s| s.name == "standards/residential_compound")
        .unwrap();
    let mut laxer = standard.clone();
    laxer.required_functions = vec![PartyMassActivity as i32];
    laxer.minimum_floor_area_square_metres = 40;
    app.client
        .clone()
        .update_standard(with_token(
            pb::UpdateStandardRequest {
                standard: Some(laxer),
            },
            &admin(),
        ))
        .await
        .unwrap();

    assert_eq!(
        compliance_events(&app).await,
        [
            compliance(
                "m1-centre",
                Community,
                1,
                &[],
                0,
                ("cells/s1-m1", ""),
                &m1,
                1
            ),
            compliance(
                "k-s2-room",
                ResidentialCompound,
                1,
                &[ConvenienceServices],
                10,
                ("cells/s2-m1", "compounds/k-s2"),
                &s2m1,
                1
            ),
            compliance(
                "m1-centre",
                Community,
                1,
                &[StudyAndDeliberation, CultureAndFitness, ConvenienceServices],
                0,
                ("cells/s1-m1", ""),
                &m1,
                2
            ),
            compliance(
                "k-s2-room",
                ResidentialCompound,
                2,
                &[],
                0,
                ("cells/s2-m1", "compounds/k-s2"),
                &s2m1,
                2
            ),
        ]
    );
    assert_eq!(
        coverage_events(&app).await,
        [
            coverage("s1-m1", &m1, 1, &["k-new"], 1),
            coverage("s2-m1", &s2m1, 1, &[], 1),
            coverage("s1-m1", &m1, 2, &[], 2),
        ]
    );
    // Each in the transaction of its change, right after the change's own event.
    assert_eq!(
        outbox_keys(&app).await,
        [
            &REGISTERED[..],
            &REGISTERED[..],
            &["centres.centre.updated", COMPLIANCE, COVERAGE],
            &["centres.centre.updated"],
            &["centres.standard.updated", COMPLIANCE],
        ]
        .concat()
    );
}

#[tokio::test]
async fn placing_a_compound_and_replicating_one_publish_the_coverage_of_every_community_concerned()
{
    let app = spawn_app().await;
    small_county(&app).await;
    let point = |latitude, longitude| {
        Some(pb::GeoPoint {
            latitude,
            longitude,
        })
    };
    let mut centre = community_centre("s1-m1");
    centre.coordinates = point(30.0, 120.0);
    create(&app, &admin(), "m1-centre", centre).await.unwrap();
    // k-new about 445 m from the centre: within the walking radius.
    app.client
        .clone()
        .set_compound_coordinates(with_token(
            pb::SetCompoundCoordinatesRequest {
                compound: "compounds/k-new".into(),
                coordinates: point(30.004, 120.0),
            },
            &admin(),
        ))
        .await
        .unwrap();

    // k-x arrives in s1-m2 (twice), then moves to s1-m1; a stale copy of
    // its first version changes nothing.
    let compound = |version: i64, community: &str, path: &[&str]| grid::Compound {
        name: "compounds/k-x".into(),
        community: format!("cells/{community}"),
        display_name: "K-X".into(),
        ancestors: ancestors(path),
        version,
        ..Default::default()
    };
    let created = grid::CompoundCreated {
        meta: None,
        compound: Some(compound(1, "s1-m2", &["c", "s1", "s1-m2"])),
    };
    let moved = grid::CompoundUpdated {
        meta: None,
        compound: Some(compound(2, "s1-m1", &["c", "s1", "s1-m1"])),
        update_mask: None,
    };
    let created_id = Uuid::now_v7();
    app.publish("grid.compound.created", created_id, &created)
        .await;
    app.publish("grid.compound.created", created_id, &created)
        .await;
    app.publish("grid.compound.updated", Uuid::now_v7(), &moved)
        .await;
    app.publish("grid.compound.created", Uuid::now_v7(), &created)
        .await;
    assert_eq!(
        app.consumers[COMPOUNDS].drain().await.unwrap(),
        [
            Outcome::Applied,
            Outcome::Duplicate,
            Outcome::Applied,
            Outcome::Applied
        ]
    );

    let m1 = ["c", "s1", "s1-m1"];
    let m2 = ["c", "s1", "s1-m2"];
    assert_eq!(
        coverage_events(&app).await,
        [
            coverage("s1-m1", &m1, 0, &["k-new", "k-old"], 1),
            coverage("s1-m1", &m1, 1, &["k-old"], 2),
            coverage("s1-m2", &m2, 0, &["k-x"], 1),
            coverage("s1-m1", &m1, 1, &["k-old", "k-x"], 3),
            coverage("s1-m2", &m2, 0, &[], 2),
        ]
    );
}
