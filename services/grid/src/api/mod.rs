//! The gRPC API: parse the request once, run the command, answer.

pub mod directory;
pub mod layout;
pub mod parse;
pub mod staff;
pub mod tasks;

use civicgrid_cell_tree::{ListRequest, list_page, visible};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::grid_service_server::GridService;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::create_cell::create_cell;
use crate::commands::create_staff_assignment::create_staff_assignment;
use crate::commands::end_staff_assignment::end_staff_assignment;
use crate::commands::import_cells::import_cells;
use crate::commands::now;
use crate::commands::update_cell::update_cell;
use crate::domain::cell::CellId;

/// Implements `civicgrid.grid.v1.GridService`.
pub struct GridApi {
    pool: PgPool,
}

impl GridApi {
    /// The API over the grid's database.
    pub fn new(pool: PgPool) -> Self {
        GridApi { pool }
    }
}

#[tonic::async_trait]
impl GridService for GridApi {
    async fn create_cell(
        &self,
        request: Request<pb::CreateCellRequest>,
    ) -> Result<Response<pb::CreateCellResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let input = parse::create_cell(request.get_ref())?;
        let row = create_cell(&self.pool, &caller, input).await?;
        Ok(Response::new(pb::CreateCellResponse {
            cell: Some(row.to_proto()),
        }))
    }

    async fn get_cell(
        &self,
        request: Request<pb::GetCellRequest>,
    ) -> Result<Response<pb::GetCellResponse>, Status> {
        let caller = Caller::of(&request)?;
        let name = &request.get_ref().name;
        let roots = read_roots(&self.pool, caller).await?;
        let Some(id) = CellId::parse_name(name) else {
            let mut violations = FieldViolations::new();
            violations.add("name", "must be a cell name `cells/{cell_id}`");
            return Err(violations.into_status());
        };
        let row = civicgrid_cell_tree::get(&self.pool, id.as_str())
            .await
            .map_err(status::database)?
            // Outside the caller's scope is indistinguishable from absent.
            .filter(|row| visible(row, roots.as_deref()))
            .ok_or_else(|| Status::not_found(format!("{name} not found")))?;
        Ok(Response::new(pb::GetCellResponse {
            cell: Some(row.to_proto()),
        }))
    }

    async fn list_cells(
        &self,
        request: Request<pb::ListCellsRequest>,
    ) -> Result<Response<pb::ListCellsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.get_ref();
        let list = ListRequest {
            ancestor: &body.ancestor,
            level: body.level,
            page_size: body.page_size,
            page_token: &body.page_token,
        };
        let (cells, next_page_token) =
            list_page(&self.pool, read_roots(&self.pool, caller).await?, list).await?;
        Ok(Response::new(pb::ListCellsResponse {
            cells,
            next_page_token,
        }))
    }

    async fn update_cell(
        &self,
        request: Request<pb::UpdateCellRequest>,
    ) -> Result<Response<pb::UpdateCellResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let input = parse::update_cell(request.get_ref())?;
        let row = update_cell(&self.pool, &caller, input).await?;
        Ok(Response::new(pb::UpdateCellResponse {
            cell: Some(row.to_proto()),
        }))
    }

    async fn import_cells(
        &self,
        request: Request<pb::ImportCellsRequest>,
    ) -> Result<Response<pb::ImportCellsResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let input = layout::import_cells(request.into_inner())?;
        let imported = import_cells(&self.pool, &caller, input).await?;
        Ok(Response::new(pb::ImportCellsResponse {
            // At most MAX_ROWS (20,000) cells: always fits.
            created_count: i32::try_from(imported.created).unwrap_or(i32::MAX),
        }))
    }

    async fn export_cells(
        &self,
        request: Request<pb::ExportCellsRequest>,
    ) -> Result<Response<pb::ExportCellsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let response = layout::export_cells(&self.pool, caller, request.get_ref()).await?;
        Ok(Response::new(response))
    }

    async fn create_staff_assignment(
        &self,
        request: Request<pb::CreateStaffAssignmentRequest>,
    ) -> Result<Response<pb::CreateStaffAssignmentResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let input = staff::create(request.get_ref(), now())?;
        let row = create_staff_assignment(&self.pool, &caller, input).await?;
        Ok(Response::new(pb::CreateStaffAssignmentResponse {
            staff_assignment: Some(staff::to_proto(&row)),
        }))
    }

    async fn list_staff_assignments(
        &self,
        request: Request<pb::ListStaffAssignmentsRequest>,
    ) -> Result<Response<pb::ListStaffAssignmentsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let response = staff::list(&self.pool, caller, request.get_ref(), now()).await?;
        Ok(Response::new(response))
    }

    async fn end_staff_assignment(
        &self,
        request: Request<pb::EndStaffAssignmentRequest>,
    ) -> Result<Response<pb::EndStaffAssignmentResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let input = staff::end(request.get_ref())?;
        let row = end_staff_assignment(&self.pool, &caller, input).await?;
        Ok(Response::new(pb::EndStaffAssignmentResponse {
            staff_assignment: Some(staff::to_proto(&row)),
        }))
    }
}

/// The cell subtrees `caller` may read (see `access::cell_read_roots`).
pub(crate) async fn read_roots(
    pool: &PgPool,
    caller: &Caller,
) -> Result<Option<Vec<String>>, Status> {
    let duty_cells = if caller.has_role(civicgrid_runtime::auth::Role::GridWorker) {
        crate::store::staff::cells_of_person(pool, &caller.subject, chrono::Utc::now())
            .await
            .map_err(status::database)?
    } else {
        Vec::new()
    };
    Ok(crate::domain::access::cell_read_roots(caller, duty_cells))
}
