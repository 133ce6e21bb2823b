//! What the membership service consumes.

use civicgrid_cell_tree::{CellReplica, CompoundReplica};
use civicgrid_messaging::{Subscription, Topology};

/// Every queue the service consumes, with its handlers.
pub fn subscriptions(topology: &Topology) -> Vec<Subscription> {
    vec![
        CellReplica::subscription(topology, "membership"),
        CompoundReplica::subscription(topology, "membership"),
    ]
}
