//! Residents' requests from the grid into the demand list (三单制): a task
//! reported in a cell, of a category `task_demand_categories` maps, becomes
//! a demand of its community through the command path CreateDemand uses
//! (`commands::enter_task_demand`).
//!
//! A catch-up subscription of the grid's log (the grid serves its task
//! events there): a centres deployed after the grid, or one whose mapping
//! grew, enters the requests reported before. Replaying changes nothing:
//! a task's demand is keyed by the task.

use std::sync::Arc;

use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use civicgrid_proto::grid::v1 as grid;
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::commands::enter_task_demand::{TaskDemandError, enter_task_demand};
use crate::config::TaskDemandRules;

/// `grid.task.reported`.
pub const TASK_REPORTED: &str = "grid.task.reported";

/// The queue `civicgrid.centres.grid-tasks`. Only `grid.task.reported` is
/// bound, so versions are not checked in order (a task's later events
/// never reach this queue). A rebuild empties nothing: the demands stay
/// (projects may serve them) and replayed reports find theirs by task.
pub fn subscription(topology: &Topology, rules: TaskDemandRules) -> Subscription {
    Subscription::new(topology, "centres", "grid-tasks")
        .on(TASK_REPORTED, Arc::new(TaskDemands { rules }))
        .catch_up("grid", &[])
        .without_version_order()
}

/// Turns reported tasks of mapped categories into demands.
pub struct TaskDemands {
    rules: TaskDemandRules,
}

impl Handler for TaskDemands {
    fn name(&self) -> &'static str {
        "centres.task-demands"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let changed: grid::TaskChanged = event.decode()?;
            match enter_task_demand(conn, &self.rules, &changed, &event.event_id.to_string()).await
            {
                Ok(_) => Ok(()),
                Err(TaskDemandError::Invalid(why)) => Err(HandlerError::Permanent(why)),
                Err(TaskDemandError::NotYet(why)) => Err(HandlerError::Transient(why)),
            }
        })
    }
}
