//! Layouts: ImportCells (the command does the work) and ExportCells (a
//! read) of the GridService. The file codec is `domain::layout::codec`.

pub mod parse;

use std::collections::HashMap;

use civicgrid_cell_tree::{CellRow, visible};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::grpc::MAX_MESSAGE_BYTES;
use civicgrid_runtime::status;
use sqlx::PgPool;
use tonic::Status;

use super::cells::read_roots;
use crate::domain::layout::{self, CompoundLayoutRow, LayoutRow};
use crate::store::{cells, compounds};

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
    // A compound travels with the subtree that holds its community; below a
    // community there are none, and its buildings name none.
    let compounds = compounds::within(pool, &root.path)
        .await
        .map_err(status::database)?;
    let compound_of: HashMap<&str, &str> = compounds
        .iter()
        .flat_map(|c| c.building_ids.iter().map(|b| (b.as_str(), c.id.as_str())))
        .collect();
    let rows = subtree
        .iter()
        .map(|row| layout_row(row, compound_of.get(row.id.as_str()).copied()))
        .collect::<Result<Vec<_>, Status>>()?;
    let compound_rows: Vec<CompoundLayoutRow<'_>> = compounds
        .iter()
        .map(|c| CompoundLayoutRow {
            id: &c.id,
            community_id: &c.community_id,
            display_name: &c.display_name,
            newly_built: c.newly_built,
            address: &c.address,
            year_built: c.year_built,
            property_company: &c.property_company,
            lacks_required_facilities: c.lacks_required_facilities,
        })
        .collect();
    let content = layout::write(format, &rows, &compound_rows).map_err(status::internal)?;
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
        compound_count: i32::try_from(compound_rows.len()).unwrap_or(i32::MAX),
    })
}

fn layout_row<'a>(row: &'a CellRow, compound_id: Option<&'a str>) -> Result<LayoutRow<'a>, Status> {
    let level = cells::level(row).map_err(status::database)?;
    Ok(LayoutRow {
        id: &row.id,
        parent_id: row.parent_id.as_deref(),
        level,
        display_name: &row.display_name,
        newly_built: row.newly_built,
        compound_id,
    })
}
