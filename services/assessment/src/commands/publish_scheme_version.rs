//! PublishSchemeVersion: a draft becomes immutable and in force.

use chrono::Utc;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::{Outcomes as _, UseCaseError};
use sqlx::PgConnection;

use super::check_county_admin;
use crate::store::schemes::{self, SchemeVersionRow};

/// Publishes version `version` of `scheme_id`.
#[tracing::instrument(skip_all, fields(scheme = %scheme_id, version))]
pub async fn publish_scheme_version(
    conn: &mut PgConnection,
    caller: &Caller,
    scheme_id: &str,
    version: i32,
) -> Result<SchemeVersionRow, UseCaseError> {
    check_county_admin(caller, "publishes indicator schemes")?;
    schemes::lock_scheme(&mut *conn, scheme_id).await?;
    let name = format!("schemes/{scheme_id}/versions/{version}");
    let mut row = schemes::get_for_update(&mut *conn, scheme_id, version)
        .await?
        .ok_or_else(|| UseCaseError::not_found(name.clone()))?;
    if row.published {
        return Err(UseCaseError::precondition(format!(
            "{name} is published and immutable; create a new version to change the scheme"
        )));
    }
    if let Some(other) = schemes::published_from(&mut *conn, scheme_id, &row.effective_from).await?
    {
        return Err(UseCaseError::precondition(format!(
            "schemes/{scheme_id}/versions/{other} already applies from {}; give this version a later effective_from",
            row.effective_from
        )));
    }
    let at = Utc::now();
    schemes::publish(conn, scheme_id, version, at).await?;
    row.published = true;
    row.publish_time = Some(at);
    tracing::info!(by = %caller.subject, "scheme version published");
    Ok(row)
}
