//! The gRPC API of the centres service.

use civicgrid_cell_tree::{ListRequest, list_page};
use civicgrid_proto::centres::v1 as pb;
use civicgrid_proto::centres::v1::centres_service_server::CentresService;
use civicgrid_runtime::auth::Caller;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

/// Implements `civicgrid.centres.v1.CentresService`.
pub struct CentresApi {
    pool: PgPool,
}

impl CentresApi {
    /// The API over the service's database.
    pub fn new(pool: PgPool) -> Self {
        CentresApi { pool }
    }
}

#[tonic::async_trait]
impl CentresService for CentresApi {
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
