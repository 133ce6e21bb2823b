//! ImportTasks: tasks that happened before they reached this grid, loaded
//! with their history at their own times.
//!
//! Each task is reported and taken through its steps by the same domain
//! rules as ReportTask and TransitionTask (`reported`, `apply`), with the
//! step's time as the clock, so its deadlines, history and events are what
//! they would have been live; its events carry those times as occurred_at,
//! so consumers count them in their periods. The grid's supervision sweeper
//! only looks at the present: an imported task still open past a deadline
//! gets its order at the next sweep, as a late one would.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::crypto::DataKey;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;

use super::CommandError;
use super::report_task::{check_fields, reported};
use super::transition_task::check_references;
use crate::domain::report::Report;
use crate::domain::task::{Action, HistoryEntry, TaskId, apply};
use crate::events::publish;
use crate::store::lookups::{Lookups, Source};
use crate::store::tasks::{self, NewTask};

/// Most tasks per request: one transaction, so bounded.
pub const MAX_TASKS: usize = 500;

/// One parsed historical task.
#[derive(Debug, Clone)]
pub struct HistoricalTask {
    /// Its id, chosen by the importer (the idempotency key).
    pub id: TaskId,
    /// What was reported.
    pub report: Report,
    /// When.
    pub reported_at: DateTime<Utc>,
    /// By whom.
    pub reporter: String,
    /// What happened to it, in order.
    pub steps: Vec<HistoricalStep>,
}

/// One step of a historical task.
#[derive(Debug, Clone)]
pub struct HistoricalStep {
    /// When.
    pub at: DateTime<Utc>,
    /// Who acted.
    pub actor: String,
    /// What they did.
    pub action: Action,
}

/// How many tasks a request stored and skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    /// Stored now.
    pub imported: usize,
    /// Existed already.
    pub skipped: usize,
}

/// Stores every task that does not exist yet with its history and events,
/// or none (the caller's transaction).
#[tracing::instrument(skip_all, fields(tasks = input.len()))]
pub async fn import_tasks(
    conn: &mut PgConnection,
    lookups: &Lookups,
    key: &DataKey,
    caller: &Caller,
    input: &[HistoricalTask],
) -> Result<Imported, CommandError> {
    if !(caller.has_role(Role::CountyAdmin) && caller.sees_everything()) {
        return Err(CommandError::permission_denied(
            "importing tasks needs the role county_admin and scope `*`",
        ));
    }
    let scope = lookups.task_scope(Source::Conn(&mut *conn), caller).await?;
    let mut outcome = Imported::default();
    for (index, historical) in input.iter().enumerate() {
        if tasks::get(&mut *conn, historical.id).await?.is_some() {
            outcome.skipped += 1;
            continue;
        }
        import_one(&mut *conn, lookups, key, &scope, index, historical).await?;
        outcome.imported += 1;
    }
    Ok(outcome)
}

async fn import_one(
    conn: &mut PgConnection,
    lookups: &Lookups,
    key: &DataKey,
    scope: &crate::domain::access::TaskScope,
    index: usize,
    historical: &HistoricalTask,
) -> Result<(), CommandError> {
    let report = &historical.report;
    let at_task = |what: String| CommandError::precondition(format!("tasks[{index}]: {what}"));
    let cell_path = lookups
        .cell_path(Source::Conn(&mut *conn), report.cell.as_str())
        .await?
        .ok_or_else(|| at_task(format!("cells/{} does not exist", report.cell)))?;
    let category = lookups
        .category(Source::Conn(&mut *conn), report.category.as_str())
        .await?
        .ok_or_else(|| {
            at_task(format!(
                "{} does not exist",
                report.category.resource_name()
            ))
        })?;
    check_fields(&category, report, &format!("tasks[{index}].task"))?;
    let rules = lookups
        .deadline_rules(
            Source::Conn(&mut *conn),
            report.category.as_str(),
            report.urgency,
        )
        .await?;

    let (mut task, entry) = reported(
        historical.id,
        report,
        cell_path,
        historical.reported_at,
        &rules,
        &historical.reporter,
    );
    task.imported = true;
    let event = publish::task_changed(&task, &entry, &historical.reporter, "");
    let new_task = NewTask {
        sealed_contact: report.reporter_contact.as_deref().map(|c| key.seal(c)),
        task: task.clone(),
        request_id: None,
        actor: historical.reporter.clone(),
    };
    tasks::insert_reported(&mut *conn, &[&new_task], &[&event]).await?;
    tasks::mark_imported(&mut *conn, task.id).await?;

    // The steps run in memory; the task's final state, its history and its
    // events are then written at once (a few statements per task instead
    // of several per step: a million tasks have to load in minutes).
    let mut history = Vec::new();
    let mut events = Vec::new();
    let mut sequence = entry.sequence;
    for (step_index, step) in historical.steps.iter().enumerate() {
        let at_step = |what: String| {
            CommandError::precondition(format!("tasks[{index}].steps[{step_index}]: {what}"))
        };
        check_references(&mut *conn, &task, &step.action, scope)
            .await
            .map_err(|error| at_step(error.to_string()))?;
        let transition = apply(&task.lifecycle, &step.action, step.at, &rules)
            .map_err(|refusal| at_step(refusal.to_string()))?;
        task.lifecycle = transition.lifecycle;
        task.update_time = step.at;
        for done in &transition.steps {
            sequence += 1;
            let entry = HistoryEntry {
                sequence,
                action: done.action.to_owned(),
                from_state: Some(done.from),
                to_state: done.to,
                actor: step.actor.clone(),
                department: done.department.clone(),
                reason: done.reason.clone(),
                time: step.at,
            };
            events.push(publish::task_changed(&task, &entry, &step.actor, ""));
            history.push((entry, done.on_time));
        }
    }
    if !history.is_empty() {
        // Version 1 is the row just inserted; anything else is a concurrent
        // import of the same task, which the rerun resolves.
        if !tasks::update(&mut *conn, task.id, &task.lifecycle, 1, task.update_time).await? {
            return Err(CommandError::aborted(format!(
                "{} was imported concurrently; run the import again",
                task.id.resource_name()
            )));
        }
        tasks::insert_history(&mut *conn, task.id, &history).await?;
        outbox::enqueue_all(&mut *conn, &events).await?;
    }
    Ok(())
}
