//! Stores one membership or centres contract event and recomputes the
//! facts of its group.

use civicgrid_runtime::error::UseCaseError;
use sqlx::PgConnection;

use crate::domain::levels as domain_levels;
use crate::domain::participation;
use crate::store::ratings::{self, OtherEvent};
use crate::store::{levels, metrics};

/// Stores `event` (nothing when stored before) and brings its group's facts
/// and the counts up to date. Returns whether the event was new.
#[tracing::instrument(skip_all, fields(group = %event.aggregate_id, event_id = %event.event_id))]
pub async fn apply_participation_event(
    conn: &mut PgConnection,
    event: &OtherEvent,
) -> Result<bool, UseCaseError> {
    ratings::lock_group(&mut *conn, &event.aggregate_id).await?;
    if !ratings::insert_event(&mut *conn, event).await? {
        return Ok(false);
    }
    recompute_group(conn, &event.aggregate_id).await?;
    Ok(true)
}

/// Recomputes one group's facts (or, for a group of level events, its
/// level rows) from its stored events; the caller holds its lock (or the
/// whole store's).
pub async fn recompute_group(conn: &mut PgConnection, group: &str) -> Result<(), UseCaseError> {
    let events = ratings::group_events(&mut *conn, group).await?;
    let new = participation::facts(&events);
    let key = ratings::group_key(group);
    if participation::is_level_group(group) {
        levels::replace(conn, &key, &domain_levels::levels(&events)).await?;
        return Ok(());
    }
    let old = metrics::facts_of(&mut *conn, &key).await?;
    metrics::replace_facts(conn, &key, &old, &new).await?;
    Ok(())
}
