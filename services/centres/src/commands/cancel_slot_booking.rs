//! CancelSlotBooking: gives a slot's place back, to the next in line first.

use chrono::Duration;
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::catalogue_context::visible_centre;
use super::waitlist::pass_slot_place;
use super::{CommandError, now};
use crate::domain::access::may_edit_centres;
use crate::domain::catalogue::{ServiceSlot, SlotBooking, SlotBookingState};
use crate::events::publish;
use crate::store::catalogue;

/// Cancels slot booking `id` of the slot and writes
/// `centres.slot_booking.cancelled`; cancelling twice is refused. Returns
/// the booking and its slot as it now stands.
#[tracing::instrument(skip_all, fields(slot = %slot_id, booking = %id))]
pub async fn cancel_slot_booking(
    conn: &mut PgConnection,
    caller: &Caller,
    (centre_id, service_id, slot_id): (String, String, Uuid),
    id: Uuid,
    offer_ttl: Duration,
) -> Result<(SlotBooking, ServiceSlot), CommandError> {
    let name = format!("centres/{centre_id}/services/{service_id}/slots/{slot_id}/bookings/{id}");
    visible_centre(&mut *conn, caller, &centre_id)
        .await
        .map_err(|_| CommandError::NotFound(name.clone()))?;
    let mut slot = catalogue::lock_slot(&mut *conn, &centre_id, &service_id, slot_id)
        .await?
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    let mut booking = catalogue::get_booking(&mut *conn, slot_id, id)
        .await?
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    if booking.booked_by != caller.subject && !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "only the booker or a centre administrator cancels a booking".to_owned(),
        ));
    }
    if !booking.state.is_live() {
        return Err(CommandError::Precondition(format!(
            "{name} is already {}",
            booking.state.as_str()
        )));
    }
    let at = now();
    let held_place = booking.state.holds_place();
    booking.become_(SlotBookingState::Cancelled, at, offer_ttl);
    catalogue::save_booking(&mut *conn, &booking).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::slot_booking_changed(&slot, &booking, &caller.subject),
    )
    .await?;
    if held_place {
        pass_slot_place(&mut *conn, &mut slot, at, offer_ttl, &caller.subject).await?;
    }
    Ok((booking, slot))
}
