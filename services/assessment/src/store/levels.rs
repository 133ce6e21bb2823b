//! Level rows (`domain::levels`) and the values they give as of a period's
//! end. Each read picks, per key and metric, the row with the highest
//! version that occurred before the end (`DISTINCT ON`, as
//! `levels::latest_before` does in memory), then sums by subject.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::metrics::{Evidence, Subjects};
use crate::domain::levels::Level;
use crate::domain::metric::{CellMetric, Metric};

/// The latest row per key and metric before `$1`.
const LATEST: &str = "SELECT DISTINCT ON (key, metric) key, subject, metric, version, occurred_at, event_id, amount \
     FROM metric_levels WHERE occurred_at < $1 \
     ORDER BY key, metric, version DESC, event_id DESC";

/// Replaces the level rows of the group kept under `group_key` by `new`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replace(
    conn: &mut PgConnection,
    group_key: &str,
    new: &BTreeSet<Level>,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM metric_levels WHERE group_key = $1")
        .bind(group_key)
        .execute(&mut *conn)
        .await?;
    insert(
        conn,
        &new.iter()
            .map(|l| (group_key.to_owned(), l.clone()))
            .collect::<Vec<_>>(),
    )
    .await
}

/// Inserts level rows of any groups in one statement.
pub async fn insert(conn: &mut PgConnection, rows: &[(String, Level)]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut groups = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    let mut subjects = Vec::with_capacity(rows.len());
    let mut metrics = Vec::with_capacity(rows.len());
    let mut versions = Vec::with_capacity(rows.len());
    let mut times = Vec::with_capacity(rows.len());
    let mut ids = Vec::with_capacity(rows.len());
    let mut amounts = Vec::with_capacity(rows.len());
    for (group, level) in rows {
        groups.push(group.as_str());
        keys.push(level.key.as_str());
        subjects.push(level.subject.as_str());
        metrics.push(level.metric.as_str());
        versions.push(level.version);
        times.push(level.occurred_at);
        ids.push(level.event_id);
        amounts.push(level.amount);
    }
    sqlx::query(
        "INSERT INTO metric_levels (group_key, key, subject, metric, version, occurred_at, event_id, amount) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], \
           $6::timestamptz[], $7::uuid[], $8::bigint[])",
    )
    .bind(&groups)
    .bind(&keys)
    .bind(&subjects)
    .bind(&metrics)
    .bind(&versions)
    .bind(&times)
    .bind(&ids)
    .bind(&amounts)
    .execute(conn)
    .await?;
    Ok(())
}

/// The level values of `subjects` as of `end`, by metric name (summed over
/// the subtree for [`Subjects::Under`]).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn values<'e>(
    executor: impl PgExecutor<'e>,
    subjects: &Subjects,
    end: DateTime<Utc>,
) -> sqlx::Result<HashMap<String, i64>> {
    let (one, under) = split(subjects);
    let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT l.metric, SUM(l.amount)::bigint FROM ({LATEST}) l \
         WHERE ($2::text IS NULL OR l.subject = $2) \
           AND ($3::text IS NULL OR l.subject IN \
                (SELECT 'cells/' || id FROM cells WHERE path LIKE $3 || '%')) \
         GROUP BY l.metric"
    )))
    .bind(end)
    .bind(one)
    .bind(under)
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The level values of every cell of `level`, each summed over its
/// subtree, as of `end`: (cell id, metric, value).
pub async fn subtree_values_of_level(
    conn: &mut PgConnection,
    level: i16,
    end: DateTime<Utc>,
) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.id, l.metric, SUM(l.amount)::bigint FROM ({LATEST}) l \
         JOIN cells c ON l.subject = 'cells/' || c.id \
         JOIN cells s ON c.path LIKE s.path || '%' \
         WHERE s.level = $2 GROUP BY s.id, l.metric"
    )))
    .bind(end)
    .bind(level)
    .fetch_all(conn)
    .await
}

/// A page of the events behind a level metric of `subjects` as of `end`:
/// the state in force of every key credited to them, by event id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn evidence(
    pool: &PgPool,
    subjects: &Subjects,
    end: DateTime<Utc>,
    metric: CellMetric,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Evidence>> {
    let (one, under) = split(subjects);
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT l.event_id, e.routing_key, l.key AS aggregate_id, l.version AS aggregate_version, \
           l.occurred_at, l.subject, l.amount \
         FROM ({LATEST}) l JOIN other_events e ON e.event_id = l.event_id \
         WHERE l.metric = $2 \
           AND ($3::text IS NULL OR l.subject = $3) \
           AND ($4::text IS NULL OR l.subject IN \
                (SELECT 'cells/' || id FROM cells WHERE path LIKE $4 || '%')) \
           AND ($5::uuid IS NULL OR l.event_id > $5) \
         ORDER BY l.event_id LIMIT $6"
    )))
    .bind(end)
    .bind(Metric::Cell(metric).as_str())
    .bind(one)
    .bind(under)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

fn split(subjects: &Subjects) -> (Option<&str>, Option<&str>) {
    match subjects {
        Subjects::One(subject) => (Some(subject.as_str()), None),
        Subjects::Under(path) => (None, Some(path.as_str())),
    }
}

/// Every level row as (event id, metric, key, subject, version, amount),
/// sorted: for comparing a rebuild or a replay with what was applied.
pub async fn all(pool: &PgPool) -> sqlx::Result<Vec<(Uuid, String, String, String, i64, i64)>> {
    sqlx::query_as(
        "SELECT event_id, metric, key, subject, version, amount FROM metric_levels \
         ORDER BY event_id, metric",
    )
    .fetch_all(pool)
    .await
}

/// Empties the level rows, before a rebuild.
pub async fn clear(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM metric_levels")
        .execute(conn)
        .await?;
    Ok(())
}
