//! The points ledger: AwardPoints parsed and checked here, balances read here.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;

use crate::api::members;
use crate::commands::award_points::AwardPoints;
use crate::commands::now;
use crate::convert::to_timestamp;
use crate::domain::access::may_edit;
use crate::domain::points::{RULES, rule};
use crate::store::points::{self, EntryRow};

/// The `PointsEntry` of `row`.
pub fn entry(row: &EntryRow) -> pb::PointsEntry {
    pb::PointsEntry {
        name: format!("members/{}/points/{}", row.member_id, row.id),
        rule: row.rule.clone(),
        points: row.points,
        reason: row.reason.clone(),
        source_event_id: row.source_event_id.clone(),
        award_time: Some(to_timestamp(row.award_time)),
    }
}

/// An AwardPointsRequest into a command input, once the caller may award
/// points to a member it sees.
pub async fn parse_award(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::AwardPointsRequest,
) -> Result<AwardPoints, Status> {
    if !may_edit(caller) {
        return Err(UseCaseError::PermissionDenied(
            "your roles do not allow awarding points".to_owned(),
        )
        .into());
    }
    let mut violations = FieldViolations::new();
    let found = rule(&request.rule);
    if found.is_none() {
        let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        violations.add("rule", format!("must be one of {}", codes.join(", ")));
    }
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        violations.add("reason", "is required: 1-200 characters");
    }
    let source = request.source_event_id.trim();
    if source.is_empty() || source.len() > 200 {
        violations.add("source_event_id", "is required: 1-200 characters");
    }
    let member = members::get(pool, caller, &request.member).await;
    let (Some(rule), true) = (found, violations.is_empty()) else {
        return Err(violations.into_status());
    };
    let member = member?;
    Ok(AwardPoints {
        member: member.id,
        rule,
        reason: reason.to_owned(),
        source_event_id: source.to_owned(),
        earned_at: now(),
    })
}

/// The member's balance and newest entries.
pub async fn balance(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::GetPointsBalanceRequest,
) -> Result<pb::GetPointsBalanceResponse, Status> {
    let member = members::get(pool, caller, &request.member).await?;
    let (balance, entries) = points::balance(pool, member.id)
        .await
        .map_err(status::database)?;
    Ok(pb::GetPointsBalanceResponse {
        balance,
        entries: entries.iter().map(entry).collect(),
    })
}
