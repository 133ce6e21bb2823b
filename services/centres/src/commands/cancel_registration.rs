//! CancelRegistration: withdraws a registration; a place it held goes to
//! the next in line.

use chrono::Duration;
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::activity_context::{ensure_scheduled, locked_activity};
use super::waitlist::pass_place;
use super::{CommandError, now};
use crate::domain::access::may_edit_centres;
use crate::domain::activity::{Registration, RegistrationState};
use crate::events::publish;
use crate::store::{activities, registrations};

/// Cancels registration `id` and writes `centres.registration.cancelled`
/// (and `.offered` for whoever the place passes to).
#[tracing::instrument(skip_all, fields(activity = %activity_id, registration = %id))]
pub async fn cancel_registration(
    conn: &mut PgConnection,
    caller: &Caller,
    activity_id: Uuid,
    id: Uuid,
    offer_ttl: Duration,
) -> Result<Registration, CommandError> {
    let (mut activity, _) = locked_activity(&mut *conn, caller, activity_id).await?;
    let mut registration = registrations::get(&mut *conn, activity_id, id)
        .await?
        .ok_or_else(|| {
            CommandError::NotFound(format!("activities/{activity_id}/registrations/{id}"))
        })?;
    if registration.registered_by != caller.subject && !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "only whoever registered it or a centre administrator cancels a registration"
                .to_owned(),
        ));
    }
    ensure_scheduled(&activity)?;
    if !registration.state.is_live() {
        return Err(CommandError::Precondition(format!(
            "{} is already {}",
            registration.resource_name(),
            registration.state
        )));
    }
    let at = now();
    let held_place = registration.state.holds_place();
    registration.become_(RegistrationState::Cancelled, at, offer_ttl);
    registrations::save(&mut *conn, &registration).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::registration_changed(&registration, &caller.subject),
    )
    .await?;
    if held_place {
        pass_place(&mut *conn, &mut activity, at, offer_ttl, &caller.subject).await?;
    } else {
        activity.touch(at);
    }
    activities::save(&mut *conn, &activity).await?;
    Ok(registration)
}
