//! An ImportTasksRequest into historical tasks: each task and step parsed
//! as ReportTask and TransitionTask parse theirs, with every violation
//! placed under its task and step (`tasks[3].steps[1].transition.reason`).

use chrono::{DateTime, Utc};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::status::{FieldViolations, field_violations};
use tonic::Status;

use super::{report, task_id, transition};
use crate::commands::import_tasks::{HistoricalStep, HistoricalTask, MAX_TASKS};

/// Stands in for the task's name when a step is parsed as a transition.
const PLACEHOLDER_NAME: &str = "tasks/00000000-0000-0000-0000-000000000000";

/// Most steps per task: far more than any real task's life.
const MAX_STEPS: usize = 200;

/// Parses the whole request, or names every bad field of every task.
pub fn import_tasks(
    request: &pb::ImportTasksRequest,
    caller: &Caller,
) -> Result<Vec<HistoricalTask>, Status> {
    let mut violations = FieldViolations::new();
    if request.tasks.is_empty() {
        violations.add("tasks", "name at least one task");
    }
    if request.tasks.len() > MAX_TASKS {
        violations.add("tasks", format!("at most {MAX_TASKS} tasks per request"));
    }
    if !violations.is_empty() {
        return Err(violations.into_status());
    }
    let now = Utc::now();
    let mut parsed = Vec::with_capacity(request.tasks.len());
    for (index, task) in request.tasks.iter().enumerate() {
        if let Some(task) = historical(
            task,
            &format!("tasks[{index}]"),
            caller,
            now,
            &mut violations,
        ) {
            parsed.push(task);
        }
    }
    violations.check(parsed)
}

fn historical(
    input: &pb::HistoricalTask,
    at: &str,
    caller: &Caller,
    now: DateTime<Utc>,
    violations: &mut FieldViolations,
) -> Option<HistoricalTask> {
    let id = task_id(&input.name);
    if id.is_none() {
        violations.add(format!("{at}.name"), "must be a task name `tasks/{uuid}`");
    }
    let contact = input
        .task
        .as_ref()
        .map(|t| t.reporter_contact.clone())
        .unwrap_or_default();
    let reported = nested(
        report(&pb::ReportTaskRequest {
            task: input.task.clone(),
            reporter_contact: contact,
            request_id: String::new(),
        }),
        at,
        violations,
    );
    let reported_at = time(
        input.report_time.as_ref(),
        None,
        now,
        &format!("{at}.report_time"),
        violations,
    );
    let reporter = input.reporter.trim().to_owned();
    if reporter.is_empty() || reporter.chars().count() > 200 {
        violations.add(
            format!("{at}.reporter"),
            "is required (at most 200 characters)",
        );
    }
    if input.steps.len() > MAX_STEPS {
        violations.add(
            format!("{at}.steps"),
            format!("at most {MAX_STEPS} steps per task"),
        );
    }
    let mut steps = Vec::with_capacity(input.steps.len());
    let mut previous = reported_at;
    for (index, step) in input.steps.iter().enumerate() {
        let at = format!("{at}.steps[{index}]");
        let step_time = time(
            step.time.as_ref(),
            previous,
            now,
            &format!("{at}.time"),
            violations,
        );
        let actor = step.actor.trim().to_owned();
        if actor.is_empty() || actor.chars().count() > 200 {
            violations.add(
                format!("{at}.actor"),
                "is required (at most 200 characters)",
            );
        }
        let action = match &step.transition {
            None => {
                violations.add(format!("{at}.transition"), "is required");
                None
            }
            Some(transition_request) => {
                // Name and etag belong to a live call (the task's own name
                // is checked above, once); the import knows both.
                let request = pb::TransitionTaskRequest {
                    name: PLACEHOLDER_NAME.to_owned(),
                    etag: "\"0\"".to_owned(),
                    ..transition_request.clone()
                };
                nested(
                    transition(&request, caller),
                    &format!("{at}.transition"),
                    violations,
                )
                .map(|t| t.action)
            }
        };
        if let (Some(step_time), Some(action)) = (step_time, action) {
            steps.push(HistoricalStep {
                at: step_time,
                actor,
                action,
            });
        }
        previous = step_time.or(previous);
    }
    let complete = steps.len() == input.steps.len();
    match (id, reported, reported_at) {
        (Some(id), Some(reported), Some(reported_at)) if complete => Some(HistoricalTask {
            id,
            report: reported.report,
            reported_at,
            reporter,
            steps,
        }),
        _ => None,
    }
}

/// A required time, at or after `not_before`, not after `now`, at the
/// microsecond precision PostgreSQL stores (so events and reads agree).
fn time(
    at: Option<&prost_types::Timestamp>,
    not_before: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<DateTime<Utc>> {
    let Some(at) = at else {
        violations.add(field, "is required");
        return None;
    };
    let parsed = u32::try_from(at.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(at.seconds, nanos / 1000 * 1000));
    match parsed {
        None => {
            violations.add(field, "is not a valid time");
            None
        }
        Some(t) if t > now => {
            violations.add(field, "must not be in the future");
            None
        }
        Some(t) if not_before.is_some_and(|before| t < before) => {
            violations.add(field, "must not be before the previous step");
            None
        }
        Some(t) => Some(t),
    }
}

/// The value of a nested parse, or its violations moved under `at`.
fn nested<T>(parsed: Result<T, Status>, at: &str, violations: &mut FieldViolations) -> Option<T> {
    match parsed {
        Ok(value) => Some(value),
        Err(status) => {
            let inner = field_violations(&status);
            if inner.is_empty() {
                violations.add(at, status.message());
            }
            for (field, description) in inner {
                violations.add(format!("{at}.{field}"), description);
            }
            None
        }
    }
}
