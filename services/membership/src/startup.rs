//! The membership service assembled: its API, the outbox relay and the grid
//! replica consumer, run by the shared `civicgrid_cell_tree::Replica` shape.

use civicgrid_cell_tree::{KnownCells, ReplicaService};
use civicgrid_host::Apis;
use civicgrid_messaging::{Subscription, Topology};
use civicgrid_proto::membership::v1::membership_service_server::MembershipServiceServer;

use crate::api::MembershipApi;
use crate::events::subscriptions;

impl ReplicaService for MembershipApi {
    const NAME: &'static str = "membership";
    const SUBSCRIPTIONS: fn(&Topology) -> Vec<Subscription> = subscriptions;

    fn apis(apis: Apis, known_cells: KnownCells) -> Apis {
        apis.with(MembershipServiceServer::new(MembershipApi { known_cells }))
    }
}
