//! What the assessment service consumes, and (`publish`) what it publishes.

pub mod participation;
pub mod publish;

use std::sync::Arc;

use civicgrid_cell_tree::{CellReplica, CompoundReplica};
use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use civicgrid_proto::common::v1::EventMeta;
use civicgrid_proto::grid::v1 as grid;
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::commands::apply_grid_event::{apply_grid_event, apply_grid_events};
use crate::store::events::StoredEvent;

/// Every `grid.task.<action>` the grid publishes (proto/civicgrid/grid/v1/events.proto).
pub const TASK_ACTIONS: [&str; 18] = [
    "reported",
    "accepted",
    "started",
    "resolved_by_grid",
    "whistled",
    "checked_in",
    "department_resolved",
    "returned",
    "released",
    "resolved",
    "rated",
    "closed",
    "reopened",
    "extension_requested",
    "extension_granted",
    "extension_refused",
    "rejected",
    "merged",
];

/// Every `grid.supervision.<change>`.
pub const SUPERVISION_CHANGES: [&str; 3] = ["issued", "escalated", "cleared"];

/// The counts are exactly the facts counted per subject, period and
/// metric: after a reset removed some facts, the counts are recounted from
/// those left (the ratings', and the other subscription's).
pub(crate) const RECOUNT: [&str; 2] = [
    "DELETE FROM metric_values",
    "INSERT INTO metric_values (subject, period, metric, value) \
     SELECT f.subject, p.period, f.metric, SUM(f.amount)::bigint FROM metric_facts f, unnest(f.periods) AS p(period) \
     GROUP BY f.subject, p.period, f.metric",
];

/// Statements that empty what the task subscription built, for `civicgrid
/// replay`: the tasks' facts (supervision events are facts of their task
/// too and return when it is recomputed) and its events.
pub const TASKS_RESET: &[&str] = &[
    "DELETE FROM metric_facts WHERE task LIKE 'tasks/%'",
    "DELETE FROM grid_events WHERE routing_key LIKE 'grid.task.%'",
    RECOUNT[0],
    RECOUNT[1],
];

/// Statements that empty what the supervision subscription built: its
/// events and the counts they made (every such metric starts with
/// "supervision"); the task facts return when the events are applied again.
pub const SUPERVISION_RESET: &[&str] = &[
    "DELETE FROM metric_facts WHERE task LIKE 'tasks/%' AND metric LIKE 'supervision%'",
    "DELETE FROM grid_events WHERE routing_key LIKE 'grid.supervision.%'",
    RECOUNT[0],
    RECOUNT[1],
];

/// Every queue the service consumes, with its handlers.
///
/// The cell and compound replicas and both grid-event subscriptions catch
/// up from the grid's log, so an assessment deployed after the grid counts
/// every task, not only later ones. Neither grid-event subscription checks
/// versions in order: supervision events carry the task's version without
/// raising it, and the metrics are a function of the set of a task's
/// stored events, so a task event that overtakes an earlier one is applied
/// at once and the numbers converge when the earlier one arrives (holding
/// it for the gap would only add lag).
pub fn subscriptions(
    topology: &Topology,
    sources: &std::collections::BTreeMap<String, String>,
) -> Vec<Subscription> {
    let store: Arc<dyn Handler> = Arc::new(GridEventStore);
    let mut tasks = Subscription::new(topology, "assessment", "grid-tasks");
    for action in TASK_ACTIONS {
        tasks = tasks.on(&format!("grid.task.{action}"), store.clone());
    }
    let mut supervision = Subscription::new(topology, "assessment", "grid-supervision");
    for change in SUPERVISION_CHANGES {
        supervision = supervision.on(&format!("grid.supervision.{change}"), store.clone());
    }
    let mut all = vec![
        CellReplica::subscription(topology, "assessment").catch_up("grid", CellReplica::RESET),
        CompoundReplica::subscription(topology, "assessment")
            .catch_up("grid", CompoundReplica::RESET),
        tasks.catch_up("grid", TASKS_RESET).without_version_order(),
        supervision
            .catch_up("grid", SUPERVISION_RESET)
            .without_version_order(),
    ];
    all.extend(participation::subscriptions(topology, sources));
    all
}

/// Keeps every grid task and supervision event in the event store and
/// recomputes its task's metrics.
pub struct GridEventStore;

impl Handler for GridEventStore {
    fn name(&self) -> &'static str {
        "assessment.grid-event-store"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let stored = stored_event(event)?;
            apply_grid_event(conn, &stored)
                .await
                .map_err(|e| HandlerError::Transient(e.to_string()))?;
            Ok(())
        })
    }

    /// A consumer's batch: one lock statement, one insert and one
    /// recomputation of the tasks concerned, instead of a round of each
    /// per event. A poison event fails the batch, which the consumer then
    /// applies event by event, so only that one is dead-lettered.
    fn handle_batch<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [InboundEvent],
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let stored = events
                .iter()
                .map(stored_event)
                .collect::<Result<Vec<_>, _>>()?;
            apply_grid_events(conn, &stored)
                .await
                .map_err(|e| HandlerError::Transient(e.to_string()))?;
            Ok(())
        })
    }
}

/// The event as stored: its meta checked, its payload kept as received.
fn stored_event(event: &InboundEvent) -> Result<StoredEvent, HandlerError> {
    let meta: Option<EventMeta> = if event.routing_key.starts_with("grid.task.") {
        let changed: grid::TaskChanged = event.decode()?;
        if changed.task.is_none() {
            return Err(HandlerError::Permanent(
                "TaskChanged without a task".to_owned(),
            ));
        }
        changed.meta
    } else {
        let changed: grid::SupervisionChanged = event.decode()?;
        if changed.order.is_none() {
            return Err(HandlerError::Permanent(
                "SupervisionChanged without an order".to_owned(),
            ));
        }
        changed.meta
    };
    let meta = meta.ok_or_else(|| HandlerError::Permanent("event without meta".to_owned()))?;
    if !meta.aggregate_id.starts_with("tasks/") {
        return Err(HandlerError::Permanent(format!(
            "aggregate {:?} is not a task",
            meta.aggregate_id
        )));
    }
    let occurred_at = meta
        .occurred_at
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .ok_or_else(|| HandlerError::Permanent("event without occurred_at".to_owned()))?;
    Ok(StoredEvent {
        event_id: event.event_id,
        routing_key: event.routing_key.clone(),
        aggregate_id: meta.aggregate_id,
        aggregate_version: meta.aggregate_version,
        occurred_at,
        // The inbound event does not carry its log position to handlers.
        position: None,
        payload: event.payload.clone(),
    })
}
