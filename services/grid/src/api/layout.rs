//! Layouts: ImportCells (the command does the work) and ExportCells (a
//! read) of the GridService. The file codec is `domain::layout::codec`.

pub mod parse;

use civicgrid_cell_tree::{CellRow, visible};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::grpc::MAX_MESSAGE_BYTES;
use civicgrid_runtime::status;
use sqlx::PgPool;
use tonic::Status;

use super::cells::read_roots;
use crate::domain::layout::{self, LayoutRow};
use crate::store::cells;

/// Room left in a response for everything but the file.
const RESPONSE_OVERHEAD: usize = 64;

/// The root and its subtree as a layout file, parents first. NOT_FOUND when
/// the root does not exist or is outside the caller's scope.
pub async fn export_cells(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ExportCellsRequest,
) -> Result<pb::ExportCellsResponse, Status> {
    let (root, format) = parse::export_cells(request)?;
    let roots = read_roots(pool, caller).await.map_err(status::database)?;
    let root = civicgrid_cell_tree::get(pool, root.as_str())
        .await
        .map_err(status::database)?
        .filter(|row| visible(row, roots.as_deref()))
        .ok_or_else(|| UseCaseError::NotFound(request.root.clone()))?;
    let subtree = cells::subtree(pool, &root.path)
        .await
        .map_err(status::database)?;
    let rows = subtree
        .iter()
        .map(layout_row)
        .collect::<Result<Vec<_>, Status>>()?;
    let content = layout::write(format, &rows).map_err(status::internal)?;
    if content.len() + RESPONSE_OVERHEAD > MAX_MESSAGE_BYTES {
        return Err(Status::failed_precondition(format!(
            "the export of {} is {} bytes, more than one response carries ({MAX_MESSAGE_BYTES}); \
             export its children one by one",
            request.root,
            content.len()
        )));
    }
    Ok(pb::ExportCellsResponse {
        content,
        cell_count: i32::try_from(rows.len()).unwrap_or(i32::MAX),
    })
}

fn layout_row(row: &CellRow) -> Result<LayoutRow<'_>, Status> {
    let level = cells::level(row).map_err(status::database)?;
    Ok(LayoutRow {
        id: &row.id,
        parent_id: row.parent_id.as_deref(),
        level,
        display_name: &row.display_name,
        newly_built: row.newly_built,
    })
}
