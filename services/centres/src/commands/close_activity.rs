//! CloseActivity: the activity took place; whoever held a place and was
//! not checked in is a no-show.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::activity_context::{ensure_organiser, ensure_scheduled, locked_activity};
use super::{CommandError, now};
use crate::domain::activity::{Activity, ActivityState, RegistrationState};
use crate::events::publish::{self, Attendance};
use crate::store::{activities, checkins, registrations};

/// Closes the activity as held, marks its no-shows and writes
/// `centres.activity.held`; returns the activity and what it came to.
#[tracing::instrument(skip_all, fields(activity = %id))]
pub async fn close_activity(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<(Activity, Attendance), CommandError> {
    let (mut activity, centre) = locked_activity(&mut *conn, caller, id).await?;
    ensure_organiser(caller, &activity, "closes it")?;
    ensure_scheduled(&activity)?;
    let at = now();
    let absent = registrations::absent(&mut *conn, id).await?;
    for mut registration in absent.iter().cloned() {
        registration.no_show = true;
        registration.version += 1;
        registration.update_time = at;
        registrations::save(&mut *conn, &registration).await?;
    }
    let registered = registrations::count_in(&mut *conn, id, RegistrationState::Registered).await?;
    let (attended, volunteer_minutes) = checkins::totals(&mut *conn, id).await?;
    let attendance = Attendance {
        registered: i32::try_from(registered).unwrap_or(i32::MAX),
        attended: i32::try_from(attended).unwrap_or(i32::MAX),
        no_shows: i32::try_from(absent.len()).unwrap_or(i32::MAX),
        volunteer_minutes,
    };
    activity.state = ActivityState::Held;
    activity.touch(at);
    activities::save(&mut *conn, &activity).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::activity_held(&activity, &centre, attendance, &caller.subject),
    )
    .await?;
    Ok((activity, attendance))
}
