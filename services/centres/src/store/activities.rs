//! Activities. Every change to an activity or its registrations happens
//! under the activity's row lock ([`lock`]), taken first, so registrations
//! of one activity queue on it and the place count is never raced.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::bad;
use crate::domain::activity::{Activity, ActivityState, ActivityType};

const COLUMNS: &str = "id, centre_id, display_name, organiser, activity_type, agreement, start_time, \
     end_time, capacity, volunteer_minutes, state, seats_taken, queue_seq, scheduled_by, version, \
     create_time, update_time";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    centre_id: String,
    display_name: String,
    organiser: String,
    activity_type: String,
    agreement: String,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    capacity: i32,
    volunteer_minutes: i32,
    state: String,
    seats_taken: i32,
    queue_seq: i64,
    scheduled_by: String,
    version: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

impl TryFrom<Row> for Activity {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> sqlx::Result<Activity> {
        Ok(Activity {
            activity_type: ActivityType::parse(&row.activity_type)
                .ok_or_else(|| bad("activities.activity_type"))?,
            state: ActivityState::parse(&row.state).ok_or_else(|| bad("activities.state"))?,
            id: row.id,
            centre_id: row.centre_id,
            display_name: row.display_name,
            organiser: row.organiser,
            agreement: row.agreement,
            start: row.start_time,
            end: row.end_time,
            capacity: row.capacity,
            volunteer_minutes: row.volunteer_minutes,
            seats_taken: row.seats_taken,
            queue_seq: row.queue_seq,
            scheduled_by: row.scheduled_by,
            version: row.version,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}

/// Inserts a new activity.
#[tracing::instrument(level = "debug", skip_all, fields(activity = %activity.id))]
pub async fn insert(conn: &mut PgConnection, activity: &Activity) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO activities (id, centre_id, display_name, organiser, activity_type, agreement, \
           start_time, end_time, capacity, volunteer_minutes, state, seats_taken, queue_seq, \
           scheduled_by, version, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(activity.id)
    .bind(&activity.centre_id)
    .bind(&activity.display_name)
    .bind(&activity.organiser)
    .bind(activity.activity_type.as_str())
    .bind(&activity.agreement)
    .bind(activity.start)
    .bind(activity.end)
    .bind(activity.capacity)
    .bind(activity.volunteer_minutes)
    .bind(activity.state.as_str())
    .bind(activity.seats_taken)
    .bind(activity.queue_seq)
    .bind(&activity.scheduled_by)
    .bind(activity.version)
    .bind(activity.create_time)
    .bind(activity.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes back what changes: state, places, queue, version.
pub async fn save(conn: &mut PgConnection, activity: &Activity) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE activities SET state = $2, seats_taken = $3, queue_seq = $4, version = $5, \
           update_time = $6 WHERE id = $1",
    )
    .bind(activity.id)
    .bind(activity.state.as_str())
    .bind(activity.seats_taken)
    .bind(activity.queue_seq)
    .bind(activity.version)
    .bind(activity.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// The activity `id`.
pub async fn get<'e>(executor: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<Activity>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM activities WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await?;
    row.map(Activity::try_from).transpose()
}

/// The activity `id`, locked until the transaction ends (waiting for the
/// lock if another transaction holds it).
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Activity>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM activities WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Activity::try_from).transpose()
}

/// The activity `id` locked, or `None` at once when another transaction
/// (a sweeper on another replica, a registration) holds it: the sweeper
/// leaves it to that one or to the next sweep instead of waiting.
pub async fn lock_unless_busy(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Activity>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM activities WHERE id = $1 FOR UPDATE SKIP LOCKED"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Activity::try_from).transpose()
}

/// The activity a CreateActivity with `request_id` scheduled, if any.
pub async fn scheduled_by_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT activity_id FROM activity_requests WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(conn)
        .await
}

/// Remembers that `request_id` scheduled `activity_id`; `false` when a
/// concurrent transaction with the same key remembered its own first.
pub async fn remember_request(
    conn: &mut PgConnection,
    request_id: Uuid,
    activity_id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO activity_requests (request_id, activity_id) VALUES ($1, $2) \
         ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(request_id)
    .bind(activity_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
