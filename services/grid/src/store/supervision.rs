//! Supervision orders.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::domain::access::TaskScope;
use crate::domain::supervision::{Lapse, Level, Step};

/// A stored supervision order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// Its id.
    pub id: Uuid,
    /// The task.
    pub task_id: Uuid,
    /// The department responsible ('' for the grid).
    pub department: String,
    /// The late step.
    pub step: Step,
    /// The rung.
    pub level: Level,
    /// The deadline.
    pub due: DateTime<Utc>,
    /// When issued.
    pub issue_time: DateTime<Utc>,
    /// When cleared.
    pub clear_time: Option<DateTime<Utc>>,
}

/// Tasks with a deadline inside `now + warning_before` whose highest rung
/// due is not yet issued: what a sweep must look at. Tasks already fully
/// escalated are skipped, so a backlog of old lapses costs nothing.
pub async fn tasks_to_sweep(
    pool: &PgPool,
    now: DateTime<Utc>,
    warning_before: Duration,
    red_after: Duration,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    let horizon = now + warning_before;
    // The highest rung due for a deadline `due` (see domain::supervision::levels_due).
    let rung = |due: &str| {
        format!("(CASE WHEN {due} + $3 <= $1 THEN 3 WHEN {due} <= $1 THEN 2 ELSE 1 END)")
    };
    let missing = |due: &str, department: &str, step: i32| {
        format!(
            "NOT EXISTS (SELECT 1 FROM supervision_orders o WHERE o.task_id = t.id AND o.department = {department} \
             AND o.step = {step} AND o.due = {due} AND o.level = {})",
            rung(due)
        )
    };
    // UNION ALL, de-duplicated below: UNION had to find every candidate
    // before LIMIT applied (a hash of all of them), which at a million
    // tasks with months of historical lapses ran for minutes and held the
    // database's vacuum horizon back meanwhile; the branches' states are
    // disjoint, so only a task with two lapsing assignments comes twice.
    let query = format!(
        "SELECT t.id FROM tasks t WHERE t.state = 1 AND t.accept_due <= $2 AND {accept} \
         UNION ALL SELECT t.id FROM tasks t WHERE t.state IN (2, 3) AND t.resolve_due <= $2 AND {grid_resolve} \
         UNION ALL SELECT t.id FROM tasks t JOIN task_assignments a ON a.task_id = t.id WHERE t.state = 4 \
           AND ((a.state = 1 AND a.check_in_due <= $2 AND {check_in}) OR (a.state = 2 AND a.resolve_due <= $2 AND {resolve})) \
         LIMIT $4",
        accept = missing("t.accept_due", "''", 1),
        grid_resolve = missing("t.resolve_due", "''", 3),
        check_in = missing("a.check_in_due", "a.department_id", 2),
        resolve = missing("a.resolve_due", "a.department_id", 3),
    );
    let mut ids: Vec<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
        .bind(now)
        .bind(horizon)
        .bind(red_after)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.retain(|id| seen.insert(*id));
    Ok(ids)
}

/// Issues the order for `lapse` at `level`; `None` when it was issued before.
pub async fn issue(
    conn: &mut PgConnection,
    task_id: Uuid,
    lapse: &Lapse,
    level: Level,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<OrderRow>> {
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO supervision_orders (id, task_id, department, step, level, due, issue_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (task_id, department, step, due, level) DO NOTHING",
    )
    .bind(id)
    .bind(task_id)
    .bind(&lapse.department)
    .bind(lapse.step as i16)
    .bind(level as i16)
    .bind(lapse.due)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok((inserted == 1).then(|| OrderRow {
        id,
        task_id,
        department: lapse.department.clone(),
        step: lapse.step,
        level,
        due: lapse.due,
        issue_time: now,
        clear_time: None,
    }))
}

/// Clears the task's open orders whose lapse is no longer open, returning them.
pub async fn clear_settled(
    conn: &mut PgConnection,
    task_id: Uuid,
    still_open: &[Lapse],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<OrderRow>> {
    let rows = sqlx::query(
        "SELECT id, task_id, department, step, level, due, issue_time, clear_time FROM supervision_orders \
         WHERE task_id = $1 AND clear_time IS NULL",
    )
    .bind(task_id)
    .fetch_all(&mut *conn)
    .await?;
    let open = rows
        .iter()
        .map(order_from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    let mut cleared = Vec::new();
    for mut order in open {
        let settled = !still_open.iter().any(|l| {
            l.department == order.department && l.step == order.step && l.due == order.due
        });
        if settled {
            sqlx::query("UPDATE supervision_orders SET clear_time = $2 WHERE id = $1")
                .bind(order.id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            order.clear_time = Some(now);
            cleared.push(order);
        }
    }
    Ok(cleared)
}

/// Orders of tasks the caller sees (by the task's cell or department).
pub async fn visible_orders(
    pool: &PgPool,
    scope: &TaskScope,
    task_id: Option<Uuid>,
    department: Option<&str>,
    open_only: bool,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<OrderRow>> {
    let roots: Vec<String> = scope
        .cell_roots
        .iter()
        .map(|r| format!("%/{r}/%"))
        .collect();
    let rows = sqlx::query(
        "SELECT o.id, o.task_id, o.department, o.step, o.level, o.due, o.issue_time, o.clear_time \
         FROM supervision_orders o JOIN tasks t ON t.id = o.task_id \
         WHERE ($1 OR t.cell_path LIKE ANY($2) OR o.department = ANY($3)) \
           AND ($4::uuid IS NULL OR o.task_id = $4) AND ($5::text IS NULL OR o.department = $5) \
           AND (NOT $6 OR o.clear_time IS NULL) AND ($7::uuid IS NULL OR o.id > $7) \
         ORDER BY o.id LIMIT $8",
    )
    .bind(scope.everything)
    .bind(&roots)
    .bind(&scope.departments)
    .bind(task_id)
    .bind(department)
    .bind(open_only)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(order_from_row).collect()
}

fn order_from_row(row: &sqlx::postgres::PgRow) -> sqlx::Result<OrderRow> {
    Ok(OrderRow {
        id: row.try_get("id")?,
        task_id: row.try_get("task_id")?,
        department: row.try_get("department")?,
        step: super::decode(
            Step::from_number(i32::from(row.try_get::<i16, _>("step")?)),
            "supervision_orders.step",
        )?,
        level: super::decode(
            Level::from_number(i32::from(row.try_get::<i16, _>("level")?)),
            "supervision_orders.level",
        )?,
        due: row.try_get("due")?,
        issue_time: row.try_get("issue_time")?,
        clear_time: row.try_get("clear_time")?,
    })
}
