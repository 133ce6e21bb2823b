//! CancelActivity: calls a scheduled activity off.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::activity_context::{ensure_organiser, ensure_scheduled, locked_activity};
use super::{CommandError, now};
use crate::domain::activity::{Activity, ActivityState};
use crate::events::publish;
use crate::store::activities;

/// Cancels the activity and writes `centres.activity.cancelled`.
#[tracing::instrument(skip_all, fields(activity = %id))]
pub async fn cancel_activity(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Activity, CommandError> {
    let (mut activity, _) = locked_activity(&mut *conn, caller, id).await?;
    ensure_organiser(caller, &activity, "cancels it")?;
    ensure_scheduled(&activity)?;
    activity.state = ActivityState::Cancelled;
    activity.touch(now());
    activities::save(&mut *conn, &activity).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::activity_cancelled(&activity, &caller.subject),
    )
    .await?;
    Ok(activity)
}
