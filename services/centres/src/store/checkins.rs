//! Check-ins: one per attendee per activity (a unique key).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::activity::Checkin;

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    activity_id: Uuid,
    attendee: String,
    walk_in: bool,
    volunteer_minutes: i32,
    recorded_by: String,
    checked_in_at: DateTime<Utc>,
}

impl From<Row> for Checkin {
    fn from(row: Row) -> Checkin {
        Checkin {
            id: row.id,
            activity_id: row.activity_id,
            attendee: row.attendee,
            walk_in: row.walk_in,
            volunteer_minutes: row.volunteer_minutes,
            recorded_by: row.recorded_by,
            checked_in_at: row.checked_in_at,
        }
    }
}

/// Inserts `checkin`; `false` when the attendee was checked in before.
pub async fn insert(conn: &mut PgConnection, checkin: &Checkin) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO checkins (id, activity_id, attendee, walk_in, volunteer_minutes, recorded_by, checked_in_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (activity_id, attendee) DO NOTHING",
    )
    .bind(checkin.id)
    .bind(checkin.activity_id)
    .bind(&checkin.attendee)
    .bind(checkin.walk_in)
    .bind(checkin.volunteer_minutes)
    .bind(&checkin.recorded_by)
    .bind(checkin.checked_in_at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The attendee's check-in for the activity, if any.
pub async fn of(
    conn: &mut PgConnection,
    activity_id: Uuid,
    attendee: &str,
) -> sqlx::Result<Option<Checkin>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, activity_id, attendee, walk_in, volunteer_minutes, recorded_by, checked_in_at \
         FROM checkins WHERE activity_id = $1 AND attendee = $2",
    )
    .bind(activity_id)
    .bind(attendee)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Checkin::from))
}

/// (attendances, volunteer minutes) of the activity.
pub async fn totals(conn: &mut PgConnection, activity_id: Uuid) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT count(*), COALESCE(sum(volunteer_minutes), 0)::bigint FROM checkins WHERE activity_id = $1",
    )
    .bind(activity_id)
    .fetch_one(conn)
    .await
}
