//! CancelSlotBooking: gives a slot's place back.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::CommandError;
use super::catalogue_context::visible_centre;
use crate::domain::access::may_edit_centres;
use crate::domain::booking::BookingState;
use crate::domain::catalogue::{ServiceSlot, SlotBooking};
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
    if booking.state == BookingState::Cancelled {
        return Err(CommandError::Precondition(format!(
            "{name} is already cancelled"
        )));
    }
    catalogue::cancel_booking(&mut *conn, id).await?;
    catalogue::release_place(&mut *conn, slot_id).await?;
    booking.state = BookingState::Cancelled;
    slot.booked -= 1;
    outbox::enqueue(
        &mut *conn,
        &publish::slot_booking_changed(&slot, &booking, &caller.subject),
    )
    .await?;
    Ok((booking, slot))
}
