//! The gRPC API of the assessment service.

use civicgrid_cell_tree::{ListRequest, list_page};
use civicgrid_proto::assessment::v1 as pb;
use civicgrid_proto::assessment::v1::assessment_service_server::AssessmentService;
use civicgrid_runtime::auth::Caller;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

/// Implements `civicgrid.assessment.v1.AssessmentService`.
pub struct AssessmentApi {
    pool: PgPool,
}

impl AssessmentApi {
    /// The API over the service's database.
    pub fn new(pool: PgPool) -> Self {
        AssessmentApi { pool }
    }
}

#[tonic::async_trait]
impl AssessmentService for AssessmentApi {
    async fn list_known_cells(
        &self,
        request: Request<pb::ListKnownCellsRequest>,
    ) -> Result<Response<pb::ListKnownCellsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.get_ref();
        let list = ListRequest {
            ancestor: &body.ancestor,
            level: 0,
            page_size: body.page_size,
            page_token: &body.page_token,
        };
        let (cells, next_page_token) =
            list_page(&self.pool, caller.scope_roots("cells"), list).await?;
        Ok(Response::new(pb::ListKnownCellsResponse {
            cells,
            next_page_token,
        }))
    }
}
