//! `civicgrid.grid.v1.DirectoryService`: departments, categories, deadline
//! policies and working calendars. County admins and the command centre
//! write; every authenticated caller reads, because every role works with
//! tasks measured against the directory.

pub mod parse;

use std::sync::Arc;

use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::directory_service_server::DirectoryService;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging::{limit, paged};
use civicgrid_runtime::status::{self, FieldViolations};
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::create_category::create_category;
use crate::commands::create_department::create_department;
use crate::commands::set_deadline_policy::set_deadline_policy;
use crate::commands::set_working_calendar::set_working_calendar;
use crate::convert::directory::{calendar_proto, category_proto, department_proto, policy_proto};
use crate::domain::directory::{calendar_name, policy_name};
use crate::store::directory as store;
use crate::store::lookups::Lookups;

/// Implements `civicgrid.grid.v1.DirectoryService`.
pub struct DirectoryApi {
    pool: PgPool,
    lookups: Arc<Lookups>,
}

impl DirectoryApi {
    /// The API over the grid's database.
    pub fn new(pool: PgPool, lookups: Arc<Lookups>) -> Self {
        DirectoryApi { pool, lookups }
    }

    async fn connection(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, Status> {
        self.pool.acquire().await.map_err(status::database)
    }
}

// Fingerprints of the list queries: a page token of one list is refused by another.
const DEPARTMENTS_QUERY: &str = "departments";
const CATEGORIES_QUERY: &str = "categories";

#[tonic::async_trait]
impl DirectoryService for DirectoryApi {
    async fn create_department(
        &self,
        request: Request<pb::CreateDepartmentRequest>,
    ) -> Result<Response<pb::CreateDepartmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        let department = parse::create_department(request.get_ref())?;
        let stored = transact(
            &self.pool,
            &(&*self.lookups, caller, department),
            |tx, (lookups, caller, department)| {
                Box::pin(create_department(tx, lookups, caller, department.clone()))
            },
        )
        .await?;
        Ok(Response::new(pb::CreateDepartmentResponse {
            department: Some(department_proto(&stored)),
        }))
    }

    async fn list_departments(
        &self,
        request: Request<pb::ListDepartmentsRequest>,
    ) -> Result<Response<pb::ListDepartmentsResponse>, Status> {
        Caller::of(&request)?;
        let body = request.get_ref();
        let mut violations = FieldViolations::new();
        let page = parse::page(
            body.page_size,
            &body.page_token,
            DEPARTMENTS_QUERY,
            &mut violations,
        );
        violations.check(())?;
        let mut conn = self.connection().await?;
        let rows = store::list_departments(&mut conn, page.after.as_deref(), limit(page.size))
            .await
            .map_err(status::database)?;
        let (rows, next_page_token) = paged(rows, page.size, DEPARTMENTS_QUERY, |row| {
            row.value.id.as_str().to_owned()
        });
        Ok(Response::new(pb::ListDepartmentsResponse {
            departments: rows.iter().map(department_proto).collect(),
            next_page_token,
        }))
    }

    async fn create_category(
        &self,
        request: Request<pb::CreateCategoryRequest>,
    ) -> Result<Response<pb::CreateCategoryResponse>, Status> {
        let caller = Caller::of(&request)?;
        let category = parse::create_category(request.get_ref())?;
        let stored = transact(
            &self.pool,
            &(&*self.lookups, caller, category),
            |tx, (lookups, caller, category)| {
                Box::pin(create_category(tx, lookups, caller, category.clone()))
            },
        )
        .await?;
        Ok(Response::new(pb::CreateCategoryResponse {
            category: Some(category_proto(&stored)),
        }))
    }

    async fn list_categories(
        &self,
        request: Request<pb::ListCategoriesRequest>,
    ) -> Result<Response<pb::ListCategoriesResponse>, Status> {
        Caller::of(&request)?;
        let body = request.get_ref();
        let mut violations = FieldViolations::new();
        let page = parse::page(
            body.page_size,
            &body.page_token,
            CATEGORIES_QUERY,
            &mut violations,
        );
        violations.check(())?;
        let mut conn = self.connection().await?;
        let rows = store::list_categories(&mut conn, page.after.as_deref(), limit(page.size))
            .await
            .map_err(status::database)?;
        let (rows, next_page_token) = paged(rows, page.size, CATEGORIES_QUERY, |row| {
            row.value.id.as_str().to_owned()
        });
        Ok(Response::new(pb::ListCategoriesResponse {
            categories: rows.iter().map(category_proto).collect(),
            next_page_token,
        }))
    }

    async fn set_deadline_policy(
        &self,
        request: Request<pb::SetDeadlinePolicyRequest>,
    ) -> Result<Response<pb::SetDeadlinePolicyResponse>, Status> {
        let caller = Caller::of(&request)?;
        let policy = parse::set_deadline_policy(request.get_ref())?;
        let stored = transact(
            &self.pool,
            &(&*self.lookups, caller, policy),
            |tx, (lookups, caller, policy)| {
                Box::pin(set_deadline_policy(tx, lookups, caller, policy.clone()))
            },
        )
        .await?;
        Ok(Response::new(pb::SetDeadlinePolicyResponse {
            policy: Some(policy_proto(&stored)),
        }))
    }

    async fn list_deadline_policies(
        &self,
        request: Request<pb::ListDeadlinePoliciesRequest>,
    ) -> Result<Response<pb::ListDeadlinePoliciesResponse>, Status> {
        Caller::of(&request)?;
        let body = request.get_ref();
        let parse::PolicyListing {
            parent,
            size,
            after,
        } = parse::list_deadline_policies(body)?;
        let mut conn = self.connection().await?;
        if let Some(parent) = &parent
            && store::category(&mut conn, parent.as_str())
                .await
                .map_err(status::database)?
                .is_none()
        {
            return Err(UseCaseError::NotFound(parent.resource_name()).into());
        }
        let rows = store::list_deadline_policies(
            &mut conn,
            parent.as_ref().map(|id| id.as_str()),
            after
                .as_ref()
                .map(|(category, urgency)| (category.as_str(), *urgency)),
            limit(size),
        )
        .await
        .map_err(status::database)?;
        let query = format!("deadlinePolicies?parent={}", body.parent);
        let (rows, next_page_token) = paged(rows, size, &query, |row| {
            policy_name(&row.value.category, row.value.urgency)
        });
        Ok(Response::new(pb::ListDeadlinePoliciesResponse {
            policies: rows.iter().map(policy_proto).collect(),
            next_page_token,
        }))
    }

    async fn set_working_calendar(
        &self,
        request: Request<pb::SetWorkingCalendarRequest>,
    ) -> Result<Response<pb::SetWorkingCalendarResponse>, Status> {
        let caller = Caller::of(&request)?;
        let calendar = parse::set_working_calendar(request.get_ref())?;
        let stored = transact(
            &self.pool,
            &(&*self.lookups, caller, calendar),
            |tx, (lookups, caller, calendar)| {
                Box::pin(set_working_calendar(tx, lookups, caller, calendar.clone()))
            },
        )
        .await?;
        Ok(Response::new(pb::SetWorkingCalendarResponse {
            calendar: Some(calendar_proto(&stored)),
        }))
    }

    async fn get_working_calendar(
        &self,
        request: Request<pb::GetWorkingCalendarRequest>,
    ) -> Result<Response<pb::GetWorkingCalendarResponse>, Status> {
        Caller::of(&request)?;
        let year = parse::get_working_calendar(request.get_ref())?;
        let mut conn = self.connection().await?;
        let stored = store::working_calendar(&mut conn, year)
            .await
            .map_err(status::database)?
            .ok_or_else(|| UseCaseError::NotFound(calendar_name(year)))?;
        Ok(Response::new(pb::GetWorkingCalendarResponse {
            calendar: Some(calendar_proto(&stored)),
        }))
    }
}
