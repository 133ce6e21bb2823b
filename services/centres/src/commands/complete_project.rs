//! RecordProjectMilestone and CompleteProject.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::{may_edit_centres, sees};
use crate::domain::lists::{Milestone, Placed, Project};
use crate::events::publish;
use crate::store::lists;

/// The started project `id`, locked, with its demand's place; refused
/// unless the caller sees it and may change it.
async fn started_project(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<(Project, Placed), CommandError> {
    let name = format!("projects/{id}");
    let project = lists::lock_project(&mut *conn, id)
        .await?
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    let place = lists::demand_place(&mut *conn, project.demand_id)
        .await?
        .filter(|p| sees(&p.path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    if project.started_by != caller.subject && !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "only whoever claimed it or community staff change a project".to_owned(),
        ));
    }
    if project.completed {
        return Err(CommandError::Precondition(format!("{name} is completed")));
    }
    Ok((project, place))
}

/// Appends a milestone and writes `centres.project.milestone_reached`.
#[tracing::instrument(skip_all, fields(project = %id))]
pub async fn record_milestone(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    title: String,
) -> Result<Project, CommandError> {
    let (mut project, _) = started_project(&mut *conn, caller, id).await?;
    project.milestones.push(Milestone {
        title,
        reach_time: now(),
    });
    project.version += 1;
    lists::save_project(&mut *conn, &project).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::project_milestone_reached(&project, &caller.subject),
    )
    .await?;
    Ok(project)
}

/// Completes the project with the beneficiary's `rating` (1-5) and writes
/// `centres.project.completed`.
#[tracing::instrument(skip_all, fields(project = %id))]
pub async fn complete_project(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    rating: i32,
) -> Result<Project, CommandError> {
    let (mut project, place) = started_project(&mut *conn, caller, id).await?;
    project.completed = true;
    project.rating = rating;
    project.complete_time = Some(now());
    project.version += 1;
    lists::save_project(&mut *conn, &project).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::project_completed(&project, &place, &caller.subject),
    )
    .await?;
    Ok(project)
}
