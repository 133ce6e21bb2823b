//! CreateCell: place a new cell under its parent.

use civicgrid_cell_tree::{CellRow, resource_name, visible};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::{may_create_county, may_edit_grid};
use crate::domain::cell::{NewCell, check_placement};
use crate::events::publish;
use crate::store::cells;

/// A parsed CreateCell request.
#[derive(Debug, Clone)]
pub struct CreateCell {
    /// The cell.
    pub cell: NewCell,
    /// Idempotency key.
    pub request_id: Option<Uuid>,
}

/// Creates the cell and writes its `grid.cell.created` event.
#[tracing::instrument(skip_all, fields(cell = %input.cell.id))]
pub async fn create_cell(
    conn: &mut PgConnection,
    caller: &Caller,
    input: CreateCell,
) -> Result<CellRow, CommandError> {
    if !may_edit_grid(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow editing the grid".to_owned(),
        ));
    }
    let roots = caller.scope_roots("cells");

    if let Some(request_id) = input.request_id
        && let Some(existing) = cells::created_by_request(&mut *conn, request_id).await?
    {
        // A retry of a request that already succeeded: same answer, no new event.
        return civicgrid_cell_tree::get(&mut *conn, &existing)
            .await?
            .filter(|row| visible(row, roots.as_deref()))
            .ok_or_else(|| CommandError::not_found(resource_name(&existing)));
    }

    let parent = match &input.cell.parent {
        Some(parent) => civicgrid_cell_tree::get(&mut *conn, parent.as_str()).await?,
        None => None,
    };
    match &parent {
        None if input.cell.parent.is_none() && !may_create_county(caller) => {
            return Err(CommandError::permission_denied(
                "only a county admin seeing the whole county creates counties".to_owned(),
            ));
        }
        Some(parent) if !visible(parent, roots.as_deref()) => {
            return Err(CommandError::permission_denied(format!(
                "{} is outside your scope",
                resource_name(&parent.id)
            )));
        }
        _ => {}
    }
    let parent_level = parent.as_ref().map(cells::level).transpose()?;
    check_placement(&input.cell, parent_level)?;

    let at = now();
    let row = CellRow {
        id: input.cell.id.as_str().to_owned(),
        parent_id: input.cell.parent.as_ref().map(|p| p.as_str().to_owned()),
        level: input.cell.level.number(),
        display_name: input.cell.display_name.as_str().to_owned(),
        newly_built: input.cell.newly_built,
        path: CellRow::child_path(
            parent.as_ref().map(|p| p.path.as_str()),
            input.cell.id.as_str(),
        ),
        version: 1,
        create_time: at,
        update_time: at,
    };
    if !cells::insert(&mut *conn, &row).await? {
        return Err(CommandError::already_exists(resource_name(&row.id)));
    }
    let causation = input
        .request_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    if let Some(request_id) = input.request_id {
        cells::remember_request(&mut *conn, request_id, &row.id).await?;
    }
    outbox::enqueue(
        &mut *conn,
        &publish::cell_created(&row, &caller.subject, &causation),
    )
    .await?;
    tracing::info!(cell = %row.id, level = row.level, "cell created");
    Ok(row)
}
