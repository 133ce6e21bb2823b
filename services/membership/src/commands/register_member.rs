//! RegisterMember: a party member in their organisation of record, with
//! name, ID number and phone sealed and the ID number's blind index.

use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::member_rows::{check_residence_cell, check_work_unit, sealed_row};
use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::member::NewMember;
use crate::domain::organisation::visible;
use crate::events::publish;
use crate::sealing::PersonalDataKeys;
use crate::store::members::{self, MemberRow, Registered};
use crate::store::organisations;

/// A parsed RegisterMember request.
#[derive(Debug, Clone)]
pub struct RegisterMember {
    /// The member (its Debug shows personal data only masked).
    pub member: NewMember,
    /// Idempotency key.
    pub request_id: Option<Uuid>,
}

/// How often the organisation may change under a registration before it
/// gives up with ABORTED (each change means checking it again).
const ATTEMPTS: usize = 3;

/// Registers the member and writes `membership.member.registered`.
///
/// Runs on a plain connection, not in a transaction: the checks read, then
/// one statement writes the member, its request and its event, guarded by
/// the organisation's version (so a change in between is seen and the
/// checks run again). Two round trips where BEGIN, the writes and COMMIT
/// took five; the same under a caller's transaction.
#[tracing::instrument(skip_all, fields(organisation = %input.member.organisation))]
pub async fn register_member(
    conn: &mut PgConnection,
    caller: &Caller,
    keys: &PersonalDataKeys,
    input: RegisterMember,
) -> Result<MemberRow, CommandError> {
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow registering members",
        ));
    }
    let roots = caller.scope_roots("cells");
    if let Some(request_id) = input.request_id
        && let Some(existing) = retried(&mut *conn, request_id, roots.as_deref()).await?
    {
        return Ok(existing);
    }
    let new = input.member;
    for _ in 0..ATTEMPTS {
        let organisation = organisations::get(&mut *conn, new.organisation.as_str())
            .await?
            .ok_or_else(|| {
                CommandError::invalid_field(
                    "member.organisation",
                    format!("{} does not exist", new.organisation.resource_name()),
                )
            })?;
        if !visible(&organisation.area_path, roots.as_deref()) {
            return Err(CommandError::permission_denied(format!(
                "{} is outside your scope",
                new.organisation.resource_name()
            )));
        }
        if !organisation.kind.is_party_organisation() {
            return Err(CommandError::invalid_field(
                "member.organisation",
                format!("is a {}, not a party organisation", organisation.kind),
            ));
        }
        if let Some(cell) = &new.residence_cell {
            check_residence_cell(&mut *conn, cell).await?;
        }
        if let Some(unit) = &new.work_unit {
            check_work_unit(&mut *conn, unit).await?;
        }
        let row = sealed_row(&new, &organisation, keys, now());
        let causation = input
            .request_id
            .map(|id| id.to_string())
            .unwrap_or_default();
        let event = publish::member_registered(&row, &caller.subject, &causation);
        match members::insert_registered(
            &mut *conn,
            &row,
            &keys.blind_index(&new.id_number),
            organisation.version,
            input.request_id,
            &event,
        )
        .await?
        {
            Registered::Written => {
                tracing::info!(member = %row.id, organisation = %row.organisation_id, "member registered");
                return Ok(row);
            }
            Registered::DuplicateIdNumber => {
                // The same request sent twice at once: the first one's
                // member holds the number, and the second gets its answer.
                if let Some(request_id) = input.request_id
                    && let Some(existing) =
                        retried(&mut *conn, request_id, roots.as_deref()).await?
                {
                    return Ok(existing);
                }
                // Never the number itself in the message.
                return Err(CommandError::already_exists("a member with this ID number"));
            }
            Registered::OrganisationChanged => continue,
        }
    }
    Err(CommandError::aborted(format!(
        "{} kept changing while the member was registered; try again",
        new.organisation.resource_name()
    )))
}

/// The member an earlier try of `request_id` registered: a retry of a
/// request that already succeeded gets the same answer and no new event.
async fn retried(
    conn: &mut PgConnection,
    request_id: Uuid,
    roots: Option<&[String]>,
) -> Result<Option<MemberRow>, CommandError> {
    let Some(existing) = members::registered_by_request(&mut *conn, request_id).await? else {
        return Ok(None);
    };
    members::get(&mut *conn, existing)
        .await?
        .filter(|row| visible(&row.area_path, roots))
        .map(Some)
        .ok_or_else(|| CommandError::not_found(format!("members/{existing}")))
}
