//! ImportCells and ExportCells: requests parsed once, the export read.

use civicgrid_cell_tree::{CellRow, visible};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::grpc::MAX_MESSAGE_BYTES;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;

use crate::commands::import_cells::ImportCells;
use crate::domain::cell::{CellId, Level};
use crate::domain::layout::{self, LayoutFormat, LayoutRow};
use crate::store::cells;

fn format(number: i32, violations: &mut FieldViolations) -> Option<LayoutFormat> {
    match pb::LayoutFormat::try_from(number) {
        Ok(pb::LayoutFormat::Csv) => Some(LayoutFormat::Csv),
        Ok(pb::LayoutFormat::Json) => Some(LayoutFormat::Json),
        _ => {
            violations.add("format", "must be LAYOUT_FORMAT_CSV or LAYOUT_FORMAT_JSON");
            None
        }
    }
}

/// An ImportCellsRequest into a command input. The content itself is
/// checked row by row by the command, against the cells already stored.
pub fn import_cells(request: pb::ImportCellsRequest) -> Result<ImportCells, Status> {
    let mut violations = FieldViolations::new();
    let format = format(request.format, &mut violations);
    if request.content.is_empty() {
        violations.add("content", "is required: the layout file");
    }
    match format {
        Some(format) if violations.is_empty() => Ok(ImportCells {
            format,
            content: request.content,
            validate_only: request.validate_only,
        }),
        _ => Err(violations.into_status()),
    }
}

/// Room left in a response for everything but the file.
const RESPONSE_OVERHEAD: usize = 64;

/// The root and its subtree as a layout file, parents first. NOT_FOUND when
/// the root does not exist or is outside the caller's scope.
pub async fn export_cells(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ExportCellsRequest,
) -> Result<pb::ExportCellsResponse, Status> {
    let mut violations = FieldViolations::new();
    let root = CellId::parse_name(&request.root);
    if root.is_none() {
        violations.add("root", "must be a cell name `cells/{cell_id}`");
    }
    let format = format(request.format, &mut violations);
    let (Some(root), Some(format)) = (root, format) else {
        return Err(violations.into_status());
    };
    let roots = super::read_roots(pool, caller).await?;
    let root = civicgrid_cell_tree::get(pool, root.as_str())
        .await
        .map_err(status::database)?
        .filter(|row| visible(row, roots.as_deref()))
        .ok_or_else(|| Status::not_found(format!("{} not found", request.root)))?;
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
    let level = Level::from_number(i32::from(row.level))
        .ok_or_else(|| status::internal(format!("cell {} has level {}", row.id, row.level)))?;
    Ok(LayoutRow {
        id: &row.id,
        parent_id: row.parent_id.as_deref(),
        level,
        display_name: &row.display_name,
        newly_built: row.newly_built,
    })
}
