//! Registrations and their waitlist. Callers hold the activity's row lock
//! (`store::activities::lock`) before touching its registrations.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::bad;
use crate::domain::activity::{Registration, RegistrationState};

/// The index whose violation means "this attendee already has a live registration".
pub const ONE_LIVE_PER_ATTENDEE: &str = "registrations_one_live_per_attendee";

const COLUMNS: &str = "id, activity_id, attendee, state, queue_seq, offer_expire_time, no_show, \
     registered_by, version, create_time, update_time";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    activity_id: Uuid,
    attendee: String,
    state: String,
    queue_seq: i64,
    offer_expire_time: Option<DateTime<Utc>>,
    no_show: bool,
    registered_by: String,
    version: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

impl TryFrom<Row> for Registration {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> sqlx::Result<Registration> {
        Ok(Registration {
            state: RegistrationState::parse(&row.state)
                .ok_or_else(|| bad("registrations.state"))?,
            id: row.id,
            activity_id: row.activity_id,
            attendee: row.attendee,
            queue_seq: row.queue_seq,
            offer_expire_time: row.offer_expire_time,
            no_show: row.no_show,
            registered_by: row.registered_by,
            version: row.version,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}

fn decode(rows: Vec<Row>) -> sqlx::Result<Vec<Registration>> {
    rows.into_iter().map(Registration::try_from).collect()
}

/// Inserts a new registration; an attendee's second live one fails with
/// [`ONE_LIVE_PER_ATTENDEE`].
pub async fn insert(conn: &mut PgConnection, registration: &Registration) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO registrations (id, activity_id, attendee, state, queue_seq, offer_expire_time, \
           no_show, registered_by, version, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(registration.id)
    .bind(registration.activity_id)
    .bind(&registration.attendee)
    .bind(registration.state.as_str())
    .bind(registration.queue_seq)
    .bind(registration.offer_expire_time)
    .bind(registration.no_show)
    .bind(&registration.registered_by)
    .bind(registration.version)
    .bind(registration.create_time)
    .bind(registration.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes back state, offer, no-show and version.
pub async fn save(conn: &mut PgConnection, registration: &Registration) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE registrations SET state = $2, offer_expire_time = $3, no_show = $4, version = $5, \
           update_time = $6 WHERE id = $1",
    )
    .bind(registration.id)
    .bind(registration.state.as_str())
    .bind(registration.offer_expire_time)
    .bind(registration.no_show)
    .bind(registration.version)
    .bind(registration.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Registration `id` of activity `activity_id`.
pub async fn get(
    conn: &mut PgConnection,
    activity_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Registration>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM registrations WHERE id = $1 AND activity_id = $2"
    )))
    .bind(id)
    .bind(activity_id)
    .fetch_optional(conn)
    .await?;
    row.map(Registration::try_from).transpose()
}

/// The attendee's live registration for the activity, if any.
pub async fn live_of(
    conn: &mut PgConnection,
    activity_id: Uuid,
    attendee: &str,
) -> sqlx::Result<Option<Registration>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM registrations WHERE activity_id = $1 AND attendee = $2 \
         AND state IN ('registered', 'waitlisted', 'offered')"
    )))
    .bind(activity_id)
    .bind(attendee)
    .fetch_optional(conn)
    .await?;
    row.map(Registration::try_from).transpose()
}

/// The first in line: the waitlisted registration with the lowest position.
pub async fn next_in_line(
    conn: &mut PgConnection,
    activity_id: Uuid,
) -> sqlx::Result<Option<Registration>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM registrations WHERE activity_id = $1 AND state = 'waitlisted' \
         ORDER BY queue_seq LIMIT 1"
    )))
    .bind(activity_id)
    .fetch_optional(conn)
    .await?;
    row.map(Registration::try_from).transpose()
}

/// The activity's offers that lapsed by `now`, oldest first.
pub async fn lapsed_offers(
    conn: &mut PgConnection,
    activity_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Registration>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM registrations WHERE activity_id = $1 AND state = 'offered' \
         AND offer_expire_time <= $2 ORDER BY offer_expire_time, queue_seq"
    )))
    .bind(activity_id)
    .bind(now)
    .fetch_all(conn)
    .await?;
    decode(rows)
}

/// Scheduled activities with an offer lapsed by `now`, at most `limit`.
pub async fn activities_with_lapsed_offers(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT DISTINCT r.activity_id FROM registrations r JOIN activities a ON a.id = r.activity_id \
         WHERE r.state = 'offered' AND r.offer_expire_time <= $1 AND a.state = 'scheduled' LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Registered attendees of the activity without a check-in.
pub async fn absent(conn: &mut PgConnection, activity_id: Uuid) -> sqlx::Result<Vec<Registration>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM registrations r WHERE activity_id = $1 AND state = 'registered' \
         AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.activity_id = r.activity_id AND c.attendee = r.attendee) \
         ORDER BY queue_seq"
    )))
    .bind(activity_id)
    .fetch_all(conn)
    .await?;
    decode(rows)
}

/// How many of the activity's registrations are in `state`.
pub async fn count_in<'e>(
    executor: impl PgExecutor<'e>,
    activity_id: Uuid,
    state: RegistrationState,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM registrations WHERE activity_id = $1 AND state = $2")
        .bind(activity_id)
        .bind(state.as_str())
        .fetch_one(executor)
        .await
}

/// One page of the activity's registrations by position, after `after`.
pub async fn list(
    pool: &PgPool,
    activity_id: Uuid,
    after: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<Registration>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM registrations WHERE activity_id = $1 AND ($2::bigint IS NULL OR queue_seq > $2) \
         ORDER BY queue_seq LIMIT $3"
    )))
    .bind(activity_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    decode(rows)
}
