//! `civicgrid.grid.v1.TaskService`: parse once, run the command, answer.

pub mod parse;

use std::sync::Arc;

use chrono::Utc;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::task_service_server::TaskService;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::crypto::DataKey;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status;
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use self::parse::{ListTasks, PageRequest, TaskKey, TaskQuery, encode_key};
use crate::commands::import_tasks::import_tasks;
use crate::commands::report_task::ReportTask;
use crate::commands::transition_task::transition_task;
use crate::convert;
use crate::domain::access::TaskScope;
use crate::domain::task::Task;
use crate::store::lookups::{Lookups, Source};
use crate::store::tasks::TaskFilter;
use crate::store::{supervision, tasks};

/// Implements `civicgrid.grid.v1.TaskService`.
pub struct TaskApi {
    pool: PgPool,
    lookups: Arc<Lookups>,
    reports: ReportTask,
    key: DataKey,
}

impl TaskApi {
    /// The API over the grid's database, sealing contacts with `key`.
    pub fn new(pool: PgPool, lookups: Arc<Lookups>, key: DataKey) -> Self {
        TaskApi {
            reports: ReportTask::start(pool.clone(), lookups.clone(), key.clone()),
            pool,
            lookups,
            key,
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
        let task = tasks::get(&mut conn, id).await.map_err(status::database)?;
        conn.settle();
        Ok(task
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
        let ListTasks { query, page } = parse::list_tasks(request.get_ref())?;
        let filter = TaskFilter {
            after: page.after,
            limit: paging::limit(page.size),
            ..self.filter(caller, query).await?
        };
        let (tasks, next_page_token) = self.page(&filter, &page).await?;
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
        let page = parse::work_queue(request.get_ref())?;
        let scope = self.scope(caller).await?;
        // A department operator's queue is their department's open tasks,
        // without those it returned or was released from.
        let department = caller
            .has_role(Role::DepartmentOperator)
            .then(|| caller.department.clone())
            .flatten();
        let filter = TaskFilter {
            scope,
            department,
            department_active: true,
            open_only: true,
            after: page.after,
            limit: paging::limit(page.size),
            ..Default::default()
        };
        let (tasks, next_page_token) = self.page(&filter, &page).await?;
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

    async fn import_tasks(
        &self,
        request: Request<pb::ImportTasksRequest>,
    ) -> Result<Response<pb::ImportTasksResponse>, Status> {
        let caller = Caller::of(&request)?;
        let input = parse::import_tasks(request.get_ref(), caller)?;
        let outcome = transact(
            &self.pool,
            &(&*self.lookups, &self.key, caller, input),
            |tx, (lookups, key, caller, input)| {
                Box::pin(import_tasks(tx, lookups, key, caller, input))
            },
        )
        .await?;
        Ok(Response::new(pb::ImportTasksResponse {
            imported_count: i32::try_from(outcome.imported).unwrap_or(i32::MAX),
            skipped_count: i32::try_from(outcome.skipped).unwrap_or(i32::MAX),
        }))
    }

    async fn get_task_statistics(
        &self,
        request: Request<pb::GetTaskStatisticsRequest>,
    ) -> Result<Response<pb::GetTaskStatisticsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let query = parse::statistics(request.get_ref())?;
        let filter = self.filter(caller, query).await?;
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
        let request = parse::supervision_orders(request.get_ref())?;
        let scope = self.scope(caller).await?;
        let orders = supervision::visible_orders(
            &self.pool,
            &scope,
            request.task,
            request.department.as_deref(),
            request.open_only,
            request.page.after,
            paging::limit(request.page.size),
        )
        .await
        .map_err(status::database)?;
        let (orders, next_page_token) =
            paging::paged(orders, request.page.size, &request.page.fingerprint, |o| {
                o.id.to_string()
            });
        Ok(Response::new(pb::ListSupervisionOrdersResponse {
            orders: orders.iter().map(convert::order).collect(),
            next_page_token,
        }))
    }
}

impl TaskApi {
    /// The filter of `query` as `caller` sees it, over every page.
    async fn filter(&self, caller: &Caller, query: TaskQuery) -> Result<TaskFilter, Status> {
        Ok(TaskFilter {
            scope: self.scope(caller).await?,
            ancestor_path: self.cell_path(query.ancestor.as_deref()).await?,
            state: query.state,
            department: query.department,
            category: query.category,
            overdue_at: query.overdue.then(Utc::now),
            reported_after: query.reported_after,
            reported_before: query.reported_before,
            ..TaskFilter::default()
        })
    }

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
        page: &PageRequest<TaskKey>,
    ) -> Result<(Vec<pb::Task>, String), Status> {
        let rows = tasks::list(&self.pool, filter)
            .await
            .map_err(status::database)?;
        let (rows, next) = paging::paged(rows, page.size, &page.fingerprint, |t| {
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
