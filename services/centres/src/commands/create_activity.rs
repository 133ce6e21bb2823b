//! CreateActivity: an organisation's activity at a centre, within one of
//! the centre's opening periods. With a request id it is idempotent: a
//! retry returns the activity the first request scheduled.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::{may_book, sees};
use crate::domain::activity::{Activity, ActivityState, NewActivity, activity_name};
use crate::domain::centre::centre_name;
use crate::domain::hours::{TIME_ZONE, period_for};
use crate::events::publish;
use crate::store::{activities, centres};

/// Schedules the activity and writes `centres.activity.scheduled`.
#[tracing::instrument(skip_all, fields(centre = %new.centre_id))]
pub async fn create_activity(
    conn: &mut PgConnection,
    caller: &Caller,
    new: NewActivity,
) -> Result<Activity, CommandError> {
    let name = centre_name(&new.centre_id);
    let centre = centres::get(&mut *conn, &new.centre_id)
        .await?
        .filter(|centre| {
            sees(
                &centre.location_path,
                caller.scope_roots("cells").as_deref(),
            )
        })
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    if !may_book(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow organising activities".to_owned(),
        ));
    }
    if let Some(request_id) = new.request_id
        && let Some(existing) = activities::scheduled_by_request(&mut *conn, request_id).await?
    {
        // A retry of a request that succeeded: the same activity, as it is
        // now, and no new event.
        return activities::get(&mut *conn, existing)
            .await?
            .ok_or_else(|| CommandError::NotFound(activity_name(existing)));
    }
    if period_for(&centre.opening_hours, new.start, new.end).is_none() {
        return Err(CommandError::Precondition(format!(
            "{name} is not open for the whole of the activity: it must fall within one opening period ({TIME_ZONE}, whole minutes)"
        )));
    }
    let at = now();
    let activity = Activity {
        id: Uuid::now_v7(),
        centre_id: new.centre_id,
        display_name: new.display_name,
        organiser: new.organiser,
        activity_type: new.activity_type,
        agreement: new.agreement,
        start: new.start,
        end: new.end,
        capacity: new.capacity,
        volunteer_minutes: new.volunteer_minutes,
        state: ActivityState::Scheduled,
        seats_taken: 0,
        queue_seq: 0,
        scheduled_by: caller.subject.clone(),
        version: 1,
        create_time: at,
        update_time: at,
    };
    activities::insert(&mut *conn, &activity).await?;
    if let Some(request_id) = new.request_id
        && !activities::remember_request(&mut *conn, request_id, activity.id).await?
    {
        return Err(CommandError::Aborted(
            "an activity with this request_id is being scheduled; try again".to_owned(),
        ));
    }
    outbox::enqueue(
        &mut *conn,
        &publish::activity_scheduled(&activity, &caller.subject),
    )
    .await?;
    Ok(activity)
}
