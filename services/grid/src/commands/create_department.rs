//! CreateDepartment: a department that tasks can be whistled to, published
//! as `grid.department.created` so other services can show and score
//! departments by name.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;

use super::{CommandError, check_may_edit_directory, now};
use crate::domain::directory::{Department, Versioned};
use crate::events::publish;
use crate::store::directory as store;
use crate::store::lookups::Lookups;

/// Creates a department at version 1; ALREADY_EXISTS when the id is taken.
#[tracing::instrument(skip_all, fields(department = %department.id))]
pub async fn create_department(
    conn: &mut PgConnection,
    lookups: &Lookups,
    caller: &Caller,
    department: Department,
) -> Result<Versioned<Department>, CommandError> {
    check_may_edit_directory(caller)?;
    let at = now();
    if !store::insert_department(conn, &department, at).await? {
        return Err(CommandError::already_exists(department.id.resource_name()));
    }
    let stored = Versioned {
        value: department,
        version: 1,
        create_time: at,
        update_time: at,
    };
    outbox::enqueue(
        &mut *conn,
        &publish::department_created(&stored, &caller.subject),
    )
    .await?;
    lookups.invalidate();
    tracing::info!(department = %stored.value.id, by = %caller.subject, "department created");
    Ok(stored)
}
