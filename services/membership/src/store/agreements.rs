//! Co-building agreements, commitments, near-duplicate pairs and the
//! activities held under agreements.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// One stored agreement.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AgreementRow {
    /// Its id.
    pub id: Uuid,
    /// The community it serves.
    pub community_id: String,
    /// Its path.
    pub community_path: String,
    /// Party organisation codes.
    pub parties: Vec<String>,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// The text as compared.
    pub normalised_body: String,
    /// Term.
    pub term_start: DateTime<Utc>,
    /// Term end.
    pub term_end: DateTime<Utc>,
    /// Signed at.
    pub sign_time: DateTime<Utc>,
    /// Last co-building activity.
    pub last_activity_time: Option<DateTime<Utc>>,
}

/// One stored commitment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CommitmentRow {
    /// Its id.
    pub id: Uuid,
    /// Its agreement.
    pub agreement_id: Uuid,
    /// Order in the agreement.
    pub position: i16,
    /// What.
    pub description: String,
    /// Who owes it.
    pub owner_id: String,
    /// By when.
    pub due_time: DateTime<Utc>,
    /// 1 open, 2 fulfilled.
    pub status: i16,
    /// When fulfilled.
    pub fulfil_time: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, community_id, community_path, parties, title, body, normalised_body, \
     term_start, term_end, sign_time, last_activity_time";
const COMMITMENT_COLUMNS: &str =
    "id, agreement_id, position, description, owner_id, due_time, status, fulfil_time";

/// Inserts the agreement and its commitments.
pub async fn insert(
    conn: &mut PgConnection,
    row: &AgreementRow,
    commitments: &[CommitmentRow],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO agreements (id, community_id, community_path, parties, title, body, \
           normalised_body, term_start, term_end, sign_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(row.id)
    .bind(&row.community_id)
    .bind(&row.community_path)
    .bind(&row.parties)
    .bind(&row.title)
    .bind(&row.body)
    .bind(&row.normalised_body)
    .bind(row.term_start)
    .bind(row.term_end)
    .bind(row.sign_time)
    .execute(&mut *conn)
    .await?;
    for c in commitments {
        sqlx::query(
            "INSERT INTO commitments (id, agreement_id, position, description, owner_id, due_time, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 1)",
        )
        .bind(c.id)
        .bind(c.agreement_id)
        .bind(c.position)
        .bind(&c.description)
        .bind(&c.owner_id)
        .bind(c.due_time)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Every agreement's id and normalised text, to compare a new one with.
pub async fn normalised_bodies(conn: &mut PgConnection) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("SELECT id, normalised_body FROM agreements ORDER BY id")
        .fetch_all(conn)
        .await
}

/// Remembers that `agreement` nearly duplicates `other`.
pub async fn insert_near_duplicate(
    conn: &mut PgConnection,
    agreement: Uuid,
    other: Uuid,
    similarity: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO agreement_near_duplicates (agreement_id, other_id, similarity) VALUES ($1, $2, $3)",
    )
    .bind(agreement)
    .bind(other)
    .bind(similarity)
    .execute(conn)
    .await?;
    Ok(())
}

/// The agreement `id`.
pub async fn get<'e>(
    executor: impl PgExecutor<'e>,
    id: Uuid,
) -> sqlx::Result<Option<AgreementRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM agreements WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// The commitments of `agreement`, in order.
pub async fn commitments<'e>(
    executor: impl PgExecutor<'e>,
    agreement: Uuid,
) -> sqlx::Result<Vec<CommitmentRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COMMITMENT_COLUMNS} FROM commitments WHERE agreement_id = $1 ORDER BY position"
    )))
    .bind(agreement)
    .fetch_all(executor)
    .await
}

/// The agreements `agreement` nearly duplicates, most similar first.
pub async fn near_duplicates_of<'e>(
    executor: impl PgExecutor<'e>,
    agreement: Uuid,
) -> sqlx::Result<Vec<(Uuid, f64)>> {
    sqlx::query_as(
        "SELECT other_id, similarity FROM agreement_near_duplicates WHERE agreement_id = $1 \
         ORDER BY similarity DESC, other_id",
    )
    .bind(agreement)
    .fetch_all(executor)
    .await
}

/// The commitment `id` of `agreement`, locked.
pub async fn lock_commitment(
    conn: &mut PgConnection,
    agreement: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<CommitmentRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COMMITMENT_COLUMNS} FROM commitments WHERE agreement_id = $1 AND id = $2 FOR UPDATE"
    )))
    .bind(agreement)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Marks the commitment fulfilled at `at`.
pub async fn fulfil(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("UPDATE commitments SET status = 2, fulfil_time = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records an activity held under `agreement` once; moves its last
/// activity time forward (never back: activities arrive in any order).
pub async fn record_activity(
    conn: &mut PgConnection,
    activity: &str,
    agreement: Uuid,
    end_time: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO agreement_activities (activity, agreement_id, end_time) VALUES ($1, $2, $3) \
         ON CONFLICT (activity) DO NOTHING",
    )
    .bind(activity)
    .bind(agreement)
    .bind(end_time)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        sqlx::query(
            "UPDATE agreements SET last_activity_time = GREATEST(last_activity_time, $2) WHERE id = $1",
        )
        .bind(agreement)
        .bind(end_time)
        .execute(conn)
        .await?;
    }
    Ok(inserted)
}

/// Near-duplicate pairs whose newer agreement lies at `path` or below.
pub async fn near_duplicate_pairs<'e>(
    executor: impl PgExecutor<'e>,
    path: &str,
    scope: Option<&[String]>,
) -> sqlx::Result<Vec<(Uuid, Uuid, f64)>> {
    let patterns: Option<Vec<String>> =
        scope.map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_as(
        "SELECT d.agreement_id, d.other_id, d.similarity FROM agreement_near_duplicates d \
         JOIN agreements a ON a.id = d.agreement_id \
         JOIN agreements o ON o.id = d.other_id \
         WHERE a.community_path LIKE $1 || '%' \
           AND ($2::text[] IS NULL OR (a.community_path LIKE ANY($2) AND o.community_path LIKE ANY($2))) \
         ORDER BY d.agreement_id, d.other_id",
    )
    .bind(path)
    .bind(patterns)
    .fetch_all(executor)
    .await
}

/// Agreements in force at `now` at `path` or below whose last activity (or
/// signing) is before `since`.
pub async fn idle<'e>(
    executor: impl PgExecutor<'e>,
    path: &str,
    scope: Option<&[String]>,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<Uuid>> {
    let patterns: Option<Vec<String>> =
        scope.map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_scalar(
        "SELECT id FROM agreements \
         WHERE community_path LIKE $1 || '%' AND ($2::text[] IS NULL OR community_path LIKE ANY($2)) \
           AND term_start <= $3 AND term_end > $3 \
           AND coalesce(last_activity_time, sign_time) < $4 \
         ORDER BY id",
    )
    .bind(path)
    .bind(patterns)
    .bind(now)
    .bind(since)
    .fetch_all(executor)
    .await
}

/// "Two new" organisations (kinds 10, 11) at `path` or below party to no
/// agreement in force at `now`.
pub async fn two_new_without_agreement<'e>(
    executor: impl PgExecutor<'e>,
    path: &str,
    scope: Option<&[String]>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    let patterns: Option<Vec<String>> =
        scope.map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_scalar(
        "SELECT o.id FROM organisations o \
         WHERE o.kind IN (10, 11) AND o.area_path LIKE $1 || '%' \
           AND ($2::text[] IS NULL OR o.area_path LIKE ANY($2)) \
           AND NOT EXISTS (SELECT 1 FROM agreements a WHERE o.id = ANY(a.parties) \
                             AND a.term_start <= $3 AND a.term_end > $3) \
         ORDER BY o.id",
    )
    .bind(path)
    .bind(patterns)
    .bind(now)
    .fetch_all(executor)
    .await
}
