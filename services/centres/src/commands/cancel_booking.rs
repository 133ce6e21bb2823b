//! CancelBooking: frees a confirmed booking's range.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::CommandError;
use crate::domain::access::{may_edit_centres, sees};
use crate::domain::booking::{Booking, BookingState, booking_name};
use crate::events::publish;
use crate::store::{bookings, centres};

/// Cancels the booking and writes `centres.booking.cancelled`. The booker
/// or a centre editor in scope may cancel; cancelling twice is refused.
#[tracing::instrument(skip_all, fields(centre = %centre_id, booking = %id))]
pub async fn cancel_booking(
    conn: &mut PgConnection,
    caller: &Caller,
    centre_id: String,
    id: Uuid,
) -> Result<Booking, CommandError> {
    let name = booking_name(&centre_id, id);
    let visible = centres::get(&mut *conn, &centre_id)
        .await?
        .is_some_and(|centre| {
            sees(
                &centre.location_path,
                caller.scope_roots("cells").as_deref(),
            )
        });
    let mut booking = match bookings::lock(&mut *conn, &centre_id, id).await? {
        Some(booking) if visible => booking,
        _ => return Err(CommandError::NotFound(name)),
    };
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
    bookings::cancel(&mut *conn, id).await?;
    booking.state = BookingState::Cancelled;
    outbox::enqueue(
        &mut *conn,
        &publish::booking_cancelled(&booking, &caller.subject),
    )
    .await?;
    Ok(booking)
}
