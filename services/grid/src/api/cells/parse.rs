//! Requests into command inputs, once, with every field violation named.

use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::fields;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::commands::create_cell::CreateCell;
use crate::commands::update_cell::UpdateCell;
use crate::domain::cell::{CellId, CellPatch, DisplayName, Level, NewCell};

/// A cell name `cells/{cell_id}` in `field`.
pub fn cell_name(name: &str, field: &str) -> Result<CellId, Status> {
    CellId::parse_name(name).ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(field, "must be a cell name `cells/{cell_id}`");
        violations.into_status()
    })
}

/// A CreateCellRequest into a command input.
// `Cell.newly_built` is deprecated (Compound.newly_built replaces it) but
// still accepted: integrators set it today.
#[allow(deprecated)]
pub fn create_cell(request: &pb::CreateCellRequest) -> Result<CreateCell, Status> {
    let mut violations = FieldViolations::new();
    let id = CellId::parse(&request.cell_id);
    if id.is_none() {
        violations.add(
            "cell_id",
            "must be 1-63 characters of a-z, 0-9 and '-', not starting with '-'",
        );
    }
    let request_id = match request.request_id.as_str() {
        "" => None,
        text => {
            let parsed = Uuid::parse_str(text).ok();
            if parsed.is_none() {
                violations.add("request_id", "must be a UUID");
            }
            parsed
        }
    };
    let Some(cell) = request.cell.as_ref() else {
        violations.add("cell", "is required");
        return Err(violations.into_status());
    };
    let level = Level::from_number(cell.level);
    if level.is_none() {
        violations.add(
            "cell.level",
            "must be one of COUNTY, STREET, COMMUNITY, GRID, BUILDING, UNIT",
        );
    }
    let parent = match (cell.parent.as_str(), level) {
        ("", Some(Level::County)) | ("", None) => None,
        ("", Some(_)) => {
            violations.add(
                "cell.parent",
                "is required for every level below the county",
            );
            None
        }
        (_, Some(Level::County)) => {
            violations.add("cell.parent", "must be empty for a county");
            None
        }
        (name, _) => {
            let parent = CellId::parse_name(name);
            if parent.is_none() {
                violations.add("cell.parent", "must be a cell name `cells/{cell_id}`");
            }
            parent
        }
    };
    let display_name = DisplayName::parse(&cell.display_name)
        .map_err(|reason| violations.add("cell.display_name", reason))
        .ok();
    match (id, level, display_name) {
        (Some(id), Some(level), Some(display_name)) if violations.is_empty() => Ok(CreateCell {
            cell: NewCell {
                id,
                parent,
                level,
                display_name,
                newly_built: cell.newly_built,
            },
            request_id,
        }),
        _ => Err(violations.into_status()),
    }
}

/// An UpdateCellRequest into a command input.
// Still accepts the deprecated `newly_built`, as create does.
#[allow(deprecated)]
pub fn update_cell(request: &pb::UpdateCellRequest) -> Result<UpdateCell, Status> {
    let mut violations = FieldViolations::new();
    let Some(cell) = request.cell.as_ref() else {
        violations.add("cell", "is required");
        return Err(violations.into_status());
    };
    let id = CellId::parse_name(&cell.name);
    if id.is_none() {
        violations.add("cell.name", "must be a cell name `cells/{cell_id}`");
    }
    let expected_version = fields::etag(&cell.etag, "cell.etag", &mut violations);
    let paths = fields::update_paths(
        request.update_mask.as_ref(),
        "display_name, newly_built",
        &mut violations,
    );
    let mut patch = CellPatch::default();
    for path in paths {
        match path.as_str() {
            "display_name" => match DisplayName::parse(&cell.display_name) {
                Ok(name) => patch.display_name = Some(name),
                Err(reason) => violations.add("cell.display_name", reason),
            },
            "newly_built" => patch.newly_built = Some(cell.newly_built),
            other => violations.add(
                "update_mask",
                format!("`{other}` cannot be updated; only display_name, newly_built"),
            ),
        }
    }
    match id {
        Some(id) if violations.is_empty() => Ok(UpdateCell {
            id,
            patch,
            expected_version,
        }),
        _ => Err(violations.into_status()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civicgrid_testkit::invalid_fields as fields;

    #[test]
    fn every_bad_field_of_a_create_is_named() {
        let request = pb::CreateCellRequest {
            cell_id: "Bad Id".into(),
            cell: Some(pb::Cell {
                level: 9,
                parent: "nope".into(),
                display_name: " ".into(),
                ..Default::default()
            }),
            request_id: "not-a-uuid".into(),
        };
        let status = create_cell(&request).expect_err("invalid");
        assert_eq!(
            fields(status),
            vec![
                "cell_id",
                "request_id",
                "cell.level",
                "cell.parent",
                "cell.display_name"
            ]
        );
    }

    #[test]
    fn a_county_has_no_parent_and_everything_else_needs_one() {
        let county = pb::CreateCellRequest {
            cell_id: "c".into(),
            cell: Some(pb::Cell {
                level: 1,
                parent: "cells/x".into(),
                display_name: "C".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        assert_eq!(
            fields(create_cell(&county).expect_err("invalid")),
            vec!["cell.parent"]
        );
        let street = pb::CreateCellRequest {
            cell_id: "s".into(),
            cell: Some(pb::Cell {
                level: 2,
                display_name: "S".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        assert_eq!(
            fields(create_cell(&street).expect_err("invalid")),
            vec!["cell.parent"]
        );
    }

    #[test]
    fn an_update_needs_a_mask_of_known_paths() {
        let request = pb::UpdateCellRequest {
            cell: Some(pb::Cell {
                name: "cells/a".into(),
                etag: "x".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["level".into()],
            }),
        };
        assert_eq!(
            fields(update_cell(&request).expect_err("invalid")),
            vec!["cell.etag", "update_mask"]
        );
    }
}
