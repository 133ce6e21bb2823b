//! The gRPC API of the membership service: `MembershipService`. Handlers
//! take the caller, parse once, run one command (in `transact`) or one
//! read, and convert the result.

pub mod agreements;
pub mod conferences;
pub mod error;
pub mod members;
pub mod organisations;
pub mod points;
pub mod posts;
pub mod reports;

use civicgrid_proto::membership::v1 as pb;
use civicgrid_proto::membership::v1::membership_service_server::MembershipService;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::assign_post::assign_post;
use crate::commands::award_points::award_points;
use crate::commands::conferences as conference_commands;
use crate::commands::create_organisation::create_organisation;
use crate::commands::end_post::end_post;
use crate::commands::end_report::{Ended, end_report};
use crate::commands::fulfil_commitment::fulfil_commitment;
use crate::commands::import_members::{ImportMembers, import_members};
use crate::commands::register_member::register_member;
use crate::commands::register_report::{register_member_report, register_unit_report};
use crate::commands::sign_agreement::sign_agreement;
use crate::commands::transfer_member::transfer_member;
use crate::commands::update_member::update_member;
use crate::commands::update_organisation::update_organisation;
use crate::convert;
use crate::sealing::PersonalDataKeys;

/// Implements `civicgrid.membership.v1.MembershipService`.
pub struct MembershipApi {
    pool: PgPool,
    keys: PersonalDataKeys,
    co_building: CoBuilding,
}

/// How co-building agreements are judged (from configuration).
#[derive(Debug, Clone, Copy)]
pub struct CoBuilding {
    /// Near duplicates from this similarity on.
    pub threshold: f64,
    /// Idle after this many days without activity.
    pub idle_days: u32,
}

impl Default for CoBuilding {
    fn default() -> Self {
        let defaults = crate::config::MembershipSettings::default();
        CoBuilding {
            threshold: defaults.agreement_similarity_threshold,
            idle_days: defaults.agreement_idle_days,
        }
    }
}

impl MembershipApi {
    /// Over the service's database, sealing with `keys`.
    pub fn new(pool: PgPool, keys: PersonalDataKeys) -> MembershipApi {
        MembershipApi {
            pool,
            keys,
            co_building: CoBuilding::default(),
        }
    }

    /// Judging agreements by `co_building`.
    pub fn with_co_building(mut self, co_building: CoBuilding) -> MembershipApi {
        self.co_building = co_building;
        self
    }
}

/// Today in China (UTC+8), the calendar ID numbers' birth dates are in.
fn today() -> chrono::NaiveDate {
    let china = chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!());
    chrono::Utc::now().with_timezone(&china).date_naive()
}

#[tonic::async_trait]
impl MembershipService for MembershipApi {
    async fn list_known_cells(
        &self,
        request: Request<pb::ListKnownCellsRequest>,
    ) -> Result<Response<pb::ListKnownCellsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.get_ref();
        let list = civicgrid_cell_tree::ListRequest {
            ancestor: &body.ancestor,
            level: 0,
            page_size: body.page_size,
            page_token: &body.page_token,
        };
        let (cells, next_page_token) =
            civicgrid_cell_tree::list_page(&self.pool, caller.scope_roots("cells"), list).await?;
        Ok(Response::new(pb::ListKnownCellsResponse {
            cells,
            next_page_token,
        }))
    }

    async fn create_organisation(
        &self,
        request: Request<pb::CreateOrganisationRequest>,
    ) -> Result<Response<pb::CreateOrganisationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = organisations::parse::create_organisation(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(create_organisation(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::CreateOrganisationResponse {
            organisation: Some(convert::organisation(&row)),
        }))
    }

    async fn get_organisation(
        &self,
        request: Request<pb::GetOrganisationRequest>,
    ) -> Result<Response<pb::GetOrganisationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let row = organisations::get(&self.pool, caller, &request.get_ref().name).await?;
        Ok(Response::new(pb::GetOrganisationResponse {
            organisation: Some(convert::organisation(&row)),
        }))
    }

    async fn list_organisations(
        &self,
        request: Request<pb::ListOrganisationsRequest>,
    ) -> Result<Response<pb::ListOrganisationsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            organisations::list(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn update_organisation(
        &self,
        request: Request<pb::UpdateOrganisationRequest>,
    ) -> Result<Response<pb::UpdateOrganisationResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = organisations::parse::update_organisation(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(update_organisation(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::UpdateOrganisationResponse {
            organisation: Some(convert::organisation(&row)),
        }))
    }

    async fn get_standardisation_gaps(
        &self,
        request: Request<pb::GetStandardisationGapsRequest>,
    ) -> Result<Response<pb::GetStandardisationGapsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            organisations::gaps(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn register_member(
        &self,
        request: Request<pb::RegisterMemberRequest>,
    ) -> Result<Response<pb::RegisterMemberResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = members::parse::register_member(request.get_ref(), today())?;
        // No transaction: the command writes in one guarded statement.
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(civicgrid_runtime::status::database)?;
        let row = register_member(&mut conn, caller, &self.keys, input).await?;
        // Its statements completed: back to the pool without a ping.
        conn.settle();
        Ok(Response::new(pb::RegisterMemberResponse {
            member: Some(members::masked(&row, &self.keys)?),
        }))
    }

    async fn get_member(
        &self,
        request: Request<pb::GetMemberRequest>,
    ) -> Result<Response<pb::GetMemberResponse>, Status> {
        let caller = Caller::of(&request)?;
        let row = members::get(&self.pool, caller, &request.get_ref().name).await?;
        Ok(Response::new(pb::GetMemberResponse {
            member: Some(members::masked(&row, &self.keys)?),
        }))
    }

    async fn lookup_member(
        &self,
        request: Request<pb::LookupMemberRequest>,
    ) -> Result<Response<pb::LookupMemberResponse>, Status> {
        let caller = Caller::of(&request)?;
        let row = members::lookup(&self.pool, caller, &self.keys, request.get_ref()).await?;
        Ok(Response::new(pb::LookupMemberResponse {
            member: Some(members::masked(&row, &self.keys)?),
        }))
    }

    async fn import_members(
        &self,
        request: Request<pb::ImportMembersRequest>,
    ) -> Result<Response<pb::ImportMembersResponse>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.get_ref();
        if body.content.is_empty() {
            let mut violations = civicgrid_runtime::status::FieldViolations::new();
            violations.add("content", "is required: the CSV roll");
            return Err(violations.into_status());
        }
        let input = ImportMembers {
            content: body.content.clone(),
            validate_only: body.validate_only,
            today: today(),
        };
        let context = (caller, &self.keys, input);
        let imported = transact(&self.pool, &context, |tx, (caller, keys, input)| {
            Box::pin(import_members(tx, caller, keys, input))
        })
        .await?;
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(Response::new(pb::ImportMembersResponse {
            created_count: count(imported.created),
            valid_count: count(imported.valid),
        }))
    }

    async fn assign_post(
        &self,
        request: Request<pb::AssignPostRequest>,
    ) -> Result<Response<pb::AssignPostResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = posts::parse::assign_post(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(assign_post(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::AssignPostResponse {
            post: Some(convert::post(&row)),
        }))
    }

    async fn end_post(
        &self,
        request: Request<pb::EndPostRequest>,
    ) -> Result<Response<pb::EndPostResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = posts::parse::end_post(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(end_post(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::EndPostResponse {
            post: Some(convert::post(&row)),
        }))
    }

    async fn list_posts(
        &self,
        request: Request<pb::ListPostsRequest>,
    ) -> Result<Response<pb::ListPostsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            posts::list(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn get_red_property_report(
        &self,
        request: Request<pb::GetRedPropertyReportRequest>,
    ) -> Result<Response<pb::GetRedPropertyReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            posts::red_property_report(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn register_unit_report(
        &self,
        request: Request<pb::RegisterUnitReportRequest>,
    ) -> Result<Response<pb::RegisterUnitReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = reports::parse::register_unit_report(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(register_unit_report(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::RegisterUnitReportResponse {
            report: Some(reports::unit_report(&row)),
        }))
    }

    async fn register_member_report(
        &self,
        request: Request<pb::RegisterMemberReportRequest>,
    ) -> Result<Response<pb::RegisterMemberReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = reports::parse::register_member_report(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(register_member_report(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::RegisterMemberReportResponse {
            report: Some(reports::member_report(&row)),
        }))
    }

    async fn end_report(
        &self,
        request: Request<pb::EndReportRequest>,
    ) -> Result<Response<pb::EndReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = reports::parse::end_report(request.get_ref())?;
        let ended = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(end_report(tx, caller, input.clone()))
        })
        .await?;
        let report = match ended {
            Ended::Unit(row) => {
                pb::end_report_response::Report::UnitReport(reports::unit_report(&row))
            }
            Ended::Member(row) => {
                pb::end_report_response::Report::MemberReport(reports::member_report(&row))
            }
        };
        Ok(Response::new(pb::EndReportResponse {
            report: Some(report),
        }))
    }

    async fn get_participation(
        &self,
        request: Request<pb::GetParticipationRequest>,
    ) -> Result<Response<pb::GetParticipationResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            reports::participation(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn get_unit_feedback_card(
        &self,
        request: Request<pb::GetUnitFeedbackCardRequest>,
    ) -> Result<Response<pb::GetUnitFeedbackCardResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            reports::feedback_card(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn list_demand_offers(
        &self,
        request: Request<pb::ListDemandOffersRequest>,
    ) -> Result<Response<pb::ListDemandOffersResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            reports::demand_offers(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn sign_agreement(
        &self,
        request: Request<pb::SignAgreementRequest>,
    ) -> Result<Response<pb::SignAgreementResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input =
            agreements::parse::sign_agreement(request.get_ref(), self.co_building.threshold)?;
        let signed = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(sign_agreement(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::SignAgreementResponse {
            agreement: Some(agreements::agreement(
                &signed.agreement,
                &signed.commitments,
                &signed.near_duplicates,
            )),
        }))
    }

    async fn get_agreement(
        &self,
        request: Request<pb::GetAgreementRequest>,
    ) -> Result<Response<pb::GetAgreementResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(pb::GetAgreementResponse {
            agreement: Some(agreements::get(&self.pool, caller, &request.get_ref().name).await?),
        }))
    }

    async fn fulfil_commitment(
        &self,
        request: Request<pb::FulfilCommitmentRequest>,
    ) -> Result<Response<pb::FulfilCommitmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        let ids = agreements::parse::commitment_name(&request.get_ref().name)?;
        let row = transact(&self.pool, &(caller, ids), |tx, (caller, (a, c))| {
            Box::pin(fulfil_commitment(tx, caller, *a, *c))
        })
        .await?;
        Ok(Response::new(pb::FulfilCommitmentResponse {
            commitment: Some(agreements::commitment(&row)),
        }))
    }

    async fn get_co_building_report(
        &self,
        request: Request<pb::GetCoBuildingReportRequest>,
    ) -> Result<Response<pb::GetCoBuildingReportResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            agreements::report(
                &self.pool,
                caller,
                request.get_ref(),
                self.co_building.idle_days,
            )
            .await?,
        ))
    }

    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> Result<Response<pb::ListMembersResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            members::list(&self.pool, caller, &self.keys, request.get_ref()).await?,
        ))
    }

    async fn update_member(
        &self,
        request: Request<pb::UpdateMemberRequest>,
    ) -> Result<Response<pb::UpdateMemberResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = members::parse::update_member(request.get_ref())?;
        let context = (caller, &self.keys, input);
        let row = transact(&self.pool, &context, |tx, (caller, keys, input)| {
            Box::pin(update_member(tx, caller, keys, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::UpdateMemberResponse {
            member: Some(members::masked(&row, &self.keys)?),
        }))
    }

    async fn transfer_member(
        &self,
        request: Request<pb::TransferMemberRequest>,
    ) -> Result<Response<pb::TransferMemberResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = members::parse::transfer_member(request.get_ref())?;
        let (row, transfer) = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(transfer_member(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::TransferMemberResponse {
            member: Some(members::masked(&row, &self.keys)?),
            transfer: Some(convert::transfer(&transfer)),
        }))
    }

    async fn list_member_transfers(
        &self,
        request: Request<pb::ListMemberTransfersRequest>,
    ) -> Result<Response<pb::ListMemberTransfersResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            members::transfers(&self.pool, caller, &request.get_ref().name).await?,
        ))
    }

    async fn create_conference(
        &self,
        request: Request<pb::CreateConferenceRequest>,
    ) -> Result<Response<pb::CreateConferenceResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = conferences::parse_create(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(conference_commands::create_conference(
                tx,
                caller,
                input.clone(),
            ))
        })
        .await?;
        Ok(Response::new(pb::CreateConferenceResponse {
            conference: Some(conferences::conference(&row)),
        }))
    }

    async fn record_meeting(
        &self,
        request: Request<pb::RecordMeetingRequest>,
    ) -> Result<Response<pb::RecordMeetingResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = conferences::parse_meeting(request.get_ref())?;
        let row = transact(
            &self.pool,
            &(caller, input),
            |tx, (caller, (c, topic, at))| {
                Box::pin(conference_commands::record_meeting(
                    tx,
                    caller,
                    *c,
                    topic.clone(),
                    *at,
                ))
            },
        )
        .await?;
        Ok(Response::new(pb::RecordMeetingResponse {
            meeting: Some(conferences::meeting(&row)),
        }))
    }

    async fn raise_conference_issue(
        &self,
        request: Request<pb::RaiseConferenceIssueRequest>,
    ) -> Result<Response<pb::RaiseConferenceIssueResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = conferences::parse_raise(request.get_ref())?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(conference_commands::raise_issue(tx, caller, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::RaiseConferenceIssueResponse {
            issue: Some(conferences::issue(&row)),
        }))
    }

    async fn resolve_conference_issue(
        &self,
        request: Request<pb::ResolveConferenceIssueRequest>,
    ) -> Result<Response<pb::ResolveConferenceIssueResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = conferences::parse_resolve(request.get_ref())?;
        let row = transact(
            &self.pool,
            &(caller, input),
            |tx, (caller, (c, i, resolution))| {
                Box::pin(conference_commands::resolve_issue(
                    tx,
                    caller,
                    *c,
                    *i,
                    resolution.clone(),
                ))
            },
        )
        .await?;
        Ok(Response::new(pb::ResolveConferenceIssueResponse {
            issue: Some(conferences::issue(&row)),
        }))
    }

    async fn list_overdue_conference_issues(
        &self,
        request: Request<pb::ListOverdueConferenceIssuesRequest>,
    ) -> Result<Response<pb::ListOverdueConferenceIssuesResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            conferences::overdue(&self.pool, caller, request.get_ref()).await?,
        ))
    }

    async fn award_points(
        &self,
        request: Request<pb::AwardPointsRequest>,
    ) -> Result<Response<pb::AwardPointsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = points::parse_award(&self.pool, caller, request.get_ref()).await?;
        let row = transact(&self.pool, &(caller, input), |tx, (caller, input)| {
            Box::pin(award_points(tx, &caller.subject, input.clone()))
        })
        .await?;
        Ok(Response::new(pb::AwardPointsResponse {
            entry: row.as_ref().map(points::entry),
        }))
    }

    async fn get_points_balance(
        &self,
        request: Request<pb::GetPointsBalanceRequest>,
    ) -> Result<Response<pb::GetPointsBalanceResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            points::balance(&self.pool, caller, request.get_ref()).await?,
        ))
    }
}
