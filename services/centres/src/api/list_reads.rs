//! Reads of the demand and resource lists and the match proposals, within
//! the caller's scope.

use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use crate::convert::{demand_proto, resource_proto};
use crate::domain::matching::propose;
use crate::store::lists;

/// Most open demands (and idle resources) one proposal run reads.
const PROPOSAL_INPUT: i64 = 5_000;

fn scope_patterns(caller: &Caller) -> Option<Vec<String>> {
    caller
        .scope_roots("cells")
        .map(|roots| roots.iter().map(|r| format!("%/{r}/%")).collect())
}

fn after(token: &str, fingerprint: &str, violations: &mut FieldViolations) -> Option<Uuid> {
    let text = paging::decode(token, fingerprint, violations)?;
    let parsed = Uuid::parse_str(&text).ok();
    if parsed.is_none() {
        violations.add("page_token", "is not a token of this list");
    }
    parsed
}

/// One page of demands, oldest first.
pub async fn list_demands(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListDemandsRequest,
) -> Result<pb::ListDemandsResponse, Status> {
    let mut violations = FieldViolations::new();
    let size = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!("unmatched_only={}", request.unmatched_only);
    let after = after(&request.page_token, &fingerprint, &mut violations);
    violations.check(())?;
    let scope = scope_patterns(caller);
    let rows = lists::demands(
        pool,
        scope.as_deref(),
        request.unmatched_only,
        after,
        paging::limit(size),
    )
    .await
    .map_err(status::database)?;
    let (rows, next_page_token) = paging::paged(rows, size, &fingerprint, |d| d.id.to_string());
    Ok(pb::ListDemandsResponse {
        demands: rows.iter().map(demand_proto).collect(),
        next_page_token,
    })
}

/// One page of resources, oldest first.
pub async fn list_resources(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListResourcesRequest,
) -> Result<pb::ListResourcesResponse, Status> {
    let mut violations = FieldViolations::new();
    let size = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!("idle_only={}", request.idle_only);
    let after = after(&request.page_token, &fingerprint, &mut violations);
    violations.check(())?;
    let scope = scope_patterns(caller);
    let rows = lists::resources(
        pool,
        scope.as_deref(),
        request.idle_only,
        after,
        paging::limit(size),
    )
    .await
    .map_err(status::database)?;
    let (rows, next_page_token) = paging::paged(rows, size, &fingerprint, |r| r.id.to_string());
    Ok(pb::ListResourcesResponse {
        resources: rows.iter().map(resource_proto).collect(),
        next_page_token,
    })
}

/// The best proposals among the open demands and idle resources in scope,
/// read in one snapshot.
pub async fn list_proposals(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListMatchProposalsRequest,
) -> Result<pb::ListMatchProposalsResponse, Status> {
    let mut violations = FieldViolations::new();
    let size = paging::page_size(request.page_size, &mut violations);
    violations.check(())?;
    let scope = scope_patterns(caller);
    let mut tx = pool.begin().await.map_err(status::database)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(status::database)?;
    let demands = lists::demands(&mut *tx, scope.as_deref(), true, None, PROPOSAL_INPUT)
        .await
        .map_err(status::database)?;
    let resources = lists::resources(&mut *tx, scope.as_deref(), true, None, PROPOSAL_INPUT)
        .await
        .map_err(status::database)?;
    tx.commit().await.map_err(status::database)?;
    let open: Vec<_> = demands.iter().map(|d| d.to_open()).collect();
    let idle: Vec<_> = resources.iter().map(|r| r.to_idle()).collect();
    Ok(pb::ListMatchProposalsResponse {
        proposals: propose(&open, &idle)
            .into_iter()
            .take(size)
            .map(|p| pb::MatchProposal {
                rank: i32::try_from(p.rank).unwrap_or(i32::MAX),
                demand: format!("demands/{}", p.demand),
                resource: format!("resources/{}", p.resource),
                reasons: p.reasons,
            })
            .collect(),
    })
}
