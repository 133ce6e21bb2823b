//! The standard per category as data, and the compliance report against it.

use civicgrid_proto::centres::v1 as pb;
use civicgrid_testkit::with_token;
use tonic::Code;

use crate::spawn_app;
use crate::support::*;

async fn standards(app: &crate::TestApp) -> Vec<pb::CentreStandard> {
    app.client
        .clone()
        .list_standards(with_token(pb::ListStandardsRequest {}, &admin()))
        .await
        .unwrap()
        .into_inner()
        .standards
}

async fn compliance(app: &crate::TestApp, non_compliant_only: bool) -> Vec<pb::CentreCompliance> {
    app.client
        .clone()
        .list_centre_compliance(with_token(
            pb::ListCentreComplianceRequest {
                non_compliant_only,
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .compliance
}

#[tokio::test]
async fn the_shipped_standard_is_in_force_for_every_category_from_the_first_start() {
    let app = spawn_app().await;
    let standards = standards(&app).await;
    assert_eq!(standards.len(), 8);
    assert!(standards.iter().all(|s| s.version == 1), "{standards:?}");
    let community = standards
        .iter()
        .find(|s| s.name == "standards/community")
        .unwrap();
    assert_eq!(community.minimum_floor_area_square_metres, 300);
    assert_eq!(community.required_functions, [1, 2, 3, 4]);
}

#[tokio::test]
async fn the_compliance_report_follows_a_new_version_of_the_standard_without_a_code_change() {
    use pb::CentreFunction::*;
    let app = spawn_app().await;
    small_county(&app).await;
    create(&app, &admin(), "m1-centre", community_centre("s1-m1"))
        .await
        .unwrap();
    // 50 m² with only a party-mass room: a compound centre needs 60 m² and
    // convenience services too.
    create(
        &app,
        &admin(),
        "k-room",
        compound_centre("k-old", pb::CentreCategory::ResidentialCompound, 50),
    )
    .await
    .unwrap();
    let entry = |centre: &str,
                 category: pb::CentreCategory,
                 version,
                 missing: Vec<pb::CentreFunction>,
                 short| {
        pb::CentreCompliance {
            centre: centre.to_owned(),
            category: category as i32,
            standard_version: version,
            compliant: missing.is_empty() && short == 0,
            missing_functions: missing.into_iter().map(|f| f as i32).collect(),
            area_shortfall_square_metres: short,
        }
    };
    assert_eq!(
        compliance(&app, false).await,
        [
            entry(
                "centres/k-room",
                pb::CentreCategory::ResidentialCompound,
                1,
                vec![ConvenienceServices],
                10
            ),
            entry(
                "centres/m1-centre",
                pb::CentreCategory::Community,
                1,
                vec![],
                0
            ),
        ]
    );

    let community = standards(&app)
        .await
        .into_iter()
        .find(|s| s.name == "standards/community")
        .unwrap();
    let mut stricter = community.clone();
    stricter.minimum_floor_area_square_metres = 500;
    stricter.required_functions = vec![PartyMassActivity as i32, StudyAndDeliberation as i32];
    let updated = app
        .client
        .clone()
        .update_standard(with_token(
            pb::UpdateStandardRequest {
                standard: Some(stricter.clone()),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .standard
        .unwrap();
    assert_eq!(
        (updated.version, updated.minimum_floor_area_square_metres),
        (2, 500)
    );
    assert_eq!(
        compliance(&app, true).await,
        [
            entry(
                "centres/k-room",
                pb::CentreCategory::ResidentialCompound,
                1,
                vec![ConvenienceServices],
                10
            ),
            entry(
                "centres/m1-centre",
                pb::CentreCategory::Community,
                2,
                vec![],
                100
            ),
        ]
    );
    // One compliance event for the one community centre, after the standard.
    assert_eq!(
        outbox_keys(&app).await[2 * REGISTERED.len()..],
        ["centres.standard.updated", "centres.compliance.changed"]
    );

    // The etag of version 1 is stale now; a street admin may not set standards.
    let before = counts(&app).await;
    let status = app
        .client
        .clone()
        .update_standard(with_token(
            pb::UpdateStandardRequest {
                standard: Some(stricter.clone()),
            },
            &admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    stricter.etag = String::new();
    let status = app
        .client
        .clone()
        .update_standard(with_token(
            pb::UpdateStandardRequest {
                standard: Some(stricter.clone()),
            },
            &street_admin("s1"),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    stricter.name = "standards/moon-base".into();
    stricter.required_functions = vec![1, 1];
    let status = app
        .client
        .clone()
        .update_standard(with_token(
            pb::UpdateStandardRequest {
                standard: Some(stricter),
            },
            &admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        fields(&status),
        ["standard.name", "standard.required_functions[1]"]
    );
    assert_eq!(counts(&app).await, before);
}
