//! What every activity command starts with: the activity locked (so its
//! registrations and place count change one transaction at a time) and
//! its centre, both within the caller's scope.

use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::CommandError;
use crate::domain::access::{may_edit_centres, sees};
use crate::domain::activity::{Activity, activity_name};
use crate::domain::centre::Centre;
use crate::store::{activities, centres};

/// The activity `id` locked, with its centre; NOT_FOUND when it is absent
/// or its centre lies outside the caller's scope.
pub(crate) async fn locked_activity(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<(Activity, Centre), CommandError> {
    let not_found = || CommandError::NotFound(activity_name(id));
    let activity = activities::lock(&mut *conn, id)
        .await?
        .ok_or_else(not_found)?;
    let centre = centres::get(&mut *conn, &activity.centre_id)
        .await?
        .filter(|centre| {
            sees(
                &centre.location_path,
                caller.scope_roots("cells").as_deref(),
            )
        })
        .ok_or_else(not_found)?;
    Ok((activity, centre))
}

/// Refuses anyone but the activity's organiser (who scheduled it) or a
/// centre administrator in scope.
pub(crate) fn ensure_organiser(
    caller: &Caller,
    activity: &Activity,
    what: &str,
) -> Result<(), CommandError> {
    if activity.scheduled_by == caller.subject || may_edit_centres(caller) {
        Ok(())
    } else {
        Err(CommandError::PermissionDenied(format!(
            "only the organiser of {} or a centre administrator {what}",
            activity.resource_name()
        )))
    }
}

/// Refuses a change to an activity that is no longer scheduled.
pub(crate) fn ensure_scheduled(activity: &Activity) -> Result<(), CommandError> {
    activity
        .ensure_scheduled()
        .map_err(CommandError::Precondition)
}
