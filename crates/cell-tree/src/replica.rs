//! A service's replica of the grid, built from `grid.cell.*` events.
//!
//! Events carry the whole cell, so applying one is an upsert guarded by the
//! version: a late or repeated event never rolls a cell back, and an update
//! that overtakes its create still leaves the right cell.

use std::sync::Arc;

use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use civicgrid_proto::grid::v1 as pb;
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::row::{CellRow, from_timestamp};
use crate::{CELL_CREATED, CELL_UPDATED, parse_name};

/// Applies `CellCreated` and `CellUpdated` to the local `cells` table.
pub struct CellReplica;

impl CellReplica {
    /// What a rebuild of the replica empties: the statements to pass to
    /// [`Subscription::catch_up`].
    pub const RESET: &'static [&'static str] = &["DELETE FROM cells"];

    /// The subscription `service` consumes the grid through.
    pub fn subscription(topology: &Topology, service: &str) -> Subscription {
        let handler = Arc::new(CellReplica);
        Subscription::new(topology, service, "grid-cells")
            .on(CELL_CREATED, handler.clone())
            .on(CELL_UPDATED, handler)
    }
}

impl Handler for CellReplica {
    fn name(&self) -> &'static str {
        "cell-replica"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let cell = match event.routing_key.as_str() {
                CELL_CREATED => event.decode::<pb::CellCreated>()?.cell,
                CELL_UPDATED => event.decode::<pb::CellUpdated>()?.cell,
                other => {
                    return Err(HandlerError::Permanent(format!(
                        "not a cell event: {other}"
                    )));
                }
            };
            let cell =
                cell.ok_or_else(|| HandlerError::Permanent("event without a cell".to_owned()))?;
            let row = row_from_event(&cell)?;
            upsert(conn, &row).await?;
            Ok(())
        })
    }
}

// Replicas keep the deprecated `Cell.newly_built` as published: the grid
// still stores it, and a replica holds what the grid holds.
#[allow(deprecated)]
fn row_from_event(cell: &pb::Cell) -> Result<CellRow, HandlerError> {
    let bad = |what: &str| HandlerError::Permanent(format!("cell event with {what}"));
    let id = parse_name(&cell.name)
        .ok_or_else(|| bad("a bad name"))?
        .to_owned();
    let parent_id = match cell.parent.as_str() {
        "" => None,
        parent => Some(
            parse_name(parent)
                .ok_or_else(|| bad("a bad parent"))?
                .to_owned(),
        ),
    };
    let mut path = String::from("/");
    for ancestor in &cell.ancestors {
        path.push_str(parse_name(ancestor).ok_or_else(|| bad("a bad ancestor"))?);
        path.push('/');
    }
    path.push_str(&id);
    path.push('/');
    let level = i16::try_from(cell.level)
        .ok()
        .filter(|l| (1..=6).contains(l))
        .ok_or_else(|| bad("a bad level"))?;
    Ok(CellRow {
        id,
        parent_id,
        level,
        display_name: cell.display_name.clone(),
        newly_built: cell.newly_built,
        path,
        version: cell.version,
        create_time: from_timestamp(cell.create_time.as_ref()),
        update_time: from_timestamp(cell.update_time.as_ref()),
    })
}

/// Inserts or replaces the cell unless the stored version is newer or equal.
async fn upsert(conn: &mut PgConnection, row: &CellRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO cells (id, parent_id, level, display_name, newly_built, path, version, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET parent_id = EXCLUDED.parent_id, level = EXCLUDED.level, \
           display_name = EXCLUDED.display_name, newly_built = EXCLUDED.newly_built, path = EXCLUDED.path, \
           version = EXCLUDED.version, create_time = EXCLUDED.create_time, update_time = EXCLUDED.update_time \
         WHERE cells.version < EXCLUDED.version",
    )
    .bind(&row.id)
    .bind(&row.parent_id)
    .bind(row.level)
    .bind(&row.display_name)
    .bind(row.newly_built)
    .bind(&row.path)
    .bind(row.version)
    .bind(row.create_time)
    .bind(row.update_time)
    .execute(conn)
    .await?;
    Ok(())
}
