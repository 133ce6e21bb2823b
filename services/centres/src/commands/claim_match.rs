//! ClaimMatch: a proposed demand-resource pair becomes a project.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::{may_edit_centres, sees};
use crate::domain::lists::{DemandState, Project, ResourceState};
use crate::domain::matching::propose;
use crate::events::publish;
use crate::store::lists;

/// Claims the pair and writes `centres.project.started`. The demand and
/// the resource are locked (demand first, always), so of two claims of
/// either one wins; the projects table's unique keys back that up.
#[tracing::instrument(skip_all, fields(demand = %demand_id, resource = %resource_id))]
pub async fn claim_match(
    conn: &mut PgConnection,
    caller: &Caller,
    demand_id: Uuid,
    resource_id: Uuid,
) -> Result<Project, CommandError> {
    let roots = caller.scope_roots("cells");
    let demand = lists::lock_demand(&mut *conn, demand_id)
        .await?
        .filter(|d| sees(&d.place.path, roots.as_deref()))
        .ok_or_else(|| CommandError::NotFound(format!("demands/{demand_id}")))?;
    let resource = lists::lock_resource(&mut *conn, resource_id)
        .await?
        .filter(|r| sees(&r.place.path, roots.as_deref()))
        .ok_or_else(|| CommandError::NotFound(format!("resources/{resource_id}")))?;
    if !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "only community staff and administrators claim matches".to_owned(),
        ));
    }
    if demand.state != DemandState::Open {
        return Err(CommandError::Precondition(format!(
            "{} already has a project",
            demand.resource_name()
        )));
    }
    if resource.state != ResourceState::Idle {
        return Err(CommandError::Precondition(format!(
            "{} is not idle",
            resource.resource_name()
        )));
    }
    if propose(&[demand.to_open()], &[resource.to_idle()]).is_empty() {
        return Err(CommandError::Precondition(format!(
            "{} does not match {}: it needs the same category, the same street and an overlapping time window",
            resource.resource_name(),
            demand.resource_name()
        )));
    }
    let project = Project {
        id: Uuid::now_v7(),
        demand_id,
        resource_id,
        category: demand.category.clone(),
        completed: false,
        milestones: Vec::new(),
        rating: 0,
        started_by: caller.subject.clone(),
        start_time: now(),
        complete_time: None,
        version: 1,
    };
    lists::match_demand(&mut *conn, demand_id).await?;
    lists::set_resource_state(&mut *conn, resource_id, ResourceState::Committed).await?;
    lists::save_project(&mut *conn, &project).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::project_started(&project, &demand.place, &caller.subject),
    )
    .await?;
    Ok(project)
}
