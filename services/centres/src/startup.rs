//! The centres service assembled: its API, the outbox relay and the grid
//! replica consumer, run by the shared `civicgrid_cell_tree::Replica` shape.

use civicgrid_cell_tree::{KnownCells, ReplicaService};
use civicgrid_host::Apis;
use civicgrid_messaging::{Subscription, Topology};
use civicgrid_proto::centres::v1::centres_service_server::CentresServiceServer;

use crate::api::CentresApi;
use crate::events::subscriptions;

impl ReplicaService for CentresApi {
    const NAME: &'static str = "centres";
    const SUBSCRIPTIONS: fn(&Topology) -> Vec<Subscription> = subscriptions;

    fn apis(apis: Apis, known_cells: KnownCells) -> Apis {
        apis.with(CentresServiceServer::new(CentresApi { known_cells }))
    }
}
