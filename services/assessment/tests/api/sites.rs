//! Demonstration sites: nomination, stages by hand, automatic evaluation
//! against the published scores with the failing criteria listed.

use civicgrid_proto::assessment::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, with_token};
use tonic::Code;

use crate::TestApp;
use crate::metrics::{admin, seeded};
use crate::schemes::{create_version, publish_scores, publish_version, scheme_v1};

fn site(criteria: &[(&str, f64)], min_score: f64) -> pb::DemonstrationSite {
    pb::DemonstrationSite {
        display_name: "第一社区示范点".to_owned(),
        subject: "cells/cm1".to_owned(),
        scheme: "schemes/county".to_owned(),
        level: pb::Level::Community as i32,
        criteria: criteria
            .iter()
            .map(|(indicator, min_points)| pb::SiteCriterion {
                indicator: (*indicator).to_owned(),
                min_points: *min_points,
            })
            .collect(),
        min_score,
        ..Default::default()
    }
}

async fn nominate(
    app: &TestApp,
    token: &str,
    id: &str,
    site: pb::DemonstrationSite,
) -> Result<pb::DemonstrationSite, tonic::Status> {
    app.client
        .clone()
        .create_demonstration_site(with_token(
            pb::CreateDemonstrationSiteRequest {
                demonstration_site_id: id.to_owned(),
                demonstration_site: Some(site),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().demonstration_site.unwrap())
}

async fn advance(
    app: &TestApp,
    id: &str,
    stage: pb::SiteStage,
) -> Result<pb::DemonstrationSite, tonic::Status> {
    app.client
        .clone()
        .advance_demonstration_site(admin(pb::AdvanceDemonstrationSiteRequest {
            name: format!("demonstrationSites/{id}"),
            stage: stage as i32,
        }))
        .await
        .map(|r| r.into_inner().demonstration_site.unwrap())
}

async fn evaluate(
    app: &TestApp,
    id: &str,
) -> Result<pb::EvaluateDemonstrationSiteResponse, tonic::Status> {
    app.client
        .clone()
        .evaluate_demonstration_site(admin(pb::EvaluateDemonstrationSiteRequest {
            name: format!("demonstrationSites/{id}"),
            period: "2026-11".to_owned(),
        }))
        .await
        .map(|r| r.into_inner())
}

async fn stage_events(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE routing_key = 'assessment.site.stage_changed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_site_is_named_only_when_its_scores_meet_every_criterion_and_the_failing_ones_are_listed()
{
    use pb::SiteStage::{Application, Cultivation, Evaluation, Named, Review};
    let (app, _) = seeded().await;
    create_version(&app, "county", scheme_v1()).await.unwrap();
    publish_version(&app, "schemes/county/versions/1")
        .await
        .unwrap();
    let street = |cell: &str| TestKeys::get().token(&[Role::StreetAdmin], &[cell], None);

    let strict = site(
        &[
            ("on-time", 60.0),
            ("response", 30.0),
            ("satisfaction", 50.0),
        ],
        40.0,
    );
    let denied = nominate(&app, &street("cells/st2"), "strict", strict.clone())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let nominated = nominate(&app, &street("cells/st1"), "strict", strict)
        .await
        .unwrap();
    assert_eq!(nominated.stage, Application as i32);
    assert_eq!(
        evaluate(&app, "strict").await.unwrap_err().code(),
        Code::FailedPrecondition
    );
    assert_eq!(
        advance(&app, "strict", Named).await.unwrap_err().code(),
        Code::FailedPrecondition
    );
    advance(&app, "strict", Cultivation).await.unwrap();
    advance(&app, "strict", Evaluation).await.unwrap();
    let unpublished = evaluate(&app, "strict").await.unwrap_err();
    assert_eq!(
        unpublished.code(),
        Code::FailedPrecondition,
        "no ranking yet"
    );
    assert_eq!(stage_events(&app).await, 2);

    publish_scores(&app, "county", pb::Level::Community, "2026-11")
        .await
        .unwrap();
    // cm1: on-time 60 points, response 33.33, satisfaction insufficient, score 43.33.
    let failed = evaluate(&app, "strict").await.unwrap();
    assert!(!failed.passed);
    let failed = failed.demonstration_site.unwrap();
    assert_eq!(failed.failing_criteria, ["satisfaction: insufficient data"]);
    assert_eq!(
        failed.stage, Evaluation as i32,
        "a failed evaluation keeps it waiting"
    );
    assert_eq!(stage_events(&app).await, 2);

    let fair = site(&[("on-time", 60.0), ("response", 30.0)], 40.0);
    nominate(&app, &TestKeys::get().county_admin(), "fair", fair)
        .await
        .unwrap();
    advance(&app, "fair", Cultivation).await.unwrap();
    advance(&app, "fair", Evaluation).await.unwrap();
    let named = evaluate(&app, "fair").await.unwrap();
    assert!(named.passed);
    let named = named.demonstration_site.unwrap();
    assert_eq!(
        (named.stage, named.failing_criteria.len()),
        (Named as i32, 0)
    );
    assert_eq!(named.evaluated_period, "2026-11");
    advance(&app, "fair", Review).await.unwrap();
    let renamed = evaluate(&app, "fair")
        .await
        .unwrap()
        .demonstration_site
        .unwrap();
    assert_eq!(renamed.stage, Named as i32);
    assert_eq!(stage_events(&app).await, 2 + 5);
}
