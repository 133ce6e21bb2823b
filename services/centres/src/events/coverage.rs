//! The grid's compounds replicated with their communities' coverage: a
//! compound that arrives in a community (new, or moved there) changes how
//! many of its compounds a centre covers, so the replica's upsert and the
//! `centres.coverage.changed` it causes commit in one inbox transaction.

use std::collections::BTreeSet;
use std::sync::Arc;

use civicgrid_cell_tree::{COMPOUND_CREATED, COMPOUND_UPDATED, CompoundReplica};
use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::commands::publish_state::publish_coverage;

/// [`CompoundReplica`] plus coverage events.
pub struct CompoundCoverage {
    walking_radius_metres: f64,
}

impl CompoundCoverage {
    /// The compound subscription (caught up from the grid's log like the
    /// plain replica's); a community centre covers compounds within
    /// `walking_radius_metres`.
    pub fn subscription(topology: &Topology, walking_radius_metres: f64) -> Subscription {
        let handler = Arc::new(CompoundCoverage {
            walking_radius_metres,
        });
        Subscription::new(topology, "centres", "grid-compounds")
            .on(COMPOUND_CREATED, handler.clone())
            .on(COMPOUND_UPDATED, handler)
            .catch_up("grid", CompoundReplica::RESET)
    }
}

impl Handler for CompoundCoverage {
    // The replica's own name: events it recorded as processed before this
    // handler wrapped it stay processed.
    fn name(&self) -> &'static str {
        CompoundReplica.name()
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let compound: civicgrid_proto::grid::v1::Compound = match event.routing_key.as_str() {
                COMPOUND_CREATED => {
                    event
                        .decode::<civicgrid_proto::grid::v1::CompoundCreated>()?
                        .compound
                }
                _ => {
                    event
                        .decode::<civicgrid_proto::grid::v1::CompoundUpdated>()?
                        .compound
                }
            }
            .unwrap_or_default();
            let id = civicgrid_cell_tree::parse_compound_name(&compound.name).unwrap_or_default();
            let transient = |e: sqlx::Error| HandlerError::Transient(e.to_string());
            let before = civicgrid_cell_tree::get_compound(&mut *conn, id)
                .await
                .map_err(transient)?;
            // The replica refuses malformed events (permanent) and ignores
            // stale ones.
            CompoundReplica.handle(&mut *conn, event).await?;
            let after = civicgrid_cell_tree::get_compound(&mut *conn, id)
                .await
                .map_err(transient)?;
            let mut communities = BTreeSet::new();
            let (old, new) = (
                before.map(|k| k.community_id),
                after.map(|k| k.community_id),
            );
            if old != new {
                communities.extend(old);
                communities.extend(new);
            }
            publish_coverage(
                conn,
                &communities,
                self.walking_radius_metres,
                "centres",
                &event.event_id.to_string(),
            )
            .await
            .map_err(transient)?;
            Ok(())
        })
    }
}
