//! CreateStaffAssignment: give a person a duty in a cell for a period.

use civicgrid_cell_tree::{resource_name, visible};
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit_grid;
use crate::domain::staff::{NewStaffAssignment, check_level};
use crate::store::staff::StaffRow;
use crate::store::{cells, staff};

/// `cells/{cell}/staffAssignments/{id}`.
pub fn assignment_name(cell_id: &str, id: Uuid) -> String {
    format!("{}/staffAssignments/{id}", resource_name(cell_id))
}

/// Stores the duty unless the same person already holds the same duty in
/// the same cell for an overlapping period.
#[tracing::instrument(skip_all, fields(cell = %input.cell))]
pub async fn create_staff_assignment(
    conn: &mut PgConnection,
    caller: &Caller,
    input: NewStaffAssignment,
) -> Result<StaffRow, CommandError> {
    if !may_edit_grid(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow assigning staff".to_owned(),
        ));
    }
    let cell_name = resource_name(input.cell.as_str());
    // Locked so that two overlapping duties cannot both pass the check below.
    let cell = cells::lock_for_staff(&mut *conn, input.cell.as_str())
        .await?
        .ok_or_else(|| CommandError::not_found(cell_name.clone()))?;
    if !visible(&cell, caller.scope_roots("cells").as_deref()) {
        return Err(CommandError::permission_denied(format!(
            "{cell_name} is outside your scope"
        )));
    }
    let level = cells::level(&cell)?;
    check_level(input.role, level)?;

    let period = input.period;
    if let Some(existing) = staff::overlapping(
        &mut *conn,
        &cell.id,
        input.person.as_str(),
        input.role,
        period.from(),
        period.until(),
    )
    .await?
    {
        return Err(CommandError::already_exists(format!(
            "{} (the same duty of {} for an overlapping period)",
            assignment_name(&cell.id, existing),
            input.person.as_str()
        )));
    }
    let row = StaffRow {
        id: Uuid::now_v7(),
        cell_id: cell.id,
        person: input.person.as_str().to_owned(),
        person_display_name: input.person_display_name.as_str().to_owned(),
        role: input.role,
        home_department: input.home_department.map(|d| d.as_str().to_owned()),
        valid_from: period.from(),
        valid_until: period.until(),
        create_time: now(),
    };
    staff::insert(&mut *conn, &row).await?;
    tracing::info!(cell = %row.cell_id, assignment = %row.id, role = %row.role, "staff assigned");
    Ok(row)
}
