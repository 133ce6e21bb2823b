//! Joint conferences, meetings and issues.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// One stored conference.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConferenceRow {
    /// Its id.
    pub id: Uuid,
    /// ConferenceKind.
    pub kind: i16,
    /// Its cell.
    pub cell_id: String,
    /// That cell's path.
    pub cell_path: String,
    /// Name.
    pub display_name: String,
    /// Member unit codes.
    pub member_units: Vec<String>,
    /// Created at.
    pub create_time: DateTime<Utc>,
}

/// One stored meeting.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MeetingRow {
    /// Its id.
    pub id: Uuid,
    /// Its conference.
    pub conference_id: Uuid,
    /// What about.
    pub topic: String,
    /// When.
    pub held_at: DateTime<Utc>,
}

/// One stored issue.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IssueRow {
    /// Its id.
    pub id: Uuid,
    /// Its conference.
    pub conference_id: Uuid,
    /// The meeting it was raised at.
    pub meeting_id: Option<Uuid>,
    /// What.
    pub title: String,
    /// Who owns it.
    pub owner_id: String,
    /// By when.
    pub due_time: DateTime<Utc>,
    /// Raised at.
    pub raise_time: DateTime<Utc>,
    /// Resolved at.
    pub resolve_time: Option<DateTime<Utc>>,
    /// How.
    pub resolution: String,
}

const CONFERENCE_COLUMNS: &str =
    "id, kind, cell_id, cell_path, display_name, member_units, create_time";
const ISSUE_COLUMNS: &str = "id, conference_id, meeting_id, title, owner_id, due_time, raise_time, \
     resolve_time, resolution";

/// Stores a conference.
pub async fn insert(conn: &mut PgConnection, row: &ConferenceRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO conferences (id, kind, cell_id, cell_path, display_name, member_units, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.id)
    .bind(row.kind)
    .bind(&row.cell_id)
    .bind(&row.cell_path)
    .bind(&row.display_name)
    .bind(&row.member_units)
    .bind(row.create_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// The conference `id`.
pub async fn get<'e>(
    executor: impl PgExecutor<'e>,
    id: Uuid,
) -> sqlx::Result<Option<ConferenceRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONFERENCE_COLUMNS} FROM conferences WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// Stores a meeting.
pub async fn insert_meeting(conn: &mut PgConnection, row: &MeetingRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO conference_meetings (id, conference_id, topic, held_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(row.id)
    .bind(row.conference_id)
    .bind(&row.topic)
    .bind(row.held_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether meeting `id` belongs to `conference`.
pub async fn meeting_exists(
    conn: &mut PgConnection,
    conference: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM conference_meetings WHERE conference_id = $1 AND id = $2)",
    )
    .bind(conference)
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Stores an issue.
pub async fn insert_issue(conn: &mut PgConnection, row: &IssueRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO conference_issues (id, conference_id, meeting_id, title, owner_id, due_time, raise_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.id)
    .bind(row.conference_id)
    .bind(row.meeting_id)
    .bind(&row.title)
    .bind(&row.owner_id)
    .bind(row.due_time)
    .bind(row.raise_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// The issue `id` of `conference`, locked.
pub async fn lock_issue(
    conn: &mut PgConnection,
    conference: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<IssueRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ISSUE_COLUMNS} FROM conference_issues WHERE conference_id = $1 AND id = $2 FOR UPDATE"
    )))
    .bind(conference)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Marks the issue resolved.
pub async fn resolve(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
    resolution: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE conference_issues SET resolve_time = $2, resolution = $3 WHERE id = $1")
        .bind(id)
        .bind(at)
        .bind(resolution)
        .execute(conn)
        .await?;
    Ok(())
}

/// Open issues due before `now` of conferences at `path` or below, oldest due first.
pub async fn overdue<'e>(
    executor: impl PgExecutor<'e>,
    path: &str,
    scope: Option<&[String]>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<IssueRow>> {
    let patterns: Option<Vec<String>> =
        scope.map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_as(
        "SELECT i.id, i.conference_id, i.meeting_id, i.title, i.owner_id, i.due_time, i.raise_time, \
           i.resolve_time, i.resolution \
         FROM conference_issues i JOIN conferences c ON c.id = i.conference_id \
         WHERE i.resolve_time IS NULL AND i.due_time < $3 AND c.cell_path LIKE $1 || '%' \
           AND ($2::text[] IS NULL OR c.cell_path LIKE ANY($2)) \
         ORDER BY i.due_time, i.id",
    )
    .bind(path)
    .bind(patterns)
    .bind(now)
    .fetch_all(executor)
    .await
}
