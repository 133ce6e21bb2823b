//! The gRPC API of the centres service: `civicgrid.centres.v1.CentresService`.
//! Handlers take the caller, parse the request (`parse`), run one command
//! in its own transaction or one read (`reads`), and convert the result.

pub mod parse;
pub mod reads;

use civicgrid_cell_tree::KnownCells;
use civicgrid_proto::centres::v1 as pb;
use civicgrid_proto::centres::v1::centres_service_server::CentresService;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::cancel_booking::cancel_booking;
use crate::commands::create_booking::create_booking;
use crate::commands::create_centre::create_centre;
use crate::commands::update_centre::update_centre;
use crate::commands::update_standard::update_standard;
use crate::convert::{booking_proto, centre_proto, standard_proto};

/// Implements `civicgrid.centres.v1.CentresService`.
pub struct CentresApi {
    pool: PgPool,
    known_cells: KnownCells,
}

impl CentresApi {
    /// The API over the service's database.
    pub fn new(pool: PgPool) -> Self {
        CentresApi {
            known_cells: KnownCells::new(pool.clone()),
            pool,
        }
    }
}

#[tonic::async_trait]
impl CentresService for CentresApi {
    civicgrid_cell_tree::list_known_cells!(civicgrid_proto::centres::v1, known_cells);

    async fn create_centre(
        &self,
        request: Request<pb::CreateCentreRequest>,
    ) -> Result<Response<pb::CreateCentreResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse::create_centre(request.get_ref())?;
        let centre = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_centre(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateCentreResponse {
            centre: Some(centre_proto(&centre)),
        }))
    }

    async fn get_centre(
        &self,
        request: Request<pb::GetCentreRequest>,
    ) -> Result<Response<pb::GetCentreResponse>, Status> {
        let caller = Caller::of(&request)?;
        let centre = reads::get_centre(&self.pool, caller, &request.get_ref().name).await?;
        Ok(Response::new(pb::GetCentreResponse {
            centre: Some(centre_proto(&centre)),
        }))
    }

    async fn list_centres(
        &self,
        request: Request<pb::ListCentresRequest>,
    ) -> Result<Response<pb::ListCentresResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            reads::list_centres(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn update_centre(
        &self,
        request: Request<pb::UpdateCentreRequest>,
    ) -> Result<Response<pb::UpdateCentreResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse::update_centre(request.get_ref())?;
        let centre = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(update_centre(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::UpdateCentreResponse {
            centre: Some(centre_proto(&centre)),
        }))
    }

    async fn list_standards(
        &self,
        request: Request<pb::ListStandardsRequest>,
    ) -> Result<Response<pb::ListStandardsResponse>, Status> {
        Caller::of(&request)?;
        Ok(Response::new(reads::list_standards(&self.pool).await?))
    }

    async fn update_standard(
        &self,
        request: Request<pb::UpdateStandardRequest>,
    ) -> Result<Response<pb::UpdateStandardResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse::update_standard(request.get_ref())?;
        let standard = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(update_standard(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::UpdateStandardResponse {
            standard: Some(standard_proto(&standard)),
        }))
    }

    async fn list_centre_compliance(
        &self,
        request: Request<pb::ListCentreComplianceRequest>,
    ) -> Result<Response<pb::ListCentreComplianceResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            reads::list_compliance(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn get_coverage_report(
        &self,
        request: Request<pb::GetCoverageReportRequest>,
    ) -> Result<Response<pb::GetCoverageReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            reads::coverage(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn create_booking(
        &self,
        request: Request<pb::CreateBookingRequest>,
    ) -> Result<Response<pb::CreateBookingResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse::create_booking(request.get_ref())?;
        let booking = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_booking(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateBookingResponse {
            booking: Some(booking_proto(&booking)),
        }))
    }

    async fn cancel_booking(
        &self,
        request: Request<pb::CancelBookingRequest>,
    ) -> Result<Response<pb::CancelBookingResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (centre, id) = parse::booking_name(&request.get_ref().name, "name")?;
        let booking = transact(&self.pool, &(caller, centre), |tx, (caller, centre)| {
            Box::pin(cancel_booking(tx, caller, centre.clone(), id))
        })
        .await?;
        Ok(Response::new(pb::CancelBookingResponse {
            booking: Some(booking_proto(&booking)),
        }))
    }
}
