//! Passing a freed place on: to the first in line as an offer that
//! expires, or back to the activity when nobody waits.

use chrono::{DateTime, Duration, Utc};
use civicgrid_messaging::outbox;
use sqlx::PgConnection;

use super::CommandError;
use crate::domain::activity::{Activity, RegistrationState};
use crate::events::publish;
use crate::store::registrations;

/// A place of `activity` (locked by the caller) was given up at `now`.
/// The place stays taken while it is offered, so a new registration cannot
/// jump the queue.
pub(crate) async fn pass_place(
    conn: &mut PgConnection,
    activity: &mut Activity,
    now: DateTime<Utc>,
    offer_ttl: Duration,
    actor: &str,
) -> Result<(), CommandError> {
    match registrations::next_in_line(&mut *conn, activity.id).await? {
        Some(mut next) => {
            next.become_(RegistrationState::Offered, now, offer_ttl);
            registrations::save(&mut *conn, &next).await?;
            activity.touch(now);
            outbox::enqueue(&mut *conn, &publish::registration_changed(&next, actor)).await?;
        }
        None => activity.free_place(now),
    }
    Ok(())
}
