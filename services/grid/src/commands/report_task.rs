//! ReportTask: a resident's request, an incident or a patrol finding enters the grid.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::crypto::{DataKey, mask_contact};
use civicgrid_runtime::status::FieldViolations;
use sqlx::PgPool;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::{TaskScope, may_report};
use crate::domain::deadlines::PolicyClock;
use crate::domain::directory::FieldProblem;
use crate::domain::report::Report;
use crate::domain::task::Lifecycle;
use crate::events::publish;
use crate::store::tasks::TaskRow;
use crate::store::{directory, tasks};

/// Stores the task, its first history entry and `grid.task.reported` in
/// one transaction. A retry with the same `request_id` returns the first task.
pub async fn report_task(
    pool: &PgPool,
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
    if let Some(request_id) = request_id
        && let Some(existing) = tasks::id_for_request(&mut tx, request_id).await?
    {
        return tasks::get(&mut tx, existing)
            .await?
            .ok_or_else(|| CommandError::NotFound(format!("tasks/{existing}")));
    }

    let cell = civicgrid_cell_tree::get(&mut *tx, report.cell.as_str())
        .await?
        .ok_or_else(|| {
            CommandError::Precondition(format!("cells/{} does not exist", report.cell))
        })?;
    if !scope.sees_cell(&cell.path) {
        return Err(CommandError::PermissionDenied(format!(
            "cells/{} is outside your scope",
            cell.id
        )));
    }
    let category = directory::category(&mut tx, &report.category)
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
    let policy = directory::deadline_policy(&mut tx, &report.category, report.urgency).await?;
    let calendar = directory::work_calendar(&mut tx).await?;
    let rules = PolicyClock::new(policy.as_ref(), calendar);

    let at = now();
    let task = TaskRow {
        id: Uuid::now_v7(),
        cell_id: cell.id.clone(),
        cell_path: cell.path.clone(),
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
    tasks::insert(&mut tx, &task, sealed.as_deref(), request_id).await?;
    let entry = tasks::record_reported(&mut tx, task.id, &caller.subject, at).await?;
    let causation = request_id.map(|id| id.to_string()).unwrap_or_default();
    outbox::enqueue(
        &mut tx,
        &publish::task_changed(&task, &entry, &caller.subject, &causation),
    )
    .await?;
    tx.commit().await?;
    Ok(task)
}
