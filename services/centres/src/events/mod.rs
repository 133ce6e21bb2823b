//! What the centres service publishes and consumes.

pub mod coverage;
pub mod publish;
pub mod reports;
pub mod tasks;

use civicgrid_cell_tree::CellReplica;
use civicgrid_messaging::{Subscription, Topology};

use crate::config::TaskDemandRules;

/// Every queue the service consumes, with its handlers; a community centre
/// covers compounds within `walking_radius_metres`; `task_demands` says
/// which residents' requests become demands.
pub fn subscriptions(
    topology: &Topology,
    walking_radius_metres: f64,
    task_demands: TaskDemandRules,
) -> Vec<Subscription> {
    // Catch-up subscriptions: a centres deployed after the grid first reads
    // the grid's event log, so it holds every cell and compound, not only
    // later ones.
    vec![
        CellReplica::subscription(topology, "centres").catch_up("grid", CellReplica::RESET),
        coverage::CompoundCoverage::subscription(topology, walking_radius_metres),
        reports::subscription(topology),
        tasks::subscription(topology, task_demands),
    ]
}
