//! Reads of activities and their registrations, within the caller's scope
//! (an activity whose centre is outside it is indistinguishable from absent).

use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use super::parse_activities;
use crate::convert::registration_proto;
use crate::domain::access::sees;
use crate::domain::activity::{Activity, activity_name};
use crate::store::{activities, centres, registrations};

/// The activity `id` if the caller sees its centre.
async fn visible(pool: &PgPool, caller: &Caller, id: Uuid) -> Result<Activity, Status> {
    let not_found = || Status::from(UseCaseError::NotFound(activity_name(id)));
    let activity = activities::get(pool, id)
        .await
        .map_err(status::database)?
        .ok_or_else(not_found)?;
    let roots = caller.scope_roots("cells");
    centres::get(pool, &activity.centre_id)
        .await
        .map_err(status::database)?
        .filter(|centre| sees(&centre.location_path, roots.as_deref()))
        .ok_or_else(not_found)?;
    Ok(activity)
}

/// GetActivity.
pub async fn get_activity(pool: &PgPool, caller: &Caller, name: &str) -> Result<Activity, Status> {
    let id = parse_activities::activity_name(name, "name")?;
    visible(pool, caller, id).await
}

/// One page of an activity's registrations by waitlist position.
pub async fn list_registrations(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListRegistrationsRequest,
) -> Result<pb::ListRegistrationsResponse, Status> {
    let id = parse_activities::activity_name(&request.parent, "parent")?;
    let mut violations = FieldViolations::new();
    let size = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!("parent={}", request.parent);
    let after = paging::decode(&request.page_token, &fingerprint, &mut violations);
    let after = match after {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(seq) => Some(seq),
            Err(_) => {
                violations.add("page_token", "is not a token of this list");
                None
            }
        },
    };
    violations.check(())?;
    visible(pool, caller, id).await?;
    let rows = registrations::list(pool, id, after, paging::limit(size))
        .await
        .map_err(status::database)?;
    let (rows, next_page_token) =
        paging::paged(rows, size, &fingerprint, |r| r.queue_seq.to_string());
    Ok(pb::ListRegistrationsResponse {
        registrations: rows.iter().map(registration_proto).collect(),
        next_page_token,
    })
}
