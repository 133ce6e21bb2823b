//! What the centres service publishes and consumes.

pub mod publish;
pub mod reports;

use civicgrid_cell_tree::{CellReplica, CompoundReplica};
use civicgrid_messaging::{Subscription, Topology};

/// Every queue the service consumes, with its handlers.
pub fn subscriptions(topology: &Topology) -> Vec<Subscription> {
    // Catch-up subscriptions: a centres deployed after the grid first reads
    // the grid's event log, so it holds every cell and compound, not only
    // later ones.
    vec![
        CellReplica::subscription(topology, "centres").catch_up("grid", CellReplica::RESET),
        CompoundReplica::subscription(topology, "centres").catch_up("grid", CompoundReplica::RESET),
        reports::subscription(topology),
    ]
}
