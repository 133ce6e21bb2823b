//! ImportCells: a county's layout, thousands of cells and their compounds,
//! all or nothing.

use civicgrid_runtime::error::Outcomes as _;
use std::collections::HashMap;

use civicgrid_cell_tree::{CellRow, CompoundRow, resource_name, visible};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::status::FieldViolations;
use sqlx::PgConnection;
use uuid::Uuid;

use super::create_compound::claim;
use super::{CommandError, now};
use crate::domain::access::{may_create_county, may_edit_grid};
use crate::domain::cell::Level;
use crate::domain::layout::{self, LayoutError, LayoutFormat, Stored, Validated};
use crate::events::publish;
use crate::store::{cells, compounds};

/// A parsed ImportCells request.
#[derive(Debug, Clone)]
pub struct ImportCells {
    /// The file's format.
    pub format: LayoutFormat,
    /// The file.
    pub content: Vec<u8>,
    /// Check everything, write nothing.
    pub validate_only: bool,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Cells in the file, all valid.
    pub valid: usize,
    /// Cells created: `valid`, or 0 when only validating.
    pub created: usize,
    /// Compounds created (0 when only validating).
    pub compounds_created: usize,
}

/// How many lines a PERMISSION_DENIED message names before "and N more".
const LINES_NAMED: usize = 10;

/// Validates the whole layout and, unless only validating, creates every
/// cell and compound with its `grid.cell.created` or
/// `grid.compound.created` event in one transaction. Any bad row:
/// nothing is written and the error names every bad row.
#[tracing::instrument(skip_all, fields(format = ?input.format, bytes = input.content.len()))]
pub async fn import_cells(
    conn: &mut PgConnection,
    caller: &Caller,
    input: &ImportCells,
) -> Result<Imported, CommandError> {
    if !may_edit_grid(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow editing the grid".to_owned(),
        ));
    }
    let format = input.format;
    let layout =
        layout::read(format, &input.content).map_err(|e| CommandError::Layout(format, e))?;
    // Only the stored cells the file names matter: ids it would reuse and
    // parents it hangs rows under.
    let stored: HashMap<String, CellRow> = cells::find_all(&mut *conn, &layout.referenced_ids())
        .await?
        .into_iter()
        .map(|row| (row.id.clone(), row))
        .collect();

    // Scope before validation, so that no answer describes (the level of)
    // a cell the caller may not see.
    let roots = caller.scope_roots("cells");
    let word = format.row_word();
    let mut outside = Vec::new();
    let mut counties = Vec::new();
    for row in &layout.rows {
        if let Some(parent) = row.parent().and_then(|p| stored.get(p))
            && !visible(parent, roots.as_deref())
        {
            outside.push(row.line);
        }
        if row.level() == Some(Level::County) && !may_create_county(caller) {
            counties.push(row.line);
        }
    }
    if !outside.is_empty() {
        return Err(CommandError::permission_denied(format!(
            "parents outside your scope are named on {word} {}",
            some_lines(&outside)
        )));
    }
    if !counties.is_empty() {
        return Err(CommandError::permission_denied(format!(
            "only a county admin seeing the whole county creates counties (on {word} {})",
            some_lines(&counties)
        )));
    }

    let known = Stored {
        levels: stored
            .values()
            .map(|row| Ok((row.id.clone(), cells::level(row)?)))
            .collect::<sqlx::Result<_>>()?,
        parents: stored
            .values()
            .filter_map(|row| Some((row.id.clone(), row.parent_id.clone()?)))
            .collect(),
        compounds: compounds::find_all(&mut *conn, &layout.referenced_compound_ids())
            .await?
            .into_iter()
            .map(|row| row.id)
            .collect(),
    };
    let Validated {
        cells: new_cells,
        compounds: new_compounds,
    } = layout
        .validate(&known, now())
        .map_err(|e| CommandError::Layout(format, e))?;
    let valid = new_cells.len();
    if input.validate_only {
        return Ok(Imported {
            valid,
            created: 0,
            compounds_created: 0,
        });
    }

    let at = now();
    let mut paths: HashMap<String, String> = HashMap::with_capacity(valid);
    let mut rows = Vec::with_capacity(valid);
    for cell in new_cells {
        // Parents come first, so a parent from the file already has its path.
        let parent_path = match &cell.parent {
            None => None,
            Some(parent) => Some(
                paths
                    .get(parent.as_str())
                    .or_else(|| stored.get(parent.as_str()).map(|row| &row.path))
                    .ok_or_else(|| CommandError::not_found(resource_name(parent.as_str())))?
                    .as_str(),
            ),
        };
        let path = CellRow::child_path(parent_path, cell.id.as_str());
        paths.insert(cell.id.as_str().to_owned(), path.clone());
        rows.push(CellRow {
            id: cell.id.as_str().to_owned(),
            parent_id: cell.parent.as_ref().map(|p| p.as_str().to_owned()),
            level: cell.level.number(),
            display_name: cell.display_name.as_str().to_owned(),
            newly_built: cell.newly_built,
            path,
            version: 1,
            create_time: at,
            update_time: at,
        });
    }
    let taken = cells::insert_all(&mut *conn, &rows).await?;
    if let Some(first) = taken.first() {
        // Created by someone else since the check above; the transaction
        // rolls back when dropped.
        let more = match taken.len() {
            1 => String::new(),
            n => format!(" (and {} more cells of the file)", n - 1),
        };
        return Err(CommandError::already_exists(format!(
            "{}{more}",
            resource_name(first)
        )));
    }
    let mut compound_rows = Vec::with_capacity(new_compounds.len());
    for compound in new_compounds {
        let community = compound.community.as_str();
        let community_path = paths
            .get(community)
            .or_else(|| stored.get(community).map(|row| &row.path))
            .ok_or_else(|| CommandError::not_found(resource_name(community)))?
            .clone();
        let mut building_ids: Vec<String> = compound
            .buildings
            .iter()
            .map(|b| b.as_str().to_owned())
            .collect();
        building_ids.sort();
        let row = CompoundRow {
            id: compound.id.as_str().to_owned(),
            community_id: community.to_owned(),
            community_path,
            display_name: compound.display_name.as_str().to_owned(),
            building_ids,
            address: compound.address,
            year_built: compound.year_built,
            newly_built: compound.newly_built,
            lacks_required_facilities: compound.lacks_required_facilities,
            property_company: compound.property_company,
            version: 1,
            create_time: at,
            update_time: at,
        };
        if !compounds::insert(&mut *conn, &row).await? {
            // Created by someone else since the check above.
            return Err(CommandError::already_exists(compound.id.resource_name()));
        }
        // The buildings are cells of this import: nobody else can hold them.
        claim(&mut *conn, &row).await?;
        compound_rows.push(row);
    }
    // One id for the whole import: every event names it as its cause.
    let import_id = Uuid::now_v7().to_string();
    let events: Vec<_> = rows
        .iter()
        .map(|row| publish::cell_created(row, &caller.subject, &import_id))
        .chain(
            compound_rows
                .iter()
                .map(|row| publish::compound_created(row, &caller.subject, &import_id)),
        )
        .collect();
    outbox::enqueue_all(&mut *conn, &events).await?;
    tracing::info!(import = %import_id, cells = valid, compounds = compound_rows.len(), "layout imported");
    Ok(Imported {
        valid,
        created: valid,
        compounds_created: compound_rows.len(),
    })
}

/// "3, 7 and 9", or the first few and how many more.
fn some_lines(lines: &[usize]) -> String {
    let named: Vec<String> = lines
        .iter()
        .take(LINES_NAMED)
        .map(usize::to_string)
        .collect();
    match lines.len() {
        1 => named.join(""),
        n if n <= LINES_NAMED => format!("{} and {}", named[..n - 1].join(", "), named[n - 1]),
        n => format!("{} and {} more", named.join(", "), n - LINES_NAMED),
    }
}

/// The most a status may spend on violations. Clients refuse trailers over
/// 16 KiB (hyper's and grpc-go's default header list limit); the details
/// travel base64-encoded and the message repeats every field name.
const VIOLATION_BUDGET: usize = 10 * 1024;

/// A layout's problems as INVALID_ARGUMENT field violations: one per bad
/// field, named `content.line[7].parent_id` (JSON: `content.entry[3].level`),
/// as many as one gRPC status can carry, then a count of the rest.
pub fn violations(format: LayoutFormat, error: LayoutError) -> FieldViolations {
    let mut violations = FieldViolations::new();
    match error {
        LayoutError::File(message) => violations.add("content", message),
        LayoutError::Rows(errors) => {
            let mut spent = 0;
            let total = errors.len();
            for (shown, error) in errors.into_iter().enumerate() {
                let field = match error.field {
                    Some(column) => format!(
                        "content.{}[{}].{}",
                        format.row_word(),
                        error.line,
                        column.as_str()
                    ),
                    None => format!("content.{}[{}]", format.row_word(), error.line),
                };
                // base64 of the pair, the field again in the message, framing.
                spent += (field.len() + error.message.len()) * 4 / 3 + field.len() + 16;
                if spent > VIOLATION_BUDGET {
                    violations.add(
                        "content",
                        format!(
                            "{} more problems are not listed: one response carries only so many; \
                             fix these and validate again",
                            total - shown
                        ),
                    );
                    break;
                }
                violations.add(field, error.message);
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::layout::{Column, LineError};

    #[test]
    fn line_lists_read_as_english() {
        assert_eq!(some_lines(&[3]), "3");
        assert_eq!(some_lines(&[3, 7, 9]), "3, 7 and 9");
        let many: Vec<usize> = (1..=12).collect();
        assert_eq!(
            some_lines(&many),
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more"
        );
    }

    #[test]
    fn violations_name_the_row_and_field_in_the_files_own_words() {
        let error = LayoutError::Rows(vec![
            LineError {
                line: 7,
                field: Some(Column::ParentId),
                message: "x".into(),
            },
            LineError {
                line: 8,
                field: None,
                message: "y".into(),
            },
        ]);
        let fields: Vec<String> = violations(LayoutFormat::Csv, error.clone())
            .violations()
            .iter()
            .map(|(field, _)| field.clone())
            .collect();
        assert_eq!(fields, vec!["content.line[7].parent_id", "content.line[8]"]);
        let fields: Vec<String> = violations(LayoutFormat::Json, error)
            .violations()
            .iter()
            .map(|(field, _)| field.clone())
            .collect();
        assert_eq!(
            fields,
            vec!["content.entry[7].parent_id", "content.entry[8]"]
        );
    }

    #[test]
    fn thousands_of_problems_are_cut_to_what_one_status_carries_and_counted() {
        let errors = (1..=5000)
            .map(|line| LineError {
                line,
                field: Some(Column::Level),
                message: "`district` is not a level; use county, street, community, grid, building or unit".into(),
            })
            .collect();
        let violations = violations(LayoutFormat::Csv, LayoutError::Rows(errors));
        let listed = violations.violations();
        assert!(listed.len() > 20 && listed.len() < 200, "{}", listed.len());
        let (field, note) = &listed[listed.len() - 1];
        assert_eq!(field, "content");
        assert!(note.starts_with(&format!("{} more", 5000 - (listed.len() - 1))));
    }
}
