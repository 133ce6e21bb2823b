//! TransitionTask: every step of a task's life, guarded by its state and version.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::{TaskScope, action_refusal};
use crate::domain::supervision::open_lapses;
use crate::domain::task::{Action, Task, TaskId, TaskState, apply};
use crate::events::publish;
use crate::store::lookups::{Lookups, Source};
use crate::store::{directory, supervision, tasks};

/// A parsed TransitionTask request.
#[derive(Debug, Clone)]
pub struct TransitionTask {
    /// The task.
    pub id: TaskId,
    /// The version the caller read (its etag).
    pub expected_version: i64,
    /// What to do.
    pub action: Action,
}

/// Applies the action: the task, its history, its events and the clearing
/// of supervision orders it settles commit together, or nothing does.
#[tracing::instrument(skip_all, fields(task = %input.id))]
pub async fn transition_task(
    conn: &mut PgConnection,
    lookups: &Lookups,
    caller: &Caller,
    input: TransitionTask,
) -> Result<Task, CommandError> {
    if let Some(refusal) = action_refusal(caller, &input.action) {
        return Err(CommandError::permission_denied(refusal));
    }
    let scope = &lookups.task_scope(Source::Conn(&mut *conn), caller).await?;
    let name = input.id.resource_name();
    let current = tasks::lock(&mut *conn, input.id)
        .await?
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    if !scope.sees(&current.cell_path, &current.departments()) {
        return Err(CommandError::permission_denied(format!(
            "{name} is outside your scope"
        )));
    }
    if current.lifecycle.version != input.expected_version {
        return Err(CommandError::aborted(format!(
            "{name} changed since you read it (your etag is for version {}, it is now at {}); read it again",
            input.expected_version, current.lifecycle.version
        )));
    }
    check_references(&mut *conn, &current, &input.action, scope).await?;

    let rules = lookups
        .deadline_rules(
            Source::Conn(&mut *conn),
            current.category.as_str(),
            current.urgency,
        )
        .await?;
    let at = now();
    let transition = apply(&current.lifecycle, &input.action, at, &rules)?;

    let mut task = current.clone();
    task.lifecycle = transition.lifecycle;
    task.update_time = at;
    if !tasks::update(
        &mut *conn,
        task.id,
        &task.lifecycle,
        current.lifecycle.version,
        at,
    )
    .await?
    {
        return Err(CommandError::aborted(format!(
            "{name} changed while you acted; read it again"
        )));
    }
    let entries =
        tasks::append_history(&mut *conn, task.id, &transition.steps, &caller.subject, at).await?;
    for entry in &entries {
        outbox::enqueue(
            &mut *conn,
            &publish::task_changed(&task, entry, &caller.subject, ""),
        )
        .await?;
    }
    for cleared in supervision::clear_settled(
        &mut *conn,
        task.id.uuid(),
        &open_lapses(&task.lifecycle),
        at,
    )
    .await?
    {
        outbox::enqueue(
            &mut *conn,
            &publish::supervision_changed(&cleared, "cleared", task.lifecycle.version),
        )
        .await?;
    }
    Ok(task)
}

/// What the action names must exist: whistled departments, the task merged into.
pub(crate) async fn check_references(
    conn: &mut PgConnection,
    current: &Task,
    action: &Action,
    scope: &TaskScope,
) -> Result<(), CommandError> {
    match action {
        Action::Whistle { lead, assisting } => {
            for department in std::iter::once(lead).chain(assisting) {
                if !directory::department_exists(conn, department).await? {
                    return Err(CommandError::precondition(format!(
                        "departments/{department} does not exist"
                    )));
                }
            }
        }
        Action::MergeAsDuplicate { duplicate_of } => {
            let target = Uuid::parse_str(duplicate_of)
                .ok()
                .map(TaskId::from_uuid)
                .filter(|id| *id != current.id)
                .ok_or_else(|| {
                    CommandError::precondition("a task cannot be merged into itself".to_owned())
                })?;
            let original = tasks::get(conn, target)
                .await?
                .filter(|t| scope.sees(&t.cell_path, &t.departments()))
                .ok_or_else(|| {
                    CommandError::precondition(format!("tasks/{target} does not exist"))
                })?;
            if original.lifecycle.state.is_final()
                || original.lifecycle.state == TaskState::Resolved
            {
                return Err(CommandError::precondition(format!(
                    "tasks/{target} is no longer open"
                )));
            }
            if original.category != current.category {
                return Err(CommandError::precondition(
                    "a duplicate must be of the same category".to_owned(),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}
