//! CreateSchemeVersion: a draft version of an indicator scheme.

use chrono::Utc;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use sqlx::PgConnection;

use super::check_county_admin;
use crate::domain::period::Period;
use crate::domain::scheme::SchemeSpec;
use crate::store::schemes::{self, SchemeVersionRow};

/// A parsed version to create.
#[derive(Debug, Clone)]
pub struct NewSchemeVersion {
    /// The scheme's id.
    pub scheme_id: String,
    /// Its title.
    pub display_name: String,
    /// The first month it applies to.
    pub effective_from: Period,
    /// Its indicators.
    pub spec: SchemeSpec,
}

/// Stores the scheme's next version as a draft.
#[tracing::instrument(skip_all, fields(scheme = %input.scheme_id))]
pub async fn create_scheme_version(
    conn: &mut PgConnection,
    caller: &Caller,
    input: &NewSchemeVersion,
) -> Result<SchemeVersionRow, UseCaseError> {
    check_county_admin(caller, "writes indicator schemes")?;
    schemes::lock_scheme(&mut *conn, &input.scheme_id).await?;
    let row = schemes::insert_next(
        conn,
        &input.scheme_id,
        &input.display_name,
        &input.effective_from.to_string(),
        &input.spec,
        Utc::now(),
    )
    .await?;
    tracing::info!(scheme = %row.scheme_id, version = row.version, by = %caller.subject, "scheme version drafted");
    Ok(row)
}
