//! ReportTask: a resident's request, an incident or a patrol finding enters the grid.
//!
//! Unlike the other commands, ReportTask owns its transaction, because it
//! owns its batching. Reports are the grid's hot path (see
//! `docs/benchmarks.md`): each is validated on the caller's task, then
//! written by one writer per process that takes every report waiting at
//! that moment into one statement (group commit). Under load a commit
//! carries many reports, with no added wait when there is no load. The
//! statement writes the tasks, their first history entries and their
//! events together, so it is its own transaction: one round trip, no BEGIN
//! or COMMIT. A caller's transaction cannot join such a batch, so
//! [`ReportTask::report`] takes no connection. (Several writers were tried:
//! on two cores they spent more CPU per report and lowered the rate at 8
//! and 32 clients.)

use civicgrid_runtime::error::Outcomes as _;
use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use civicgrid_messaging::NewEvent;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::crypto::{DataKey, mask_contact};
use civicgrid_runtime::status::FieldViolations;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_report;
use crate::domain::directory::{Category, FieldProblem};
use crate::domain::report::Report;
use crate::domain::task::DeadlineRules;
use crate::domain::task::{HistoryEntry, Lifecycle, Task, TaskId, TaskState};
use crate::events::publish;
use crate::store::lookups::{Lookups, Source};
use crate::store::tasks::{self, NewTask};

/// Most reports in one transaction.
const MAX_BATCH: usize = 128;

/// A parsed ReportTask request.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// What was reported.
    pub report: Report,
    /// Idempotency key: a retry with the same key stores nothing new.
    pub request_id: Option<Uuid>,
}

/// The ReportTask use case: validation against the directory and the
/// caller's scope, then the process's single group-committing writer.
#[derive(Clone)]
pub struct ReportTask {
    pool: PgPool,
    lookups: Arc<Lookups>,
    key: DataKey,
    writer: ReportWriter,
}

impl ReportTask {
    /// Starts the writer on `pool`; contacts are sealed with `key`. The
    /// writer stops when the last clone is dropped.
    pub fn start(pool: PgPool, lookups: Arc<Lookups>, key: DataKey) -> ReportTask {
        ReportTask {
            writer: ReportWriter::start(pool.clone()),
            pool,
            lookups,
            key,
        }
    }

    /// Stores the report (task, history entry and event commit together)
    /// and returns the task. A retried report (same request id) stores
    /// nothing and returns the first task.
    #[tracing::instrument(skip_all, fields(cell = %input.report.cell))]
    pub async fn report(
        &self,
        caller: &Caller,
        input: ReportRequest,
    ) -> Result<Task, CommandError> {
        let prepared = self.prepare(caller, input).await?;
        self.writer.write(prepared).await
    }

    /// Validates a report and builds the task, its first history entry and
    /// its event. Reads only, and only on a cache miss; writes nothing.
    async fn prepare(
        &self,
        caller: &Caller,
        ReportRequest { report, request_id }: ReportRequest,
    ) -> Result<PreparedReport, CommandError> {
        let (pool, lookups) = (&self.pool, &self.lookups);
        if !may_report(caller) {
            return Err(CommandError::permission_denied(
                "your roles do not allow reporting tasks",
            ));
        }
        let scope = lookups.task_scope(Source::Pool(pool), caller).await?;
        let cell_path = lookups
            .cell_path(Source::Pool(pool), report.cell.as_str())
            .await?
            .ok_or_else(|| {
                CommandError::precondition(format!("cells/{} does not exist", report.cell))
            })?;
        if !scope.sees_cell(&cell_path) {
            return Err(CommandError::permission_denied(format!(
                "cells/{} is outside your scope",
                report.cell
            )));
        }
        let category = lookups
            .category(Source::Pool(pool), report.category.as_str())
            .await?
            .ok_or_else(|| {
                CommandError::precondition(format!(
                    "{} does not exist",
                    report.category.resource_name()
                ))
            })?;
        check_fields(&category, &report, "task")?;
        let rules = lookups
            .deadline_rules(Source::Pool(pool), report.category.as_str(), report.urgency)
            .await?;

        let (task, entry) = reported(
            TaskId::new(),
            &report,
            cell_path,
            now(),
            &rules,
            &caller.subject,
        );
        let causation = request_id.map(|id| id.to_string()).unwrap_or_default();
        // Made here, inside the request's span, so the event carries its trace.
        let event = publish::task_changed(&task, &entry, &caller.subject, &causation);
        let sealed_contact = report
            .reporter_contact
            .as_deref()
            .map(|contact| self.key.seal(contact));
        Ok(PreparedReport {
            new_task: NewTask {
                task,
                sealed_contact,
                request_id,
                actor: caller.subject.clone(),
            },
            event,
        })
    }
}

/// The task `report` makes when reported at `at` by `actor`, and its first
/// history entry (ImportTasks makes them the same way, at historical times).
pub(crate) fn reported(
    id: TaskId,
    report: &Report,
    cell_path: String,
    at: DateTime<Utc>,
    rules: &dyn DeadlineRules,
    actor: &str,
) -> (Task, HistoryEntry) {
    let task = Task {
        id,
        cell: report.cell.clone(),
        cell_path,
        category: report.category.clone(),
        urgency: report.urgency,
        channel: report.channel,
        description: report.description.as_str().to_owned(),
        attachments: report.attachments.clone(),
        fields: report.fields.clone(),
        reporter_contact_masked: report
            .reporter_contact
            .as_deref()
            .map(mask_contact)
            .unwrap_or_default(),
        lifecycle: Lifecycle::reported(at, rules),
        create_time: at,
        update_time: at,
        imported: false,
    };
    let entry = HistoryEntry {
        sequence: 1,
        action: "reported".to_owned(),
        from_state: None,
        to_state: TaskState::Reported,
        actor: actor.to_owned(),
        department: None,
        reason: None,
        time: at,
    };
    (task, entry)
}

/// The report's extra fields against its category's: each missing or
/// unknown one a violation at `<prefix>.fields[key]`.
pub(crate) fn check_fields(
    category: &Category,
    report: &Report,
    prefix: &str,
) -> Result<(), CommandError> {
    let problems =
        category.field_problems(report.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if problems.is_empty() {
        return Ok(());
    }
    let mut violations = FieldViolations::new();
    for problem in problems {
        match problem {
            FieldProblem::Missing(key) => violations.add(
                format!("{prefix}.fields[{key}]"),
                "is required by the category",
            ),
            FieldProblem::Unknown(key) => violations.add(
                format!("{prefix}.fields[{key}]"),
                "is not a field of the category",
            ),
        }
    }
    Err(CommandError::invalid(violations))
}

/// A validated report, ready to store, with its `grid.task.reported` event.
struct PreparedReport {
    new_task: NewTask,
    event: NewEvent,
}

struct Job {
    report: PreparedReport,
    reply: oneshot::Sender<Result<bool, CommandError>>,
}

/// The process's single report writer.
#[derive(Clone)]
struct ReportWriter {
    pool: PgPool,
    jobs: mpsc::Sender<Job>,
}

impl ReportWriter {
    /// Starts the writer; it stops when the last handle is dropped.
    fn start(pool: PgPool) -> ReportWriter {
        let (jobs, receiver) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_forever(pool.clone(), receiver));
        ReportWriter { pool, jobs }
    }

    /// Stores the report (task, history entry and event commit together).
    /// A retried report (same request id) stores nothing and returns the
    /// first task.
    async fn write(&self, report: PreparedReport) -> Result<Task, CommandError> {
        let task = report.new_task.task.clone();
        let request_id = report.new_task.request_id;
        let (reply, answer) = oneshot::channel();
        let closed = || CommandError::unavailable("the service is shutting down; retry");
        self.jobs
            .send(Job { report, reply })
            .await
            .map_err(|_| closed())?;
        if answer.await.map_err(|_| closed())?? {
            return Ok(task);
        }
        let existing = match request_id {
            Some(request_id) => tasks::get_by_request(&self.pool, request_id).await?,
            None => None,
        };
        existing.ok_or_else(|| {
            CommandError::aborted(
                "the first try of this report is still being stored; retry".to_owned(),
            )
        })
    }
}

/// Takes whatever reports are waiting (at least one), writes them in one
/// transaction, answers each; if that transaction fails, writes them one
/// by one so each caller gets its own outcome.
async fn write_forever(pool: PgPool, mut receiver: mpsc::Receiver<Job>) {
    while let Some(first) = receiver.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let reports: Vec<&PreparedReport> = jobs.iter().map(|job| &job.report).collect();
        match write_batch(&pool, &reports).await {
            Ok(inserted) => {
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Ok(inserted.contains(&job.report.new_task.task.id.uuid())));
                }
            }
            Err(error) => {
                tracing::warn!(%error, reports = jobs.len(), "report batch failed; writing one by one");
                for job in jobs {
                    let outcome = write_batch(&pool, &[&job.report]).await;
                    let _ = job.reply.send(
                        outcome
                            .map(|inserted| inserted.contains(&job.report.new_task.task.id.uuid()))
                            .map_err(CommandError::from),
                    );
                }
            }
        }
    }
}

async fn write_batch(pool: &PgPool, reports: &[&PreparedReport]) -> sqlx::Result<HashSet<Uuid>> {
    let tasks: Vec<&NewTask> = reports.iter().map(|r| &r.new_task).collect();
    let events: Vec<&NewEvent> = reports.iter().map(|r| &r.event).collect();
    Ok(tasks::insert_reported(pool, &tasks, &events)
        .await?
        .into_iter()
        .collect())
}
