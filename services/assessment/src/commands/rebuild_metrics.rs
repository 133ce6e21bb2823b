//! Rebuilds every fact and count from the service's own event store.

use std::collections::BTreeSet;

use civicgrid_runtime::error::UseCaseError;
use sqlx::PgConnection;

use crate::commands::apply_grid_event::recompute_task;
use crate::commands::apply_participation_event::recompute_group;
use crate::domain::rating;
use crate::store::{events, metrics, ratings};

/// What a rebuild read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events in the store.
    pub events: i64,
    /// Tasks recomputed.
    pub tasks: i64,
}

/// Empties the facts and counts and recomputes every task's and every
/// rating's and every membership and centres group's. The event store is locked against new events meanwhile
/// (consumers wait, then apply on top of the rebuilt numbers), so nothing
/// applied concurrently is lost or counted twice.
#[tracing::instrument(skip_all)]
pub async fn rebuild_metrics(conn: &mut PgConnection) -> Result<Rebuilt, UseCaseError> {
    sqlx::query("LOCK TABLE grid_events, other_events IN SHARE MODE")
        .execute(&mut *conn)
        .await?;
    metrics::clear(&mut *conn).await?;
    let tasks = events::tasks(&mut *conn).await?;
    for task in &tasks {
        recompute_task(&mut *conn, task).await?;
    }
    for row in ratings::all(&mut *conn).await? {
        let facts = rating::facts(&row.department, row.grade, row.event_id, row.reported_at);
        metrics::replace_facts(
            &mut *conn,
            &ratings::facts_key(&row.task, &row.department),
            &BTreeSet::new(),
            &facts,
        )
        .await?;
    }
    for group in ratings::groups(&mut *conn).await? {
        recompute_group(&mut *conn, &group).await?;
    }
    Ok(Rebuilt {
        events: events::count(&mut *conn).await?,
        tasks: i64::try_from(tasks.len()).unwrap_or(i64::MAX),
    })
}
