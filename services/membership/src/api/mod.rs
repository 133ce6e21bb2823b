//! The gRPC API of the membership service.

use civicgrid_cell_tree::KnownCells;
use civicgrid_proto::membership::v1::membership_service_server::MembershipService;

/// Implements `civicgrid.membership.v1.MembershipService`. Its first RPC, the cells the
/// service's replica knows, is the shared one; the service's own RPCs are
/// written here beside it (the attribute is for them).
pub struct MembershipApi {
    /// The replica's read side.
    pub known_cells: KnownCells,
}

#[tonic::async_trait]
impl MembershipService for MembershipApi {
    civicgrid_cell_tree::list_known_cells!(civicgrid_proto::membership::v1, known_cells);
}
