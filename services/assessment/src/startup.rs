//! The assessment service assembled: its API, the outbox relay and the grid
//! replica consumer, run by the shared `civicgrid_cell_tree::Replica` shape.

use civicgrid_cell_tree::{KnownCells, ReplicaService};
use civicgrid_host::Apis;
use civicgrid_messaging::{Subscription, Topology};
use civicgrid_proto::assessment::v1::assessment_service_server::AssessmentServiceServer;

use crate::api::AssessmentApi;
use crate::events::subscriptions;

impl ReplicaService for AssessmentApi {
    const NAME: &'static str = "assessment";
    const SUBSCRIPTIONS: fn(&Topology) -> Vec<Subscription> = subscriptions;

    fn apis(apis: Apis, known_cells: KnownCells) -> Apis {
        apis.with(AssessmentServiceServer::new(AssessmentApi { known_cells }))
    }
}
