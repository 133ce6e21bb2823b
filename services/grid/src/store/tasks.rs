//! Tasks, their department assignments and their append-only history.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use civicgrid_messaging::NewEvent;
use civicgrid_messaging::outbox::OutboxRows;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::{decode, tallies};
use crate::domain::access::TaskScope;
use crate::domain::cell::CellId;
use crate::domain::directory::{CategoryId, Urgency};
use crate::domain::report::Channel;
pub use crate::domain::statistics::TaskStatistics;
use crate::domain::statistics::{Tallies, split_window};
use crate::domain::task::{
    Assignment, AssignmentState, ExtensionRequest, HistoryEntry, Lifecycle, RejectionKind, Role,
    Step, Task, TaskId, TaskState,
};

const TASK_COLUMNS: &str = "id, cell_id, cell_path, category_id, urgency, channel, description, attachments, fields, \
    reporter_contact_masked, state, accept_due, resolve_due, reopen_count, satisfied, merged_into, rejection_kind, \
    rejection_reason, version, create_time, update_time, resolve_time, close_time, imported";

/// The task a ReportTask with `request_id` created, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_by_request(pool: &PgPool, request_id: Uuid) -> sqlx::Result<Option<Task>> {
    let mut conn = pool.acquire().await?;
    let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM tasks WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(&mut *conn)
        .await?;
    let task = match id {
        Some(id) => get(&mut conn, TaskId::from_uuid(id)).await?,
        None => None,
    };
    conn.settle();
    Ok(task)
}

/// The task `id`, locked until the transaction ends.
#[tracing::instrument(level = "debug", skip_all, fields(task = %id))]
pub async fn lock(conn: &mut PgConnection, id: TaskId) -> sqlx::Result<Option<Task>> {
    fetch(conn, id, " FOR UPDATE").await
}

/// The task `id`.
#[tracing::instrument(level = "debug", skip_all, fields(task = %id))]
pub async fn get(conn: &mut PgConnection, id: TaskId) -> sqlx::Result<Option<Task>> {
    fetch(conn, id, "").await
}

async fn fetch(conn: &mut PgConnection, id: TaskId, locking: &str) -> sqlx::Result<Option<Task>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1{locking}"
    )))
    .bind(id.uuid())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(with_assignments(conn, vec![task_from_row(&row)?])
            .await?
            .pop()),
        None => Ok(None),
    }
}

/// Which of `ids` are stored.
pub async fn existing(conn: &mut PgConnection, ids: &[TaskId]) -> sqlx::Result<Vec<TaskId>> {
    let found: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tasks WHERE id = ANY($1)")
        .bind(ids.iter().map(|id| id.uuid()).collect::<Vec<_>>())
        .fetch_all(conn)
        .await?;
    Ok(found.into_iter().map(TaskId::from_uuid).collect())
}

/// Stores a transition's lifecycle; `false` when the stored version is no
/// longer `expected_version` (someone else changed it first).
#[tracing::instrument(level = "debug", skip_all, fields(task = %id))]
pub async fn update(
    conn: &mut PgConnection,
    id: TaskId,
    lifecycle: &Lifecycle,
    expected_version: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    Ok(update_many(conn, &[(id, lifecycle, now)], expected_version).await? == 1)
}

/// [`update`] for several tasks at once, each expected at
/// `expected_version`, in three statements however many there are (a
/// batch of imported tasks); returns how many were at that version and
/// stored. Only their assignments are replaced.
pub async fn update_many(
    conn: &mut PgConnection,
    changes: &[(TaskId, &Lifecycle, DateTime<Utc>)],
    expected_version: i64,
) -> sqlx::Result<usize> {
    if changes.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = changes.iter().map(|(id, _, _)| id.uuid()).collect();
    let lifecycles: Vec<&Lifecycle> = changes.iter().map(|(_, l, _)| *l).collect();
    let times: Vec<DateTime<Utc>> = changes.iter().map(|(_, _, now)| *now).collect();
    let of = |f: &dyn Fn(&Lifecycle) -> Option<DateTime<Utc>>| {
        lifecycles.iter().map(|l| f(l)).collect::<Vec<_>>()
    };
    let updated: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE tasks t SET state = c.state, accept_due = c.accept_due, resolve_due = c.resolve_due, \
           reopen_count = c.reopen_count, satisfied = c.satisfied, merged_into = c.merged_into, \
           rejection_kind = c.rejection_kind, rejection_reason = c.rejection_reason, version = c.version, \
           update_time = c.update_time, resolve_time = c.resolve_time, close_time = c.close_time \
         FROM UNNEST($2::uuid[], $3::int2[], $4::timestamptz[], $5::timestamptz[], $6::int4[], $7::bool[], \
           $8::uuid[], $9::int2[], $10::text[], $11::int8[], $12::timestamptz[], $13::timestamptz[], \
           $14::timestamptz[]) AS c(id, state, accept_due, resolve_due, reopen_count, satisfied, merged_into, \
           rejection_kind, rejection_reason, version, update_time, resolve_time, close_time) \
         WHERE t.id = c.id AND t.version = $1 \
         RETURNING t.id",
    )
    .bind(expected_version)
    .bind(&ids)
    .bind(lifecycles.iter().map(|l| l.state.number()).collect::<Vec<_>>())
    .bind(of(&|l| l.accept_due))
    .bind(of(&|l| l.resolve_due))
    .bind(lifecycles.iter().map(|l| l.reopen_count).collect::<Vec<_>>())
    .bind(lifecycles.iter().map(|l| l.satisfied).collect::<Vec<_>>())
    .bind(
        lifecycles
            .iter()
            .map(|l| l.merged_into.as_deref().and_then(|id| Uuid::parse_str(id).ok()))
            .collect::<Vec<_>>(),
    )
    .bind(
        lifecycles
            .iter()
            .map(|l| l.rejection.as_ref().map(|(kind, _)| rejection_number(*kind)))
            .collect::<Vec<_>>(),
    )
    .bind(
        lifecycles
            .iter()
            .map(|l| l.rejection.as_ref().map(|(_, reason)| reason.as_str()))
            .collect::<Vec<_>>(),
    )
    .bind(lifecycles.iter().map(|l| l.version).collect::<Vec<_>>())
    .bind(&times)
    .bind(of(&|l| l.resolve_time))
    .bind(of(&|l| l.close_time))
    .fetch_all(&mut *conn)
    .await?;
    if updated.is_empty() {
        return Ok(0);
    }
    sqlx::query("DELETE FROM task_assignments WHERE task_id = ANY($1)")
        .bind(&updated)
        .execute(&mut *conn)
        .await?;
    // Only the tasks stored: one whose version moved keeps its assignments.
    let stored: std::collections::HashSet<Uuid> = updated.iter().copied().collect();
    let rows: Vec<(Uuid, usize, &Assignment)> = changes
        .iter()
        .filter(|(id, _, _)| stored.contains(&id.uuid()))
        .flat_map(|(id, lifecycle, _)| {
            lifecycle
                .assignments
                .iter()
                .enumerate()
                .map(move |(position, a)| (id.uuid(), position, a))
        })
        .collect();
    if !rows.is_empty() {
        let times = |f: &dyn Fn(&Assignment) -> Option<DateTime<Utc>>| {
            rows.iter().map(|(_, _, a)| f(a)).collect::<Vec<_>>()
        };
        sqlx::query(
            "INSERT INTO task_assignments (task_id, department_id, position, role, state, whistle_time, check_in_due, \
               return_due, resolve_due, check_in_time, resolve_time, return_reason, extension_until, extension_reason, \
               return_time, release_time) \
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int2[], $4::int2[], $5::int2[], $6::timestamptz[], \
               $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], \
               $12::text[], $13::timestamptz[], $14::text[], $15::timestamptz[], $16::timestamptz[])",
        )
        .bind(rows.iter().map(|(id, _, _)| *id).collect::<Vec<_>>())
        .bind(rows.iter().map(|(_, _, a)| a.department.as_str()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|(_, position, _)| i16::try_from(*position).unwrap_or(i16::MAX))
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|(_, _, a)| role_number(a.role)).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|(_, _, a)| assignment_state_number(a.state))
                .collect::<Vec<_>>(),
        )
        .bind(times(&|a| Some(a.whistle_time)))
        .bind(times(&|a| Some(a.check_in_due)))
        .bind(times(&|a| Some(a.return_due)))
        .bind(times(&|a| a.resolve_due))
        .bind(times(&|a| a.check_in_time))
        .bind(times(&|a| a.resolve_time))
        .bind(rows.iter().map(|(_, _, a)| a.return_reason.as_deref()).collect::<Vec<_>>())
        .bind(times(&|a| a.extension.as_ref().map(|e| e.until)))
        .bind(
            rows.iter()
                .map(|(_, _, a)| a.extension.as_ref().map(|e| e.reason.as_str()))
                .collect::<Vec<_>>(),
        )
        .bind(times(&|a| a.return_time))
        .bind(times(&|a| a.release_time))
        .execute(&mut *conn)
        .await?;
    }
    Ok(updated.len())
}

/// Appends `steps` to the task's history, numbered after what is there.
/// The task row is locked by the caller, so numbers cannot collide.
#[tracing::instrument(level = "debug", skip_all, fields(task = %id))]
pub async fn append_history(
    conn: &mut PgConnection,
    id: TaskId,
    steps: &[Step],
    actor: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<HistoryEntry>> {
    let last: i64 = sqlx::query_scalar(
        "SELECT coalesce(max(sequence), 0) FROM task_history WHERE task_id = $1",
    )
    .bind(id.uuid())
    .fetch_one(&mut *conn)
    .await?;
    let mut rows = Vec::with_capacity(steps.len());
    for (offset, step) in steps.iter().enumerate() {
        let row = HistoryEntry {
            sequence: last + 1 + offset as i64,
            action: step.action.to_owned(),
            from_state: Some(step.from),
            to_state: step.to,
            actor: actor.to_owned(),
            department: step.department.clone(),
            reason: step.reason.clone(),
            time: now,
        };
        sqlx::query(
            "INSERT INTO task_history (task_id, sequence, action, from_state, to_state, actor, department, reason, time, on_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.uuid())
        .bind(row.sequence)
        .bind(&row.action)
        .bind(row.from_state.map(TaskState::number))
        .bind(row.to_state.number())
        .bind(&row.actor)
        .bind(row.department.as_deref())
        .bind(row.reason.as_deref())
        .bind(row.time)
        .bind(step.on_time)
        .execute(&mut *conn)
        .await?;
        rows.push(row);
    }
    Ok(rows)
}

/// History entries with each one's on-time mark, as an import computed them.
pub type MarkedEntries = [(HistoryEntry, Option<bool>)];

/// Stores each task's `entries` (numbered by the caller, with each one's
/// on-time mark) in one statement for all of them: imported tasks' whole
/// histories at once.
#[tracing::instrument(level = "debug", skip_all, fields(tasks = histories.len()))]
pub async fn insert_histories(
    conn: &mut PgConnection,
    histories: &[(TaskId, &MarkedEntries)],
) -> sqlx::Result<()> {
    let rows: Vec<(Uuid, &HistoryEntry, Option<bool>)> = histories
        .iter()
        .flat_map(|(id, entries)| entries.iter().map(|(e, on_time)| (id.uuid(), e, *on_time)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO task_history (task_id, sequence, action, from_state, to_state, actor, department, reason, time, on_time) \
         SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::text[], $4::int2[], $5::int2[], $6::text[], $7::text[], \
           $8::text[], $9::timestamptz[], $10::bool[])",
    )
    .bind(rows.iter().map(|(id, _, _)| *id).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, e, _)| e.sequence).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, e, _)| e.action.as_str()).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|(_, e, _)| e.from_state.map(TaskState::number))
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|(_, e, _)| e.to_state.number()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, e, _)| e.actor.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, e, _)| e.department.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, e, _)| e.reason.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, e, _)| e.time).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, _, on_time)| *on_time).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// The task's whole history, oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(task = %id))]
pub async fn history(pool: &PgPool, id: TaskId) -> sqlx::Result<Vec<HistoryEntry>> {
    let rows = sqlx::query(
        "SELECT sequence, action, from_state, to_state, actor, department, reason, time FROM task_history \
         WHERE task_id = $1 ORDER BY sequence",
    )
    .bind(id.uuid())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let from_state: Option<i16> = row.try_get("from_state")?;
            Ok(HistoryEntry {
                sequence: row.try_get("sequence")?,
                action: row.try_get("action")?,
                from_state: from_state
                    .map(|n| decode(TaskState::from_number(n.into()), "task_history.from_state"))
                    .transpose()?,
                to_state: task_state(row.try_get("to_state")?, "task_history.to_state")?,
                actor: row.try_get("actor")?,
                department: row.try_get("department")?,
                reason: row.try_get("reason")?,
                time: row.try_get("time")?,
            })
        })
        .collect()
}

/// Which tasks a list wants.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// What the caller sees.
    pub scope: TaskScope,
    /// Only in the subtree at this cell path.
    pub ancestor_path: Option<String>,
    /// Only in this state.
    pub state: Option<TaskState>,
    /// Only with an assignment of this department (any, returned ones too).
    pub department: Option<String>,
    /// With `department`: only where its assignment is still part of the
    /// work (assigned, checked in or resolved), not returned or released.
    pub department_active: bool,
    /// Only of this category.
    pub category: Option<String>,
    /// Only with a deadline lapsed before this time and still open.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Reported at or after.
    pub reported_after: Option<DateTime<Utc>>,
    /// Reported before.
    pub reported_before: Option<DateTime<Utc>>,
    /// Only open tasks (not resolved, closed, rejected or merged).
    pub open_only: bool,
    /// Keyset: after this (create_time, id).
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// At most this many.
    pub limit: i64,
}

/// Tasks matching `filter`, oldest first. The SQL names only the filters
/// present: one catch-all statement with a `$n IS NULL OR` per filter was
/// planned once for every combination and, at a million tasks, read a
/// street's page in 72 ms where the plain query took 4.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &PgPool, filter: &TaskFilter) -> sqlx::Result<Vec<Task>> {
    let mut sql = QueryBuilder::new(format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE true"));
    push_scope(&mut sql, &filter.scope, ASSIGNED_TO);
    push_subtree(&mut sql, filter.ancestor_path.as_deref());
    push_window(&mut sql, filter);
    if let Some(state) = filter.state {
        sql.push(" AND t.state = ").push_bind(state.number());
    }
    if let Some(department) = &filter.department {
        sql.push(" AND EXISTS (SELECT 1 FROM task_assignments a WHERE a.task_id = t.id AND a.department_id = ")
            .push_bind(department.clone());
        if filter.department_active {
            sql.push(" AND a.state IN (1, 2, 3)");
        }
        sql.push(")");
    }
    if let Some(category) = &filter.category {
        sql.push(" AND t.category_id = ")
            .push_bind(category.clone());
    }
    if let Some(at) = filter.overdue_at {
        sql.push(" AND ((t.state = 1 AND t.accept_due < ")
            .push_bind(at)
            .push(") OR (t.state IN (2, 3) AND t.resolve_due < ")
            .push_bind(at)
            .push(") OR (t.state = 4 AND EXISTS (SELECT 1 FROM task_assignments a WHERE a.task_id = t.id \
                AND ((a.state = 1 AND a.check_in_due < ")
            .push_bind(at)
            .push(") OR (a.state = 2 AND a.resolve_due < ")
            .push_bind(at)
            .push(")))))");
    }
    if filter.open_only {
        sql.push(" AND t.state IN (1, 2, 3, 4, 5)");
    }
    if let Some((time, id)) = filter.after {
        sql.push(" AND (t.create_time, t.id) > (")
            .push_bind(time)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    sql.push(" ORDER BY t.create_time, t.id LIMIT ")
        .push_bind(filter.limit);
    let rows = sql.build().fetch_all(pool).await?;
    let tasks = rows
        .iter()
        .map(task_from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    with_assignments(pool, tasks).await
}

/// A task a department is assigned to, in a scope (the list's sense).
const ASSIGNED_TO: &str = "task_assignments d WHERE d.task_id = t.id AND d.department_id";
/// A task a department worked on, in a scope (the statistics' sense).
const WORKED_ON: &str = "task_history d WHERE d.task_id = t.id AND d.department";

/// What the caller sees: everything, or tasks in their cells' subtrees or
/// (`departments`, one of [`ASSIGNED_TO`] and [`WORKED_ON`]) their
/// departments' tasks.
fn push_scope(sql: &mut QueryBuilder<Postgres>, scope: &TaskScope, departments: &str) {
    if scope.everything {
        return;
    }
    sql.push(" AND (t.cell_path LIKE ANY(")
        .push_bind(root_patterns(scope))
        .push(format_args!(
            ") OR EXISTS (SELECT 1 FROM {departments} = ANY("
        ))
        .push_bind(scope.departments.clone())
        .push(")))");
}

/// LIKE patterns matching a path through any of the scope's cells.
pub(super) fn root_patterns(scope: &TaskScope) -> Vec<String> {
    scope
        .cell_roots
        .iter()
        .map(|r| format!("%/{}/%", escape_like(r)))
        .collect()
}

/// The subtree at `path`. A street's or a community's (the path's second
/// or third cell) is the tasks whose path has that cell there, which an
/// index keeps in report order: a page of a street's tasks then reads a
/// hundred index entries instead of sorting the whole street. (A cell is
/// at one place in the tree, so that is exactly the path prefix; with the
/// prefix beside it the planner took the two for independent filters,
/// guessed a few dozen rows and sorted all 83,000 of a street's.)
fn push_subtree(sql: &mut QueryBuilder<Postgres>, path: Option<&str>) {
    let Some(path) = path else {
        return;
    };
    let cells: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if let [_, cell] | [_, _, cell] = cells.as_slice() {
        // split_part counts from the empty field before the leading '/'.
        let field = cells.len() + 1;
        sql.push(format_args!(
            " AND split_part(t.cell_path, '/', {field}) = "
        ))
        .push_bind(cell.to_string());
    } else {
        sql.push(" AND t.cell_path LIKE ")
            .push_bind(format!("{}%", escape_like(path)));
    }
}

/// Reported within the filter's window.
fn push_window(sql: &mut QueryBuilder<Postgres>, filter: &TaskFilter) {
    if let Some(after) = filter.reported_after {
        sql.push(" AND t.create_time >= ").push_bind(after);
    }
    if let Some(before) = filter.reported_before {
        sql.push(" AND t.create_time < ").push_bind(before);
    }
}

/// `text` matched literally inside a LIKE pattern.
pub(super) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Open tasks of the same category near `task` (its cell's parent's
/// subtree), newest first: likely duplicates.
#[tracing::instrument(level = "debug", skip_all, fields(task = %task.id))]
pub async fn likely_duplicates(
    pool: &PgPool,
    task: &Task,
    neighbourhood_path: &str,
    limit: i64,
) -> sqlx::Result<Vec<Task>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE category_id = $1 AND state < 6 AND id <> $2 \
           AND cell_path LIKE $3 || '%' ORDER BY create_time DESC LIMIT $4"
    )))
    .bind(task.category.as_str())
    .bind(task.id.uuid())
    .bind(neighbourhood_path)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let tasks = rows
        .iter()
        .map(task_from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    with_assignments(pool, tasks).await
}

/// Attaches each task's assignments (one query for all).
async fn with_assignments<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    mut tasks: Vec<Task>,
) -> sqlx::Result<Vec<Task>> {
    if tasks.is_empty() {
        return Ok(tasks);
    }
    let ids: Vec<Uuid> = tasks.iter().map(|t| t.id.uuid()).collect();
    let rows = sqlx::query(
        "SELECT task_id, department_id, role, state, whistle_time, check_in_due, return_due, resolve_due, check_in_time, \
           resolve_time, return_reason, extension_until, extension_reason, return_time, release_time \
         FROM task_assignments WHERE task_id = ANY($1) ORDER BY task_id, position",
    )
    .bind(&ids)
    .fetch_all(executor)
    .await?;
    let mut by_task: HashMap<Uuid, Vec<Assignment>> = HashMap::new();
    for row in &rows {
        let task_id: Uuid = row.try_get("task_id")?;
        let extension_until: Option<DateTime<Utc>> = row.try_get("extension_until")?;
        let extension_reason: Option<String> = row.try_get("extension_reason")?;
        by_task.entry(task_id).or_default().push(Assignment {
            department: row.try_get("department_id")?,
            role: decode(
                from_number(&ROLES, row.try_get("role")?),
                "task_assignments.role",
            )?,
            state: decode(
                from_number(&ASSIGNMENT_STATES, row.try_get("state")?),
                "task_assignments.state",
            )?,
            whistle_time: row.try_get("whistle_time")?,
            check_in_due: row.try_get("check_in_due")?,
            return_due: row.try_get("return_due")?,
            resolve_due: row.try_get("resolve_due")?,
            check_in_time: row.try_get("check_in_time")?,
            resolve_time: row.try_get("resolve_time")?,
            return_reason: row.try_get("return_reason")?,
            return_time: row.try_get("return_time")?,
            release_time: row.try_get("release_time")?,
            extension: extension_until.map(|until| ExtensionRequest {
                until,
                reason: extension_reason.unwrap_or_default(),
            }),
        });
    }
    for task in &mut tasks {
        task.lifecycle.assignments = by_task.remove(&task.id.uuid()).unwrap_or_default();
    }
    Ok(tasks)
}

fn task_from_row(row: &PgRow) -> sqlx::Result<Task> {
    let rejection_kind: Option<i16> = row.try_get("rejection_kind")?;
    let rejection_reason: Option<String> = row.try_get("rejection_reason")?;
    let merged_into: Option<Uuid> = row.try_get("merged_into")?;
    let fields: sqlx::types::Json<BTreeMap<String, String>> = row.try_get("fields")?;
    let cell: String = row.try_get("cell_id")?;
    let category: String = row.try_get("category_id")?;
    let urgency: i16 = row.try_get("urgency")?;
    let channel: i16 = row.try_get("channel")?;
    Ok(Task {
        id: TaskId::from_uuid(row.try_get("id")?),
        cell: decode(CellId::parse(&cell), "tasks.cell_id")?,
        cell_path: row.try_get("cell_path")?,
        category: decode(CategoryId::parse(&category), "tasks.category_id")?,
        urgency: decode(Urgency::from_number(urgency.into()), "tasks.urgency")?,
        channel: decode(Channel::from_number(channel.into()), "tasks.channel")?,
        description: row.try_get("description")?,
        attachments: row.try_get("attachments")?,
        fields: fields.0,
        reporter_contact_masked: row.try_get("reporter_contact_masked")?,
        lifecycle: Lifecycle {
            state: task_state(row.try_get("state")?, "tasks.state")?,
            accept_due: row.try_get("accept_due")?,
            resolve_due: row.try_get("resolve_due")?,
            assignments: Vec::new(),
            reopen_count: row.try_get("reopen_count")?,
            satisfied: row.try_get("satisfied")?,
            merged_into: merged_into.map(|id| id.to_string()),
            rejection: rejection_kind
                .map(|kind| {
                    decode(from_number(&REJECTION_KINDS, kind), "tasks.rejection_kind")
                        .map(|kind| (kind, rejection_reason.unwrap_or_default()))
                })
                .transpose()?,
            resolve_time: row.try_get("resolve_time")?,
            close_time: row.try_get("close_time")?,
            version: row.try_get("version")?,
        },
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
        imported: row.try_get("imported")?,
    })
}

fn task_state(number: i16, column: &str) -> sqlx::Result<TaskState> {
    decode(TaskState::from_number(number.into()), column)
}

// Stored numbers (as in the proto) of the task's smaller enums: one table
// each, read both ways, so a number without a meaning fails the read.
const REJECTION_KINDS: [(RejectionKind, i16); 2] = [
    (RejectionKind::Invalid, 1),
    (RejectionKind::OutsideJurisdiction, 2),
];
const ROLES: [(Role, i16); 2] = [(Role::Lead, 1), (Role::Assisting, 2)];
const ASSIGNMENT_STATES: [(AssignmentState, i16); 5] = [
    (AssignmentState::Assigned, 1),
    (AssignmentState::CheckedIn, 2),
    (AssignmentState::Resolved, 3),
    (AssignmentState::Returned, 4),
    (AssignmentState::Released, 5),
];

fn number<T: PartialEq + Copy>(table: &[(T, i16)], value: T) -> i16 {
    table
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, n)| *n)
        .unwrap_or_default()
}

fn from_number<T: Copy>(table: &[(T, i16)], number: i16) -> Option<T> {
    table.iter().find(|(_, n)| *n == number).map(|(v, _)| *v)
}

/// Stored number of a rejection kind (as in the proto).
pub fn rejection_number(kind: RejectionKind) -> i16 {
    number(&REJECTION_KINDS, kind)
}

/// Stored number of an assignment role (as in the proto).
pub fn role_number(role: Role) -> i16 {
    number(&ROLES, role)
}

/// Stored number of an assignment state (as in the proto).
pub fn assignment_state_number(state: AssignmentState) -> i16 {
    number(&ASSIGNMENT_STATES, state)
}

/// Rates from the history of tasks matching the filter's scope, subtree,
/// department and window. With a department, response, resolution and
/// return count only that department's steps; satisfaction and reopening
/// count the tasks it worked on. Whole days of a street, a community or the
/// county come from the kept tallies ([`tallies`]); the rest is counted from
/// the history.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn statistics(pool: &PgPool, filter: &TaskFilter) -> sqlx::Result<TaskStatistics> {
    if !tallies::answer_for(pool, filter).await? {
        return Ok(history_tallies(pool, filter).await?.statistics());
    }
    let parts = split_window(filter.reported_after, filter.reported_before);
    let mut sum = Tallies::default();
    if let Some(days) = parts.days {
        sum += tallies::sum(pool, filter, days).await?;
    }
    for (after, before) in parts.edges {
        let edge = TaskFilter {
            reported_after: after,
            reported_before: before,
            ..filter.clone()
        };
        sum += history_tallies(pool, &edge).await?;
    }
    Ok(sum.statistics())
}

/// The statistics counted from every step of the history, the tallies
/// bypassed: what [`statistics`] must always agree with.
pub async fn statistics_from_history(
    pool: &PgPool,
    filter: &TaskFilter,
) -> sqlx::Result<TaskStatistics> {
    Ok(history_tallies(pool, filter).await?.statistics())
}

/// The counts of the filter's tasks, from every step of their history.
async fn history_tallies(pool: &PgPool, filter: &TaskFilter) -> sqlx::Result<Tallies> {
    // Each task's steps counted by a lateral subquery on its own history
    // (an index probe per task), whatever the planner believes: joined
    // as a set, a window's edge of 30 tasks was hash-joined against a
    // sequential scan of six million steps where the statistics were
    // never gathered (autovacuum is off on the CI machine).
    let counts = [
        (
            "responses",
            "own AND action IN ('accepted', 'checked_in') AND on_time IS NOT NULL",
        ),
        (
            "responses_on_time",
            "own AND action IN ('accepted', 'checked_in') AND on_time",
        ),
        (
            "resolutions",
            "own AND action IN ('resolved_by_grid', 'department_resolved') AND on_time IS NOT NULL",
        ),
        (
            "resolutions_on_time",
            "own AND action IN ('resolved_by_grid', 'department_resolved') AND on_time",
        ),
        ("ratings", "action = 'rated'"),
        ("ratings_satisfied", "action = 'rated' AND to_state = 7"),
        ("returns", "own AND action = 'returned'"),
        ("check_ins", "own AND action = 'checked_in'"),
        ("reopenings", "action = 'reopened'"),
        ("resolved", "action IN ('resolved_by_grid', 'resolved')"),
    ];
    let sums = counts
        .iter()
        .map(|(name, _)| format!("coalesce(sum(x.{name}), 0)::int8 AS {name}"))
        .collect::<Vec<_>>()
        .join(", ");
    let per_task = counts
        .iter()
        .map(|(name, condition)| format!("count(*) FILTER (WHERE {condition}) AS {name}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = QueryBuilder::new(format!(
        "SELECT count(*) AS tasks, {sums} FROM tasks t CROSS JOIN LATERAL (SELECT {per_task} FROM \
           (SELECT h.action, h.on_time, h.to_state, "
    ));
    match &filter.department {
        Some(department) => sql
            .push("coalesce(h.department = ")
            .push_bind(department.clone())
            .push(", false)"),
        None => sql.push("true"),
    };
    sql.push(" AS own FROM task_history h WHERE h.task_id = t.id) steps) x WHERE true");
    push_scope(&mut sql, &filter.scope, WORKED_ON);
    push_subtree(&mut sql, filter.ancestor_path.as_deref());
    push_window(&mut sql, filter);
    if let Some(department) = &filter.department {
        sql.push(
            " AND EXISTS (SELECT 1 FROM task_history d WHERE d.task_id = t.id AND d.department = ",
        )
        .push_bind(department.clone())
        .push(")");
    }
    let row = sql.build().fetch_one(pool).await?;
    tallies::from_row(&row)
}

/// A reported task ready to store: the row, its sealed contact, its
/// idempotency key and who reported it.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// The task.
    pub task: Task,
    /// The sealed reporter contact.
    pub sealed_contact: Option<Vec<u8>>,
    /// ReportTask's idempotency key.
    pub request_id: Option<Uuid>,
    /// The reporter (the history's first actor).
    pub actor: String,
}

/// Stores reported tasks, their first history entries and their events
/// (`events[i]` belongs to `batch[i]`) in one statement: one round trip, and
/// all or nothing without BEGIN and COMMIT. Returns the ids actually
/// inserted; a task whose request id exists already, or repeats an earlier
/// one in the batch, is skipped with its event.
pub async fn insert_reported<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    batch: &[&NewTask],
    events: &[&NewEvent],
) -> sqlx::Result<Vec<Uuid>> {
    debug_assert_eq!(batch.len(), events.len(), "one event per reported task");
    let column = |f: &dyn Fn(&NewTask) -> i16| batch.iter().map(|n| f(n)).collect::<Vec<i16>>();
    let ids: Vec<Uuid> = batch.iter().map(|n| n.task.id.uuid()).collect();
    let cell_ids: Vec<&str> = batch.iter().map(|n| n.task.cell.as_str()).collect();
    let cell_paths: Vec<&str> = batch.iter().map(|n| n.task.cell_path.as_str()).collect();
    let categories: Vec<&str> = batch.iter().map(|n| n.task.category.as_str()).collect();
    let descriptions: Vec<&str> = batch.iter().map(|n| n.task.description.as_str()).collect();
    // Rows of a 2-D SQL array must be equally long; JSON arrays need not be.
    let attachments: Vec<serde_json::Value> = batch
        .iter()
        .map(|n| serde_json::json!(n.task.attachments))
        .collect();
    let fields: Vec<serde_json::Value> = batch
        .iter()
        .map(|n| serde_json::json!(n.task.fields))
        .collect();
    let sealed: Vec<Option<&[u8]>> = batch.iter().map(|n| n.sealed_contact.as_deref()).collect();
    let masked: Vec<&str> = batch
        .iter()
        .map(|n| n.task.reporter_contact_masked.as_str())
        .collect();
    let accept_due: Vec<Option<DateTime<Utc>>> =
        batch.iter().map(|n| n.task.lifecycle.accept_due).collect();
    let resolve_due: Vec<Option<DateTime<Utc>>> =
        batch.iter().map(|n| n.task.lifecycle.resolve_due).collect();
    let reopen: Vec<i32> = batch
        .iter()
        .map(|n| n.task.lifecycle.reopen_count)
        .collect();
    let versions: Vec<i64> = batch.iter().map(|n| n.task.lifecycle.version).collect();
    let created: Vec<DateTime<Utc>> = batch.iter().map(|n| n.task.create_time).collect();
    let request_ids: Vec<Option<Uuid>> = batch.iter().map(|n| n.request_id).collect();
    let actors: Vec<&str> = batch.iter().map(|n| n.actor.as_str()).collect();
    // Built once: the text is the statement cache's key.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH input AS ( \
           SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int2[], $6::int2[], $7::text[], \
             $8::jsonb[], $9::jsonb[], $10::bytea[], $11::text[], $12::int2[], $13::timestamptz[], $14::timestamptz[], \
             $15::int4[], $16::int8[], $17::timestamptz[], $18::uuid[], $19::text[]) WITH ORDINALITY \
             AS i(id, cell_id, cell_path, category_id, urgency, channel, description, attachments, fields, sealed, \
               masked, state, accept_due, resolve_due, reopen_count, version, create_time, request_id, actor, position)), \
         task AS ( \
           INSERT INTO tasks (id, cell_id, cell_path, category_id, urgency, channel, description, attachments, fields, \
             reporter_contact_sealed, reporter_contact_masked, state, accept_due, resolve_due, reopen_count, version, \
             create_time, update_time, request_id) \
           SELECT id, cell_id, cell_path, category_id, urgency, channel, description, \
             ARRAY(SELECT jsonb_array_elements_text(attachments)), fields, sealed, masked, state, accept_due, \
             resolve_due, reopen_count, version, create_time, create_time, request_id \
           FROM input ORDER BY position \
           ON CONFLICT (request_id) DO NOTHING \
           RETURNING id), \
         kept AS (SELECT i.* FROM input i JOIN task t ON t.id = i.id), \
         history AS ( \
           INSERT INTO task_history (task_id, sequence, action, to_state, actor, time) \
           SELECT id, 1, 'reported', state, actor, create_time FROM kept \
           RETURNING task_id), \
         {} \
         SELECT task_id FROM history",
            OutboxRows::insert_cte(20, Some("e.position IN (SELECT position FROM kept)")),
        )
    });
    let query = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(&ids)
        .bind(&cell_ids)
        .bind(&cell_paths)
        .bind(&categories)
        .bind(column(&|n| n.task.urgency.number()))
        .bind(column(&|n| n.task.channel.number()))
        .bind(&descriptions)
        .bind(&attachments)
        .bind(&fields)
        .bind(&sealed)
        .bind(&masked)
        .bind(column(&|n| n.task.lifecycle.state.number()))
        .bind(&accept_due)
        .bind(&resolve_due)
        .bind(&reopen)
        .bind(&versions)
        .bind(&created)
        .bind(&request_ids)
        .bind(&actors);
    OutboxRows::of(events.iter().copied())
        .bind(query)
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| row.try_get("task_id"))
        .collect()
}

/// Marks `ids` as loaded by ImportTasks.
pub async fn mark_imported(conn: &mut PgConnection, ids: &[TaskId]) -> sqlx::Result<()> {
    sqlx::query("UPDATE tasks SET imported = true WHERE id = ANY($1)")
        .bind(ids.iter().map(|id| id.uuid()).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    Ok(())
}
