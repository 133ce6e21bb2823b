//! AcceptSlotOffer: an offered place in a slot becomes a confirmed booking,
//! if the offer is still open.

use chrono::Duration;
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::catalogue_context::visible_centre;
use super::{CommandError, now};
use crate::domain::access::may_edit_centres;
use crate::domain::catalogue::{ServiceSlot, SlotBooking, SlotBookingState};
use crate::events::publish;
use crate::store::catalogue;

/// Accepts the offer and writes `centres.slot_booking.confirmed`. An offer
/// past its expiry is refused even before the sweeper has passed it on.
#[tracing::instrument(skip_all, fields(slot = %slot_id, booking = %id))]
pub async fn accept_slot_offer(
    conn: &mut PgConnection,
    caller: &Caller,
    (centre_id, service_id, slot_id): (String, String, Uuid),
    id: Uuid,
) -> Result<(SlotBooking, ServiceSlot), CommandError> {
    let name = format!("centres/{centre_id}/services/{service_id}/slots/{slot_id}/bookings/{id}");
    visible_centre(&mut *conn, caller, &centre_id)
        .await
        .map_err(|_| CommandError::NotFound(name.clone()))?;
    let slot = catalogue::lock_slot(&mut *conn, &centre_id, &service_id, slot_id)
        .await?
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    let mut booking = catalogue::get_booking(&mut *conn, slot_id, id)
        .await?
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    if booking.booked_by != caller.subject && !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "only the booker or a centre administrator accepts its offer".to_owned(),
        ));
    }
    if let Some(why) = booking.refuse_acceptance(now()) {
        return Err(CommandError::Precondition(format!("{name}: {why}")));
    }
    booking.become_(SlotBookingState::Confirmed, now(), Duration::zero());
    catalogue::save_booking(&mut *conn, &booking).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::slot_booking_changed(&slot, &booking, &caller.subject),
    )
    .await?;
    Ok((booking, slot))
}
