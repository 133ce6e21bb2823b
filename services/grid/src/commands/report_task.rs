//! ReportTask: a resident's request, an incident or a patrol finding enters the grid.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::crypto::{DataKey, mask_contact};
use civicgrid_runtime::status::FieldViolations;
use sqlx::PgPool;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::{TaskScope, may_report};
use crate::domain::directory::FieldProblem;
use crate::domain::report::Report;
use crate::domain::task::Lifecycle;
use crate::events::publish;
use crate::store::lookups::Lookups;
use crate::store::tasks;
use crate::store::tasks::TaskRow;

/// Stores the task, its first history entry and `grid.task.reported` in
/// one transaction. A retry with the same `request_id` returns the first task.
#[allow(clippy::too_many_arguments)]
pub async fn report_task(
    pool: &PgPool,
    lookups: &Lookups,
    key: &DataKey,
    caller: &Caller,
    scope: &TaskScope,
    report: Report,
    request_id: Option<Uuid>,
) -> Result<TaskRow, CommandError> {
    if !may_report(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow reporting tasks".to_owned(),
        ));
    }
    let mut tx = pool.begin().await?;
    let cell_path = lookups
        .cell_path(&mut tx, report.cell.as_str())
        .await?
        .ok_or_else(|| {
            CommandError::Precondition(format!("cells/{} does not exist", report.cell))
        })?;
    if !scope.sees_cell(&cell_path) {
        return Err(CommandError::PermissionDenied(format!(
            "cells/{} is outside your scope",
            report.cell
        )));
    }
    let category = lookups
        .category(&mut tx, &report.category)
        .await?
        .ok_or_else(|| {
            CommandError::Precondition(format!("categories/{} does not exist", report.category))
        })?;
    let problems =
        category.field_problems(report.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if !problems.is_empty() {
        let mut violations = FieldViolations::new();
        for problem in problems {
            match problem {
                FieldProblem::Missing(key) => {
                    violations.add(format!("task.fields[{key}]"), "is required by the category")
                }
                FieldProblem::Unknown(key) => violations.add(
                    format!("task.fields[{key}]"),
                    "is not a field of the category",
                ),
            }
        }
        return Err(CommandError::Invalid(violations));
    }
    let rules = lookups
        .deadline_rules(&mut tx, &report.category, report.urgency)
        .await?;

    let at = now();
    let task = TaskRow {
        id: Uuid::now_v7(),
        cell_id: report.cell.as_str().to_owned(),
        cell_path,
        category_id: report.category.clone(),
        urgency: report.urgency.number(),
        channel: report.channel.number(),
        description: report.description.as_str().to_owned(),
        attachments: report.attachments.clone(),
        fields: report.fields.clone(),
        reporter_contact_masked: report
            .reporter_contact
            .as_deref()
            .map(mask_contact)
            .unwrap_or_default(),
        lifecycle: Lifecycle::reported(at, &rules),
        create_time: at,
        update_time: at,
    };
    let sealed = report
        .reporter_contact
        .as_deref()
        .map(|contact| key.seal(contact));
    let Some(entry) = tasks::insert(
        &mut tx,
        &task,
        sealed.as_deref(),
        request_id,
        &caller.subject,
    )
    .await?
    else {
        // A retry of a report already stored: the same answer, nothing new.
        tx.rollback().await?;
        let existing = match request_id {
            Some(request_id) => tasks::get_by_request(pool, request_id).await?,
            None => None,
        };
        return existing.ok_or_else(|| {
            CommandError::Aborted(
                "the first try of this report is still being stored; retry".to_owned(),
            )
        });
    };
    let causation = request_id.map(|id| id.to_string()).unwrap_or_default();
    outbox::enqueue(
        &mut tx,
        &publish::task_changed(&task, &entry, &caller.subject, &causation),
    )
    .await?;
    tx.commit().await?;
    Ok(task)
}
