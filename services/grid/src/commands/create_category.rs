//! CreateCategory: a kind of task, with the extra fields a report of it
//! carries; published as `grid.category.created`.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;

use super::{CommandError, check_may_edit_directory, now};
use crate::domain::directory::{Category, Versioned};
use crate::events::publish;
use crate::store::directory as store;
use crate::store::lookups::Lookups;

/// Creates a category with its extra fields at version 1; ALREADY_EXISTS
/// when the id is taken.
#[tracing::instrument(skip_all, fields(category = %category.id))]
pub async fn create_category(
    conn: &mut PgConnection,
    lookups: &Lookups,
    caller: &Caller,
    category: Category,
) -> Result<Versioned<Category>, CommandError> {
    check_may_edit_directory(caller)?;
    let at = now();
    if !store::insert_category(conn, &category, at).await? {
        return Err(CommandError::already_exists(category.id.resource_name()));
    }
    let stored = Versioned {
        value: category,
        version: 1,
        create_time: at,
        update_time: at,
    };
    outbox::enqueue(
        &mut *conn,
        &publish::category_created(&stored, &caller.subject),
    )
    .await?;
    lookups.invalidate();
    tracing::info!(category = %stored.value.id, by = %caller.subject, "category created");
    Ok(stored)
}
