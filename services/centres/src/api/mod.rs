//! The gRPC API of the centres service: `civicgrid.centres.v1.CentresService`.
//! Handlers take the caller, parse the request (`parse`), run one command
//! in its own transaction or one read (`reads`), and convert the result.

pub mod activity_reads;
pub mod catalogue_reads;
pub mod list_reads;
pub mod parse;
pub mod parse_activities;
pub mod parse_catalogue;
pub mod parse_lists;
pub mod reads;

use civicgrid_cell_tree::KnownCells;
use civicgrid_proto::centres::v1 as pb;
use civicgrid_proto::centres::v1::centres_service_server::CentresService;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::accept_offer::accept_offer;
use crate::commands::accept_slot_offer::accept_slot_offer;
use crate::commands::cancel_activity::cancel_activity;
use crate::commands::cancel_booking::cancel_booking;
use crate::commands::cancel_registration::cancel_registration;
use crate::commands::cancel_slot_booking::cancel_slot_booking;
use crate::commands::claim_match::claim_match;
use crate::commands::close_activity::close_activity;
use crate::commands::complete_project::{complete_project, record_milestone};
use crate::commands::create_activity::create_activity;
use crate::commands::create_booking::create_booking;
use crate::commands::create_centre::create_centre;
use crate::commands::create_centre_service::create_centre_service;
use crate::commands::create_demand::create_demand;
use crate::commands::create_registration::create_registration;
use crate::commands::create_resource::create_resource;
use crate::commands::create_service_slot::create_service_slot;
use crate::commands::create_slot_booking::create_slot_booking;
use crate::commands::record_checkin::record_checkin;
use crate::commands::set_compound_coordinates::set_compound_coordinates;
use crate::commands::update_centre::update_centre;
use crate::commands::update_standard::update_standard;
use crate::convert::{
    activity_proto, booking_proto, centre_proto, checkin_proto, demand_proto, geo_point_proto,
    project_proto, registration_proto, resource_proto, service_proto, slot_booking_proto,
    slot_proto, standard_proto,
};

/// Implements `civicgrid.centres.v1.CentresService`.
pub struct CentresApi {
    pool: PgPool,
    known_cells: KnownCells,
    offer_ttl: chrono::Duration,
    walking_radius_metres: f64,
}

impl CentresApi {
    /// The API over the service's database; a place freed in an activity
    /// is offered to the next in line for `offer_ttl`; a community centre
    /// covers its compounds within `walking_radius_metres`.
    pub fn new(pool: PgPool, offer_ttl: chrono::Duration, walking_radius_metres: f64) -> Self {
        CentresApi {
            known_cells: KnownCells::new(pool.clone()),
            pool,
            offer_ttl,
            walking_radius_metres,
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
        let radius = self.walking_radius_metres;
        let centre = transact(&self.pool, &(caller, input), move |tx, (caller, input)| {
            Box::pin(create_centre(tx, caller, input.clone(), radius))
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
        let radius = self.walking_radius_metres;
        let centre = transact(&self.pool, &(caller, input), move |tx, (caller, input)| {
            Box::pin(update_centre(tx, caller, input.clone(), radius))
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
            reads::coverage(
                &self.pool,
                caller,
                request.get_ref(),
                self.walking_radius_metres,
            )
            .await?,
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

    async fn create_activity(
        &self,
        request: Request<pb::CreateActivityRequest>,
    ) -> Result<Response<pb::CreateActivityResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse_activities::create_activity(request.get_ref())?;
        let activity = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_activity(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateActivityResponse {
            activity: Some(activity_proto(&activity)),
        }))
    }

    async fn get_activity(
        &self,
        request: Request<pb::GetActivityRequest>,
    ) -> Result<Response<pb::GetActivityResponse>, Status> {
        let caller = Caller::of(&request)?;
        let activity =
            activity_reads::get_activity(&self.pool, caller, &request.get_ref().name).await?;
        Ok(Response::new(pb::GetActivityResponse {
            activity: Some(activity_proto(&activity)),
        }))
    }

    async fn cancel_activity(
        &self,
        request: Request<pb::CancelActivityRequest>,
    ) -> Result<Response<pb::CancelActivityResponse>, Status> {
        let caller = Caller::of(&request)?;
        let id = parse_activities::activity_name(&request.get_ref().name, "name")?;
        let activity = transact(&self.pool, &(caller, id), |tx, &(caller, id)| {
            Box::pin(cancel_activity(tx, caller, id))
        })
        .await?;
        Ok(Response::new(pb::CancelActivityResponse {
            activity: Some(activity_proto(&activity)),
        }))
    }

    async fn close_activity(
        &self,
        request: Request<pb::CloseActivityRequest>,
    ) -> Result<Response<pb::CloseActivityResponse>, Status> {
        let caller = Caller::of(&request)?;
        let id = parse_activities::activity_name(&request.get_ref().name, "name")?;
        let (activity, attendance) = transact(&self.pool, &(caller, id), |tx, &(caller, id)| {
            Box::pin(close_activity(tx, caller, id))
        })
        .await?;
        Ok(Response::new(pb::CloseActivityResponse {
            activity: Some(activity_proto(&activity)),
            no_shows: attendance.no_shows,
        }))
    }

    async fn create_registration(
        &self,
        request: Request<pb::CreateRegistrationRequest>,
    ) -> Result<Response<pb::CreateRegistrationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (activity, attendee) = parse_activities::create_registration(request.get_ref())?;
        let registration = transact(
            &self.pool,
            &(caller, activity, attendee),
            |tx, (caller, activity, attendee)| {
                Box::pin(create_registration(tx, caller, *activity, attendee.clone()))
            },
        )
        .await?;
        Ok(Response::new(pb::CreateRegistrationResponse {
            registration: Some(registration_proto(&registration)),
        }))
    }

    async fn list_registrations(
        &self,
        request: Request<pb::ListRegistrationsRequest>,
    ) -> Result<Response<pb::ListRegistrationsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            activity_reads::list_registrations(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn cancel_registration(
        &self,
        request: Request<pb::CancelRegistrationRequest>,
    ) -> Result<Response<pb::CancelRegistrationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (activity, id) = parse_activities::registration_name(&request.get_ref().name, "name")?;
        let registration = transact(
            &self.pool,
            &(caller, activity, id, self.offer_ttl),
            |tx, &(caller, activity, id, ttl)| {
                Box::pin(cancel_registration(tx, caller, activity, id, ttl))
            },
        )
        .await?;
        Ok(Response::new(pb::CancelRegistrationResponse {
            registration: Some(registration_proto(&registration)),
        }))
    }

    async fn accept_registration_offer(
        &self,
        request: Request<pb::AcceptRegistrationOfferRequest>,
    ) -> Result<Response<pb::AcceptRegistrationOfferResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (activity, id) = parse_activities::registration_name(&request.get_ref().name, "name")?;
        let registration = transact(
            &self.pool,
            &(caller, activity, id),
            |tx, &(caller, activity, id)| Box::pin(accept_offer(tx, caller, activity, id)),
        )
        .await?;
        Ok(Response::new(pb::AcceptRegistrationOfferResponse {
            registration: Some(registration_proto(&registration)),
        }))
    }

    async fn record_checkin(
        &self,
        request: Request<pb::RecordCheckinRequest>,
    ) -> Result<Response<pb::RecordCheckinResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse_activities::record_checkin(request.get_ref())?;
        let checkin = transact(
            &self.pool,
            &(caller, input),
            |tx, (caller, (activity, attendee, walk_in))| {
                Box::pin(record_checkin(
                    tx,
                    caller,
                    *activity,
                    attendee.clone(),
                    *walk_in,
                ))
            },
        )
        .await?;
        Ok(Response::new(pb::RecordCheckinResponse {
            checkin: Some(checkin_proto(&checkin)),
        }))
    }

    async fn list_bookings(
        &self,
        request: Request<pb::ListBookingsRequest>,
    ) -> Result<Response<pb::ListBookingsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            catalogue_reads::list_bookings(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn create_centre_service(
        &self,
        request: Request<pb::CreateCentreServiceRequest>,
    ) -> Result<Response<pb::CreateCentreServiceResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse_catalogue::create_centre_service(request.get_ref())?;
        let service = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_centre_service(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateCentreServiceResponse {
            service: Some(service_proto(&service)),
        }))
    }

    async fn list_centre_services(
        &self,
        request: Request<pb::ListCentreServicesRequest>,
    ) -> Result<Response<pb::ListCentreServicesResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            catalogue_reads::list_services(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn create_service_slot(
        &self,
        request: Request<pb::CreateServiceSlotRequest>,
    ) -> Result<Response<pb::CreateServiceSlotResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse_catalogue::create_service_slot(request.get_ref())?;
        let slot = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_service_slot(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateServiceSlotResponse {
            slot: Some(slot_proto(&slot)),
        }))
    }

    async fn create_slot_booking(
        &self,
        request: Request<pb::CreateSlotBookingRequest>,
    ) -> Result<Response<pb::CreateSlotBookingResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse_catalogue::create_slot_booking(request.get_ref())?;
        let (booking, slot) = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_slot_booking(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateSlotBookingResponse {
            booking: Some(slot_booking_proto(&slot, &booking)),
        }))
    }

    async fn cancel_slot_booking(
        &self,
        request: Request<pb::CancelSlotBookingRequest>,
    ) -> Result<Response<pb::CancelSlotBookingResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (slot, id) = parse_catalogue::slot_booking_name(&request.get_ref().name, "name")?;
        let (booking, slot) = transact(
            &self.pool,
            &(caller, slot, self.offer_ttl),
            |tx, (caller, slot, ttl)| {
                Box::pin(cancel_slot_booking(tx, caller, slot.clone(), id, *ttl))
            },
        )
        .await?;
        Ok(Response::new(pb::CancelSlotBookingResponse {
            booking: Some(slot_booking_proto(&slot, &booking)),
        }))
    }

    async fn create_demand(
        &self,
        request: Request<pb::CreateDemandRequest>,
    ) -> Result<Response<pb::CreateDemandResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse_lists::create_demand(request.get_ref())?;
        let demand = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_demand(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateDemandResponse {
            demand: Some(demand_proto(&demand)),
        }))
    }

    async fn list_demands(
        &self,
        request: Request<pb::ListDemandsRequest>,
    ) -> Result<Response<pb::ListDemandsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            list_reads::list_demands(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn create_resource(
        &self,
        request: Request<pb::CreateResourceRequest>,
    ) -> Result<Response<pb::CreateResourceResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse_lists::create_resource(request.get_ref())?;
        let resource = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_resource(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateResourceResponse {
            resource: Some(resource_proto(&resource)),
        }))
    }

    async fn list_resources(
        &self,
        request: Request<pb::ListResourcesRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            list_reads::list_resources(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn list_match_proposals(
        &self,
        request: Request<pb::ListMatchProposalsRequest>,
    ) -> Result<Response<pb::ListMatchProposalsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            list_reads::list_proposals(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn claim_match(
        &self,
        request: Request<pb::ClaimMatchRequest>,
    ) -> Result<Response<pb::ClaimMatchResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (demand, resource) = parse_lists::claim_match(request.get_ref())?;
        let project = transact(
            &self.pool,
            &(caller, demand, resource),
            |tx, &(caller, demand, resource)| Box::pin(claim_match(tx, caller, demand, resource)),
        )
        .await?;
        Ok(Response::new(pb::ClaimMatchResponse {
            project: Some(project_proto(&project)),
        }))
    }

    async fn record_project_milestone(
        &self,
        request: Request<pb::RecordProjectMilestoneRequest>,
    ) -> Result<Response<pb::RecordProjectMilestoneResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse_lists::record_milestone(request.get_ref())?;
        let project = transact(&self.pool, &(caller, input), |tx, (caller, (id, title))| {
            Box::pin(record_milestone(tx, caller, *id, title.clone()))
        })
        .await?;
        Ok(Response::new(pb::RecordProjectMilestoneResponse {
            project: Some(project_proto(&project)),
        }))
    }

    async fn complete_project(
        &self,
        request: Request<pb::CompleteProjectRequest>,
    ) -> Result<Response<pb::CompleteProjectResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (id, rating) = parse_lists::complete_project(request.get_ref())?;
        let project = transact(
            &self.pool,
            &(caller, id, rating),
            |tx, &(caller, id, rating)| Box::pin(complete_project(tx, caller, id, rating)),
        )
        .await?;
        Ok(Response::new(pb::CompleteProjectResponse {
            project: Some(project_proto(&project)),
        }))
    }

    async fn set_compound_coordinates(
        &self,
        request: Request<pb::SetCompoundCoordinatesRequest>,
    ) -> Result<Response<pb::SetCompoundCoordinatesResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse::compound_coordinates(request.get_ref())?;
        let radius = self.walking_radius_metres;
        let point = transact(
            &self.pool,
            &(caller, input),
            move |tx, (caller, (id, point))| {
                Box::pin(set_compound_coordinates(
                    tx,
                    caller,
                    id.clone(),
                    *point,
                    radius,
                ))
            },
        )
        .await?;
        Ok(Response::new(pb::SetCompoundCoordinatesResponse {
            compound: request.get_ref().compound.clone(),
            coordinates: Some(geo_point_proto(point)),
        }))
    }

    async fn accept_slot_offer(
        &self,
        request: Request<pb::AcceptSlotOfferRequest>,
    ) -> Result<Response<pb::AcceptSlotOfferResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (slot, id) = parse_catalogue::slot_booking_name(&request.get_ref().name, "name")?;
        let (booking, slot) = transact(&self.pool, &(caller, slot), |tx, (caller, slot)| {
            Box::pin(accept_slot_offer(tx, caller, slot.clone(), id))
        })
        .await?;
        Ok(Response::new(pb::AcceptSlotOfferResponse {
            booking: Some(slot_booking_proto(&slot, &booking)),
        }))
    }
}
