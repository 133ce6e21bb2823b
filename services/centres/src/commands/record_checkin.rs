//! RecordCheckin: the organiser confirms that someone took part.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::activity_context::{ensure_organiser, ensure_scheduled, locked_activity};
use super::{CommandError, now};
use crate::domain::activity::{Checkin, checkin_allowed};
use crate::events::publish;
use crate::store::{activities, checkins, registrations};

/// Records the attendance and writes `centres.checkin.recorded`, once per
/// attendee: a repeated confirmation returns the first check-in and writes
/// nothing.
#[tracing::instrument(skip_all, fields(activity = %activity_id))]
pub async fn record_checkin(
    conn: &mut PgConnection,
    caller: &Caller,
    activity_id: Uuid,
    attendee: String,
    walk_in: bool,
) -> Result<Checkin, CommandError> {
    let (mut activity, centre) = locked_activity(&mut *conn, caller, activity_id).await?;
    ensure_organiser(caller, &activity, "confirms check-ins")?;
    ensure_scheduled(&activity)?;
    if let Some(existing) = checkins::of(&mut *conn, activity_id, &attendee).await? {
        return Ok(existing);
    }
    let registration = registrations::live_of(&mut *conn, activity_id, &attendee).await?;
    let walk_in = checkin_allowed(&attendee, registration.map(|r| r.state), walk_in)
        .map_err(CommandError::Precondition)?;
    let at = now();
    let checkin = Checkin {
        id: Uuid::now_v7(),
        activity_id,
        attendee,
        walk_in,
        volunteer_minutes: activity.volunteer_minutes,
        recorded_by: caller.subject.clone(),
        checked_in_at: at,
    };
    // Under the activity's lock nobody else records this attendee, so the
    // insert cannot lose to a concurrent one; the unique key still guards it.
    if !checkins::insert(&mut *conn, &checkin).await? {
        return Err(CommandError::Aborted(
            "a check-in of this attendee is in flight; try again".to_owned(),
        ));
    }
    activity.touch(at);
    activities::save(&mut *conn, &activity).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::checkin_recorded(&activity, &centre, &checkin),
    )
    .await?;
    Ok(checkin)
}
