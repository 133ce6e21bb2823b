//! Posts over time and AssignPost idempotency keys.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::post::{Period, PostFact, PostKind};

/// One stored post, with its organisation's placement (for scope and events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRow {
    /// Its id.
    pub id: Uuid,
    /// Who holds it.
    pub member_id: Uuid,
    /// Where.
    pub organisation_id: String,
    /// What.
    pub kind: PostKind,
    /// Inclusive start.
    pub valid_from: DateTime<Utc>,
    /// Exclusive end; `None` while open-ended.
    pub valid_until: Option<DateTime<Utc>>,
    /// Created at.
    pub create_time: DateTime<Utc>,
    /// The organisation's area (read only).
    pub area_path: String,
    /// The organisation's cell (read only).
    pub cell_id: Option<String>,
    /// The organisation's compound (read only).
    pub compound_id: Option<String>,
}

impl PostRow {
    /// Its period.
    pub fn period(&self) -> Period {
        Period {
            from: self.valid_from,
            until: self.valid_until,
        }
    }

    /// As derivations need it.
    pub fn fact(&self) -> PostFact {
        PostFact {
            member_id: self.member_id,
            organisation_id: self.organisation_id.clone(),
            kind: self.kind,
            period: self.period(),
        }
    }
}

const SELECT: &str = "SELECT p.id, p.member_id, p.organisation_id, p.kind, p.valid_from, \
     p.valid_until, p.create_time, o.area_path, o.cell_id, o.compound_id \
     FROM posts p JOIN organisations o ON o.id = p.organisation_id";

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for PostRow {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        let kind: i16 = row.try_get("kind")?;
        Ok(PostRow {
            id: row.try_get("id")?,
            member_id: row.try_get("member_id")?,
            organisation_id: row.try_get("organisation_id")?,
            kind: PostKind::from_number(i32::from(kind))
                .ok_or_else(|| sqlx::Error::Decode("invalid value in posts.kind".into()))?,
            valid_from: row.try_get("valid_from")?,
            valid_until: row.try_get("valid_until")?,
            create_time: row.try_get("create_time")?,
            area_path: row.try_get("area_path")?,
            cell_id: row.try_get("cell_id")?,
            compound_id: row.try_get("compound_id")?,
        })
    }
}

/// Inserts `row` (its read-only fields are ignored).
#[tracing::instrument(level = "debug", skip_all, fields(post = %row.id))]
pub async fn insert(conn: &mut PgConnection, row: &PostRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO posts (id, member_id, organisation_id, kind, valid_from, valid_until, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.id)
    .bind(row.member_id)
    .bind(&row.organisation_id)
    .bind(row.kind as i16)
    .bind(row.valid_from)
    .bind(row.valid_until)
    .bind(row.create_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// The post `id`, locked until the transaction ends.
#[tracing::instrument(level = "debug", skip_all, fields(post = %id))]
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<PostRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE p.id = $1 FOR UPDATE OF p"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The post `id`, if stored.
pub async fn get<'e>(executor: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<PostRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE p.id = $1")))
        .bind(id)
        .fetch_optional(executor)
        .await
}

/// Sets the end of post `id`.
pub async fn end(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("UPDATE posts SET valid_until = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// A post of `kind` in `organisation` (held by `member`, when given) whose
/// period overlaps `period`.
pub async fn overlapping(
    conn: &mut PgConnection,
    organisation: &str,
    kind: PostKind,
    member: Option<Uuid>,
    period: Period,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM posts WHERE organisation_id = $1 AND kind = $2 \
           AND ($3::uuid IS NULL OR member_id = $3) \
           AND (valid_until IS NULL OR valid_until > $4) \
           AND ($5::timestamptz IS NULL OR valid_from < $5) \
           AND (valid_until IS NULL OR valid_until > valid_from) \
         ORDER BY id LIMIT 1",
    )
    .bind(organisation)
    .bind(kind as i16)
    .bind(member)
    .bind(period.from)
    .bind(period.until)
    .fetch_optional(conn)
    .await
}

/// Every post in an organisation whose area lies at `path` or below.
pub async fn facts_within<'e>(
    executor: impl PgExecutor<'e>,
    path: &str,
) -> sqlx::Result<Vec<PostFact>> {
    let rows: Vec<PostRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE o.area_path LIKE $1 || '%'"
    )))
    .bind(path)
    .fetch_all(executor)
    .await?;
    Ok(rows.iter().map(PostRow::fact).collect())
}

/// A page of posts.
#[derive(Debug, Clone, Default)]
pub struct PostQuery {
    /// Only held in this organisation.
    pub organisation_id: Option<String>,
    /// Only held by this member.
    pub member_id: Option<Uuid>,
    /// Only valid at this time.
    pub valid_at: Option<DateTime<Utc>>,
    /// Only under one of these cell roots; `None` means everywhere.
    pub scope_roots: Option<Vec<String>>,
    /// Only ids after this one.
    pub after: Option<Uuid>,
    /// At most this many.
    pub limit: i64,
}

/// Posts matching `query`, by id.
pub async fn list<'e>(
    executor: impl PgExecutor<'e>,
    query: &PostQuery,
) -> sqlx::Result<Vec<PostRow>> {
    let patterns: Option<Vec<String>> = query
        .scope_roots
        .as_ref()
        .map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE ($1::text IS NULL OR p.organisation_id = $1) \
           AND ($2::uuid IS NULL OR p.member_id = $2) \
           AND ($3::timestamptz IS NULL OR (p.valid_from <= $3 AND (p.valid_until IS NULL OR p.valid_until > $3))) \
           AND ($4::text[] IS NULL OR o.area_path LIKE ANY($4)) \
           AND ($5::uuid IS NULL OR p.id > $5) \
         ORDER BY p.id LIMIT $6"
    )))
    .bind(query.organisation_id.as_deref())
    .bind(query.member_id)
    .bind(query.valid_at)
    .bind(patterns)
    .bind(query.after)
    .bind(query.limit)
    .fetch_all(executor)
    .await
}

/// The post an AssignPost request with `request_id` created.
pub async fn assigned_by_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT post_id FROM assign_post_requests WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(conn)
        .await
}

/// Remembers that `request_id` created `post_id`.
pub async fn remember_request(
    conn: &mut PgConnection,
    request_id: Uuid,
    post_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO assign_post_requests (request_id, post_id) VALUES ($1, $2)")
        .bind(request_id)
        .bind(post_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every post held in `organisation`.
pub async fn facts_of<'e>(
    executor: impl PgExecutor<'e>,
    organisation: &str,
) -> sqlx::Result<Vec<PostFact>> {
    let rows: Vec<PostRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE p.organisation_id = $1"
    )))
    .bind(organisation)
    .fetch_all(executor)
    .await?;
    Ok(rows.iter().map(PostRow::fact).collect())
}

/// The next version of `community_id`'s 一肩挑 state (1 for the first),
/// row-locked until the transaction ends.
pub async fn next_one_shoulder_version(
    conn: &mut PgConnection,
    community_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO one_shoulder_versions (community_id, version) VALUES ($1, 1) \
         ON CONFLICT (community_id) DO UPDATE SET version = one_shoulder_versions.version + 1 \
         RETURNING version",
    )
    .bind(community_id)
    .fetch_one(conn)
    .await
}
