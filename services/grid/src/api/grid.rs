//! `civicgrid.grid.v1.GridService`: cells, compounds, layouts and staff assignments.

use civicgrid_cell_tree::{ListRequest, list_page, visible};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::grid_service_server::GridService;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::status;
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use super::cells::{self, read_roots};
use super::{compounds, layout, staff};
use crate::commands::create_cell::create_cell;
use crate::commands::create_compound::create_compound;
use crate::commands::create_staff_assignment::create_staff_assignment;
use crate::commands::end_staff_assignment::end_staff_assignment;
use crate::commands::import_cells::import_cells;
use crate::commands::now;
use crate::commands::update_cell::update_cell;
use crate::commands::update_compound::update_compound;

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
        let caller = Caller::of(&request)?;
        let input = cells::parse::create_cell(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_cell(tx, caller, input.clone()))
        })
        .await?;
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
        let id = cells::parse::cell_name(name, "name")?;
        let roots = read_roots(&self.pool, caller)
            .await
            .map_err(status::database)?;
        let row = civicgrid_cell_tree::get(&self.pool, id.as_str())
            .await
            .map_err(status::database)?
            // Outside the caller's scope is indistinguishable from absent.
            .filter(|row| visible(row, roots.as_deref()))
            .ok_or_else(|| UseCaseError::NotFound(name.clone()))?;
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
        let roots = read_roots(&self.pool, caller)
            .await
            .map_err(status::database)?;
        let (cells, next_page_token) = list_page(&self.pool, roots, list).await?;
        Ok(Response::new(pb::ListCellsResponse {
            cells,
            next_page_token,
        }))
    }

    async fn update_cell(
        &self,
        request: Request<pb::UpdateCellRequest>,
    ) -> Result<Response<pb::UpdateCellResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = cells::parse::update_cell(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(update_cell(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::UpdateCellResponse {
            cell: Some(row.to_proto()),
        }))
    }

    async fn import_cells(
        &self,
        request: Request<pb::ImportCellsRequest>,
    ) -> Result<Response<pb::ImportCellsResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let input = layout::parse::import_cells(request.into_inner())?;
        let imported = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(import_cells(tx, caller, input))
        })
        .await?;
        Ok(Response::new(pb::ImportCellsResponse {
            // At most MAX_ROWS (20,000) cells: always fits.
            created_count: i32::try_from(imported.created).unwrap_or(i32::MAX),
            created_compound_count: i32::try_from(imported.compounds_created).unwrap_or(i32::MAX),
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
        let caller = Caller::of(&request)?;
        let input = staff::parse::create(request.get_ref(), now())?;
        let assignment = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_staff_assignment(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateStaffAssignmentResponse {
            staff_assignment: Some(staff::convert::assignment(&assignment)),
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
        let caller = Caller::of(&request)?;
        let input = staff::parse::end(request.get_ref())?;
        let assignment = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(end_staff_assignment(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::EndStaffAssignmentResponse {
            staff_assignment: Some(staff::convert::assignment(&assignment)),
        }))
    }

    async fn create_compound(
        &self,
        request: Request<pb::CreateCompoundRequest>,
    ) -> Result<Response<pb::CreateCompoundResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = compounds::parse::create_compound(request.get_ref(), now())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_compound(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateCompoundResponse {
            compound: Some(row.to_proto()),
        }))
    }

    async fn get_compound(
        &self,
        request: Request<pb::GetCompoundRequest>,
    ) -> Result<Response<pb::GetCompoundResponse>, Status> {
        let caller = Caller::of(&request)?;
        let row = compounds::get(&self.pool, caller, &request.get_ref().name).await?;
        Ok(Response::new(pb::GetCompoundResponse {
            compound: Some(row.to_proto()),
        }))
    }

    async fn list_compounds(
        &self,
        request: Request<pb::ListCompoundsRequest>,
    ) -> Result<Response<pb::ListCompoundsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let response = compounds::list(&self.pool, caller, request.get_ref()).await?;
        Ok(Response::new(response))
    }

    async fn update_compound(
        &self,
        request: Request<pb::UpdateCompoundRequest>,
    ) -> Result<Response<pb::UpdateCompoundResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = compounds::parse::update_compound(request.get_ref(), now())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(update_compound(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::UpdateCompoundResponse {
            compound: Some(row.to_proto()),
        }))
    }
}
