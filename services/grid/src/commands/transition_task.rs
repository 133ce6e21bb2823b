//! TransitionTask: every step of a task's life, guarded by its state and version.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::{TaskScope, action_refusal};
use crate::domain::directory::Urgency;
use crate::domain::supervision::open_lapses;
use crate::domain::task::{Action, TaskState, apply};
use crate::events::publish;
use crate::store::lookups::Lookups;
use crate::store::tasks::TaskRow;
use crate::store::{directory, supervision, tasks};

/// A parsed TransitionTask request.
#[derive(Debug, Clone)]
pub struct TransitionTask {
    /// The task.
    pub id: Uuid,
    /// The version the caller read (its etag).
    pub expected_version: i64,
    /// What to do.
    pub action: Action,
}

/// Applies the action: the task, its history, its events and the clearing
/// of supervision orders it settles commit together, or nothing does.
pub async fn transition_task(
    pool: &PgPool,
    lookups: &Lookups,
    caller: &Caller,
    scope: &TaskScope,
    input: TransitionTask,
) -> Result<TaskRow, CommandError> {
    if let Some(refusal) = action_refusal(caller, &input.action) {
        return Err(CommandError::PermissionDenied(refusal));
    }
    let name = format!("tasks/{}", input.id);
    let mut tx = pool.begin().await?;
    let current = tasks::lock(&mut tx, input.id)
        .await?
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    if !scope.sees(&current.cell_path, &current.departments()) {
        return Err(CommandError::PermissionDenied(format!(
            "{name} is outside your scope"
        )));
    }
    if current.lifecycle.version != input.expected_version {
        return Err(CommandError::Aborted(format!(
            "{name} changed since you read it (your etag is for version {}, it is now at {}); read it again",
            input.expected_version, current.lifecycle.version
        )));
    }
    check_references(&mut tx, &current, &input.action, scope).await?;

    let urgency = Urgency::from_number(i32::from(current.urgency)).unwrap_or(Urgency::Normal);
    let rules = lookups
        .deadline_rules(pool, &current.category_id, urgency)
        .await?;
    let at = now();
    let transition = apply(&current.lifecycle, &input.action, at, &rules)?;

    let mut task = current.clone();
    task.lifecycle = transition.lifecycle;
    task.update_time = at;
    if !tasks::update(
        &mut tx,
        task.id,
        &task.lifecycle,
        current.lifecycle.version,
        at,
    )
    .await?
    {
        return Err(CommandError::Aborted(format!(
            "{name} changed while you acted; read it again"
        )));
    }
    let entries =
        tasks::append_history(&mut tx, task.id, &transition.steps, &caller.subject, at).await?;
    for entry in &entries {
        outbox::enqueue(
            &mut tx,
            &publish::task_changed(&task, entry, &caller.subject, ""),
        )
        .await?;
    }
    for cleared in
        supervision::clear_settled(&mut tx, task.id, &open_lapses(&task.lifecycle), at).await?
    {
        outbox::enqueue(
            &mut tx,
            &publish::supervision_changed(&cleared, "cleared", task.lifecycle.version),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(task)
}

/// What the action names must exist: whistled departments, the task merged into.
async fn check_references(
    conn: &mut PgConnection,
    current: &TaskRow,
    action: &Action,
    scope: &TaskScope,
) -> Result<(), CommandError> {
    match action {
        Action::Whistle { lead, assisting } => {
            for department in std::iter::once(lead).chain(assisting) {
                if !directory::department_exists(conn, department).await? {
                    return Err(CommandError::Precondition(format!(
                        "departments/{department} does not exist"
                    )));
                }
            }
        }
        Action::MergeAsDuplicate { duplicate_of } => {
            let target = Uuid::parse_str(duplicate_of)
                .ok()
                .filter(|id| *id != current.id)
                .ok_or_else(|| {
                    CommandError::Precondition("a task cannot be merged into itself".to_owned())
                })?;
            let original = tasks::get(conn, target)
                .await?
                .filter(|t| scope.sees(&t.cell_path, &t.departments()))
                .ok_or_else(|| {
                    CommandError::Precondition(format!("tasks/{target} does not exist"))
                })?;
            if original.lifecycle.state.is_final()
                || original.lifecycle.state == TaskState::Resolved
            {
                return Err(CommandError::Precondition(format!(
                    "tasks/{target} is no longer open"
                )));
            }
            if original.category_id != current.category_id {
                return Err(CommandError::Precondition(
                    "a duplicate must be of the same category".to_owned(),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}
