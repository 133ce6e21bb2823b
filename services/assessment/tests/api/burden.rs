//! Burden reduction: work requests need an active, funded whitelist item
//! of the requesting department with working conditions, refusals are
//! recorded against the department; campaigns stay within the quota.

use std::sync::Arc;

use civicgrid_proto::assessment::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, invalid_fields, with_token};
use tonic::Code;

use crate::TestApp;
use crate::metrics::{admin, seeded};

fn operator(department: &str) -> String {
    TestKeys::get().token(&[Role::DepartmentOperator], &[], Some(department))
}

/// The year requests made now count in (Asia/Shanghai).
fn this_year() -> i32 {
    use chrono::Datelike;
    (chrono::Utc::now() + chrono::TimeDelta::hours(8)).year()
}

async fn item(
    app: &TestApp,
    id: &str,
    department: &str,
    funds: i64,
    conditions: &str,
    valid: (&str, &str),
) {
    app.client
        .clone()
        .create_whitelist_item(admin(pb::CreateWhitelistItemRequest {
            whitelist_item_id: id.to_owned(),
            whitelist_item: Some(pb::WhitelistItem {
                display_name: format!("{id} 工作"),
                legal_basis: "《城乡社区服务体系建设规划》".to_owned(),
                department: format!("departments/{department}"),
                yearly_funds: funds,
                working_conditions: conditions.to_owned(),
                valid_from: valid.0.to_owned(),
                valid_until: valid.1.to_owned(),
                ..Default::default()
            }),
        }))
        .await
        .unwrap();
}

async fn request(
    app: &TestApp,
    token: &str,
    department: &str,
    item: &str,
) -> Result<pb::WorkRequest, tonic::Status> {
    app.client
        .clone()
        .create_work_request(with_token(
            pb::CreateWorkRequestRequest {
                work_request: Some(pb::WorkRequest {
                    department: format!("departments/{department}"),
                    community: "cells/cm1".to_owned(),
                    whitelist_item: format!("whitelistItems/{item}"),
                    description: "垃圾分类入户宣传".to_owned(),
                    ..Default::default()
                }),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().work_request.unwrap())
}

async fn report(app: &TestApp, year: i32) -> pb::BurdenReport {
    app.client
        .clone()
        .get_burden_report(admin(pb::GetBurdenReportRequest {
            name: format!("cells/cm1/burdenReports/{year}"),
        }))
        .await
        .unwrap()
        .into_inner()
        .burden_report
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_work_request_without_an_active_funded_item_is_refused_naming_what_is_missing_and_counted_against_the_department()
 {
    let (app, _) = seeded().await;
    let always = ("2020-01-01", "2099-12-31");
    item(
        &app,
        "sanitation",
        "urban",
        50_000,
        "宣传册与志愿者培训",
        always,
    )
    .await;
    item(&app, "census", "stats", 0, "调查终端", always).await;
    item(
        &app,
        "expired",
        "urban",
        10_000,
        "台账系统",
        ("2020-01-01", "2020-12-31"),
    )
    .await;
    item(&app, "bare", "urban", 10_000, "", always).await;
    let urban = operator("urban");

    let accepted = request(&app, &urban, "urban", "sanitation").await.unwrap();
    assert_eq!(accepted.state, pb::WorkRequestState::Accepted as i32);
    assert!(accepted.missing.is_empty());

    let cases = [
        (
            "nothing",
            vec!["whitelistItems/nothing is not on the community-work whitelist"],
        ),
        (
            "census",
            vec!["a whitelist item of departments/urban", "funds"],
        ),
        ("expired", vec!["an active item"]),
        ("bare", vec!["working conditions"]),
    ];
    for (cited, missing) in &cases {
        let refused = request(&app, &urban, "urban", cited).await.unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition, "{cited}");
        for what in missing {
            assert!(
                refused.message().contains(what),
                "{cited}: {}",
                refused.message()
            );
        }
        assert!(
            refused
                .message()
                .contains("recorded against departments/urban")
        );
    }
    // Only the department's own operators ask for it; that refusal is no
    // request and is recorded nowhere.
    let denied = request(&app, &operator("housing"), "urban", "sanitation")
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad = request(&app, &urban, "urban", "Not An Id")
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(bad), ["work_request.whitelist_item"]);

    let burden = report(&app, this_year()).await;
    assert_eq!(
        (
            burden.requests_accepted,
            burden.requests_refused,
            burden.campaigns
        ),
        (1, 4, 0)
    );
    assert_eq!(
        burden.departments,
        [pb::DepartmentBurden {
            department: "departments/urban".to_owned(),
            requests_accepted: 1,
            requests_refused: 4,
            campaigns: 0,
        }]
    );
    assert_eq!(count(&app, "SELECT count(*) FROM work_requests").await, 5);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE routing_key = 'assessment.work_request.refused'"
        )
        .await,
        4
    );
}

async fn campaign(app: &TestApp, year: i32) -> Result<pb::Campaign, tonic::Status> {
    let mut client = app.client.clone();
    client
        .create_campaign(with_token(
            pb::CreateCampaignRequest {
                campaign: Some(pb::Campaign {
                    department: "departments/urban".to_owned(),
                    kind: pb::CampaignKind::Inspection as i32,
                    display_name: "市容检查".to_owned(),
                    year,
                    communities: vec!["cells/cm1".to_owned(), "cells/cm2".to_owned()],
                    ..Default::default()
                }),
            },
            &operator("urban"),
        ))
        .await
        .map(|r| r.into_inner().campaign.unwrap())
}

#[tokio::test]
async fn campaigns_over_the_yearly_quota_are_refused_even_when_they_race() {
    let app = Arc::new(seeded().await.0);
    let year = this_year();
    let none = campaign(&app, year).await.unwrap_err();
    assert_eq!(none.code(), Code::FailedPrecondition);
    assert!(
        none.message().contains("no campaign quota"),
        "{}",
        none.message()
    );

    let set = |token: String, quota: i32| {
        let mut client = app.client.clone();
        async move {
            client
                .set_campaign_quota(with_token(
                    pb::SetCampaignQuotaRequest {
                        campaign_quota: Some(pb::CampaignQuota {
                            name: format!("departments/urban/campaignQuotas/{year}"),
                            quota,
                            used: 0,
                        }),
                    },
                    &token,
                ))
                .await
        }
    };
    let denied = set(operator("urban"), 99).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    set(TestKeys::get().county_admin(), 2).await.unwrap();

    let contenders = 5;
    let barrier = Arc::new(tokio::sync::Barrier::new(contenders));
    let mut handles = Vec::new();
    for _ in 0..contenders {
        let (barrier, app) = (barrier.clone(), app.clone());
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            campaign(&app, year).await
        }));
    }
    let mut won = 0;
    for handle in handles {
        match handle.await.unwrap() {
            Ok(_) => won += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition);
                assert!(
                    status.message().contains("used its quota of 2"),
                    "{}",
                    status.message()
                );
            }
        }
    }
    assert_eq!(won, 2);
    assert_eq!(count(&app, "SELECT count(*) FROM campaigns").await, 2);
    let used = set(TestKeys::get().county_admin(), 2)
        .await
        .unwrap()
        .into_inner()
        .campaign_quota
        .unwrap()
        .used;
    assert_eq!(used, 2);
    let burden = report(&app, year).await;
    assert_eq!(burden.campaigns, 2);
    assert_eq!(burden.departments[0].campaigns, 2);
    // Another year has its own quota (none here).
    assert_eq!(
        campaign(&app, year + 1).await.unwrap_err().code(),
        Code::FailedPrecondition
    );
}
