//! CreateBooking: a zone for a half-open range within one opening period.
//!
//! No double booking under any concurrency: the insert meets the table's
//! exclusion constraint, so of two overlapping bookings racing, PostgreSQL
//! commits one and refuses the other; nothing here checks then inserts.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, invalid, now};
use crate::domain::access::{may_book, sees};
use crate::domain::booking::{Booking, BookingState, NewBooking};
use crate::domain::centre::centre_name;
use crate::domain::hours::{TIME_ZONE, period_for};
use crate::events::publish;
use crate::store::{bookings, centres};

/// A parsed CreateBooking request.
#[derive(Debug, Clone)]
pub struct CreateBooking {
    /// The booking.
    pub booking: NewBooking,
    /// Idempotency key.
    pub request_id: Option<Uuid>,
}

/// Books the zone and writes `centres.booking.confirmed`.
#[tracing::instrument(skip_all, fields(centre = %input.booking.centre_id))]
pub async fn create_booking(
    conn: &mut PgConnection,
    caller: &Caller,
    input: CreateBooking,
) -> Result<Booking, CommandError> {
    let new = input.booking;
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
            "your roles do not allow booking".to_owned(),
        ));
    }
    if let Some(request_id) = input.request_id
        && let Some(existing) = bookings::by_request(&mut *conn, request_id).await?
    {
        return Ok(existing);
    }
    if centre.zone(&new.zone_id).is_none() {
        return Err(invalid(
            "booking.zone_id",
            format!("{name} has no zone `{}`", new.zone_id),
        ));
    }
    if period_for(&centre.opening_hours, new.start, new.end).is_none() {
        return Err(CommandError::Precondition(format!(
            "{name} is not open for the whole of the range: a booking must fall within one opening period ({TIME_ZONE}, whole minutes)"
        )));
    }
    let booking = Booking {
        id: Uuid::now_v7(),
        centre_id: new.centre_id,
        zone_id: new.zone_id,
        start: new.start,
        end: new.end,
        purpose: new.purpose,
        booked_by: caller.subject.clone(),
        state: BookingState::Confirmed,
        create_time: now(),
    };
    // Bookings of one zone queue here: overlapping inserts checking the
    // exclusion constraint against each other's uncommitted rows can
    // deadlock, and a queue turns that into a clean refusal. The
    // constraint still decides.
    bookings::queue_for_zone(&mut *conn, &booking.centre_id, &booking.zone_id).await?;
    let inserted = match bookings::insert(&mut *conn, &booking, input.request_id).await {
        Ok(inserted) => inserted,
        Err(sqlx::Error::Database(error)) if error.constraint() == Some(bookings::NO_OVERLAP) => {
            return Err(CommandError::AlreadyExists(format!(
                "a confirmed booking of zone `{}` of {name} overlapping that range",
                booking.zone_id
            )));
        }
        Err(error) => return Err(error.into()),
    };
    if !inserted {
        // A concurrent retry with the same key won: its booking is the answer.
        let request_id = input.request_id.unwrap_or_default();
        return bookings::by_request(&mut *conn, request_id)
            .await?
            .ok_or_else(|| {
                CommandError::Aborted("a retry of this booking is in flight; try again".to_owned())
            });
    }
    let causation = input
        .request_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    outbox::enqueue(
        &mut *conn,
        &publish::booking_confirmed(&booking, &caller.subject, &causation),
    )
    .await?;
    Ok(booking)
}
