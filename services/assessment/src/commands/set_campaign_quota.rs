//! SetCampaignQuota: how many campaigns reaching communities a department
//! may run in a year.

use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use sqlx::PgConnection;

use super::check_county_admin;
use crate::store::burden;

/// Sets (or changes) the quota.
#[tracing::instrument(skip_all, fields(%department, year, quota))]
pub async fn set_campaign_quota(
    conn: &mut PgConnection,
    caller: &Caller,
    department: &str,
    year: i32,
    quota: i32,
) -> Result<i64, UseCaseError> {
    check_county_admin(caller, "sets campaign quotas")?;
    burden::set_quota(&mut *conn, department, year, quota).await?;
    Ok(burden::campaigns_used(conn, department, year).await?)
}
