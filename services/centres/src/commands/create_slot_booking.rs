//! CreateSlotBooking: a place in a service slot.
//!
//! No overbooking under any concurrency: bookings of one slot queue on its
//! row lock, the place is taken by a conditional UPDATE (`booked <
//! capacity`) and the table's check refuses any count above capacity.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::catalogue_context::visible_centre;
use super::{CommandError, now};
use crate::domain::access::may_book;
use crate::domain::catalogue::{ServiceSlot, SlotBooking, SlotBookingState};
use crate::events::publish;
use crate::store::catalogue;

/// A parsed CreateSlotBooking request.
#[derive(Debug, Clone)]
pub struct CreateSlotBooking {
    /// The centre's code.
    pub centre_id: String,
    /// The service's code.
    pub service_id: String,
    /// The slot.
    pub slot_id: Uuid,
    /// `members/{id}` or `residents/{id}`.
    pub attendee: String,
    /// Idempotency key.
    pub request_id: Option<Uuid>,
    /// Wait when the slot is full instead of being refused.
    pub join_waitlist: bool,
}

/// Books the place (or a place in the waitlist) and writes
/// `centres.slot_booking.confirmed` (or `.waitlisted`); returns the
/// booking and its slot as it now stands.
#[tracing::instrument(skip_all, fields(slot = %input.slot_id))]
pub async fn create_slot_booking(
    conn: &mut PgConnection,
    caller: &Caller,
    input: CreateSlotBooking,
) -> Result<(SlotBooking, ServiceSlot), CommandError> {
    visible_centre(&mut *conn, caller, &input.centre_id).await?;
    if !may_book(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow booking".to_owned(),
        ));
    }
    let mut slot = catalogue::lock_slot(
        &mut *conn,
        &input.centre_id,
        &input.service_id,
        input.slot_id,
    )
    .await?
    .ok_or_else(|| {
        CommandError::NotFound(format!(
            "centres/{}/services/{}/slots/{}",
            input.centre_id, input.service_id, input.slot_id
        ))
    })?;
    // Under the slot's lock a racing retry has either committed or not begun.
    if let Some(request_id) = input.request_id
        && let Some(existing) = catalogue::booking_by_request(&mut *conn, request_id).await?
    {
        return Ok((existing, slot));
    }
    // A place held by an open offer counts as taken, so a newcomer never
    // jumps the waitlist.
    let state = match catalogue::take_place(&mut *conn, slot.id).await? {
        Some(booked) => {
            slot.booked = booked;
            SlotBookingState::Confirmed
        }
        None if input.join_waitlist => SlotBookingState::Waitlisted,
        None => {
            return Err(CommandError::Precondition(format!(
                "{} is full: all {} places are booked (set join_waitlist to wait for one)",
                slot.resource_name(),
                slot.capacity
            )));
        }
    };
    let booking = SlotBooking {
        id: Uuid::now_v7(),
        slot_id: slot.id,
        attendee: input.attendee,
        state,
        queue_seq: catalogue::next_position(&mut *conn, slot.id).await?,
        offer_expire_time: None,
        booked_by: caller.subject.clone(),
        version: 1,
        create_time: now(),
    };
    match catalogue::insert_booking(&mut *conn, &booking, input.request_id).await {
        Ok(()) => {}
        Err(sqlx::Error::Database(error))
            if error.constraint() == Some(catalogue::ONE_PER_ATTENDEE) =>
        {
            return Err(CommandError::AlreadyExists(format!(
                "a booking of {} in {}",
                booking.attendee,
                slot.resource_name()
            )));
        }
        Err(error) => return Err(error.into()),
    }
    outbox::enqueue(
        &mut *conn,
        &publish::slot_booking_changed(&slot, &booking, &caller.subject),
    )
    .await?;
    Ok((booking, slot))
}
