//! The points ledger: appended, summed, never updated.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::report::Quarter;

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryRow {
    /// Its id.
    pub id: Uuid,
    /// Whose.
    pub member_id: Uuid,
    /// Rule code.
    pub rule: String,
    /// Points.
    pub points: i32,
    /// Why.
    pub reason: String,
    /// What earned them.
    pub source_event_id: String,
    /// When.
    pub award_time: DateTime<Utc>,
}

const COLUMNS: &str = "id, member_id, rule, points, reason, source_event_id, award_time";

/// The entry of `rule` earned by `source`, if any.
pub async fn by_source(
    conn: &mut PgConnection,
    rule: &str,
    source: &str,
) -> sqlx::Result<Option<EntryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM points_entries WHERE rule = $1 AND source_event_id = $2"
    )))
    .bind(rule)
    .bind(source)
    .fetch_optional(conn)
    .await
}

/// Points of `rule` the member has in `quarter`.
pub async fn sum_in_quarter(
    conn: &mut PgConnection,
    member: Uuid,
    rule: &str,
    quarter: Quarter,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT coalesce(sum(points), 0)::bigint FROM points_entries \
         WHERE member_id = $1 AND rule = $2 AND quarter_year = $3 AND quarter = $4",
    )
    .bind(member)
    .bind(rule)
    .bind(i16::try_from(quarter.year).unwrap_or(i16::MAX))
    .bind(i16::try_from(quarter.quarter).unwrap_or(i16::MAX))
    .fetch_one(conn)
    .await
}

/// Appends `row`, counted in `quarter`; `false` when its rule and source exist.
pub async fn append(
    conn: &mut PgConnection,
    row: &EntryRow,
    quarter: Quarter,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO points_entries (id, member_id, rule, points, reason, source_event_id, \
           quarter_year, quarter, award_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (rule, source_event_id) DO NOTHING",
    )
    .bind(row.id)
    .bind(row.member_id)
    .bind(&row.rule)
    .bind(row.points)
    .bind(&row.reason)
    .bind(&row.source_event_id)
    .bind(i16::try_from(quarter.year).unwrap_or(i16::MAX))
    .bind(i16::try_from(quarter.quarter).unwrap_or(i16::MAX))
    .bind(row.award_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The member's balance and newest entries.
pub async fn balance<'e, E: PgExecutor<'e> + Copy>(
    executor: E,
    member: Uuid,
) -> sqlx::Result<(i64, Vec<EntryRow>)> {
    let balance: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(points), 0)::bigint FROM points_entries WHERE member_id = $1",
    )
    .bind(member)
    .fetch_one(executor)
    .await?;
    let entries = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM points_entries WHERE member_id = $1 ORDER BY award_time DESC, id DESC LIMIT 100"
    )))
    .bind(member)
    .fetch_all(executor)
    .await?;
    Ok((balance, entries))
}
