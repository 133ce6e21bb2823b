//! UpdateCell: rename a cell or flag a compound newly built.

use civicgrid_cell_tree::{CellRow, resource_name, visible};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;

use super::{CommandError, now};
use crate::domain::access::may_edit_grid;
use crate::domain::cell::{CellId, CellPatch, check_patch};
use crate::events::publish;
use crate::store::cells;

/// A parsed UpdateCell request.
#[derive(Debug, Clone)]
pub struct UpdateCell {
    /// The cell.
    pub id: CellId,
    /// What changes.
    pub patch: CellPatch,
    /// The version the caller last read, from its etag.
    pub expected_version: Option<i64>,
}

/// Applies the patch and writes `grid.cell.updated` with it.
#[tracing::instrument(skip_all, fields(cell = %input.id))]
pub async fn update_cell(
    conn: &mut PgConnection,
    caller: &Caller,
    input: UpdateCell,
) -> Result<CellRow, CommandError> {
    let name = resource_name(input.id.as_str());
    let mut row = cells::lock(&mut *conn, input.id.as_str())
        .await?
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    if !visible(&row, caller.scope_roots("cells").as_deref()) {
        return Err(CommandError::permission_denied(format!(
            "{name} is outside your scope"
        )));
    }
    if !may_edit_grid(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow editing the grid".to_owned(),
        ));
    }
    if let Some(expected) = input.expected_version
        && expected != row.version
    {
        return Err(CommandError::aborted(format!(
            "{name} changed since you read it (your etag is for version {expected}, it is now at {}); read it again",
            row.version
        )));
    }
    let level = cells::level(&row)?;
    check_patch(level, &input.patch)?;

    let mut paths = Vec::new();
    if let Some(display_name) = &input.patch.display_name {
        row.display_name = display_name.as_str().to_owned();
        paths.push("display_name".to_owned());
    }
    if let Some(newly_built) = input.patch.newly_built {
        row.newly_built = newly_built;
        paths.push("newly_built".to_owned());
    }
    row.version += 1;
    row.update_time = now();
    cells::update(&mut *conn, &row).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::cell_updated(&row, paths, &caller.subject),
    )
    .await?;
    Ok(row)
}
