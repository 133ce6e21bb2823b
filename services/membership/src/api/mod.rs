//! The gRPC API of the membership service.

use civicgrid_cell_tree::{ListRequest, list_page};
use civicgrid_proto::membership::v1 as pb;
use civicgrid_proto::membership::v1::membership_service_server::MembershipService;
use civicgrid_runtime::auth::Caller;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

/// Implements `civicgrid.membership.v1.MembershipService`.
pub struct MembershipApi {
    pool: PgPool,
}

impl MembershipApi {
    /// The API over the service's database.
    pub fn new(pool: PgPool) -> Self {
        MembershipApi { pool }
    }
}

#[tonic::async_trait]
impl MembershipService for MembershipApi {
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
