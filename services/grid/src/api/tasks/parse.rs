//! Task requests into command inputs and filters, once, with every field
//! violation named.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use civicgrid_cell_tree::row::from_timestamp;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::transition_task_request::Action as PbAction;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

mod import;

pub use import::import_tasks;

use crate::commands::report_task::ReportRequest;
use crate::commands::transition_task::TransitionTask;
use crate::domain::cell::CellId;
use crate::domain::directory::{CategoryId, DepartmentId, Urgency};
use crate::domain::report::{
    Channel, Description, MAX_ATTACHMENTS, MAX_CONTACT_CHARS, Report, attachment_problem,
};
use crate::domain::task::{Action, RejectionKind, TaskId, TaskState};

/// `tasks/{uuid}`, or `None`.
pub fn task_id(name: &str) -> Option<TaskId> {
    TaskId::parse_name(name)
}

/// A task name in `field`; INVALID_ARGUMENT otherwise.
pub fn task_name(name: &str, field: &str) -> Result<TaskId, Status> {
    task_id(name).ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(field, "must be a task name `tasks/{uuid}`");
        violations.into_status()
    })
}

pub fn encode_key(time: DateTime<Utc>, id: Uuid) -> String {
    format!("{}|{id}", time.timestamp_micros())
}

pub fn decode_key(key: &str, violations: &mut FieldViolations) -> Option<(DateTime<Utc>, Uuid)> {
    let parsed = key.split_once('|').and_then(|(micros, id)| {
        Some((
            DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            Uuid::parse_str(id).ok()?,
        ))
    });
    if parsed.is_none() {
        violations.add("page_token", "is not a token this service issued");
    }
    parsed
}

pub fn optional_cell(name: &str, field: &str, violations: &mut FieldViolations) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    let id = CellId::parse_name(name).map(|c| c.as_str().to_owned());
    if id.is_none() {
        violations.add(field, "must be empty or a cell name `cells/{cell_id}`");
    }
    id
}

pub fn optional_department(
    name: &str,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    let id = DepartmentId::parse_name(name).map(|d| d.as_str().to_owned());
    if id.is_none() {
        violations.add(
            field,
            "must be a department name `departments/{department_id}`",
        );
    }
    id
}

/// A ReportTaskRequest into a command input.
pub fn report(request: &pb::ReportTaskRequest) -> Result<ReportRequest, Status> {
    let mut violations = FieldViolations::new();
    let request_id = match request.request_id.as_str() {
        "" => None,
        text => {
            let id = Uuid::parse_str(text).ok();
            if id.is_none() {
                violations.add("request_id", "must be a UUID");
            }
            id
        }
    };
    let contact = request.reporter_contact.trim();
    if contact.chars().count() > MAX_CONTACT_CHARS || contact.chars().any(char::is_control) {
        violations.add(
            "reporter_contact",
            "must be at most 100 characters without control characters",
        );
    }
    let Some(task) = request.task.as_ref() else {
        violations.add("task", "is required");
        return Err(violations.into_status());
    };
    let cell = CellId::parse_name(&task.cell);
    if cell.is_none() {
        violations.add("task.cell", "must be a cell name `cells/{cell_id}`");
    }
    let category = CategoryId::parse_name(&task.category);
    if category.is_none() {
        violations.add(
            "task.category",
            "must be a category name `categories/{category_id}`",
        );
    }
    let urgency = Urgency::from_number(task.urgency);
    if urgency.is_none() {
        violations.add("task.urgency", "must be LOW, NORMAL, URGENT or EMERGENCY");
    }
    let channel = Channel::from_number(task.channel);
    if channel.is_none() {
        violations.add(
            "task.channel",
            "must be GRID_PATROL, RESIDENT, HOTLINE or SERVICE_CENTRE",
        );
    }
    let description = Description::parse(&task.description)
        .map_err(|why| violations.add("task.description", why))
        .ok();
    if task.attachments.len() > MAX_ATTACHMENTS {
        violations.add("task.attachments", "at most 20 attachments");
    }
    for (index, attachment) in task.attachments.iter().enumerate() {
        if let Some(problem) = attachment_problem(attachment) {
            violations.add(format!("task.attachments[{index}]"), problem);
        }
    }
    let fields: BTreeMap<String, String> = task
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    for (key, value) in &fields {
        if value.chars().count() > 500 {
            violations.add(
                format!("task.fields[{key}]"),
                "must be at most 500 characters",
            );
        }
    }
    match (cell, category, urgency, channel, description) {
        (Some(cell), Some(category), Some(urgency), Some(channel), Some(description))
            if violations.is_empty() =>
        {
            Ok(ReportRequest {
                report: Report {
                    cell,
                    category,
                    urgency,
                    channel,
                    description,
                    attachments: task.attachments.clone(),
                    fields,
                    reporter_contact: (!contact.is_empty()).then(|| contact.to_owned()),
                },
                request_id,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// A TransitionTaskRequest into a command input. A department operator may
/// leave `department` empty to act for their own.
pub fn transition(
    request: &pb::TransitionTaskRequest,
    caller: &Caller,
) -> Result<TransitionTask, Status> {
    let mut violations = FieldViolations::new();
    let id = task_id(&request.name);
    if id.is_none() {
        violations.add("name", "must be a task name `tasks/{uuid}`");
    }
    let expected_version = request.etag.trim_matches('"').parse::<i64>().ok();
    if expected_version.is_none() {
        violations.add("etag", "is required: the etag of the task as you read it");
    }
    let reason = request.reason.trim().to_owned();
    let mut department = |name: &str, field: &str| -> String {
        if name.is_empty()
            && let Some(own) = &caller.department
        {
            return own.clone();
        }
        match DepartmentId::parse_name(name) {
            Some(id) => id.as_str().to_owned(),
            None => {
                violations.add(
                    field,
                    "must be a department name `departments/{department_id}`",
                );
                String::new()
            }
        }
    };
    let action = match &request.action {
        None => None,
        Some(PbAction::Accept(_)) => Some(Action::Accept),
        Some(PbAction::Start(_)) => Some(Action::Start),
        Some(PbAction::ResolveByGrid(_)) => Some(Action::ResolveByGrid),
        Some(PbAction::Whistle(w)) => {
            let lead = department(&w.lead, "whistle.lead");
            let assisting = w
                .assisting
                .iter()
                .enumerate()
                .map(|(i, d)| department(d, &format!("whistle.assisting[{i}]")))
                .collect();
            Some(Action::Whistle { lead, assisting })
        }
        Some(PbAction::CheckIn(a)) => Some(Action::CheckIn {
            department: department(&a.department, "check_in.department"),
        }),
        Some(PbAction::ResolvePart(a)) => Some(Action::ResolvePart {
            department: department(&a.department, "resolve_part.department"),
        }),
        Some(PbAction::Return(a)) => Some(Action::Return {
            department: department(&a.department, "return.department"),
            reason: reason.clone(),
        }),
        Some(PbAction::Release(a)) => Some(Action::Release {
            department: department(&a.department, "release.department"),
        }),
        Some(PbAction::Rate(r)) => Some(Action::Rate {
            satisfied: r.satisfied,
            reason: reason.clone(),
        }),
        Some(PbAction::RequestExtension(r)) => {
            let department = department(&r.department, "request_extension.department");
            match r.until.as_ref() {
                Some(until) => Some(Action::RequestExtension {
                    department,
                    until: from_timestamp(Some(until)),
                    reason: reason.clone(),
                }),
                None => {
                    violations.add("request_extension.until", "is required");
                    None
                }
            }
        }
        Some(PbAction::DecideExtension(d)) => Some(Action::DecideExtension {
            department: department(&d.department, "decide_extension.department"),
            grant: d.grant,
            reason: reason.clone(),
        }),
        Some(PbAction::Reject(r)) => {
            let kind = match pb::RejectionKind::try_from(r.kind) {
                Ok(pb::RejectionKind::Invalid) => Some(RejectionKind::Invalid),
                Ok(pb::RejectionKind::OutsideJurisdiction) => {
                    Some(RejectionKind::OutsideJurisdiction)
                }
                _ => {
                    violations.add("reject.kind", "must be INVALID or OUTSIDE_JURISDICTION");
                    None
                }
            };
            kind.map(|kind| Action::Reject {
                kind,
                reason: reason.clone(),
            })
        }
        Some(PbAction::MergeAsDuplicate(m)) => match task_id(&m.duplicate_of) {
            Some(original) => Some(Action::MergeAsDuplicate {
                duplicate_of: original.to_string(),
            }),
            None => {
                violations.add(
                    "merge_as_duplicate.duplicate_of",
                    "must be a task name `tasks/{uuid}`",
                );
                None
            }
        },
    };
    if request.action.is_none() {
        violations.add("action", "name one action");
    }
    let needs_reason = matches!(
        &request.action,
        Some(PbAction::Return(_) | PbAction::Reject(_) | PbAction::RequestExtension(_))
    ) || matches!(&request.action, Some(PbAction::Rate(r)) if !r.satisfied)
        || matches!(&request.action, Some(PbAction::DecideExtension(d)) if !d.grant);
    if needs_reason && reason.is_empty() {
        violations.add("reason", "is required for this action");
    }
    if reason.chars().count() > 1000 {
        violations.add("reason", "must be at most 1,000 characters");
    }
    match (id, expected_version, action) {
        (Some(id), Some(expected_version), Some(action)) if violations.is_empty() => {
            Ok(TransitionTask {
                id,
                expected_version,
                action,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// The filters of a ListTasks or GetTaskStatistics request, parsed. The
/// handler adds what needs the database: the caller's scope and the
/// ancestor's path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    /// Only under this cell (its id).
    pub ancestor: Option<String>,
    /// Only in this state.
    pub state: Option<TaskState>,
    /// Only assigned to this department (its id).
    pub department: Option<String>,
    /// Only of this category (its id).
    pub category: Option<String>,
    /// Only overdue tasks.
    pub overdue: bool,
    /// Reported at or after.
    pub reported_after: Option<DateTime<Utc>>,
    /// Reported before.
    pub reported_before: Option<DateTime<Utc>>,
}

/// Which page of a list a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<K> {
    /// Items on the page.
    pub size: usize,
    /// The request's other fields, which a page token is bound to.
    pub fingerprint: String,
    /// The sort key to continue after; `None` for the first page.
    pub after: Option<K>,
}

/// The sort key of a task list: (create_time, id).
pub type TaskKey = (DateTime<Utc>, Uuid);

/// A ListTasksRequest, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListTasks {
    /// Its filters.
    pub query: TaskQuery,
    /// Its page.
    pub page: PageRequest<TaskKey>,
}

/// A ListTasksRequest into filters and a page, naming every bad field.
pub fn list_tasks(body: &pb::ListTasksRequest) -> Result<ListTasks, Status> {
    let mut violations = FieldViolations::new();
    let ancestor = optional_cell(&body.ancestor, "ancestor", &mut violations);
    let state = match body.state {
        0 => None,
        n => {
            let state = TaskState::from_number(n);
            if state.is_none() {
                violations.add("state", "is not a TaskState");
            }
            state
        }
    };
    let department = optional_department(&body.department, "department", &mut violations);
    let category = match body.category.as_str() {
        "" => None,
        name => {
            let id = CategoryId::parse_name(name).map(|c| c.as_str().to_owned());
            if id.is_none() {
                violations.add("category", "must be `categories/{category_id}`");
            }
            id
        }
    };
    let size = paging::page_size(body.page_size, &mut violations);
    let fingerprint = format!(
        "{:?}",
        (
            &body.ancestor,
            body.state,
            &body.department,
            &body.category,
            body.overdue,
            &body.reported_after,
            &body.reported_before
        )
    );
    let after = paging::decode(&body.page_token, &fingerprint, &mut violations)
        .and_then(|key| decode_key(&key, &mut violations));
    violations.check(ListTasks {
        query: TaskQuery {
            ancestor,
            state,
            department,
            category,
            overdue: body.overdue,
            reported_after: body
                .reported_after
                .as_ref()
                .map(|t| from_timestamp(Some(t))),
            reported_before: body
                .reported_before
                .as_ref()
                .map(|t| from_timestamp(Some(t))),
        },
        page: PageRequest {
            size,
            fingerprint,
            after,
        },
    })
}

/// A ListWorkQueueRequest into its page.
pub fn work_queue(body: &pb::ListWorkQueueRequest) -> Result<PageRequest<TaskKey>, Status> {
    let mut violations = FieldViolations::new();
    let size = paging::page_size(body.page_size, &mut violations);
    let fingerprint = "work-queue".to_owned();
    let after = paging::decode(&body.page_token, &fingerprint, &mut violations)
        .and_then(|key| decode_key(&key, &mut violations));
    violations.check(PageRequest {
        size,
        fingerprint,
        after,
    })
}

/// A GetTaskStatisticsRequest into the filters it counts over.
pub fn statistics(body: &pb::GetTaskStatisticsRequest) -> Result<TaskQuery, Status> {
    let mut violations = FieldViolations::new();
    let ancestor = optional_cell(&body.ancestor, "ancestor", &mut violations);
    let department = optional_department(&body.department, "department", &mut violations);
    violations.check(TaskQuery {
        ancestor,
        department,
        reported_after: body
            .reported_after
            .as_ref()
            .map(|t| from_timestamp(Some(t))),
        reported_before: body
            .reported_before
            .as_ref()
            .map(|t| from_timestamp(Some(t))),
        ..TaskQuery::default()
    })
}

/// A ListSupervisionOrdersRequest, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionOrders {
    /// Only the orders of this task.
    pub task: Option<Uuid>,
    /// Only the orders to this department (its id).
    pub department: Option<String>,
    /// Only orders not yet answered.
    pub open_only: bool,
    /// Its page, continuing after an order id.
    pub page: PageRequest<Uuid>,
}

/// A ListSupervisionOrdersRequest into filters and a page.
pub fn supervision_orders(
    body: &pb::ListSupervisionOrdersRequest,
) -> Result<SupervisionOrders, Status> {
    let mut violations = FieldViolations::new();
    let task = match body.parent.as_str() {
        "" => None,
        name => {
            let id = task_id(name).map(TaskId::uuid);
            if id.is_none() {
                violations.add("parent", "must be empty or a task name `tasks/{uuid}`");
            }
            id
        }
    };
    let department = optional_department(&body.department, "department", &mut violations);
    let size = paging::page_size(body.page_size, &mut violations);
    let fingerprint = format!("{}|{}|{}", body.parent, body.department, body.open_only);
    let after = paging::decode(&body.page_token, &fingerprint, &mut violations).and_then(|key| {
        let id = Uuid::parse_str(&key).ok();
        if id.is_none() {
            violations.add("page_token", "is not a token this service issued");
        }
        id
    });
    violations.check(SupervisionOrders {
        task,
        department,
        open_only: body.open_only,
        page: PageRequest {
            size,
            fingerprint,
            after,
        },
    })
}

#[cfg(test)]
mod tests;
