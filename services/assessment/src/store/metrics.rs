//! Metric facts and the counts maintained from them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::facts::Fact;
use crate::domain::metric::Metric;
use crate::domain::period::Period;

/// The stored facts of one task.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn facts_of(conn: &mut PgConnection, task: &str) -> sqlx::Result<BTreeSet<Fact>> {
    let mut of = facts_of_many(conn, &[task.to_owned()]).await?;
    Ok(of.remove(task).unwrap_or_default())
}

/// The stored facts of each of `tasks`, by task (tasks without facts are
/// missing).
#[tracing::instrument(level = "debug", skip_all, fields(tasks = tasks.len()))]
pub async fn facts_of_many(
    conn: &mut PgConnection,
    tasks: &[String],
) -> sqlx::Result<BTreeMap<String, BTreeSet<Fact>>> {
    let rows: Vec<(String, String, String, Uuid, DateTime<Utc>, i64)> = sqlx::query_as(
        "SELECT task, subject, metric, event_id, reported_at, amount FROM metric_facts \
         WHERE task = ANY($1)",
    )
    .bind(tasks)
    .fetch_all(conn)
    .await?;
    let mut out: BTreeMap<String, BTreeSet<Fact>> = BTreeMap::new();
    for (task, subject, metric, event_id, reported_at, amount) in rows {
        let department = subject.starts_with("departments/");
        let metric = Metric::parse(&metric, department).ok_or_else(|| {
            sqlx::Error::Decode(format!("metric_facts.metric: unknown {metric}").into())
        })?;
        out.entry(task).or_default().insert(Fact {
            subject,
            metric,
            event_id,
            reported_at,
            amount,
        });
    }
    Ok(out)
}

/// Replaces the task's stored facts `old` by `new`, moving the counts by
/// the difference.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replace_facts(
    conn: &mut PgConnection,
    task: &str,
    old: &BTreeSet<Fact>,
    new: &BTreeSet<Fact>,
) -> sqlx::Result<()> {
    replace_facts_many(conn, &[(task.to_owned(), old.clone(), new.clone())]).await
}

/// For each `(task, old, new)`, replaces the task's stored facts `old` by
/// `new`, and moves the counts by the net difference over all of them: a
/// handful of statements however many tasks. Each count moves once, by its
/// net change, so it never passes through a negative value, and the counts
/// are locked in key order, so concurrent batches never deadlock on them.
#[tracing::instrument(level = "debug", skip_all, fields(tasks = changes.len()))]
pub async fn replace_facts_many(
    conn: &mut PgConnection,
    changes: &[(String, BTreeSet<Fact>, BTreeSet<Fact>)],
) -> sqlx::Result<()> {
    let mut deltas: BTreeMap<(String, String, &'static str), i64> = BTreeMap::new();
    let mut gone: Vec<(&str, &Fact)> = Vec::new();
    let mut added: Vec<(String, Fact)> = Vec::new();
    for (task, old, new) in changes {
        for fact in old.difference(new) {
            gone.push((task, fact));
            for period in Period::containing(fact.reported_at) {
                *deltas
                    .entry((
                        fact.subject.clone(),
                        period.to_string(),
                        fact.metric.as_str(),
                    ))
                    .or_default() -= fact.amount;
            }
        }
        for fact in new.difference(old) {
            added.push((task.clone(), fact.clone()));
            for period in Period::containing(fact.reported_at) {
                *deltas
                    .entry((
                        fact.subject.clone(),
                        period.to_string(),
                        fact.metric.as_str(),
                    ))
                    .or_default() += fact.amount;
            }
        }
    }
    delete_facts(&mut *conn, &gone).await?;
    insert_facts(&mut *conn, &added).await?;
    deltas.retain(|_, delta| *delta != 0);
    if deltas.is_empty() {
        return Ok(());
    }
    let (mut subjects, mut periods, mut metrics, mut values) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((subject, period, metric), delta) in &deltas {
        subjects.push(subject.as_str());
        periods.push(period.as_str());
        metrics.push(*metric);
        values.push(*delta);
    }
    // The existing counts first, locked in one (bytewise) order, so
    // concurrent batches never deadlock on them; then moved in place. An
    // upsert cannot move them: PostgreSQL checks `value >= 0` on the row it
    // would insert (the negative delta) before it sees the conflict.
    sqlx::query(
        "SELECT 1 FROM metric_values v \
         JOIN UNNEST($1::text[], $2::text[], $3::text[]) AS d(subject, period, metric) \
           ON v.subject = d.subject AND v.period = d.period AND v.metric = d.metric \
         ORDER BY v.subject COLLATE \"C\", v.period COLLATE \"C\", v.metric COLLATE \"C\" \
         FOR UPDATE OF v",
    )
    .bind(&subjects)
    .bind(&periods)
    .bind(&metrics)
    .execute(&mut *conn)
    .await?;
    let moved: BTreeSet<(String, String, String)> = sqlx::query_as(
        "UPDATE metric_values v SET value = v.value + d.delta \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) AS d(subject, period, metric, delta) \
         WHERE v.subject = d.subject AND v.period = d.period AND v.metric = d.metric \
         RETURNING v.subject, v.period, v.metric",
    )
    .bind(&subjects)
    .bind(&periods)
    .bind(&metrics)
    .bind(&values)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let (mut new_subjects, mut new_periods, mut new_metrics, mut new_values) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((subject, period, metric), delta) in &deltas {
        if moved.contains(&(subject.clone(), period.clone(), (*metric).to_owned())) {
            continue;
        }
        if *delta < 0 {
            // A fact was stored without its count: the store is broken.
            return Err(sqlx::Error::Protocol(format!(
                "metric_values has no count of {metric} for {subject} in {period} to take {delta} from"
            )));
        }
        new_subjects.push(subject.as_str());
        new_periods.push(period.as_str());
        new_metrics.push(*metric);
        new_values.push(*delta);
    }
    if !new_values.is_empty() {
        // Another batch may have created the count meanwhile: then add.
        sqlx::query(
            "INSERT INTO metric_values (subject, period, metric, value) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) \
             ON CONFLICT (subject, period, metric) DO UPDATE SET value = metric_values.value + EXCLUDED.value",
        )
        .bind(&new_subjects)
        .bind(&new_periods)
        .bind(&new_metrics)
        .bind(&new_values)
        .execute(&mut *conn)
        .await?;
    }
    if values.iter().any(|v| *v < 0) {
        sqlx::query(
            "DELETE FROM metric_values v USING UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) \
               AS d(subject, period, metric, delta) \
             WHERE d.delta < 0 AND v.subject = d.subject AND v.period = d.period \
               AND v.metric = d.metric AND v.value = 0",
        )
        .bind(&subjects)
        .bind(&periods)
        .bind(&metrics)
        .bind(&values)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Deletes the given facts of their tasks in one statement.
async fn delete_facts(conn: &mut PgConnection, facts: &[(&str, &Fact)]) -> sqlx::Result<()> {
    if facts.is_empty() {
        return Ok(());
    }
    let tasks: Vec<&str> = facts.iter().map(|(t, _)| *t).collect();
    let subjects: Vec<&str> = facts.iter().map(|(_, f)| f.subject.as_str()).collect();
    let metrics: Vec<&str> = facts.iter().map(|(_, f)| f.metric.as_str()).collect();
    let ids: Vec<Uuid> = facts.iter().map(|(_, f)| f.event_id).collect();
    sqlx::query(
        "DELETE FROM metric_facts f USING UNNEST($1::text[], $2::text[], $3::text[], $4::uuid[]) \
           AS d(task, subject, metric, event_id) \
         WHERE f.task = d.task AND f.subject = d.subject AND f.metric = d.metric \
           AND f.event_id = d.event_id",
    )
    .bind(&tasks)
    .bind(&subjects)
    .bind(&metrics)
    .bind(&ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Empties the facts, counts and levels, before a rebuild.
pub async fn clear(conn: &mut PgConnection) -> sqlx::Result<()> {
    super::levels::clear(&mut *conn).await?;
    sqlx::query("DELETE FROM metric_facts")
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM metric_values")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every stored count as (subject, period, metric) → value: for comparing
/// a rebuild with what was maintained.
pub async fn all_values(pool: &PgPool) -> sqlx::Result<BTreeMap<(String, String, String), i64>> {
    let rows: Vec<(String, String, String, i64)> =
        sqlx::query_as("SELECT subject, period, metric, value FROM metric_values")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(s, p, m, v)| ((s, p, m), v))
        .collect())
}

/// The counts of one subject in one period, by metric name, with the
/// levels (`domain::levels`) of a cell as of the period's end.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn values_of(
    pool: &PgPool,
    subject: &str,
    period: Period,
) -> sqlx::Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT metric, value FROM metric_values WHERE subject = $1 AND period = $2",
    )
    .bind(subject)
    .bind(period.to_string())
    .fetch_all(pool)
    .await?;
    let mut values: HashMap<String, i64> = rows.into_iter().collect();
    if subject.starts_with("cells/") {
        let subjects = Subjects::One(subject.to_owned());
        values.extend(super::levels::values(pool, &subjects, period.end()).await?);
    }
    Ok(values)
}

/// The counts of every cell in the subtree at `path` (the cell included)
/// in one period, summed by metric name, levels as of the period's end
/// included. Tasks of cells the replica does
/// not know yet are not in any subtree.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn values_under(
    pool: &PgPool,
    path: &str,
    period: Period,
) -> sqlx::Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT v.metric, SUM(v.value)::bigint FROM metric_values v \
         JOIN cells c ON v.subject = 'cells/' || c.id \
         WHERE v.period = $1 AND c.path LIKE $2 || '%' GROUP BY v.metric",
    )
    .bind(period.to_string())
    .bind(path)
    .fetch_all(pool)
    .await?;
    let mut values: HashMap<String, i64> = rows.into_iter().collect();
    let subjects = Subjects::Under(path.to_owned());
    values.extend(super::levels::values(pool, &subjects, period.end()).await?);
    Ok(values)
}

/// One event behind a metric.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Evidence {
    /// The grid's event id.
    pub event_id: Uuid,
    /// Its routing key.
    pub routing_key: String,
    /// "tasks/{id}".
    pub aggregate_id: String,
    /// The task version it carried.
    pub aggregate_version: i64,
    /// When it happened in the grid.
    pub occurred_at: DateTime<Utc>,
    /// The cell or department counted.
    pub subject: String,
    /// What it adds to the count.
    pub amount: i64,
}

/// Which subjects a metric is explained over.
#[derive(Debug, Clone)]
pub enum Subjects {
    /// Exactly this one.
    One(String),
    /// Every cell in the subtree at this path.
    Under(String),
}

/// A page of the events behind `metric` of `subjects` in `period`, after
/// event id `after`, at most `limit` rows; for a level, the state in force
/// at the period's end of every key credited to them.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn evidence(
    pool: &PgPool,
    subjects: &Subjects,
    period: Period,
    metric: Metric,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Evidence>> {
    if let Metric::Cell(level) = metric
        && level.is_level()
    {
        return super::levels::evidence(pool, subjects, period.end(), level, after, limit).await;
    }
    let (one, under) = match subjects {
        Subjects::One(subject) => (Some(subject.as_str()), None),
        Subjects::Under(path) => (None, Some(path.as_str())),
    };
    sqlx::query_as(
        "SELECT f.event_id, e.routing_key, e.aggregate_id, e.aggregate_version, e.occurred_at, f.subject, f.amount \
         FROM metric_facts f JOIN stored_events e ON e.event_id = f.event_id \
         WHERE f.metric = $1 AND $2 = ANY(f.periods) \
           AND ($3::text IS NULL OR f.subject = $3) \
           AND ($4::text IS NULL OR f.subject IN \
                (SELECT 'cells/' || id FROM cells WHERE path LIKE $4 || '%')) \
           AND f.subject LIKE $5 \
           AND ($6::uuid IS NULL OR f.event_id > $6) \
         ORDER BY f.event_id, f.subject LIMIT $7",
    )
    .bind(metric.as_str())
    .bind(period.to_string())
    .bind(one)
    .bind(under)
    .bind(match metric {
        Metric::Cell(_) => "cells/%",
        Metric::Department(_) => "departments/%",
    })
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The counts of every cell of one level, each summed over its subtree,
/// in one period (levels as of its end): (id, display name, path, metric → count), by id.
pub async fn subtree_values_of_level(
    conn: &mut PgConnection,
    level: i16,
    period: Period,
) -> sqlx::Result<Vec<(String, String, String, HashMap<String, i64>)>> {
    let cells: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, display_name, path FROM cells WHERE level = $1 ORDER BY id")
            .bind(level)
            .fetch_all(&mut *conn)
            .await?;
    let sums: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT s.id, v.metric, SUM(v.value)::bigint FROM cells s \
         JOIN cells c ON c.path LIKE s.path || '%' \
         JOIN metric_values v ON v.subject = 'cells/' || c.id AND v.period = $2 \
         WHERE s.level = $1 GROUP BY s.id, v.metric",
    )
    .bind(level)
    .bind(period.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut by_cell: HashMap<String, HashMap<String, i64>> = HashMap::new();
    let levels = super::levels::subtree_values_of_level(&mut *conn, level, period.end()).await?;
    for (id, metric, value) in sums.into_iter().chain(levels) {
        by_cell.entry(id).or_default().insert(metric, value);
    }
    Ok(cells
        .into_iter()
        .map(|(id, name, path)| {
            let values = by_cell.remove(&id).unwrap_or_default();
            (id, name, path, values)
        })
        .collect())
}

/// The counts of every department with any in one period:
/// ("departments/{id}", metric → count), by name.
pub async fn department_values(
    conn: &mut PgConnection,
    period: Period,
) -> sqlx::Result<Vec<(String, HashMap<String, i64>)>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT subject, metric, value FROM metric_values \
         WHERE period = $1 AND subject LIKE 'departments/%' ORDER BY subject",
    )
    .bind(period.to_string())
    .fetch_all(conn)
    .await?;
    let mut out: Vec<(String, HashMap<String, i64>)> = Vec::new();
    for (subject, metric, value) in rows {
        match out.last_mut() {
            Some((last, values)) if *last == subject => {
                values.insert(metric, value);
            }
            _ => out.push((subject, HashMap::from([(metric, value)]))),
        }
    }
    Ok(out)
}

/// Inserts facts in one statement per call (a rebuild's pages, a
/// consumer's batch); the caller moves the counts, or a rebuild recounts
/// them once with [`recount`].
pub async fn insert_facts(conn: &mut PgConnection, facts: &[(String, Fact)]) -> sqlx::Result<()> {
    if facts.is_empty() {
        return Ok(());
    }
    let mut tasks = Vec::with_capacity(facts.len());
    let mut subjects = Vec::with_capacity(facts.len());
    let mut metrics = Vec::with_capacity(facts.len());
    let mut ids = Vec::with_capacity(facts.len());
    let mut times = Vec::with_capacity(facts.len());
    let (mut months, mut quarters, mut years) = (Vec::new(), Vec::new(), Vec::new());
    let mut amounts = Vec::with_capacity(facts.len());
    for (task, fact) in facts {
        let [month, quarter, year] = Period::containing(fact.reported_at);
        tasks.push(task.as_str());
        subjects.push(fact.subject.as_str());
        metrics.push(fact.metric.as_str());
        ids.push(fact.event_id);
        times.push(fact.reported_at);
        months.push(month.to_string());
        quarters.push(quarter.to_string());
        years.push(year.to_string());
        amounts.push(fact.amount);
    }
    sqlx::query(
        "INSERT INTO metric_facts (task, subject, metric, event_id, reported_at, periods, amount) \
         SELECT t, s, m, e, r, ARRAY[pm, pq, py], a FROM \
         UNNEST($1::text[], $2::text[], $3::text[], $4::uuid[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::bigint[]) \
           AS f(t, s, m, e, r, pm, pq, py, a)",
    )
    .bind(&tasks)
    .bind(&subjects)
    .bind(&metrics)
    .bind(&ids)
    .bind(&times)
    .bind(&months)
    .bind(&quarters)
    .bind(&years)
    .bind(&amounts)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets every count to the number of its facts.
pub async fn recount(conn: &mut PgConnection) -> sqlx::Result<()> {
    for statement in crate::events::RECOUNT {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    Ok(())
}
