//! The gRPC API of the assessment service.

use civicgrid_cell_tree::KnownCells;
use civicgrid_proto::assessment::v1::assessment_service_server::AssessmentService;

/// Implements `civicgrid.assessment.v1.AssessmentService`. Its first RPC, the cells the
/// service's replica knows, is the shared one; the service's own RPCs are
/// written here beside it (the attribute is for them).
pub struct AssessmentApi {
    /// The replica's read side.
    pub known_cells: KnownCells,
}

#[tonic::async_trait]
impl AssessmentService for AssessmentApi {
    civicgrid_cell_tree::list_known_cells!(civicgrid_proto::assessment::v1, known_cells);
}
