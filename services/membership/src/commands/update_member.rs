//! UpdateMember: a member's name, phone, standing, flow flag, residence or
//! work unit changes; personal data is sealed again.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::member_rows::{check_residence_cell, check_work_unit};
use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::member::{FullName, Standing};
use crate::domain::organisation::{OrganisationId, visible};
use crate::domain::phone::Phone;
use crate::events::publish;
use crate::sealing::PersonalDataKeys;
use crate::store::members::{self, MemberRow};

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    /// A new name.
    pub full_name: Option<FullName>,
    /// A new phone.
    pub phone: Option<Phone>,
    /// Full or probationary.
    pub standing: Option<Standing>,
    /// A flow member.
    pub flow_member: Option<bool>,
    /// Where the member lives; `Some(None)` clears it.
    pub residence_cell: Option<Option<String>>,
    /// The work unit; `Some(None)` clears it.
    pub work_unit: Option<Option<OrganisationId>>,
}

/// A parsed UpdateMember request.
#[derive(Debug, Clone)]
pub struct UpdateMember {
    /// Which.
    pub id: Uuid,
    /// What changes.
    pub patch: MemberPatch,
    /// The version the caller last read.
    pub expected_version: Option<i64>,
}

/// Applies the patch and writes `membership.member.updated` (paths, never values).
#[tracing::instrument(skip_all, fields(member = %input.id))]
pub async fn update_member(
    conn: &mut PgConnection,
    caller: &Caller,
    keys: &PersonalDataKeys,
    input: UpdateMember,
) -> Result<MemberRow, CommandError> {
    let name = format!("members/{}", input.id);
    let mut row = members::lock(&mut *conn, input.id)
        .await?
        .filter(|row| visible(&row.area_path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow editing members",
        ));
    }
    if let Some(expected) = input.expected_version
        && expected != row.version
    {
        return Err(CommandError::aborted(format!(
            "{name} changed since you read it (your etag is for version {expected}, it is now at {}); read it again",
            row.version
        )));
    }
    let patch = input.patch;
    let mut paths = Vec::new();
    if let Some(full_name) = patch.full_name {
        row.full_name_sealed = keys.seal(full_name.as_str());
        paths.push("full_name");
    }
    if let Some(phone) = patch.phone {
        row.phone_sealed = keys.seal(phone.as_str());
        paths.push("phone");
    }
    if let Some(standing) = patch.standing {
        row.standing = standing;
        paths.push("standing");
    }
    if let Some(flow) = patch.flow_member {
        row.flow_member = flow;
        paths.push("flow_member");
    }
    if let Some(cell) = patch.residence_cell {
        if let Some(cell) = &cell {
            check_residence_cell(&mut *conn, cell).await?;
        }
        row.residence_cell_id = cell;
        paths.push("residence_cell");
    }
    if let Some(unit) = patch.work_unit {
        if let Some(unit) = &unit {
            check_work_unit(&mut *conn, unit).await?;
        }
        row.work_unit_id = unit.map(|u| u.as_str().to_owned());
        paths.push("work_unit");
    }
    if paths.is_empty() {
        return Ok(row);
    }
    row.version += 1;
    row.update_time = now();
    members::update(&mut *conn, &row).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::member_updated(
            &row,
            paths.iter().map(|p| (*p).to_owned()).collect(),
            &caller.subject,
        ),
    )
    .await?;
    tracing::info!(member = %row.id, version = row.version, "member updated");
    Ok(row)
}
