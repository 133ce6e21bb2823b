//! CreateWorkRequest: a department asks a community to take work. The
//! request is recorded whatever the outcome: a refusal counts against
//! the department in the community's burden report and is published as
//! `assessment.work_request.refused`; the API then answers
//! FAILED_PRECONDITION naming what was missing.

use chrono::Utc;
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::{Outcomes as _, UseCaseError};
use sqlx::PgConnection;
use uuid::Uuid;

use super::acts_for;
use crate::domain::burden;
use crate::domain::period::shanghai_date;
use crate::events::publish;
use crate::store::burden::{self as store, WorkRequestRow};

/// A parsed request.
#[derive(Debug, Clone)]
pub struct NewWorkRequest {
    /// "departments/{id}".
    pub department: String,
    /// A community's cell id.
    pub community: String,
    /// The cited item's id.
    pub whitelist_item: String,
    /// What is asked.
    pub description: String,
}

/// Records the request, accepted or refused (see the module).
#[tracing::instrument(skip_all, fields(department = %input.department, community = %input.community))]
pub async fn create_work_request(
    conn: &mut PgConnection,
    caller: &Caller,
    input: &NewWorkRequest,
) -> Result<WorkRequestRow, UseCaseError> {
    if !acts_for(caller, &input.department) {
        return Err(UseCaseError::permission_denied(format!(
            "only operators of {} ask communities to take its work",
            input.department
        )));
    }
    let community = civicgrid_cell_tree::get(&mut *conn, &input.community)
        .await?
        .filter(|cell| cell.level == 3)
        .ok_or_else(|| UseCaseError::not_found(format!("community `cells/{}`", input.community)))?;
    let item_name = format!("whitelistItems/{}", input.whitelist_item);
    let item = store::item(&mut *conn, &input.whitelist_item).await?;
    let at = Utc::now();
    let today = shanghai_date(at);
    let missing = burden::missing(
        item.as_ref().map(|i| &i.item),
        &item_name,
        &input.department,
        today,
    );
    let row = WorkRequestRow {
        id: Uuid::now_v7(),
        department: input.department.clone(),
        community: format!("cells/{}", community.id),
        whitelist_item: item_name,
        description: input.description.clone(),
        accepted: missing.is_empty(),
        missing,
        year: chrono::Datelike::year(&today),
        create_time: at,
    };
    store::insert_request(&mut *conn, &row).await?;
    if !row.accepted {
        outbox::enqueue(conn, &publish::work_request_refused(&row, &caller.subject)).await?;
    }
    tracing::info!(accepted = row.accepted, by = %caller.subject, "work request recorded");
    Ok(row)
}
