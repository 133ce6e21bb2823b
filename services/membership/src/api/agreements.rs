//! Agreement reads: GetAgreement and the co-building report.

pub mod parse;

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::status;
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use crate::api::organisations::within_path;
use crate::commands::now;
use crate::convert::to_timestamp;
use crate::domain::access::may_read_organisations;
use crate::domain::organisation::{organisation_name, visible};
use crate::store::agreements::{self, AgreementRow, CommitmentRow};

/// Who reads agreements: those who read organisations.
pub fn check_reader(caller: &Caller) -> Result<(), Status> {
    if may_read_organisations(caller) {
        Ok(())
    } else {
        Err(
            UseCaseError::PermissionDenied("your roles do not allow reading agreements".to_owned())
                .into(),
        )
    }
}

/// The `Commitment` of `row`.
pub fn commitment(row: &CommitmentRow) -> pb::Commitment {
    pb::Commitment {
        name: format!("agreements/{}/commitments/{}", row.agreement_id, row.id),
        description: row.description.clone(),
        owner: organisation_name(&row.owner_id),
        due_time: Some(to_timestamp(row.due_time)),
        status: if row.fulfil_time.is_some() {
            pb::CommitmentStatus::Fulfilled as i32
        } else {
            pb::CommitmentStatus::Open as i32
        },
        fulfil_time: row.fulfil_time.map(to_timestamp),
    }
}

/// The `Agreement` of `row`.
pub fn agreement(
    row: &AgreementRow,
    commitments: &[CommitmentRow],
    near: &[(Uuid, f64)],
) -> pb::Agreement {
    pb::Agreement {
        name: format!("agreements/{}", row.id),
        community: civicgrid_cell_tree::resource_name(&row.community_id),
        parties: row.parties.iter().map(|p| organisation_name(p)).collect(),
        title: row.title.clone(),
        text: row.body.clone(),
        term_start: Some(to_timestamp(row.term_start)),
        term_end: Some(to_timestamp(row.term_end)),
        commitments: commitments.iter().map(commitment).collect(),
        sign_time: Some(to_timestamp(row.sign_time)),
        last_activity_time: row.last_activity_time.map(to_timestamp),
        near_duplicates: near
            .iter()
            .map(|(other, similarity)| pb::NearDuplicate {
                agreement: format!("agreements/{other}"),
                similarity: *similarity,
            })
            .collect(),
    }
}

/// The agreement `name`; NOT_FOUND outside the caller's scope.
pub async fn get(pool: &PgPool, caller: &Caller, name: &str) -> Result<pb::Agreement, Status> {
    check_reader(caller)?;
    let id = parse::agreement_name(name, "name")?;
    let row = agreements::get(pool, id)
        .await
        .map_err(status::database)?
        .filter(|row| visible(&row.community_path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| UseCaseError::NotFound(name.to_owned()))?;
    let commitments = agreements::commitments(pool, id)
        .await
        .map_err(status::database)?;
    let near = agreements::near_duplicates_of(pool, id)
        .await
        .map_err(status::database)?;
    Ok(agreement(&row, &commitments, &near))
}

/// Near duplicates, idle agreements and "two new" organisations without one.
pub async fn report(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::GetCoBuildingReportRequest,
    idle_days: u32,
) -> Result<pb::GetCoBuildingReportResponse, Status> {
    check_reader(caller)?;
    let roots = caller.scope_roots("cells");
    let within = within_path(pool, roots.as_deref(), &request.ancestor).await?;
    let at = now();
    let since = at - chrono::Duration::days(i64::from(idle_days));
    let pairs = agreements::near_duplicate_pairs(pool, &within, roots.as_deref())
        .await
        .map_err(status::database)?;
    let idle = agreements::idle(pool, &within, roots.as_deref(), at, since)
        .await
        .map_err(status::database)?;
    let lonely = agreements::two_new_without_agreement(pool, &within, roots.as_deref(), at)
        .await
        .map_err(status::database)?;
    Ok(pb::GetCoBuildingReportResponse {
        near_duplicates: pairs
            .into_iter()
            .map(|(a, b, similarity)| pb::NearDuplicatePair {
                agreement: format!("agreements/{a}"),
                other: format!("agreements/{b}"),
                similarity,
            })
            .collect(),
        idle_agreements: idle
            .into_iter()
            .map(|id| format!("agreements/{id}"))
            .collect(),
        two_new_without_agreement: lonely.iter().map(|id| organisation_name(id)).collect(),
    })
}
