//! Indicator schemes through the API: versions, immutability, scores,
//! rankings and their breakdown down to the metrics' events, on the
//! scripted grid fixture (numbers worked out by hand below).

use civicgrid_proto::assessment::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, invalid_fields, with_token};
use tonic::Code;

use crate::TestApp;
use crate::metrics::{admin, as_street, seeded};

fn ratio(numerator: &str, denominator: &str) -> Option<pb::indicator::Formula> {
    Some(pb::indicator::Formula::Ratio(pb::Ratio {
        numerator: numerator.to_owned(),
        denominator: denominator.to_owned(),
    }))
}

fn linear(floor: f64, target: f64) -> Option<pb::indicator::Scoring> {
    Some(pb::indicator::Scoring::Linear(pb::Linear { floor, target }))
}

fn indicator(
    id: &str,
    level: pb::Level,
    formula: Option<pb::indicator::Formula>,
    weight: f64,
    scoring: Option<pb::indicator::Scoring>,
    min_sample: i64,
) -> pb::Indicator {
    pb::Indicator {
        id: id.to_owned(),
        display_name: id.to_uppercase(),
        level: level as i32,
        formula,
        weight,
        scoring,
        min_sample,
    }
}

/// Communities: response (50) accepted on time / reported, linear 0 → 1;
/// on-time (30) resolved on time / resolved, bands 0.5 → 60, 0.9 → 100, at
/// least 2; satisfaction (20) satisfied / rated, linear 0.5 → 1, at least
/// 3. Streets: response (100), linear 0 → 0.5.
pub(crate) fn scheme_v1() -> pb::SchemeVersion {
    use pb::Level::{Community, Street};
    pb::SchemeVersion {
        display_name: "街道社区考核 2026".to_owned(),
        effective_from: "2026-01".to_owned(),
        redistribution: pb::Redistribution::Proportional as i32,
        indicators: vec![
            indicator(
                "response",
                Community,
                ratio("tasks_accepted_on_time", "tasks_reported"),
                50.0,
                linear(0.0, 1.0),
                1,
            ),
            indicator(
                "on-time",
                Community,
                ratio("tasks_resolved_on_time", "tasks_resolved"),
                30.0,
                Some(pb::indicator::Scoring::Banded(pb::Banded {
                    bands: vec![
                        pb::Band {
                            from: 0.5,
                            points: 60.0,
                        },
                        pb::Band {
                            from: 0.9,
                            points: 100.0,
                        },
                    ],
                })),
                2,
            ),
            indicator(
                "satisfaction",
                Community,
                ratio("tasks_satisfied", "tasks_rated"),
                20.0,
                linear(0.5, 1.0),
                3,
            ),
            indicator(
                "street-response",
                Street,
                ratio("tasks_accepted_on_time", "tasks_reported"),
                100.0,
                linear(0.0, 0.5),
                1,
            ),
        ],
        ..Default::default()
    }
}

pub(crate) async fn create_version(
    app: &TestApp,
    scheme: &str,
    version: pb::SchemeVersion,
) -> Result<pb::SchemeVersion, tonic::Status> {
    app.client
        .clone()
        .create_scheme_version(admin(pb::CreateSchemeVersionRequest {
            parent: format!("schemes/{scheme}"),
            scheme_version: Some(version),
            ..Default::default()
        }))
        .await
        .map(|r| r.into_inner().scheme_version.unwrap())
}

pub(crate) async fn publish_version(
    app: &TestApp,
    name: &str,
) -> Result<pb::SchemeVersion, tonic::Status> {
    app.client
        .clone()
        .publish_scheme_version(admin(pb::PublishSchemeVersionRequest {
            name: name.to_owned(),
        }))
        .await
        .map(|r| r.into_inner().scheme_version.unwrap())
}

pub(crate) async fn publish_scores(
    app: &TestApp,
    scheme: &str,
    level: pb::Level,
    period: &str,
) -> Result<pb::Ranking, tonic::Status> {
    app.client
        .clone()
        .publish_scores(admin(pb::PublishScoresRequest {
            scheme: format!("schemes/{scheme}"),
            level: level as i32,
            period: period.to_owned(),
        }))
        .await
        .map(|r| r.into_inner().ranking.unwrap())
}

fn summary(ranking: &pb::Ranking) -> Vec<(&str, Option<f64>, i32)> {
    ranking
        .cards
        .iter()
        .map(|c| (c.subject.as_str(), c.score, c.rank))
        .collect()
}

async fn outbox_keys(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT routing_key FROM outbox ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_published_version_is_immutable_and_a_new_one_applies_from_its_period() {
    let (app, _) = seeded().await;
    let draft = create_version(&app, "county", scheme_v1()).await.unwrap();
    assert_eq!(draft.name, "schemes/county/versions/1");
    assert_eq!(draft.state, pb::SchemeVersionState::Draft as i32);
    let refused = publish_scores(&app, "county", pb::Level::Community, "2026-11")
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::FailedPrecondition,
        "a draft scores nothing"
    );

    let published = publish_version(&app, "schemes/county/versions/1")
        .await
        .unwrap();
    assert_eq!(published.state, pb::SchemeVersionState::Published as i32);
    let again = publish_version(&app, "schemes/county/versions/1")
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(again.message().contains("immutable"), "{}", again.message());
    // Not even a direct write changes a published version.
    let write = sqlx::query("UPDATE scheme_versions SET display_name = 'x' WHERE version = 1")
        .execute(&app.pool)
        .await;
    assert!(write.is_err());

    let mut same_month = scheme_v1();
    same_month.display_name = "again".to_owned();
    create_version(&app, "county", same_month).await.unwrap();
    let clash = publish_version(&app, "schemes/county/versions/2")
        .await
        .unwrap_err();
    assert_eq!(clash.code(), Code::FailedPrecondition);

    // Version 3 from December weighs only the response.
    let mut december = scheme_v1();
    december.effective_from = "2026-12".to_owned();
    december.indicators.truncate(1);
    let v3 = create_version(&app, "county", december).await.unwrap();
    assert_eq!(v3.name, "schemes/county/versions/3");
    publish_version(&app, &v3.name).await.unwrap();

    let november = publish_scores(&app, "county", pb::Level::Community, "2026-11")
        .await
        .unwrap();
    assert_eq!(november.scheme_version, "schemes/county/versions/1");
    let q4 = publish_scores(&app, "county", pb::Level::Community, "2026-q4")
        .await
        .unwrap();
    assert_eq!(
        q4.scheme_version, "schemes/county/versions/1",
        "from its first month"
    );
    let dec = publish_scores(&app, "county", pb::Level::Community, "2026-12")
        .await
        .unwrap();
    assert_eq!(dec.scheme_version, "schemes/county/versions/3");
    assert_eq!(dec.cards[0].indicators.len(), 1);
    let fetched = app
        .client
        .clone()
        .get_scheme_version(admin(pb::GetSchemeVersionRequest {
            name: "schemes/county/versions/1".to_owned(),
        }))
        .await
        .unwrap()
        .into_inner()
        .scheme_version
        .unwrap();
    assert_eq!(fetched.indicators, scheme_v1().indicators);

    let list = |page_token: String| {
        let mut client = app.client.clone();
        async move {
            client
                .list_scheme_versions(admin(pb::ListSchemeVersionsRequest {
                    parent: "schemes/county".to_owned(),
                    page_size: 2,
                    page_token,
                }))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let first = list(String::new()).await;
    let states: Vec<(String, i32)> = first
        .scheme_versions
        .iter()
        .map(|v| (v.name.clone(), v.state))
        .collect();
    use pb::SchemeVersionState::{Draft, Published};
    assert_eq!(
        states,
        [
            ("schemes/county/versions/1".to_owned(), Published as i32),
            ("schemes/county/versions/2".to_owned(), Draft as i32)
        ]
    );
    let second = list(first.next_page_token).await;
    assert_eq!(second.scheme_versions.len(), 1);
    assert_eq!(second.scheme_versions[0].name, "schemes/county/versions/3");
    assert!(second.next_page_token.is_empty());
}

#[tokio::test]
async fn community_and_street_scores_of_the_fixture_are_the_hand_computed_ones() {
    let (app, _) = seeded().await;
    create_version(&app, "county", scheme_v1()).await.unwrap();
    publish_version(&app, "schemes/county/versions/1")
        .await
        .unwrap();
    let ranking = publish_scores(&app, "county", pb::Level::Community, "2026-11")
        .await
        .unwrap();
    // cm1 (rolled up): 3 reported, 1 accepted on time → 33.33 points;
    // 2 of 3 resolved on time → band 0.5: 60; 2 ratings < 3: insufficient.
    // (50·33.33 + 30·60) / 80 = 43.33. cm2: 1 reported, none on time → 0;
    // nothing resolved or rated: (50·0) / 50 = 0.
    assert_eq!(
        summary(&ranking),
        [("cells/cm1", Some(43.33), 1), ("cells/cm2", Some(0.0), 2)]
    );
    assert_eq!(ranking.name, "schemes/county/rankings/community/2026-11");
    assert_eq!(ranking.revision, 1);
    let cm1 = &ranking.cards[0];
    let lines: Vec<(&str, i32, i64, i64)> = cm1
        .indicators
        .iter()
        .map(|l| (l.indicator.as_str(), l.status, l.numerator, l.denominator))
        .collect();
    use pb::IndicatorStatus::{InsufficientData, Scored};
    assert_eq!(
        lines,
        [
            ("response", Scored as i32, 1, 3),
            ("on-time", Scored as i32, 2, 3),
            ("satisfaction", InsufficientData as i32, 2, 2),
        ]
    );
    assert_eq!(cm1.indicators[1].points, Some(60.0));
    assert_eq!(cm1.indicators[2].points, None);
    assert_eq!(cm1.indicators[1].effective_weight, 37.5);
    assert_eq!(cm1.indicators[0].metrics, "cells/cm1/metrics/2026-11");

    let streets = publish_scores(&app, "county", pb::Level::Street, "2026-11")
        .await
        .unwrap();
    // st1: 1 of 4 on time = 0.25 of the 0.5 target → 50; st2 has no task:
    // insufficient data, no rank.
    assert_eq!(
        summary(&streets),
        [("cells/st1", Some(50.0), 1), ("cells/st2", None, 0)]
    );
    let again = publish_scores(&app, "county", pb::Level::Street, "2026-11")
        .await
        .unwrap();
    assert_eq!(again.revision, 2);
    assert_eq!(
        outbox_keys(&app).await,
        ["assessment.scores.published"; 3],
        "one event per publication of a level and period"
    );
    let payload: Vec<u8> =
        sqlx::query_scalar("SELECT payload FROM outbox ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let event = <pb::ScoresPublished as prost::Message>::decode(payload.as_slice()).unwrap();
    assert_eq!(
        event.ranking.as_ref(),
        Some(&again),
        "the event carries the ranking as published"
    );
    let meta = event.meta.unwrap();
    assert_eq!(
        (meta.aggregate_id.as_str(), meta.aggregate_version),
        ("schemes/county/rankings/street/2026-11", 2)
    );
}

#[tokio::test]
async fn a_score_line_leads_through_explain_metric_to_the_events_behind_it() {
    let (app, events) = seeded().await;
    create_version(&app, "county", scheme_v1()).await.unwrap();
    publish_version(&app, "schemes/county/versions/1")
        .await
        .unwrap();
    let ranking = publish_scores(&app, "county", pb::Level::Community, "2026-11")
        .await
        .unwrap();
    let line = &ranking.cards[0].indicators[1];
    let client = app.client.clone();
    let explain = |metric: &str| {
        let request = pb::ExplainMetricRequest {
            name: line.metrics.clone(),
            metric: metric.to_owned(),
            rolled_up: true,
            ..Default::default()
        };
        let mut client = client.clone();
        async move {
            client
                .explain_metric(admin(request))
                .await
                .unwrap()
                .into_inner()
                .evidence
        }
    };
    let on_time = explain(&line.numerator_metric).await;
    let resolved = explain(&line.denominator_metric).await;
    assert_eq!(on_time.len() as i64, line.numerator);
    assert_eq!(resolved.len() as i64, line.denominator);
    let known: std::collections::HashSet<String> =
        events.iter().map(|e| e.id().to_string()).collect();
    assert!(
        on_time
            .iter()
            .chain(&resolved)
            .all(|e| known.contains(&e.event_id))
    );
    let tasks: std::collections::BTreeSet<&str> =
        resolved.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(tasks, ["tasks/t1", "tasks/t2", "tasks/t3"].into());
}

#[tokio::test]
async fn a_street_sees_its_own_and_its_communities_cards_the_county_all() {
    let (app, _) = seeded().await;
    create_version(&app, "county", scheme_v1()).await.unwrap();
    publish_version(&app, "schemes/county/versions/1")
        .await
        .unwrap();
    publish_scores(&app, "county", pb::Level::Street, "2026-11")
        .await
        .unwrap();
    publish_scores(&app, "county", pb::Level::Community, "2026-11")
        .await
        .unwrap();
    let get = |caller: &'static str, name: &str| {
        let request = pb::GetRankingRequest {
            name: name.to_owned(),
        };
        let mut client = app.client.clone();
        async move {
            let request = if caller == "county" {
                admin(request)
            } else {
                as_street(caller, request)
            };
            client
                .get_ranking(request)
                .await
                .unwrap()
                .into_inner()
                .ranking
                .unwrap()
        }
    };
    let subjects = |r: &pb::Ranking| {
        r.cards
            .iter()
            .map(|c| c.subject.clone())
            .collect::<Vec<_>>()
    };
    let streets = "schemes/county/rankings/street/2026-11";
    let communities = "schemes/county/rankings/community/2026-11";
    assert_eq!(
        subjects(&get("county", streets).await),
        ["cells/st1", "cells/st2"]
    );
    assert_eq!(subjects(&get("st1", streets).await), ["cells/st1"]);
    assert_eq!(
        subjects(&get("st1", communities).await),
        ["cells/cm1", "cells/cm2"]
    );
    assert_eq!(
        subjects(&get("st2", communities).await),
        Vec::<String>::new()
    );
    let missing = app
        .client
        .clone()
        .get_ranking(admin(pb::GetRankingRequest {
            name: "schemes/county/rankings/community/2026-10".to_owned(),
        }))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn a_bad_scheme_names_every_bad_field_and_only_the_county_writes_schemes() {
    let (app, _) = seeded().await;
    let mut bad = scheme_v1();
    bad.effective_from = "2026".to_owned();
    bad.redistribution = 0;
    bad.indicators[0].weight = 0.0;
    bad.indicators[1].formula = ratio("tasks_resolved_on_time", "check_ins");
    bad.indicators[2].id = "response".to_owned();
    bad.indicators[3].scoring = linear(1.0, 1.0);
    let refused = create_version(&app, "county", bad).await.unwrap_err();
    assert_eq!(
        invalid_fields(refused),
        [
            "scheme_version.effective_from",
            "scheme_version.redistribution",
            "scheme_version.indicators[0].weight",
            "scheme_version.indicators[1].ratio.denominator",
            "scheme_version.indicators[2].id",
            "scheme_version.indicators[3].linear",
        ]
    );
    let token = TestKeys::get().token(&[Role::StreetAdmin], &["cells/st1"], None);
    let denied = app
        .client
        .clone()
        .create_scheme_version(with_token(
            pb::CreateSchemeVersionRequest {
                parent: "schemes/county".to_owned(),
                scheme_version: Some(scheme_v1()),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM scheme_versions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "refusals store nothing");
}

#[tokio::test]
async fn a_ranking_exports_as_csv_with_a_bom_and_only_the_callers_cards() {
    let (app, _) = seeded().await;
    create_version(&app, "county", scheme_v1()).await.unwrap();
    publish_version(&app, "schemes/county/versions/1")
        .await
        .unwrap();
    publish_scores(&app, "county", pb::Level::Community, "2026-11")
        .await
        .unwrap();
    let export = |request: tonic::Request<pb::ExportRankingRequest>| {
        let mut client = app.client.clone();
        async move { client.export_ranking(request).await.unwrap().into_inner() }
    };
    let name = "schemes/county/rankings/community/2026-11".to_owned();
    let all = export(admin(pb::ExportRankingRequest { name: name.clone() })).await;
    assert_eq!(all.filename, "county-community-2026-11.csv");
    assert!(all.csv.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(all.csv[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("名次 Rank,对象 Subject,名称 Name,得分 Score,RESPONSE 值 value"));
    assert!(
        lines[1].starts_with("1,cells/cm1,CM1,43.33,0.33,33.33,0.67,60.00,"),
        "{}",
        lines[1]
    );
    let foreign = export(as_street("st2", pb::ExportRankingRequest { name })).await;
    let text = String::from_utf8(foreign.csv[3..].to_vec()).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "only the header for a street with no community here"
    );
}
