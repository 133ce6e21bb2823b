//! CreateDepartmentRating: the whistling street or community rates a
//! department's response to a task (two-way assessment).

use std::collections::BTreeSet;

use chrono::Utc;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::error::{Outcomes as _, UseCaseError};
use prost::Message as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::rating::{self, Grade};
use crate::store::ratings::{self, OtherEvent, RatingRow};
use crate::store::{events, metrics};

/// Routing key of the rating as assessment stores it.
pub const DEPARTMENT_RATED: &str = "assessment.department.rated";

/// A parsed rating.
#[derive(Debug, Clone)]
pub struct NewRating {
    /// "tasks/{id}".
    pub task: String,
    /// "departments/{id}".
    pub department: String,
    /// The grade.
    pub grade: Grade,
    /// Free text.
    pub comment: String,
}

/// Only the street or community the task is in rates its departments:
/// its street admins or community staff whose scope covers the task's cell.
async fn check_may_rate(
    conn: &mut PgConnection,
    caller: &Caller,
    cell: &str,
) -> Result<(), UseCaseError> {
    let denied = || {
        UseCaseError::permission_denied(format!(
            "only the street or community of {cell} (its street admins or community staff) rates the departments it whistled"
        ))
    };
    if !caller.has_any_role(&[Role::StreetAdmin, Role::CommunityStaff]) {
        return Err(denied());
    }
    let id = civicgrid_cell_tree::parse_name(cell).unwrap_or_default();
    let row = civicgrid_cell_tree::get(&mut *conn, id)
        .await?
        .ok_or_else(denied)?;
    if civicgrid_cell_tree::visible(&row, caller.scope_roots("cells").as_deref()) {
        Ok(())
    } else {
        Err(denied())
    }
}

/// Records the rating, its event and the department's rating counts.
#[tracing::instrument(skip_all, fields(task = %input.task, department = %input.department))]
pub async fn rate_department(
    conn: &mut PgConnection,
    caller: &Caller,
    input: &NewRating,
) -> Result<RatingRow, UseCaseError> {
    // The task's lock: a resolution arriving meanwhile is either seen or
    // comes after.
    events::lock_aggregate(&mut *conn, &input.task).await?;
    let stored = events::of_task(&mut *conn, &input.task).await?;
    let task =
        rating::rated_task(&stored).ok_or_else(|| UseCaseError::not_found(input.task.clone()))?;
    check_may_rate(&mut *conn, caller, &task.cell).await?;
    rating::check(&input.task, &task, &input.department)
        .map_err(|refusal| UseCaseError::precondition(refusal.to_string()))?;
    if ratings::exists(&mut *conn, &input.task, &input.department).await? {
        return Err(UseCaseError::already_exists(format!(
            "{}/departmentRatings/{}",
            input.task,
            input.department.trim_start_matches("departments/")
        )));
    }
    let at = Utc::now();
    let row = RatingRow {
        task: input.task.clone(),
        department: input.department.clone(),
        grade: input.grade,
        comment: input.comment.clone(),
        rater: caller.subject.clone(),
        event_id: Uuid::now_v7(),
        reported_at: task.reported_at,
        create_time: at,
    };
    let event = OtherEvent {
        event_id: row.event_id,
        source: "assessment".to_owned(),
        routing_key: DEPARTMENT_RATED.to_owned(),
        aggregate_id: input.task.clone(),
        occurred_at: at,
        payload: crate::convert::rating(&row).encode_to_vec(),
    };
    ratings::insert_event(&mut *conn, &event).await?;
    if !ratings::insert(&mut *conn, &row).await? {
        return Err(UseCaseError::already_exists(format!(
            "{}/departmentRatings/{}",
            input.task,
            input.department.trim_start_matches("departments/")
        )));
    }
    let facts = rating::facts(&row.department, row.grade, row.event_id, row.reported_at);
    metrics::replace_facts(
        conn,
        &ratings::facts_key(&row.task, &row.department),
        &BTreeSet::new(),
        &facts,
    )
    .await?;
    tracing::info!(grade = row.grade.as_str(), by = %caller.subject, "department rated");
    Ok(row)
}
