//! AcceptRegistrationOffer: an offered place becomes a registration, if
//! the offer is still open.

use chrono::Duration;
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::activity_context::{ensure_scheduled, locked_activity};
use super::{CommandError, now};
use crate::domain::access::may_edit_centres;
use crate::domain::activity::{Registration, RegistrationState};
use crate::events::publish;
use crate::store::{activities, registrations};

/// Accepts the offer of registration `id` and writes
/// `centres.registration.registered`. An offer past its expiry is refused
/// even before the sweeper has passed it on.
#[tracing::instrument(skip_all, fields(activity = %activity_id, registration = %id))]
pub async fn accept_offer(
    conn: &mut PgConnection,
    caller: &Caller,
    activity_id: Uuid,
    id: Uuid,
) -> Result<Registration, CommandError> {
    let (mut activity, _) = locked_activity(&mut *conn, caller, activity_id).await?;
    let mut registration = registrations::get(&mut *conn, activity_id, id)
        .await?
        .ok_or_else(|| {
            CommandError::NotFound(format!("activities/{activity_id}/registrations/{id}"))
        })?;
    if registration.registered_by != caller.subject && !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "only whoever registered it or a centre administrator accepts its offer".to_owned(),
        ));
    }
    ensure_scheduled(&activity)?;
    let at = now();
    if let Some(why) = registration.refuse_acceptance(at) {
        return Err(CommandError::Precondition(why));
    }
    registration.become_(RegistrationState::Registered, at, Duration::zero());
    registrations::save(&mut *conn, &registration).await?;
    activity.touch(at);
    activities::save(&mut *conn, &activity).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::registration_changed(&registration, &caller.subject),
    )
    .await?;
    Ok(registration)
}
