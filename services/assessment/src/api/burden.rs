//! Burden reduction: the whitelist, work requests, campaign quotas,
//! campaigns and the burden report.

use chrono::{NaiveDate, Utc};
use civicgrid_proto::assessment::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::status::{self, FieldViolations};
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::create_campaign::{NewCampaign, create_campaign};
use crate::commands::create_whitelist_item::create_whitelist_item;
use crate::commands::create_work_request::{NewWorkRequest, create_work_request};
use crate::commands::set_campaign_quota::set_campaign_quota;
use crate::convert;
use crate::domain::burden::WhitelistItem;
use crate::store::burden::{self, WhitelistItemRow};

fn department(name: &str, field: &str, violations: &mut FieldViolations) -> Option<String> {
    let ok = name
        .strip_prefix("departments/")
        .is_some_and(civicgrid_cell_tree::is_valid_id);
    if !ok {
        violations.add(field, "must be `departments/{department_id}`");
    }
    ok.then(|| name.to_owned())
}

fn cell_id(name: &str, field: &str, violations: &mut FieldViolations) -> Option<String> {
    let id = civicgrid_cell_tree::parse_name(name);
    if id.is_none() {
        violations.add(field, "must be `cells/{cell_id}`");
    }
    id.map(str::to_owned)
}

fn date(text: &str, field: &str, violations: &mut FieldViolations) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    if parsed.is_none() {
        violations.add(field, "must be a date `2026-01-01`");
    }
    parsed
}

fn not_empty(text: &str, field: &str, violations: &mut FieldViolations) {
    if text.trim().is_empty() {
        violations.add(field, "must not be empty");
    }
}

pub(super) async fn create_item(
    pool: &PgPool,
    request: Request<pb::CreateWhitelistItemRequest>,
) -> Result<Response<pb::CreateWhitelistItemResponse>, Status> {
    let caller = Caller::of(&request)?;
    let body = request.get_ref();
    let mut v = FieldViolations::new();
    if !crate::domain::scheme::is_valid_id(&body.whitelist_item_id) {
        v.add(
            "whitelist_item_id",
            "must be 1-63 lower-case letters, digits, '-' or '_'",
        );
    }
    let default = pb::WhitelistItem::default();
    let item = body.whitelist_item.as_ref().unwrap_or(&default);
    not_empty(&item.display_name, "whitelist_item.display_name", &mut v);
    not_empty(&item.legal_basis, "whitelist_item.legal_basis", &mut v);
    let dept = department(&item.department, "whitelist_item.department", &mut v);
    if item.yearly_funds < 0 {
        v.add("whitelist_item.yearly_funds", "must not be negative");
    }
    let from = date(&item.valid_from, "whitelist_item.valid_from", &mut v);
    let until = date(&item.valid_until, "whitelist_item.valid_until", &mut v);
    if let (Some(from), Some(until)) = (from, until)
        && until < from
    {
        v.add(
            "whitelist_item.valid_until",
            "must not be before valid_from",
        );
    }
    v.check(())?;
    let (Some(dept), Some(valid_from), Some(valid_until)) = (dept, from, until) else {
        return Err(FieldViolations::new().into_status());
    };
    let row = WhitelistItemRow {
        item: WhitelistItem {
            id: body.whitelist_item_id.clone(),
            department: dept,
            yearly_funds: item.yearly_funds,
            working_conditions: item.working_conditions.clone(),
            valid_from,
            valid_until,
        },
        display_name: item.display_name.clone(),
        legal_basis: item.legal_basis.clone(),
        create_time: Utc::now(),
    };
    transact(pool, &(caller, row.clone()), |tx, (caller, row)| {
        Box::pin(create_whitelist_item(tx, caller, row))
    })
    .await?;
    Ok(Response::new(pb::CreateWhitelistItemResponse {
        whitelist_item: Some(convert::whitelist_item(&row)),
    }))
}

pub(super) async fn create_request(
    pool: &PgPool,
    request: Request<pb::CreateWorkRequestRequest>,
) -> Result<Response<pb::CreateWorkRequestResponse>, Status> {
    let caller = Caller::of(&request)?;
    let default = pb::WorkRequest::default();
    let body = request.get_ref().work_request.as_ref().unwrap_or(&default);
    let mut v = FieldViolations::new();
    let dept = department(&body.department, "work_request.department", &mut v);
    let community = cell_id(&body.community, "work_request.community", &mut v);
    let item = body
        .whitelist_item
        .strip_prefix("whitelistItems/")
        .filter(|id| crate::domain::scheme::is_valid_id(id));
    if item.is_none() {
        v.add(
            "work_request.whitelist_item",
            "must be `whitelistItems/{item_id}`",
        );
    }
    not_empty(&body.description, "work_request.description", &mut v);
    v.check(())?;
    let (Some(department), Some(community), Some(item)) = (dept, community, item) else {
        return Err(FieldViolations::new().into_status());
    };
    let input = NewWorkRequest {
        department,
        community,
        whitelist_item: item.to_owned(),
        description: body.description.clone(),
    };
    let row = transact(pool, &(caller, input), |tx, (caller, input)| {
        Box::pin(create_work_request(tx, caller, input))
    })
    .await?;
    if !row.accepted {
        return Err(Status::failed_precondition(format!(
            "{} may not hand this work to {}: missing {}; the refusal is recorded against {}",
            row.department,
            row.community,
            row.missing.join("; "),
            row.department
        )));
    }
    Ok(Response::new(pb::CreateWorkRequestResponse {
        work_request: Some(convert::work_request(&row)),
    }))
}

pub(super) async fn set_quota(
    pool: &PgPool,
    request: Request<pb::SetCampaignQuotaRequest>,
) -> Result<Response<pb::SetCampaignQuotaResponse>, Status> {
    let caller = Caller::of(&request)?;
    let default = pb::CampaignQuota::default();
    let quota = request
        .get_ref()
        .campaign_quota
        .as_ref()
        .unwrap_or(&default);
    let mut v = FieldViolations::new();
    let parsed = quota
        .name
        .split_once("/campaignQuotas/")
        .and_then(|(dept, year)| {
            let dept = dept
                .strip_prefix("departments/")
                .filter(|d| civicgrid_cell_tree::is_valid_id(d))?;
            let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y))?;
            Some((format!("departments/{dept}"), year))
        });
    if parsed.is_none() {
        v.add(
            "campaign_quota.name",
            "must be `departments/{department_id}/campaignQuotas/{year}`",
        );
    }
    if quota.quota < 0 {
        v.add("campaign_quota.quota", "must not be negative");
    }
    v.check(())?;
    let (dept, year) = parsed.ok_or_else(|| FieldViolations::new().into_status())?;
    let used = transact(
        pool,
        &(caller, dept, year, quota.quota),
        |tx, (caller, dept, year, quota)| {
            Box::pin(set_campaign_quota(tx, caller, dept, *year, *quota))
        },
    )
    .await?;
    Ok(Response::new(pb::SetCampaignQuotaResponse {
        campaign_quota: Some(pb::CampaignQuota {
            name: quota.name.clone(),
            quota: quota.quota,
            used: i32::try_from(used).unwrap_or(i32::MAX),
        }),
    }))
}

pub(super) async fn create_campaign_rpc(
    pool: &PgPool,
    request: Request<pb::CreateCampaignRequest>,
) -> Result<Response<pb::CreateCampaignResponse>, Status> {
    let caller = Caller::of(&request)?;
    let default = pb::Campaign::default();
    let body = request.get_ref().campaign.as_ref().unwrap_or(&default);
    let mut v = FieldViolations::new();
    let dept = department(&body.department, "campaign.department", &mut v);
    let kind = match pb::CampaignKind::try_from(body.kind) {
        Ok(pb::CampaignKind::Assessment) => Some("assessment"),
        Ok(pb::CampaignKind::Inspection) => Some("inspection"),
        Ok(pb::CampaignKind::Evaluation) => Some("evaluation"),
        Ok(pb::CampaignKind::Demonstration) => Some("demonstration"),
        _ => {
            v.add(
                "campaign.kind",
                "must be ASSESSMENT, INSPECTION, EVALUATION or DEMONSTRATION",
            );
            None
        }
    };
    not_empty(&body.display_name, "campaign.display_name", &mut v);
    if !(2000..=2100).contains(&body.year) {
        v.add("campaign.year", "must be a year such as 2026");
    }
    if body.communities.is_empty() {
        v.add("campaign.communities", "must name at least one community");
    }
    for (index, community) in body.communities.iter().enumerate() {
        cell_id(community, &format!("campaign.communities[{index}]"), &mut v);
    }
    v.check(())?;
    let (Some(department), Some(kind)) = (dept, kind) else {
        return Err(FieldViolations::new().into_status());
    };
    let input = NewCampaign {
        department,
        kind,
        display_name: body.display_name.clone(),
        year: body.year,
        communities: body.communities.clone(),
    };
    let row = transact(pool, &(caller, input), |tx, (caller, input)| {
        Box::pin(create_campaign(tx, caller, input))
    })
    .await?;
    Ok(Response::new(pb::CreateCampaignResponse {
        campaign: Some(convert::campaign(&row)),
    }))
}

pub(super) async fn report(
    api: &super::AssessmentApi,
    request: Request<pb::GetBurdenReportRequest>,
) -> Result<Response<pb::GetBurdenReportResponse>, Status> {
    let caller = Caller::of(&request)?;
    let name = &request.get_ref().name;
    let parsed = name.split_once("/burdenReports/").and_then(|(cell, year)| {
        let id = civicgrid_cell_tree::parse_name(cell)?;
        let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y))?;
        Some((id.to_owned(), year))
    });
    let Some((id, year)) = parsed else {
        let mut v = FieldViolations::new();
        v.add(
            "name",
            "must be `cells/{community_id}/burdenReports/{year}`",
        );
        return Err(v.into_status());
    };
    api.visible_cell_path(caller, &id).await?;
    let rows = burden::burden(&api.pool, &format!("cells/{id}"), year)
        .await
        .map_err(status::database)?;
    let departments: Vec<pb::DepartmentBurden> = rows
        .into_iter()
        .map(
            |(department, accepted, refused, campaigns)| pb::DepartmentBurden {
                department,
                requests_accepted: accepted,
                requests_refused: refused,
                campaigns,
            },
        )
        .collect();
    Ok(Response::new(pb::GetBurdenReportResponse {
        burden_report: Some(pb::BurdenReport {
            name: name.clone(),
            requests_accepted: departments.iter().map(|d| d.requests_accepted).sum(),
            requests_refused: departments.iter().map(|d| d.requests_refused).sum(),
            campaigns: departments.iter().map(|d| d.campaigns).sum(),
            departments,
        }),
    }))
}
