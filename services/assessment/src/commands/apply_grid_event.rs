//! Stores grid events of tasks and recomputes those tasks' facts.

use std::collections::BTreeSet;

use civicgrid_runtime::error::UseCaseError;
use sqlx::PgConnection;

use crate::domain::facts::{self, Fact};
use crate::store::events::{self, StoredEvent};
use crate::store::metrics;

/// Stores `event` (nothing when it was stored before) and brings the
/// task's facts and the counts up to date with every stored event of the
/// task. Returns whether the event was new.
#[tracing::instrument(skip_all, fields(task = %event.aggregate_id, event_id = %event.event_id))]
pub async fn apply_grid_event(
    conn: &mut PgConnection,
    event: &StoredEvent,
) -> Result<bool, UseCaseError> {
    Ok(apply_grid_events(conn, std::slice::from_ref(event)).await? > 0)
}

/// [`apply_grid_event`] for a batch of events (of any tasks, in any
/// order): the tasks locked in one order, the events stored in one
/// statement, every task with a new event recomputed once. Returns how
/// many tasks were recomputed.
#[tracing::instrument(skip_all, fields(events = batch.len()))]
pub async fn apply_grid_events(
    conn: &mut PgConnection,
    batch: &[StoredEvent],
) -> Result<usize, UseCaseError> {
    let mut tasks: Vec<&str> = batch.iter().map(|e| e.aggregate_id.as_str()).collect();
    tasks.sort_unstable();
    tasks.dedup();
    events::lock_aggregates(&mut *conn, &tasks).await?;
    let changed = events::insert_many(&mut *conn, batch).await?;
    recompute_tasks(conn, &changed).await?;
    Ok(changed.len())
}

/// Recomputes each task's facts from its stored events and moves the
/// counts by the difference. The caller holds the tasks' locks.
pub async fn recompute_tasks(
    conn: &mut PgConnection,
    tasks: &[String],
) -> Result<(), UseCaseError> {
    if tasks.is_empty() {
        return Ok(());
    }
    let mut stored = events::of_tasks(&mut *conn, tasks).await?;
    let mut old = metrics::facts_of_many(&mut *conn, tasks).await?;
    let changes: Vec<(String, BTreeSet<Fact>, BTreeSet<Fact>)> = tasks
        .iter()
        .map(|task| {
            let new = facts::facts(&stored.remove(task).unwrap_or_default());
            (task.clone(), old.remove(task).unwrap_or_default(), new)
        })
        .collect();
    metrics::replace_facts_many(conn, &changes).await?;
    Ok(())
}
