//! What registering, importing and updating a member share: the sealed row
//! of a new member, and the checks of the cell and work unit it names.

use chrono::{DateTime, Utc};
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::CommandError;
use crate::domain::member::NewMember;
use crate::domain::organisation::OrganisationId;
use crate::sealing::PersonalDataKeys;
use crate::store::members::MemberRow;
use crate::store::organisations::{self, OrganisationRow};

/// The row of `member` in `organisation`, name, ID number and phone sealed,
/// at version 1.
pub(crate) fn sealed_row(
    member: &NewMember,
    organisation: &OrganisationRow,
    keys: &PersonalDataKeys,
    at: DateTime<Utc>,
) -> MemberRow {
    MemberRow {
        id: Uuid::now_v7(),
        full_name_sealed: keys.seal(member.full_name.as_str()),
        id_number_sealed: keys.seal(member.id_number.as_str()),
        phone_sealed: keys.seal(member.phone.as_str()),
        organisation_id: organisation.id.clone(),
        standing: member.standing,
        flow_member: member.flow_member,
        residence_cell_id: member.residence_cell.clone(),
        work_unit_id: member
            .work_unit
            .as_ref()
            .map(|unit| unit.as_str().to_owned()),
        version: 1,
        create_time: at,
        update_time: at,
        area_path: organisation.area_path.clone(),
    }
}

/// INVALID_ARGUMENT on `member.residence_cell` unless the grid replica
/// knows `cell`.
pub(crate) async fn check_residence_cell(
    conn: &mut PgConnection,
    cell: &str,
) -> Result<(), CommandError> {
    if civicgrid_cell_tree::get(&mut *conn, cell).await?.is_none() {
        return Err(CommandError::invalid_field(
            "member.residence_cell",
            format!(
                "{} is not a cell this service knows",
                civicgrid_cell_tree::resource_name(cell)
            ),
        ));
    }
    Ok(())
}

/// INVALID_ARGUMENT on `member.work_unit` unless `unit` exists.
pub(crate) async fn check_work_unit(
    conn: &mut PgConnection,
    unit: &OrganisationId,
) -> Result<(), CommandError> {
    if organisations::get(&mut *conn, unit.as_str())
        .await?
        .is_none()
    {
        return Err(CommandError::invalid_field(
            "member.work_unit",
            format!("{} does not exist", unit.resource_name()),
        ));
    }
    Ok(())
}
