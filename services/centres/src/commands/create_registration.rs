//! CreateRegistration: a place while any remain, else the waitlist.
//!
//! No overfilling under any concurrency: registrations of one activity
//! queue on its row lock, and the place count they change is checked
//! against the capacity by the table itself.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::activity_context::{ensure_scheduled, locked_activity};
use super::{CommandError, now};
use crate::domain::access::may_book;
use crate::domain::activity::{Placement, Registration, RegistrationState};
use crate::events::publish;
use crate::store::{activities, registrations};

/// Registers `attendee` and writes `centres.registration.registered` or
/// `.waitlisted`.
#[tracing::instrument(skip_all, fields(activity = %activity_id))]
pub async fn create_registration(
    conn: &mut PgConnection,
    caller: &Caller,
    activity_id: Uuid,
    attendee: String,
) -> Result<Registration, CommandError> {
    let (mut activity, _) = locked_activity(&mut *conn, caller, activity_id).await?;
    if !may_book(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow registering for activities".to_owned(),
        ));
    }
    ensure_scheduled(&activity)?;
    let activity_name = activity.resource_name();
    let already =
        || CommandError::AlreadyExists(format!("a registration of {attendee} for {activity_name}"));
    if registrations::live_of(&mut *conn, activity_id, &attendee)
        .await?
        .is_some()
    {
        return Err(already());
    }
    let at = now();
    let (placement, queue_seq) = activity.place(at);
    let registration = Registration {
        id: Uuid::now_v7(),
        activity_id,
        attendee: attendee.clone(),
        state: match placement {
            Placement::Registered => RegistrationState::Registered,
            Placement::Waitlisted => RegistrationState::Waitlisted,
        },
        queue_seq,
        offer_expire_time: None,
        no_show: false,
        registered_by: caller.subject.clone(),
        version: 1,
        create_time: at,
        update_time: at,
    };
    match registrations::insert(&mut *conn, &registration).await {
        Ok(()) => {}
        Err(sqlx::Error::Database(error))
            if error.constraint() == Some(registrations::ONE_LIVE_PER_ATTENDEE) =>
        {
            return Err(already());
        }
        Err(error) => return Err(error.into()),
    }
    activities::save(&mut *conn, &activity).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::registration_changed(&registration, &caller.subject),
    )
    .await?;
    Ok(registration)
}
