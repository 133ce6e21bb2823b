//! Department ratings and the other events assessment stores.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::rating::Grade;

/// An event that is not a grid task event, as stored.
#[derive(Debug, Clone)]
pub struct OtherEvent {
    /// Its id.
    pub event_id: Uuid,
    /// "assessment", "membership" or "centres".
    pub source: String,
    /// e.g. "assessment.department.rated".
    pub routing_key: String,
    /// What it is about.
    pub aggregate_id: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The encoded message.
    pub payload: Vec<u8>,
}

/// Stores an event; false when stored before.
pub async fn insert_event(conn: &mut PgConnection, event: &OtherEvent) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO other_events (event_id, source, routing_key, aggregate_id, occurred_at, payload) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.event_id)
    .bind(&event.source)
    .bind(&event.routing_key)
    .bind(&event.aggregate_id)
    .bind(event.occurred_at)
    .bind(&event.payload)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// A stored rating.
#[derive(Debug, Clone)]
pub struct RatingRow {
    /// "tasks/{id}".
    pub task: String,
    /// "departments/{id}".
    pub department: String,
    /// The grade.
    pub grade: Grade,
    /// Free text.
    pub comment: String,
    /// Who rated.
    pub rater: String,
    /// The event behind its metrics.
    pub event_id: Uuid,
    /// When the task was reported.
    pub reported_at: DateTime<Utc>,
    /// When rated.
    pub create_time: DateTime<Utc>,
}

/// Stores a rating; false when the department was rated for the task before.
pub async fn insert(conn: &mut PgConnection, rating: &RatingRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO department_ratings (task, department, grade, comment, rater, event_id, reported_at, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (task, department) DO NOTHING",
    )
    .bind(&rating.task)
    .bind(&rating.department)
    .bind(rating.grade.as_str())
    .bind(&rating.comment)
    .bind(&rating.rater)
    .bind(rating.event_id)
    .bind(rating.reported_at)
    .bind(rating.create_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// Whether the department was rated for the task.
pub async fn exists(conn: &mut PgConnection, task: &str, department: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM department_ratings WHERE task = $1 AND department = $2)",
    )
    .bind(task)
    .bind(department)
    .fetch_one(conn)
    .await
}

type RatingTuple = (
    String,
    String,
    String,
    String,
    String,
    Uuid,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// Every rating, for a rebuild.
pub async fn all(conn: &mut PgConnection) -> sqlx::Result<Vec<RatingRow>> {
    let rows: Vec<RatingTuple> = sqlx::query_as(
        "SELECT task, department, grade, comment, rater, event_id, reported_at, create_time \
             FROM department_ratings ORDER BY task, department",
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(
            |(task, department, grade, comment, rater, event_id, reported_at, create_time)| {
                let grade = Grade::parse(&grade).ok_or_else(|| {
                    sqlx::Error::Decode(format!("department_ratings.grade: unknown {grade}").into())
                })?;
                Ok(RatingRow {
                    task,
                    department,
                    grade,
                    comment,
                    rater,
                    event_id,
                    reported_at,
                    create_time,
                })
            },
        )
        .collect()
}

/// The key its facts are kept under in `metric_facts` (apart from the
/// task's own, which a task recomputation replaces).
pub fn facts_key(task: &str, department: &str) -> String {
    format!("ratings/{task}/{department}")
}

/// Serialises the recomputation of one group of events.
pub async fn lock_group(conn: &mut PgConnection, group: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7313))")
        .bind(group)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every stored membership and centres event of one group, decoded.
pub async fn group_events(
    conn: &mut PgConnection,
    group: &str,
) -> sqlx::Result<Vec<crate::domain::participation::ParticipationEvent>> {
    let rows: Vec<(Uuid, String, Vec<u8>)> = sqlx::query_as(
        "SELECT event_id, routing_key, payload FROM other_events \
         WHERE aggregate_id = $1 AND source IN ('membership', 'centres') ORDER BY event_id",
    )
    .bind(group)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(event_id, key, payload)| {
            let body = crate::events::participation::decode(&key, &payload).map_err(|why| {
                sqlx::Error::Decode(format!("other_events.payload of {event_id}: {why}").into())
            })?;
            Ok(crate::domain::participation::ParticipationEvent { event_id, body })
        })
        .collect()
}

/// Every group with membership or centres events, for a rebuild.
pub async fn groups(conn: &mut PgConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT aggregate_id FROM other_events WHERE source IN ('membership', 'centres') ORDER BY 1",
    )
    .fetch_all(conn)
    .await
}

/// The key a group's facts are kept under in `metric_facts`.
pub fn group_key(group: &str) -> String {
    format!("other/{group}")
}
