//! The gRPC API of the centres service.

use civicgrid_cell_tree::KnownCells;
use civicgrid_proto::centres::v1::centres_service_server::CentresService;

/// Implements `civicgrid.centres.v1.CentresService`. Its first RPC, the cells the
/// service's replica knows, is the shared one; the service's own RPCs are
/// written here beside it (the attribute is for them).
pub struct CentresApi {
    /// The replica's read side.
    pub known_cells: KnownCells,
}

#[tonic::async_trait]
impl CentresService for CentresApi {
    civicgrid_cell_tree::list_known_cells!(civicgrid_proto::centres::v1, known_cells);
}
