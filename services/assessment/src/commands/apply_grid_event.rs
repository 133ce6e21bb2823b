//! Stores grid events of tasks and recomputes those tasks' facts.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use civicgrid_runtime::error::UseCaseError;
use sqlx::PgConnection;
use uuid::Uuid;

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
    let inserted = events::insert_many(&mut *conn, batch).await?;
    // Each new event once, though a batch may hold one twice.
    let mut seen = HashSet::new();
    let fresh: Vec<&StoredEvent> = batch
        .iter()
        .filter(|e| inserted.contains(&e.event_id) && seen.insert(e.event_id))
        .collect();
    recompute_tasks(conn, &fresh).await
}

/// Recomputes the facts of every task with an event in `fresh` (events
/// just stored) from all its stored events, and moves the counts by the
/// difference; returns how many tasks. The caller holds the tasks' locks.
///
/// Only the events stored before are read back (the fresh ones are in
/// hand), and only a task that had events before can have facts to
/// replace: for a batch of new reports, one read that finds nothing.
pub async fn recompute_tasks(
    conn: &mut PgConnection,
    fresh: &[&StoredEvent],
) -> Result<usize, UseCaseError> {
    let mut tasks: Vec<String> = fresh.iter().map(|e| e.aggregate_id.clone()).collect();
    tasks.sort_unstable();
    tasks.dedup();
    if tasks.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = fresh.iter().map(|e| e.event_id).collect();
    let mut stored = events::of_tasks_except(&mut *conn, &tasks, &ids).await?;
    let earlier: Vec<String> = stored.keys().cloned().collect();
    let mut old = if earlier.is_empty() {
        BTreeMap::new()
    } else {
        metrics::facts_of_many(&mut *conn, &earlier).await?
    };
    for event in fresh {
        stored
            .entry(event.aggregate_id.clone())
            .or_default()
            .push(events::decoded(event)?);
    }
    let changes: Vec<(String, BTreeSet<Fact>, BTreeSet<Fact>)> = tasks
        .iter()
        .map(|task| {
            let mut history = stored.remove(task).unwrap_or_default();
            // The order the store reads them in: by version, then id.
            history.sort_by_key(|e| (e.version, e.event_id));
            let new = facts::facts(&history);
            (task.clone(), old.remove(task).unwrap_or_default(), new)
        })
        .collect();
    metrics::replace_facts_many(conn, &changes).await?;
    Ok(tasks.len())
}
