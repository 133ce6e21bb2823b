//! Rebuilds every fact and count from the service's own event store.

use civicgrid_runtime::error::UseCaseError;
use sqlx::PgConnection;

use crate::domain::facts::{self, Fact, TaskEvent};
use crate::domain::{levels, participation, rating};
use crate::store::{events, levels as store_levels, metrics, ratings};

/// Tasks read per page and facts written per statement: big enough that
/// round trips do not dominate, small enough to keep memory flat.
const PAGE: i64 = 2_000;

/// What a rebuild read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events in the store.
    pub events: i64,
    /// Tasks recomputed.
    pub tasks: i64,
}

/// Empties the facts, counts and levels and recomputes every task's, every
/// rating's and every membership and centres group's facts (and levels) with the same
/// pure functions the consumers use, then recounts the counts from the
/// facts. Set-wise (pages of tasks, one insert per page) rather than
/// task by task: a full replay applies tens of thousands of events a
/// second. The event store is locked against new events meanwhile
/// (consumers wait, then apply on top of the rebuilt numbers), so nothing
/// applied concurrently is lost or counted twice.
#[tracing::instrument(skip_all)]
pub async fn rebuild_metrics(conn: &mut PgConnection) -> Result<Rebuilt, UseCaseError> {
    sqlx::query("LOCK TABLE grid_events, other_events IN SHARE MODE")
        .execute(&mut *conn)
        .await?;
    metrics::clear(&mut *conn).await?;
    let mut tasks = 0i64;
    let mut after = String::new();
    loop {
        let page = events::page_of_tasks(&mut *conn, &after, PAGE).await?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = last.clone();
        let mut batch: Vec<(String, Fact)> = Vec::new();
        let mut of_task: Vec<TaskEvent> = Vec::new();
        let mut current: Option<String> = None;
        for (task, event) in page {
            if current.as_deref() != Some(task.as_str()) {
                if let Some(done) = current.take() {
                    batch.extend(
                        facts::facts(&of_task)
                            .into_iter()
                            .map(|f| (done.clone(), f)),
                    );
                    of_task.clear();
                    tasks += 1;
                }
                current = Some(task);
            }
            of_task.push(event);
        }
        if let Some(done) = current {
            batch.extend(
                facts::facts(&of_task)
                    .into_iter()
                    .map(|f| (done.clone(), f)),
            );
            tasks += 1;
        }
        metrics::insert_facts(&mut *conn, &batch).await?;
    }
    let mut batch: Vec<(String, Fact)> = Vec::new();
    for row in ratings::all(&mut *conn).await? {
        let key = ratings::facts_key(&row.task, &row.department);
        batch.extend(
            rating::facts(&row.department, row.grade, row.event_id, row.reported_at)
                .into_iter()
                .map(|f| (key.clone(), f)),
        );
    }
    let mut level_rows = Vec::new();
    for group in ratings::groups(&mut *conn).await? {
        let key = ratings::group_key(&group);
        let stored = ratings::group_events(&mut *conn, &group).await?;
        if participation::is_level_group(&group) {
            level_rows.extend(
                levels::levels(&stored)
                    .into_iter()
                    .map(|l| (key.clone(), l)),
            );
            continue;
        }
        batch.extend(
            participation::facts(&stored)
                .into_iter()
                .map(|f| (key.clone(), f)),
        );
    }
    for chunk in batch.chunks(PAGE as usize * 4) {
        metrics::insert_facts(&mut *conn, chunk).await?;
    }
    for chunk in level_rows.chunks(PAGE as usize * 4) {
        store_levels::insert(&mut *conn, chunk).await?;
    }
    metrics::recount(&mut *conn).await?;
    Ok(Rebuilt {
        events: events::count(&mut *conn).await?,
        tasks,
    })
}
