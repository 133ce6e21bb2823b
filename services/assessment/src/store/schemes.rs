//! Indicator scheme versions and published rankings.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use crate::domain::scheme::SchemeSpec;
use crate::domain::scoring::Card;

/// One stored scheme version.
#[derive(Debug, Clone)]
pub struct SchemeVersionRow {
    /// The scheme's id.
    pub scheme_id: String,
    /// 1, 2, ...
    pub version: i32,
    /// Its title.
    pub display_name: String,
    /// The first month it applies to, "2026-11".
    pub effective_from: String,
    /// What it scores.
    pub spec: SchemeSpec,
    /// Immutable once true.
    pub published: bool,
    /// When created.
    pub create_time: DateTime<Utc>,
    /// When published.
    pub publish_time: Option<DateTime<Utc>>,
}

type Row = (
    String,
    i32,
    String,
    String,
    Json<SchemeSpec>,
    bool,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn from_row(row: Row) -> SchemeVersionRow {
    let (
        scheme_id,
        version,
        display_name,
        effective_from,
        spec,
        published,
        create_time,
        publish_time,
    ) = row;
    SchemeVersionRow {
        scheme_id,
        version,
        display_name,
        effective_from,
        spec: spec.0,
        published,
        create_time,
        publish_time,
    }
}

const COLUMNS: &str =
    "scheme_id, version, display_name, effective_from, spec, published, create_time, publish_time";

/// Serialises version numbering of one scheme.
pub async fn lock_scheme(conn: &mut PgConnection, scheme_id: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7312))")
        .bind(scheme_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts the scheme's next version (the caller holds the scheme's lock).
pub async fn insert_next(
    conn: &mut PgConnection,
    scheme_id: &str,
    display_name: &str,
    effective_from: &str,
    spec: &SchemeSpec,
    at: DateTime<Utc>,
) -> sqlx::Result<SchemeVersionRow> {
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO scheme_versions (scheme_id, version, display_name, effective_from, spec, create_time) \
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5 FROM scheme_versions WHERE scheme_id = $1 \
         RETURNING {COLUMNS}"
    )))
    .bind(scheme_id)
    .bind(display_name)
    .bind(effective_from)
    .bind(Json(spec))
    .bind(at)
    .fetch_one(conn)
    .await?;
    Ok(from_row(row))
}

/// One version, locked for update when `conn` is in a transaction.
pub async fn get_for_update(
    conn: &mut PgConnection,
    scheme_id: &str,
    version: i32,
) -> sqlx::Result<Option<SchemeVersionRow>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM scheme_versions WHERE scheme_id = $1 AND version = $2 FOR UPDATE"
    )))
    .bind(scheme_id)
    .bind(version)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(from_row))
}

/// One version.
pub async fn get(
    pool: &PgPool,
    scheme_id: &str,
    version: i32,
) -> sqlx::Result<Option<SchemeVersionRow>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM scheme_versions WHERE scheme_id = $1 AND version = $2"
    )))
    .bind(scheme_id)
    .bind(version)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(from_row))
}

/// A page of a scheme's versions after version `after`, at most `limit`.
pub async fn list(
    pool: &PgPool,
    scheme_id: &str,
    after: i32,
    limit: i64,
) -> sqlx::Result<Vec<SchemeVersionRow>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM scheme_versions WHERE scheme_id = $1 AND version > $2 ORDER BY version LIMIT $3"
    )))
    .bind(scheme_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Whether another published version of the scheme starts in `month`.
pub async fn published_from(
    conn: &mut PgConnection,
    scheme_id: &str,
    month: &str,
) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar(
        "SELECT version FROM scheme_versions WHERE scheme_id = $1 AND effective_from = $2 AND published",
    )
    .bind(scheme_id)
    .bind(month)
    .fetch_optional(conn)
    .await
}

/// Marks a draft published.
pub async fn publish(
    conn: &mut PgConnection,
    scheme_id: &str,
    version: i32,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE scheme_versions SET published = true, publish_time = $3 \
         WHERE scheme_id = $1 AND version = $2 AND NOT published",
    )
    .bind(scheme_id)
    .bind(version)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The published version in force in a period starting in `month`: the
/// latest effective_from not after it.
pub async fn in_force(
    conn: &mut PgConnection,
    scheme_id: &str,
    month: &str,
) -> sqlx::Result<Option<SchemeVersionRow>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM scheme_versions WHERE scheme_id = $1 AND published AND effective_from <= $2 \
         ORDER BY effective_from DESC LIMIT 1"
    )))
    .bind(scheme_id)
    .bind(month)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(from_row))
}

/// Whether the scheme has any version.
pub async fn exists(conn: &mut PgConnection, scheme_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM scheme_versions WHERE scheme_id = $1)")
        .bind(scheme_id)
        .fetch_one(conn)
        .await
}

/// A published ranking.
#[derive(Debug, Clone)]
pub struct RankingRow {
    /// The scheme's id.
    pub scheme_id: String,
    /// "street", "community" or "department".
    pub level: String,
    /// "2026-11" etc.
    pub period: String,
    /// The version that scored it.
    pub scheme_version: i32,
    /// 1, 2, ... per publication.
    pub revision: i64,
    /// Ranked.
    pub cards: Vec<Card>,
    /// When published.
    pub publish_time: DateTime<Utc>,
}

/// Stores a ranking as the latest of its scheme, level and period and
/// returns its revision.
#[allow(clippy::too_many_arguments)]
pub async fn upsert_ranking(
    conn: &mut PgConnection,
    scheme_id: &str,
    level: &str,
    period: &str,
    scheme_version: i32,
    cards: &[Card],
    at: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO rankings (scheme_id, level, period, scheme_version, revision, cards, publish_time) \
         VALUES ($1, $2, $3, $4, 1, $5, $6) \
         ON CONFLICT (scheme_id, level, period) DO UPDATE SET scheme_version = EXCLUDED.scheme_version, \
           revision = rankings.revision + 1, cards = EXCLUDED.cards, publish_time = EXCLUDED.publish_time \
         RETURNING revision",
    )
    .bind(scheme_id)
    .bind(level)
    .bind(period)
    .bind(scheme_version)
    .bind(Json(cards))
    .bind(at)
    .fetch_one(conn)
    .await
}

type RankingTuple = (i32, i64, Json<Vec<Card>>, DateTime<Utc>);

/// The last published ranking.
pub async fn ranking(
    pool: &PgPool,
    scheme_id: &str,
    level: &str,
    period: &str,
) -> sqlx::Result<Option<RankingRow>> {
    let row: Option<RankingTuple> = sqlx::query_as(
        "SELECT scheme_version, revision, cards, publish_time FROM rankings \
         WHERE scheme_id = $1 AND level = $2 AND period = $3",
    )
    .bind(scheme_id)
    .bind(level)
    .bind(period)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(scheme_version, revision, cards, publish_time)| RankingRow {
            scheme_id: scheme_id.to_owned(),
            level: level.to_owned(),
            period: period.to_owned(),
            scheme_version,
            revision,
            cards: cards.0,
            publish_time,
        },
    ))
}

/// The last published ranking, read in a transaction.
pub async fn ranking_in(
    conn: &mut PgConnection,
    scheme_id: &str,
    level: &str,
    period: &str,
) -> sqlx::Result<Option<Vec<Card>>> {
    let cards: Option<Json<Vec<Card>>> = sqlx::query_scalar(
        "SELECT cards FROM rankings WHERE scheme_id = $1 AND level = $2 AND period = $3",
    )
    .bind(scheme_id)
    .bind(level)
    .bind(period)
    .fetch_optional(conn)
    .await?;
    Ok(cards.map(|c| c.0))
}
