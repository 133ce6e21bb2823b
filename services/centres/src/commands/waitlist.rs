//! Passing a freed place on: to the first in line as an offer that
//! expires, or back to the activity or slot when nobody waits.

use chrono::{DateTime, Duration, Utc};
use civicgrid_messaging::outbox;
use sqlx::PgConnection;

use super::CommandError;
use crate::domain::activity::{Activity, RegistrationState};
use crate::domain::catalogue::{ServiceSlot, SlotBookingState};
use crate::events::publish;
use crate::store::{catalogue, registrations};

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

/// A place of service slot `slot` (locked by the caller) was given up at
/// `now`: offered to the first in line, or freed when nobody waits.
pub(crate) async fn pass_slot_place(
    conn: &mut PgConnection,
    slot: &mut ServiceSlot,
    now: DateTime<Utc>,
    offer_ttl: Duration,
    actor: &str,
) -> Result<(), CommandError> {
    match catalogue::next_in_line(&mut *conn, slot.id).await? {
        Some(mut next) => {
            next.become_(SlotBookingState::Offered, now, offer_ttl);
            catalogue::save_booking(&mut *conn, &next).await?;
            outbox::enqueue(
                &mut *conn,
                &publish::slot_booking_changed(slot, &next, actor),
            )
            .await?;
        }
        None => {
            catalogue::release_place(&mut *conn, slot.id).await?;
            slot.booked -= 1;
        }
    }
    Ok(())
}
