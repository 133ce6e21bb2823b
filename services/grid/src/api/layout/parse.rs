//! ImportCells and ExportCells requests into command inputs.

use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;

use crate::commands::import_cells::ImportCells;
use crate::domain::cell::CellId;
use crate::domain::layout::LayoutFormat;

pub fn format(number: i32, violations: &mut FieldViolations) -> Option<LayoutFormat> {
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

/// An ExportCellsRequest into the root cell and the file's format.
pub fn export_cells(request: &pb::ExportCellsRequest) -> Result<(CellId, LayoutFormat), Status> {
    let mut violations = FieldViolations::new();
    let root = CellId::parse_name(&request.root);
    if root.is_none() {
        violations.add("root", "must be a cell name `cells/{cell_id}`");
    }
    let format = format(request.format, &mut violations);
    match (root, format) {
        (Some(root), Some(format)) => Ok((root, format)),
        _ => Err(violations.into_status()),
    }
}
