//! `civicgrid.grid.v1.TaskService`: parse once, run the command, answer.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use civicgrid_cell_tree::row::from_timestamp;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::task_service_server::TaskService;
use civicgrid_proto::grid::v1::transition_task_request::Action as PbAction;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::crypto::DataKey;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::commands::report_task::{ReportWriter, prepare_report};
use crate::commands::transition_task::{TransitionTask, transition_task};
use crate::convert;
use crate::domain::access::TaskScope;
use crate::domain::cell::CellId;
use crate::domain::directory::{CategoryId, DepartmentId, Urgency};
use crate::domain::report::{
    Channel, Description, MAX_ATTACHMENTS, MAX_CONTACT_CHARS, Report, attachment_problem,
};
use crate::domain::task::{Action, RejectionKind, TaskState};
use crate::store::lookups::Lookups;
use crate::store::tasks::TaskFilter;
use crate::store::{supervision, tasks};

/// Implements `civicgrid.grid.v1.TaskService`.
pub struct TaskApi {
    pool: PgPool,
    lookups: Arc<Lookups>,
    key: DataKey,
    writer: ReportWriter,
}

impl TaskApi {
    /// The API over the grid's database, sealing contacts with `key`.
    pub fn new(pool: PgPool, lookups: Arc<Lookups>, key: DataKey) -> Self {
        TaskApi {
            writer: ReportWriter::start(pool.clone()),
            pool,
            lookups,
            key,
        }
    }

    /// What `caller` sees of the tasks: grid workers' duties come from the
    /// staff assignments valid now.
    async fn scope(&self, caller: &Caller) -> Result<TaskScope, Status> {
        let duty_cells = if caller.has_role(Role::GridWorker) {
            self.lookups
                .duty_cells(&self.pool, &caller.subject)
                .await
                .map_err(status::database)?
        } else {
            Vec::new()
        };
        Ok(TaskScope::of(caller, duty_cells))
    }

    /// The task `name` if the caller sees it; NOT_FOUND otherwise.
    async fn visible_task(
        &self,
        name: &str,
        field: &str,
        scope: &TaskScope,
    ) -> Result<tasks::TaskRow, Status> {
        let id = parse_task_name(name).ok_or_else(|| {
            let mut violations = FieldViolations::new();
            violations.add(field, "must be a task name `tasks/{uuid}`");
            violations.into_status()
        })?;
        let mut conn = self.pool.acquire().await.map_err(status::database)?;
        tasks::get(&mut conn, id)
            .await
            .map_err(status::database)?
            .filter(|t| scope.sees(&t.cell_path, &t.departments()))
            .ok_or_else(|| Status::not_found(format!("{name} not found")))
    }
}

#[tonic::async_trait]
impl TaskService for TaskApi {
    async fn report_task(
        &self,
        request: Request<pb::ReportTaskRequest>,
    ) -> Result<Response<pb::ReportTaskResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let (report, request_id) = parse_report(request.get_ref())?;
        let scope = self.scope(&caller).await?;
        let prepared = prepare_report(
            &self.pool,
            &self.lookups,
            &self.key,
            &caller,
            &scope,
            report,
            request_id,
        )
        .await?;
        let task = self.writer.write(prepared).await?;
        Ok(Response::new(pb::ReportTaskResponse {
            task: Some(convert::task(&task)),
        }))
    }

    async fn get_task(
        &self,
        request: Request<pb::GetTaskRequest>,
    ) -> Result<Response<pb::GetTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        let scope = self.scope(caller).await?;
        let task = self
            .visible_task(&request.get_ref().name, "name", &scope)
            .await?;
        let history = tasks::history(&self.pool, task.id)
            .await
            .map_err(status::database)?;
        Ok(Response::new(pb::GetTaskResponse {
            task: Some(convert::task(&task)),
            history: history.iter().map(convert::history).collect(),
        }))
    }

    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.get_ref();
        let mut violations = FieldViolations::new();
        let ancestor = optional_cell(&body.ancestor, "ancestor", &mut violations);
        let state = match body.state {
            0 => None,
            n => {
                let state = TaskState::from_number(n).map(TaskState::number);
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
        let limit = paging::page_size(body.page_size, &mut violations);
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
            .map(|key| decode_key(&key, &mut violations));
        violations.check(())?;
        let scope = self.scope(caller).await?;
        let filter = TaskFilter {
            scope,
            ancestor_path: self.cell_path(ancestor.as_deref()).await?,
            state,
            department,
            category,
            overdue_at: body.overdue.then(Utc::now),
            reported_after: body
                .reported_after
                .as_ref()
                .map(|t| from_timestamp(Some(t))),
            reported_before: body
                .reported_before
                .as_ref()
                .map(|t| from_timestamp(Some(t))),
            open_only: false,
            after: after.flatten(),
            limit: limit as i64 + 1,
        };
        let (tasks, next_page_token) = self.page(&filter, limit, &fingerprint).await?;
        Ok(Response::new(pb::ListTasksResponse {
            tasks,
            next_page_token,
        }))
    }

    async fn list_work_queue(
        &self,
        request: Request<pb::ListWorkQueueRequest>,
    ) -> Result<Response<pb::ListWorkQueueResponse>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.get_ref();
        let mut violations = FieldViolations::new();
        let limit = paging::page_size(body.page_size, &mut violations);
        let fingerprint = "work-queue";
        let after = paging::decode(&body.page_token, fingerprint, &mut violations)
            .map(|key| decode_key(&key, &mut violations));
        violations.check(())?;
        let scope = self.scope(caller).await?;
        // A department operator's queue is their department's open tasks.
        let department = caller
            .has_role(Role::DepartmentOperator)
            .then(|| caller.department.clone())
            .flatten();
        let filter = TaskFilter {
            scope,
            department,
            open_only: true,
            after: after.flatten(),
            limit: limit as i64 + 1,
            ..Default::default()
        };
        let (tasks, next_page_token) = self.page(&filter, limit, fingerprint).await?;
        Ok(Response::new(pb::ListWorkQueueResponse {
            tasks,
            next_page_token,
        }))
    }

    async fn suggest_duplicates(
        &self,
        request: Request<pb::SuggestDuplicatesRequest>,
    ) -> Result<Response<pb::SuggestDuplicatesResponse>, Status> {
        let caller = Caller::of(&request)?;
        let scope = self.scope(caller).await?;
        let task = self
            .visible_task(&request.get_ref().task, "task", &scope)
            .await?;
        // Neighbouring cells: everything under the task's cell's parent.
        let neighbourhood = parent_path(&task.cell_path);
        let candidates = tasks::likely_duplicates(&self.pool, &task, &neighbourhood, 10)
            .await
            .map_err(status::database)?;
        let candidates = candidates
            .iter()
            .filter(|t| scope.sees(&t.cell_path, &t.departments()))
            .map(convert::task)
            .collect();
        Ok(Response::new(pb::SuggestDuplicatesResponse { candidates }))
    }

    async fn transition_task(
        &self,
        request: Request<pb::TransitionTaskRequest>,
    ) -> Result<Response<pb::TransitionTaskResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let input = parse_transition(request.get_ref(), &caller)?;
        let scope = self.scope(&caller).await?;
        let task = transition_task(&self.pool, &self.lookups, &caller, &scope, input).await?;
        Ok(Response::new(pb::TransitionTaskResponse {
            task: Some(convert::task(&task)),
        }))
    }

    async fn get_task_statistics(
        &self,
        request: Request<pb::GetTaskStatisticsRequest>,
    ) -> Result<Response<pb::GetTaskStatisticsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.get_ref();
        let mut violations = FieldViolations::new();
        let ancestor = optional_cell(&body.ancestor, "ancestor", &mut violations);
        let department = optional_department(&body.department, "department", &mut violations);
        violations.check(())?;
        let filter = TaskFilter {
            scope: self.scope(caller).await?,
            ancestor_path: self.cell_path(ancestor.as_deref()).await?,
            department,
            reported_after: body
                .reported_after
                .as_ref()
                .map(|t| from_timestamp(Some(t))),
            reported_before: body
                .reported_before
                .as_ref()
                .map(|t| from_timestamp(Some(t))),
            ..Default::default()
        };
        let stats = tasks::statistics(&self.pool, &filter)
            .await
            .map_err(status::database)?;
        Ok(Response::new(pb::GetTaskStatisticsResponse {
            task_count: stats.task_count,
            response_rate: stats.response_rate,
            resolution_rate: stats.resolution_rate,
            satisfaction_rate: stats.satisfaction_rate,
            return_rate: stats.return_rate,
            reopen_rate: stats.reopen_rate,
        }))
    }

    async fn list_supervision_orders(
        &self,
        request: Request<pb::ListSupervisionOrdersRequest>,
    ) -> Result<Response<pb::ListSupervisionOrdersResponse>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.get_ref();
        let mut violations = FieldViolations::new();
        let task_id = match body.parent.as_str() {
            "" => None,
            name => {
                let id = parse_task_name(name);
                if id.is_none() {
                    violations.add("parent", "must be empty or a task name `tasks/{uuid}`");
                }
                id
            }
        };
        let department = optional_department(&body.department, "department", &mut violations);
        let limit = paging::page_size(body.page_size, &mut violations);
        let fingerprint = format!("{}|{}|{}", body.parent, body.department, body.open_only);
        let after =
            paging::decode(&body.page_token, &fingerprint, &mut violations).and_then(|key| {
                let id = Uuid::parse_str(&key).ok();
                if id.is_none() {
                    violations.add("page_token", "is not a token this service issued");
                }
                id
            });
        violations.check(())?;
        let scope = self.scope(caller).await?;
        let mut orders = supervision::visible_orders(
            &self.pool,
            &scope,
            task_id,
            department.as_deref(),
            body.open_only,
            after,
            limit as i64 + 1,
        )
        .await
        .map_err(status::database)?;
        let next_page_token = if orders.len() > limit {
            orders.truncate(limit);
            orders
                .last()
                .map(|o| paging::encode(&o.id.to_string(), &fingerprint))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListSupervisionOrdersResponse {
            orders: orders.iter().map(convert::order).collect(),
            next_page_token,
        }))
    }
}

impl TaskApi {
    /// The path of `cell` for subtree filters; NOT_FOUND when it does not exist.
    async fn cell_path(&self, cell: Option<&str>) -> Result<Option<String>, Status> {
        let Some(cell) = cell else { return Ok(None) };
        let row = civicgrid_cell_tree::get(&self.pool, cell)
            .await
            .map_err(status::database)?;
        row.map(|r| Some(r.path))
            .ok_or_else(|| Status::not_found(format!("cells/{cell} not found")))
    }

    /// One page of tasks and the token of the next.
    async fn page(
        &self,
        filter: &TaskFilter,
        limit: usize,
        fingerprint: &str,
    ) -> Result<(Vec<pb::Task>, String), Status> {
        let mut rows = tasks::list(&self.pool, filter)
            .await
            .map_err(status::database)?;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last()
                .map(|t| paging::encode(&encode_key(t.create_time, t.id), fingerprint))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok((rows.iter().map(convert::task).collect(), next))
    }
}

fn parse_task_name(name: &str) -> Option<Uuid> {
    name.strip_prefix("tasks/")
        .and_then(|id| Uuid::parse_str(id).ok())
}

fn parent_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(cut) => trimmed[..=cut].to_owned(),
        None => "/".to_owned(),
    }
}

fn encode_key(time: DateTime<Utc>, id: Uuid) -> String {
    format!("{}|{id}", time.timestamp_micros())
}

fn decode_key(key: &str, violations: &mut FieldViolations) -> Option<(DateTime<Utc>, Uuid)> {
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

fn optional_cell(name: &str, field: &str, violations: &mut FieldViolations) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    let id = CellId::parse_name(name).map(|c| c.as_str().to_owned());
    if id.is_none() {
        violations.add(field, "must be empty or a cell name `cells/{cell_id}`");
    }
    id
}

fn optional_department(
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

/// A ReportTaskRequest into a report and its idempotency key.
fn parse_report(request: &pb::ReportTaskRequest) -> Result<(Report, Option<Uuid>), Status> {
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
            Ok((
                Report {
                    cell,
                    category: category.as_str().to_owned(),
                    urgency,
                    channel,
                    description,
                    attachments: task.attachments.clone(),
                    fields,
                    reporter_contact: (!contact.is_empty()).then(|| contact.to_owned()),
                },
                request_id,
            ))
        }
        _ => Err(violations.into_status()),
    }
}

/// A TransitionTaskRequest into a command input. A department operator may
/// leave `department` empty to act for their own.
fn parse_transition(
    request: &pb::TransitionTaskRequest,
    caller: &Caller,
) -> Result<TransitionTask, Status> {
    let mut violations = FieldViolations::new();
    let id = parse_task_name(&request.name);
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
        Some(PbAction::MergeAsDuplicate(m)) => match parse_task_name(&m.duplicate_of) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_neighbourhood_of_a_cell_is_its_parents_subtree() {
        assert_eq!(parent_path("/c/s1/m1/g1/"), "/c/s1/m1/");
        assert_eq!(parent_path("/c/"), "/");
    }
}
