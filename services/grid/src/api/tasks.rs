//! `civicgrid.grid.v1.TaskService`: parse once, run the command, answer.

pub mod parse;

use std::sync::Arc;

use chrono::Utc;
use civicgrid_cell_tree::row::from_timestamp;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::task_service_server::TaskService;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::crypto::DataKey;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use self::parse::{decode_key, encode_key, optional_cell, optional_department};
use crate::commands::report_task::ReportTask;
use crate::commands::transition_task::transition_task;
use crate::convert;
use crate::domain::access::TaskScope;
use crate::domain::directory::CategoryId;
use crate::domain::task::{Task, TaskId, TaskState};
use crate::store::lookups::{Lookups, Source};
use crate::store::tasks::TaskFilter;
use crate::store::{supervision, tasks};

/// Implements `civicgrid.grid.v1.TaskService`.
pub struct TaskApi {
    pool: PgPool,
    lookups: Arc<Lookups>,
    reports: ReportTask,
}

impl TaskApi {
    /// The API over the grid's database, sealing contacts with `key`.
    pub fn new(pool: PgPool, lookups: Arc<Lookups>, key: DataKey) -> Self {
        TaskApi {
            reports: ReportTask::start(pool.clone(), lookups.clone(), key),
            pool,
            lookups,
        }
    }

    /// What `caller` sees of the tasks.
    async fn scope(&self, caller: &Caller) -> Result<TaskScope, Status> {
        self.lookups
            .task_scope(Source::Pool(&self.pool), caller)
            .await
            .map_err(status::database)
    }

    /// The task `name` if the caller sees it; NOT_FOUND otherwise.
    async fn visible_task(
        &self,
        name: &str,
        field: &str,
        scope: &TaskScope,
    ) -> Result<Task, Status> {
        let id = parse::task_name(name, field)?;
        let mut conn = self.pool.acquire().await.map_err(status::database)?;
        Ok(tasks::get(&mut conn, id)
            .await
            .map_err(status::database)?
            .filter(|t| scope.sees(&t.cell_path, &t.departments()))
            .ok_or_else(|| UseCaseError::NotFound(name.to_owned()))?)
    }
}

#[tonic::async_trait]
impl TaskService for TaskApi {
    async fn report_task(
        &self,
        request: Request<pb::ReportTaskRequest>,
    ) -> Result<Response<pb::ReportTaskResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse::report(request.get_ref())?;
        let task = self.reports.report(caller, input).await?;
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
            limit: paging::limit(limit),
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
            limit: paging::limit(limit),
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
        let caller = Caller::of(&request)?;
        let input = parse::transition(request.get_ref(), caller)?;
        let task = transact(
            &self.pool,
            &(&*self.lookups, caller, input),
            |tx, (lookups, caller, input)| {
                Box::pin(transition_task(tx, lookups, caller, input.clone()))
            },
        )
        .await?;
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
                let id = parse::task_id(name).map(TaskId::uuid);
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
        let orders = supervision::visible_orders(
            &self.pool,
            &scope,
            task_id,
            department.as_deref(),
            body.open_only,
            after,
            paging::limit(limit),
        )
        .await
        .map_err(status::database)?;
        let (orders, next_page_token) =
            paging::paged(orders, limit, &fingerprint, |o| o.id.to_string());
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
        Ok(row
            .map(|r| Some(r.path))
            .ok_or_else(|| UseCaseError::NotFound(format!("cells/{cell}")))?)
    }

    /// One page of tasks and the token of the next.
    async fn page(
        &self,
        filter: &TaskFilter,
        limit: usize,
        fingerprint: &str,
    ) -> Result<(Vec<pb::Task>, String), Status> {
        let rows = tasks::list(&self.pool, filter)
            .await
            .map_err(status::database)?;
        let (rows, next) = paging::paged(rows, limit, fingerprint, |t| {
            encode_key(t.create_time, t.id.uuid())
        });
        Ok((rows.iter().map(convert::task).collect(), next))
    }
}

fn parent_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(cut) => trimmed[..=cut].to_owned(),
        None => "/".to_owned(),
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
