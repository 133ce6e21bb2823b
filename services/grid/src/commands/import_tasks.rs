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

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use civicgrid_messaging::{NewEvent, outbox};
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::crypto::DataKey;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;

use super::CommandError;
use super::report_task::{check_fields, reported};
use super::transition_task::check_references;
use crate::domain::access::TaskScope;
use crate::domain::report::Report;
use crate::domain::task::{Action, HistoryEntry, Task, TaskId, apply};
use crate::events::publish;
use crate::store::directory;
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
/// or none (the caller's transaction). The tasks are taken through their
/// steps in memory and written together, a handful of statements for the
/// whole request rather than ten or so per task: a million have to load in
/// minutes, and each statement on `task_history` also runs the tallies'
/// trigger once.
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
    let ids: Vec<TaskId> = input.iter().map(|h| h.id).collect();
    // A task stored before, or named twice in the request, is skipped.
    let mut seen: HashSet<TaskId> = tasks::existing(&mut *conn, &ids)
        .await?
        .into_iter()
        .collect();
    let departments = known_departments(&mut *conn, input).await?;
    let context = Context {
        lookups,
        key,
        scope: &scope,
        departments: &departments,
    };
    let mut outcome = Imported::default();
    let mut pending: Vec<Planned> = Vec::new();
    for (index, historical) in input.iter().enumerate() {
        if !seen.insert(historical.id) {
            outcome.skipped += 1;
            continue;
        }
        // A merge checks the task it merges into, which may be one of
        // this request's: those are written first.
        if historical
            .steps
            .iter()
            .any(|step| matches!(step.action, Action::MergeAsDuplicate { .. }))
        {
            write(&mut *conn, &mut pending).await?;
        }
        pending.push(plan_one(&mut *conn, &context, index, historical).await?);
        outcome.imported += 1;
    }
    write(&mut *conn, &mut pending).await?;
    Ok(outcome)
}

/// The departments the request's whistles name that exist, read at once.
async fn known_departments(
    conn: &mut PgConnection,
    input: &[HistoricalTask],
) -> sqlx::Result<HashSet<String>> {
    let mut named: Vec<&str> = input
        .iter()
        .flat_map(|h| &h.steps)
        .flat_map(|step| match &step.action {
            Action::Whistle { lead, assisting } => std::iter::once(lead)
                .chain(assisting)
                .map(String::as_str)
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    named.sort_unstable();
    named.dedup();
    if named.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(directory::departments_existing(conn, &named)
        .await?
        .into_iter()
        .collect())
}

/// What every task of a request is checked against.
struct Context<'a> {
    lookups: &'a Lookups,
    key: &'a DataKey,
    scope: &'a TaskScope,
    departments: &'a HashSet<String>,
}

/// One task taken through its steps, not yet written.
struct Planned {
    reported: NewTask,
    reported_event: NewEvent,
    /// Its state after the last step.
    task: Task,
    history: Vec<(HistoryEntry, Option<bool>)>,
    events: Vec<NewEvent>,
}

/// Writes `pending` (and empties it): the reported tasks with their first
/// entries and events, their marks, then the final states, histories and
/// step events of those that have steps.
async fn write(conn: &mut PgConnection, pending: &mut Vec<Planned>) -> Result<(), CommandError> {
    if pending.is_empty() {
        return Ok(());
    }
    let reported: Vec<&NewTask> = pending.iter().map(|p| &p.reported).collect();
    let reported_events: Vec<&NewEvent> = pending.iter().map(|p| &p.reported_event).collect();
    tasks::insert_reported(&mut *conn, &reported, &reported_events).await?;
    let ids: Vec<TaskId> = pending.iter().map(|p| p.task.id).collect();
    tasks::mark_imported(&mut *conn, &ids).await?;
    let stepped: Vec<&Planned> = pending.iter().filter(|p| !p.history.is_empty()).collect();
    let changes: Vec<_> = stepped
        .iter()
        .map(|p| (p.task.id, &p.task.lifecycle, p.task.update_time))
        .collect();
    // Version 1 is the row just inserted; anything else is a concurrent
    // import of the same tasks, which the rerun resolves.
    if tasks::update_many(&mut *conn, &changes, 1).await? < changes.len() {
        return Err(CommandError::aborted(
            "some of these tasks were imported concurrently; run the import again".to_owned(),
        ));
    }
    let histories: Vec<_> = stepped
        .iter()
        .map(|p| (p.task.id, p.history.as_slice()))
        .collect();
    tasks::insert_histories(&mut *conn, &histories).await?;
    let events: Vec<NewEvent> = stepped
        .iter()
        .flat_map(|p| p.events.iter().cloned())
        .collect();
    outbox::enqueue_all(&mut *conn, &events).await?;
    pending.clear();
    Ok(())
}

async fn plan_one(
    conn: &mut PgConnection,
    context: &Context<'_>,
    index: usize,
    historical: &HistoricalTask,
) -> Result<Planned, CommandError> {
    let Context {
        lookups,
        key,
        scope,
        departments,
    } = context;
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
    let reported_event = publish::task_changed(&task, &entry, &historical.reporter, "");
    let reported = NewTask {
        sealed_contact: report.reporter_contact.as_deref().map(|c| key.seal(c)),
        task: task.clone(),
        request_id: None,
        actor: historical.reporter.clone(),
    };

    // The steps run in memory, by the same rules as TransitionTask.
    let mut history = Vec::new();
    let mut events = Vec::new();
    let mut sequence = entry.sequence;
    for (step_index, step) in historical.steps.iter().enumerate() {
        let at_step = |what: String| {
            CommandError::precondition(format!("tasks[{index}].steps[{step_index}]: {what}"))
        };
        match &step.action {
            // Checked against the departments read for the whole request.
            Action::Whistle { lead, assisting } => {
                if let Some(missing) = std::iter::once(lead)
                    .chain(assisting)
                    .find(|d| !departments.contains(d.as_str()))
                {
                    return Err(at_step(format!("departments/{missing} does not exist")));
                }
            }
            action => check_references(&mut *conn, &task, action, scope)
                .await
                .map_err(|error| at_step(error.to_string()))?,
        }
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
    Ok(Planned {
        reported,
        reported_event,
        task,
        history,
        events,
    })
}
