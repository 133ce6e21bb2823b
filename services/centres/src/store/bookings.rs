//! Bookings. The table's exclusion constraint, not this code, keeps two
//! confirmed bookings of one zone from overlapping.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::postgres::types::PgRange;
use uuid::Uuid;

use super::bad;
use crate::domain::booking::{Booking, BookingState};

/// The constraint whose violation means "that range is taken".
pub const NO_OVERLAP: &str = "bookings_no_overlap";

const COLUMNS: &str = "id, centre_id, zone_id, lower(during) AS start_time, upper(during) AS end_time, \
     purpose, booked_by, state, create_time";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    centre_id: String,
    zone_id: String,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    purpose: String,
    booked_by: String,
    state: String,
    create_time: DateTime<Utc>,
}

impl TryFrom<Row> for Booking {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> sqlx::Result<Booking> {
        Ok(Booking {
            state: BookingState::parse(&row.state).ok_or_else(|| bad("bookings.state"))?,
            id: row.id,
            centre_id: row.centre_id,
            zone_id: row.zone_id,
            start: row.start_time,
            end: row.end_time,
            purpose: row.purpose,
            booked_by: row.booked_by,
            create_time: row.create_time,
        })
    }
}

/// Inserts `booking` (with its idempotency key); `false` when a booking
/// with that key exists. An overlap fails with [`NO_OVERLAP`].
#[tracing::instrument(level = "debug", skip_all, fields(booking = %booking.id))]
pub async fn insert(
    conn: &mut PgConnection,
    booking: &Booking,
    request_id: Option<Uuid>,
) -> sqlx::Result<bool> {
    let during = PgRange::from(booking.start..booking.end);
    // The conflict target is the key alone: an overlap must still raise.
    let inserted = sqlx::query(
        "INSERT INTO bookings (id, centre_id, zone_id, during, purpose, booked_by, state, request_id, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(booking.id)
    .bind(&booking.centre_id)
    .bind(&booking.zone_id)
    .bind(during)
    .bind(&booking.purpose)
    .bind(&booking.booked_by)
    .bind(booking.state.as_str())
    .bind(request_id)
    .bind(booking.create_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The booking made with `request_id`, if any.
pub async fn by_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<Booking>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM bookings WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(conn)
    .await?;
    row.map(Booking::try_from).transpose()
}

/// The booking `id` of centre `centre_id`, locked until the transaction ends.
pub async fn lock(
    conn: &mut PgConnection,
    centre_id: &str,
    id: Uuid,
) -> sqlx::Result<Option<Booking>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM bookings WHERE id = $1 AND centre_id = $2 FOR UPDATE"
    )))
    .bind(id)
    .bind(centre_id)
    .fetch_optional(conn)
    .await?;
    row.map(Booking::try_from).transpose()
}

/// Marks booking `id` cancelled.
pub async fn cancel(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE bookings SET state = 'cancelled' WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Waits until no other transaction books zone `zone_id` of `centre_id`;
/// held until this transaction ends.
pub async fn queue_for_zone(
    conn: &mut PgConnection,
    centre_id: &str,
    zone_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtext('centres.booking'), hashtext($1 || '/' || $2))",
    )
    .bind(centre_id)
    .bind(zone_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// One page of the centre's bookings by id (creation order), after `after`.
pub async fn list(
    pool: &sqlx::PgPool,
    centre_id: &str,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Booking>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM bookings WHERE centre_id = $1 AND ($2::uuid IS NULL OR id > $2) \
         ORDER BY id LIMIT $3"
    )))
    .bind(centre_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Booking::try_from).collect()
}
