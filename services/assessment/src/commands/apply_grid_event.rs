//! Stores one grid event of a task and recomputes that task's facts.

use civicgrid_runtime::error::UseCaseError;
use sqlx::PgConnection;

use crate::domain::facts;
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
    events::lock_aggregate(&mut *conn, &event.aggregate_id).await?;
    if !events::insert(&mut *conn, event).await? {
        return Ok(false);
    }
    recompute_task(conn, &event.aggregate_id).await?;
    Ok(true)
}

/// Recomputes one task's facts from its stored events and moves the counts
/// by the difference. The caller holds the task's lock.
pub async fn recompute_task(conn: &mut PgConnection, task: &str) -> Result<(), UseCaseError> {
    let stored = events::of_task(&mut *conn, task).await?;
    let new = facts::facts(&stored);
    let old = metrics::facts_of(&mut *conn, task).await?;
    metrics::replace_facts(conn, task, &old, &new).await?;
    Ok(())
}
