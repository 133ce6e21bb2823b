//! EndStaffAssignment: a duty ends now.

use civicgrid_cell_tree::visible;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::create_staff_assignment::assignment_name;
use super::{CommandError, now};
use crate::domain::access::may_edit_grid;
use crate::domain::cell::CellId;
use crate::domain::staff::{ValidityPeriod, end};
use crate::store::staff::{self, StaffRow};

/// A parsed EndStaffAssignment request.
#[derive(Debug, Clone)]
pub struct EndStaffAssignment {
    /// The cell of the duty.
    pub cell: CellId,
    /// The assignment.
    pub id: Uuid,
}

/// Sets the duty's end to now; FAILED_PRECONDITION when it has already ended.
#[tracing::instrument(skip_all, fields(cell = %input.cell, assignment = %input.id))]
pub async fn end_staff_assignment(
    conn: &mut PgConnection,
    caller: &Caller,
    input: EndStaffAssignment,
) -> Result<StaffRow, CommandError> {
    let name = assignment_name(input.cell.as_str(), input.id);
    let mut row = staff::lock(&mut *conn, input.cell.as_str(), input.id)
        .await?
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    let cell = civicgrid_cell_tree::get(&mut *conn, &row.cell_id)
        .await?
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    if !visible(&cell, caller.scope_roots("cells").as_deref()) {
        return Err(CommandError::permission_denied(format!(
            "{name} is outside your scope"
        )));
    }
    if !may_edit_grid(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow assigning staff".to_owned(),
        ));
    }
    let ended = end(
        ValidityPeriod::from_stored(row.valid_from, row.valid_until),
        now(),
    )?;
    row.valid_until = ended.until();
    if let Some(until) = row.valid_until {
        staff::set_valid_until(&mut *conn, row.id, until).await?;
    }
    Ok(row)
}
