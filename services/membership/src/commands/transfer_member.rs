//! TransferMember: a member moves to another organisation of record; the
//! move is kept.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::{OrganisationId, visible};
use crate::events::publish;
use crate::store::members::{self, MemberRow, TransferRow};
use crate::store::organisations;

/// A parsed TransferMember request.
#[derive(Debug, Clone)]
pub struct TransferMember {
    /// Who.
    pub id: Uuid,
    /// To where.
    pub to: OrganisationId,
    /// Why.
    pub reason: String,
    /// The version the caller last read.
    pub expected_version: Option<i64>,
}

/// Moves the member, stores the transfer and writes `membership.member.transferred`.
#[tracing::instrument(skip_all, fields(member = %input.id, to = %input.to))]
pub async fn transfer_member(
    conn: &mut PgConnection,
    caller: &Caller,
    input: TransferMember,
) -> Result<(MemberRow, TransferRow), CommandError> {
    let name = format!("members/{}", input.id);
    let roots = caller.scope_roots("cells");
    let mut row = members::lock(&mut *conn, input.id)
        .await?
        .filter(|row| visible(&row.area_path, roots.as_deref()))
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow transferring members",
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
    // The receiving organisation may lie outside the sender's scope: a
    // member moves away. It must exist and be a party organisation.
    let to = organisations::get(&mut *conn, input.to.as_str())
        .await?
        .ok_or_else(|| {
            CommandError::invalid_field(
                "to_organisation",
                format!("{} does not exist", input.to.resource_name()),
            )
        })?;
    if !to.kind.is_party_organisation() {
        return Err(CommandError::invalid_field(
            "to_organisation",
            format!("is a {}, not a party organisation", to.kind),
        ));
    }
    if to.id == row.organisation_id {
        return Err(CommandError::precondition(format!(
            "{name} is a member of record of {} already",
            input.to.resource_name()
        )));
    }
    let at = now();
    let transfer = TransferRow {
        id: Uuid::now_v7(),
        member_id: row.id,
        from_organisation: row.organisation_id.clone(),
        to_organisation: to.id.clone(),
        reason: input.reason,
        transfer_time: at,
    };
    row.organisation_id = to.id;
    row.area_path = to.area_path;
    row.version += 1;
    row.update_time = at;
    members::update(&mut *conn, &row).await?;
    members::insert_transfer(&mut *conn, &transfer).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::member_transferred(&row, &transfer, &caller.subject),
    )
    .await?;
    tracing::info!(member = %row.id, from = %transfer.from_organisation, to = %transfer.to_organisation, "member transferred");
    Ok((row, transfer))
}
