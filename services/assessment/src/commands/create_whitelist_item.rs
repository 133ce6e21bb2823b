//! CreateWhitelistItem: the county puts work departments may hand to
//! communities on the whitelist (准入清单).

use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::{Outcomes as _, UseCaseError};
use sqlx::PgConnection;

use super::check_county_admin;
use crate::store::burden::{self, WhitelistItemRow};

/// Stores a new item; ALREADY_EXISTS when the id is taken.
#[tracing::instrument(skip_all, fields(item = %row.item.id))]
pub async fn create_whitelist_item(
    conn: &mut PgConnection,
    caller: &Caller,
    row: &WhitelistItemRow,
) -> Result<(), UseCaseError> {
    check_county_admin(caller, "keeps the community-work whitelist")?;
    if !burden::insert_item(conn, row).await? {
        return Err(UseCaseError::already_exists(format!(
            "whitelistItems/{}",
            row.item.id
        )));
    }
    tracing::info!(by = %caller.subject, "whitelist item created");
    Ok(())
}
