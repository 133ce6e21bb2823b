//! Services, their slots and slot bookings. A slot's place count is raised
//! only by [`take_place`], whose conditional UPDATE the table's check backs.

use chrono::{DateTime, Utc};
use sqlx::postgres::types::PgRange;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::bad;
use crate::domain::catalogue::{CentreService, ServiceSlot, SlotBooking, SlotBookingState};

/// The index whose violation means "this attendee already holds a place in the slot".
pub const ONE_PER_ATTENDEE: &str = "slot_bookings_one_live_per_attendee";

#[derive(sqlx::FromRow)]
struct ServiceRow {
    centre_id: String,
    id: String,
    display_name: String,
    description: String,
    create_time: DateTime<Utc>,
}

impl From<ServiceRow> for CentreService {
    fn from(row: ServiceRow) -> CentreService {
        CentreService {
            centre_id: row.centre_id,
            id: row.id,
            display_name: row.display_name,
            description: row.description,
            create_time: row.create_time,
        }
    }
}

/// Inserts `service`; `false` when the centre already offers one with its id.
pub async fn insert_service(
    conn: &mut PgConnection,
    service: &CentreService,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO centre_services (centre_id, id, display_name, description, create_time) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(&service.centre_id)
    .bind(&service.id)
    .bind(&service.display_name)
    .bind(&service.description)
    .bind(service.create_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Whether the centre offers service `id`.
pub async fn service_exists(
    conn: &mut PgConnection,
    centre_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM centre_services WHERE centre_id = $1 AND id = $2)",
    )
    .bind(centre_id)
    .bind(id)
    .fetch_one(conn)
    .await
}

/// One page of the centre's services by id, after `after`.
pub async fn list_services(
    pool: &PgPool,
    centre_id: &str,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<CentreService>> {
    let rows: Vec<ServiceRow> = sqlx::query_as(
        "SELECT centre_id, id, display_name, description, create_time FROM centre_services \
         WHERE centre_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3",
    )
    .bind(centre_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(CentreService::from).collect())
}

#[derive(sqlx::FromRow)]
struct SlotRow {
    id: Uuid,
    centre_id: String,
    service_id: String,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    capacity: i32,
    booked: i32,
    create_time: DateTime<Utc>,
}

impl From<SlotRow> for ServiceSlot {
    fn from(row: SlotRow) -> ServiceSlot {
        ServiceSlot {
            id: row.id,
            centre_id: row.centre_id,
            service_id: row.service_id,
            start: row.start_time,
            end: row.end_time,
            capacity: row.capacity,
            booked: row.booked,
            create_time: row.create_time,
        }
    }
}

const SLOT_COLUMNS: &str = "id, centre_id, service_id, lower(during) AS start_time, \
     upper(during) AS end_time, capacity, booked, create_time";

/// Inserts a new slot.
pub async fn insert_slot(conn: &mut PgConnection, slot: &ServiceSlot) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO service_slots (id, centre_id, service_id, during, capacity, booked, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(slot.id)
    .bind(&slot.centre_id)
    .bind(&slot.service_id)
    .bind(PgRange::from(slot.start..slot.end))
    .bind(slot.capacity)
    .bind(slot.booked)
    .bind(slot.create_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Slot `id` of the centre's service, locked until the transaction ends:
/// bookings of one slot queue here.
pub async fn lock_slot(
    conn: &mut PgConnection,
    centre_id: &str,
    service_id: &str,
    id: Uuid,
) -> sqlx::Result<Option<ServiceSlot>> {
    let row: Option<SlotRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SLOT_COLUMNS} FROM service_slots WHERE id = $1 AND centre_id = $2 AND service_id = $3 FOR UPDATE"
    )))
    .bind(id)
    .bind(centre_id)
    .bind(service_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(ServiceSlot::from))
}

/// Takes a place in slot `id` if one is free: the new count, or `None`
/// when the slot is full.
pub async fn take_place(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar(
        "UPDATE service_slots SET booked = booked + 1 WHERE id = $1 AND booked < capacity RETURNING booked",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Gives a place of slot `id` back.
pub async fn release_place(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE service_slots SET booked = booked - 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct BookingRow {
    id: Uuid,
    slot_id: Uuid,
    attendee: String,
    state: String,
    queue_seq: i64,
    offer_expire_time: Option<DateTime<Utc>>,
    booked_by: String,
    version: i64,
    create_time: DateTime<Utc>,
}

impl TryFrom<BookingRow> for SlotBooking {
    type Error = sqlx::Error;

    fn try_from(row: BookingRow) -> sqlx::Result<SlotBooking> {
        Ok(SlotBooking {
            state: SlotBookingState::parse(&row.state).ok_or_else(|| bad("slot_bookings.state"))?,
            id: row.id,
            slot_id: row.slot_id,
            attendee: row.attendee,
            queue_seq: row.queue_seq,
            offer_expire_time: row.offer_expire_time,
            booked_by: row.booked_by,
            version: row.version,
            create_time: row.create_time,
        })
    }
}

const BOOKING_COLUMNS: &str =
    "id, slot_id, attendee, state, queue_seq, offer_expire_time, booked_by, version, create_time";

/// Inserts `booking` with its idempotency key. A second confirmed booking
/// of the attendee fails with [`ONE_PER_ATTENDEE`].
pub async fn insert_booking(
    conn: &mut PgConnection,
    booking: &SlotBooking,
    request_id: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO slot_bookings (id, slot_id, attendee, state, booked_by, request_id, create_time, \
           queue_seq, offer_expire_time, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(booking.id)
    .bind(booking.slot_id)
    .bind(&booking.attendee)
    .bind(booking.state.as_str())
    .bind(&booking.booked_by)
    .bind(request_id)
    .bind(booking.create_time)
    .bind(booking.queue_seq)
    .bind(booking.offer_expire_time)
    .bind(booking.version)
    .execute(conn)
    .await?;
    Ok(())
}

/// The slot booking made with `request_id`, if any.
pub async fn booking_by_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<SlotBooking>> {
    let row: Option<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM slot_bookings WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(conn)
    .await?;
    row.map(SlotBooking::try_from).transpose()
}

/// Slot booking `id` of slot `slot_id`.
pub async fn get_booking(
    conn: &mut PgConnection,
    slot_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<SlotBooking>> {
    let row: Option<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM slot_bookings WHERE id = $1 AND slot_id = $2"
    )))
    .bind(id)
    .bind(slot_id)
    .fetch_optional(conn)
    .await?;
    row.map(SlotBooking::try_from).transpose()
}

/// Writes back state, offer and version.
pub async fn save_booking(conn: &mut PgConnection, booking: &SlotBooking) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE slot_bookings SET state = $2, offer_expire_time = $3, version = $4 WHERE id = $1",
    )
    .bind(booking.id)
    .bind(booking.state.as_str())
    .bind(booking.offer_expire_time)
    .bind(booking.version)
    .execute(conn)
    .await?;
    Ok(())
}

/// The next position in slot `id`'s arrival order.
pub async fn next_position(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "UPDATE service_slots SET queue_seq = queue_seq + 1 WHERE id = $1 RETURNING queue_seq",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// The first in line for slot `id`.
pub async fn next_in_line(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<SlotBooking>> {
    let row: Option<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM slot_bookings WHERE slot_id = $1 AND state = 'waitlisted' \
         ORDER BY queue_seq LIMIT 1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(SlotBooking::try_from).transpose()
}

/// Slot `id`'s offers that lapsed by `now`, oldest first.
pub async fn lapsed_offers(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<SlotBooking>> {
    let rows: Vec<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BOOKING_COLUMNS} FROM slot_bookings WHERE slot_id = $1 AND state = 'offered' \
         AND offer_expire_time <= $2 ORDER BY offer_expire_time, queue_seq"
    )))
    .bind(id)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(SlotBooking::try_from).collect()
}

/// Slots with an offer lapsed by `now`, at most `limit`.
pub async fn slots_with_lapsed_offers(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT DISTINCT slot_id FROM slot_bookings WHERE state = 'offered' AND offer_expire_time <= $1 LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Slot `id` locked, or `None` at once when another transaction holds it.
pub async fn lock_slot_unless_busy(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<ServiceSlot>> {
    let row: Option<SlotRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SLOT_COLUMNS} FROM service_slots WHERE id = $1 FOR UPDATE SKIP LOCKED"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(ServiceSlot::from))
}
