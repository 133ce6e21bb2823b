//! What the membership service publishes (`publish`) and consumes.

pub mod activities;
pub mod checkins;
pub mod demands;
pub mod publish;

use civicgrid_cell_tree::{CellReplica, CompoundReplica};
use civicgrid_messaging::{Subscription, Topology};

/// Every queue the service consumes, with its handlers.
pub fn subscriptions(topology: &Topology) -> Vec<Subscription> {
    // Catch-up subscriptions: a membership deployed after the grid first reads
    // the grid's event log, so it holds every cell and compound, not only
    // later ones.
    vec![
        CellReplica::subscription(topology, "membership").catch_up("grid", CellReplica::RESET),
        CompoundReplica::subscription(topology, "membership")
            .catch_up("grid", CompoundReplica::RESET),
        // Centres publishes no log to catch up from yet: check-ins are
        // taken as they come.
        checkins::CheckinParticipation::subscription(topology),
        activities::AgreementActivity::subscription(topology),
        demands::CommunityDemands::subscription(topology),
    ]
}
