//! The kept counts behind GetTaskStatistics: per community (a task's path
//! cut after its third cell) and day of report, added to by a trigger on
//! every history append (see the migration `tally_task_statistics`) and
//! folded from deltas into one row per community and day.

use chrono::NaiveDate;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use super::tasks::{TaskFilter, escape_like, root_patterns};
use crate::domain::statistics::Tallies;

/// How many cells deep the tallies keep a path.
const DEPTH: usize = 3;

const COUNTS: &str = "tasks, responses, responses_on_time, resolutions, resolutions_on_time, ratings, \
    ratings_satisfied, returns, check_ins, reopenings, resolved";

/// `each(count)` for every count, joined by commas.
fn per_count(each: impl Fn(&str) -> String) -> String {
    COUNTS.split(", ").map(each).collect::<Vec<_>>().join(", ")
}

/// Whether the tallies can answer `filter`: no department (the tallies
/// keep no department's own steps), a subtree no deeper than a community,
/// and a caller who sees everything or only cells no deeper than one.
pub async fn answer_for(pool: &PgPool, filter: &TaskFilter) -> sqlx::Result<bool> {
    let shallow = |path: &str| path.split('/').filter(|c| !c.is_empty()).count() <= DEPTH;
    if filter.department.is_some() || !filter.ancestor_path.as_deref().is_none_or(shallow) {
        return Ok(false);
    }
    let scope = &filter.scope;
    if scope.everything {
        return Ok(true);
    }
    if !scope.departments.is_empty() {
        return Ok(false);
    }
    let paths: Vec<String> = sqlx::query_scalar("SELECT path FROM cells WHERE id = ANY($1)")
        .bind(&scope.cell_roots)
        .fetch_all(pool)
        .await?;
    Ok(paths.iter().all(|p| shallow(p)))
}

/// The counts of the filter's tasks reported on the days `[first, end)`
/// (either end open), from the tallies and the deltas not folded yet.
pub async fn sum(
    pool: &PgPool,
    filter: &TaskFilter,
    (first, end): (Option<NaiveDate>, Option<NaiveDate>),
) -> sqlx::Result<Tallies> {
    let sums = per_count(|c| format!("coalesce(sum({c}), 0)::int8 AS {c}"));
    let mut sql = QueryBuilder::new(format!("SELECT {sums} FROM ("));
    for (i, table) in ["task_tallies", "task_tally_deltas"].iter().enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(format_args!("SELECT {COUNTS} FROM {table} k WHERE true"));
        push_conditions(&mut sql, filter, first, end);
    }
    sql.push(") k");
    from_row(&sql.build().fetch_one(pool).await?)
}

fn push_conditions(
    sql: &mut QueryBuilder<Postgres>,
    filter: &TaskFilter,
    first: Option<NaiveDate>,
    end: Option<NaiveDate>,
) {
    if !filter.scope.everything {
        sql.push(" AND k.tally_path LIKE ANY(")
            .push_bind(root_patterns(&filter.scope))
            .push(")");
    }
    if let Some(path) = &filter.ancestor_path {
        sql.push(" AND k.tally_path LIKE ")
            .push_bind(format!("{}%", escape_like(path)));
    }
    if let Some(first) = first {
        sql.push(" AND k.day >= ").push_bind(first);
    }
    if let Some(end) = end {
        sql.push(" AND k.day < ").push_bind(end);
    }
}

/// Tallies from a row with a column per count.
pub fn from_row(row: &PgRow) -> sqlx::Result<Tallies> {
    Ok(Tallies {
        tasks: row.try_get("tasks")?,
        responses: row.try_get("responses")?,
        responses_on_time: row.try_get("responses_on_time")?,
        resolutions: row.try_get("resolutions")?,
        resolutions_on_time: row.try_get("resolutions_on_time")?,
        ratings: row.try_get("ratings")?,
        ratings_satisfied: row.try_get("ratings_satisfied")?,
        returns: row.try_get("returns")?,
        check_ins: row.try_get("check_ins")?,
        reopenings: row.try_get("reopenings")?,
        resolved: row.try_get("resolved")?,
    })
}

/// Deltas folded per pass: one transaction's worth.
const FOLD_BATCH: i64 = 10_000;

/// Folds the oldest deltas into the tallies, a batch at a time, until none
/// are left; returns how many were folded. Safe beside another fold (a
/// delta is deleted once) and beside the appends (they only insert).
pub async fn fold(pool: &PgPool) -> sqlx::Result<u64> {
    let updates = per_count(|c| format!("{c} = task_tallies.{c} + excluded.{c}"));
    let sums = per_count(|c| format!("sum({c})"));
    let statement = format!(
        "WITH gone AS (DELETE FROM task_tally_deltas WHERE id IN \
           (SELECT id FROM task_tally_deltas ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING *), \
         folded AS (INSERT INTO task_tallies (tally_path, day, {COUNTS}) \
           SELECT tally_path, day, {sums} FROM gone GROUP BY tally_path, day ORDER BY tally_path, day \
           ON CONFLICT (tally_path, day) DO UPDATE SET {updates}) \
         SELECT count(*) FROM gone"
    );
    let mut total = 0;
    loop {
        let folded: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(statement.as_str()))
            .bind(FOLD_BATCH)
            .fetch_one(pool)
            .await?;
        total += u64::try_from(folded).unwrap_or(0);
        if folded < FOLD_BATCH {
            return Ok(total);
        }
    }
}

/// Reclaims the rows the fold deleted and updated, and refreshes the
/// planner's view of both tables. Autovacuum would, where it runs; it may
/// be off or behind (it is off on the CI machine), and a deltas table left
/// with millions of dead rows made a street's sum read 35,000 pages for
/// no live row.
pub async fn vacuum(pool: &PgPool) -> sqlx::Result<()> {
    // The simple protocol: VACUUM refuses to run inside a transaction.
    sqlx::raw_sql("VACUUM (ANALYZE) task_tally_deltas, task_tallies")
        .execute(pool)
        .await?;
    Ok(())
}
