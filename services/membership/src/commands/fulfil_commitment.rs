//! FulfilCommitment: a party did what it promised.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::visible;
use crate::events::publish;
use crate::store::agreements::{self, CommitmentRow};

/// Marks the commitment fulfilled and writes `membership.agreement.commitment_fulfilled`.
#[tracing::instrument(skip_all, fields(agreement = %agreement, commitment = %commitment))]
pub async fn fulfil_commitment(
    conn: &mut PgConnection,
    caller: &Caller,
    agreement: Uuid,
    commitment: Uuid,
) -> Result<CommitmentRow, CommandError> {
    let name = format!("agreements/{agreement}/commitments/{commitment}");
    let parent = agreements::get(&mut *conn, agreement)
        .await?
        .filter(|a| visible(&a.community_path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    let mut row = agreements::lock_commitment(&mut *conn, agreement, commitment)
        .await?
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow changing agreements",
        ));
    }
    if let Some(at) = row.fulfil_time {
        return Err(CommandError::precondition(format!(
            "{name} was fulfilled already, at {}",
            at.to_rfc3339()
        )));
    }
    let at = now();
    agreements::fulfil(&mut *conn, row.id, at).await?;
    row.status = 2;
    row.fulfil_time = Some(at);
    outbox::enqueue(
        &mut *conn,
        &publish::commitment_fulfilled(&parent, &row, at, &caller.subject),
    )
    .await?;
    tracing::info!("commitment fulfilled");
    Ok(row)
}
