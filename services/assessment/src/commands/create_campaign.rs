//! CreateCampaign: registers an assessment, inspection, evaluation or
//! demonstration campaign that reaches communities, within the
//! department's yearly quota.

use chrono::Utc;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::{Outcomes as _, UseCaseError};
use sqlx::PgConnection;
use uuid::Uuid;

use super::acts_for;
use crate::domain::burden::check_quota;
use crate::store::burden::{self, CampaignRow};

/// A parsed campaign.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// "departments/{id}".
    pub department: String,
    /// "assessment", "inspection", "evaluation", "demonstration".
    pub kind: &'static str,
    /// Its title.
    pub display_name: String,
    /// The quota year.
    pub year: i32,
    /// "cells/{id}" reached.
    pub communities: Vec<String>,
}

/// Registers the campaign; FAILED_PRECONDITION without quota or over it.
#[tracing::instrument(skip_all, fields(department = %input.department, year = input.year))]
pub async fn create_campaign(
    conn: &mut PgConnection,
    caller: &Caller,
    input: &NewCampaign,
) -> Result<CampaignRow, UseCaseError> {
    if !acts_for(caller, &input.department) {
        return Err(UseCaseError::permission_denied(format!(
            "only operators of {} register its campaigns",
            input.department
        )));
    }
    let quota = burden::quota_for_update(&mut *conn, &input.department, input.year).await?;
    let used = burden::campaigns_used(&mut *conn, &input.department, input.year).await?;
    check_quota(&input.department, input.year, quota, used)
        .map_err(|refusal| UseCaseError::precondition(refusal.to_string()))?;
    let row = CampaignRow {
        id: Uuid::now_v7(),
        department: input.department.clone(),
        kind: input.kind.to_owned(),
        display_name: input.display_name.clone(),
        year: input.year,
        communities: input.communities.clone(),
        create_time: Utc::now(),
    };
    burden::insert_campaign(conn, &row).await?;
    tracing::info!(by = %caller.subject, "campaign registered");
    Ok(row)
}
