//! The gRPC API of the assessment service.

mod burden;
pub mod convert;
pub mod parse;
mod ratings;
mod schemes;
mod sites;

use civicgrid_cell_tree::{ListRequest, list_page};
use civicgrid_proto::assessment::v1 as pb;
use civicgrid_proto::assessment::v1::assessment_service_server::AssessmentService;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations, field_violations};
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::rebuild_metrics::rebuild_metrics;
use crate::domain::period::Period;
use crate::store::metrics::{self, Subjects};
use parse::Owner;

/// Implements `civicgrid.assessment.v1.AssessmentService`.
pub struct AssessmentApi {
    pub(crate) pool: PgPool,
}

impl AssessmentApi {
    /// The API over the service's database.
    pub fn new(pool: PgPool) -> AssessmentApi {
        AssessmentApi { pool }
    }

    /// The path of cell `id` if the caller sees it; NOT_FOUND otherwise
    /// (unknown and foreign cells look alike).
    pub(crate) async fn visible_cell_path(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<String, Status> {
        let row = civicgrid_cell_tree::get(&self.pool, id)
            .await
            .map_err(status::database)?
            .filter(|row| civicgrid_cell_tree::visible(row, caller.scope_roots("cells").as_deref()))
            .ok_or_else(|| UseCaseError::NotFound(format!("cell `cells/{id}`")))?;
        Ok(row.path)
    }

    async fn cell_values(
        &self,
        id: &str,
        path: &str,
        period: Period,
        rolled_up: bool,
    ) -> Result<std::collections::HashMap<String, i64>, Status> {
        if rolled_up {
            metrics::values_under(&self.pool, path, period).await
        } else {
            metrics::values_of(&self.pool, &format!("cells/{id}"), period).await
        }
        .map_err(status::database)
    }
}

/// Whether `caller` may read department `id`'s metrics: the whole county,
/// or that department's operators.
fn may_read_department(caller: &Caller, id: &str) -> Result<(), Status> {
    let own = caller.has_role(Role::DepartmentOperator)
        && caller
            .department
            .as_deref()
            .is_some_and(|d| d == id || d.strip_prefix("departments/") == Some(id));
    if caller.sees_everything() || own {
        Ok(())
    } else {
        Err(UseCaseError::PermissionDenied(format!(
            "only the county or departments/{id} itself may read its metrics"
        ))
        .into())
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

    async fn get_cell_metrics(
        &self,
        request: Request<pb::GetCellMetricsRequest>,
    ) -> Result<Response<pb::GetCellMetricsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (id, period) = parse::get_cell_metrics(&request.get_ref().name)?;
        let rolled_up = request.get_ref().rolled_up;
        let path = self.visible_cell_path(caller, &id).await?;
        let values = self.cell_values(&id, &path, period, rolled_up).await?;
        Ok(Response::new(pb::GetCellMetricsResponse {
            metrics: Some(convert::cell_metrics(&id, period, rolled_up, &values)),
        }))
    }

    async fn list_cell_metrics(
        &self,
        request: Request<pb::ListCellMetricsRequest>,
    ) -> Result<Response<pb::ListCellMetricsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.get_ref();
        let mut violations = FieldViolations::new();
        let period = parse::period(&body.period, "period", &mut violations);
        let list = ListRequest {
            ancestor: &body.ancestor,
            level: body.level,
            page_size: body.page_size,
            page_token: &body.page_token,
        };
        // The cell list validates its own fields; its violations join ours.
        let listed = list_page(&self.pool, caller.scope_roots("cells"), list).await;
        let (cells, next_page_token) = match listed {
            Err(error) if error.code() == tonic::Code::InvalidArgument => {
                for (field, description) in field_violations(&error) {
                    violations.add(field, description);
                }
                violations.check(())?;
                return Err(error);
            }
            other => {
                violations.check(())?;
                other?
            }
        };
        let period = period.ok_or_else(|| FieldViolations::new().into_status())?;
        let mut out = Vec::with_capacity(cells.len());
        for cell in cells {
            let Some(id) = civicgrid_cell_tree::parse_name(&cell.name) else {
                continue;
            };
            let path = civicgrid_cell_tree::get(&self.pool, id)
                .await
                .map_err(status::database)?
                .map(|row| row.path)
                .ok_or_else(|| UseCaseError::NotFound(cell.name.clone()))?;
            let values = self.cell_values(id, &path, period, body.rolled_up).await?;
            out.push(convert::cell_metrics(id, period, body.rolled_up, &values));
        }
        Ok(Response::new(pb::ListCellMetricsResponse {
            metrics: out,
            next_page_token,
        }))
    }

    async fn get_department_metrics(
        &self,
        request: Request<pb::GetDepartmentMetricsRequest>,
    ) -> Result<Response<pb::GetDepartmentMetricsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (id, period) = parse::get_department_metrics(&request.get_ref().name)?;
        may_read_department(caller, &id)?;
        let values = metrics::values_of(&self.pool, &format!("departments/{id}"), period)
            .await
            .map_err(status::database)?;
        Ok(Response::new(pb::GetDepartmentMetricsResponse {
            metrics: Some(convert::department_metrics(&id, period, &values)),
        }))
    }

    async fn explain_metric(
        &self,
        request: Request<pb::ExplainMetricRequest>,
    ) -> Result<Response<pb::ExplainMetricResponse>, Status> {
        let caller = Caller::of(&request)?;
        let explain = parse::explain_metric(request.get_ref())?;
        let subjects = match &explain.name.owner {
            Owner::Cell(id) => {
                let path = self.visible_cell_path(caller, id).await?;
                if explain.rolled_up {
                    Subjects::Under(path)
                } else {
                    Subjects::One(explain.name.owner.subject())
                }
            }
            Owner::Department(id) => {
                may_read_department(caller, id)?;
                Subjects::One(explain.name.owner.subject())
            }
        };
        let rows = metrics::evidence(
            &self.pool,
            &subjects,
            explain.name.period,
            explain.metric,
            explain.after,
            paging::limit(explain.size),
        )
        .await
        .map_err(status::database)?;
        let (rows, next_page_token) =
            paging::paged(rows, explain.size, &explain.fingerprint, |row| {
                row.event_id.to_string()
            });
        Ok(Response::new(pb::ExplainMetricResponse {
            evidence: rows.iter().map(convert::evidence).collect(),
            next_page_token,
        }))
    }

    async fn rebuild_metrics(
        &self,
        request: Request<pb::RebuildMetricsRequest>,
    ) -> Result<Response<pb::RebuildMetricsResponse>, Status> {
        let caller = Caller::of(&request)?;
        if !(caller.has_role(Role::CountyAdmin) && caller.sees_everything()) {
            return Err(UseCaseError::PermissionDenied(
                "only a county administrator may rebuild the metrics".to_owned(),
            )
            .into());
        }
        let rebuilt = transact(&self.pool, &(), |tx, ()| Box::pin(rebuild_metrics(tx))).await?;
        Ok(Response::new(pb::RebuildMetricsResponse {
            events: rebuilt.events,
            tasks: rebuilt.tasks,
        }))
    }

    async fn create_scheme_version(
        &self,
        request: Request<pb::CreateSchemeVersionRequest>,
    ) -> Result<Response<pb::CreateSchemeVersionResponse>, Status> {
        schemes::create(&self.pool, request).await
    }

    async fn publish_scheme_version(
        &self,
        request: Request<pb::PublishSchemeVersionRequest>,
    ) -> Result<Response<pb::PublishSchemeVersionResponse>, Status> {
        schemes::publish(&self.pool, request).await
    }

    async fn get_scheme_version(
        &self,
        request: Request<pb::GetSchemeVersionRequest>,
    ) -> Result<Response<pb::GetSchemeVersionResponse>, Status> {
        schemes::get(&self.pool, request).await
    }

    async fn list_scheme_versions(
        &self,
        request: Request<pb::ListSchemeVersionsRequest>,
    ) -> Result<Response<pb::ListSchemeVersionsResponse>, Status> {
        schemes::list(&self.pool, request).await
    }

    async fn publish_scores(
        &self,
        request: Request<pb::PublishScoresRequest>,
    ) -> Result<Response<pb::PublishScoresResponse>, Status> {
        schemes::publish_ranking(&self.pool, request).await
    }

    async fn get_ranking(
        &self,
        request: Request<pb::GetRankingRequest>,
    ) -> Result<Response<pb::GetRankingResponse>, Status> {
        schemes::get_ranking(&self.pool, request).await
    }

    async fn export_ranking(
        &self,
        request: Request<pb::ExportRankingRequest>,
    ) -> Result<Response<pb::ExportRankingResponse>, Status> {
        schemes::export_ranking(&self.pool, request).await
    }

    async fn create_department_rating(
        &self,
        request: Request<pb::CreateDepartmentRatingRequest>,
    ) -> Result<Response<pb::CreateDepartmentRatingResponse>, Status> {
        ratings::create(&self.pool, request).await
    }

    async fn create_whitelist_item(
        &self,
        request: Request<pb::CreateWhitelistItemRequest>,
    ) -> Result<Response<pb::CreateWhitelistItemResponse>, Status> {
        burden::create_item(&self.pool, request).await
    }

    async fn create_work_request(
        &self,
        request: Request<pb::CreateWorkRequestRequest>,
    ) -> Result<Response<pb::CreateWorkRequestResponse>, Status> {
        burden::create_request(&self.pool, request).await
    }

    async fn set_campaign_quota(
        &self,
        request: Request<pb::SetCampaignQuotaRequest>,
    ) -> Result<Response<pb::SetCampaignQuotaResponse>, Status> {
        burden::set_quota(&self.pool, request).await
    }

    async fn create_campaign(
        &self,
        request: Request<pb::CreateCampaignRequest>,
    ) -> Result<Response<pb::CreateCampaignResponse>, Status> {
        burden::create_campaign_rpc(&self.pool, request).await
    }

    async fn create_demonstration_site(
        &self,
        request: Request<pb::CreateDemonstrationSiteRequest>,
    ) -> Result<Response<pb::CreateDemonstrationSiteResponse>, Status> {
        sites::create(&self.pool, request).await
    }

    async fn advance_demonstration_site(
        &self,
        request: Request<pb::AdvanceDemonstrationSiteRequest>,
    ) -> Result<Response<pb::AdvanceDemonstrationSiteResponse>, Status> {
        sites::advance(&self.pool, request).await
    }

    async fn evaluate_demonstration_site(
        &self,
        request: Request<pb::EvaluateDemonstrationSiteRequest>,
    ) -> Result<Response<pb::EvaluateDemonstrationSiteResponse>, Status> {
        sites::evaluate(&self.pool, request).await
    }

    async fn get_burden_report(
        &self,
        request: Request<pb::GetBurdenReportRequest>,
    ) -> Result<Response<pb::GetBurdenReportResponse>, Status> {
        burden::report(self, request).await
    }
}
