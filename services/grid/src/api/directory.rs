//! `civicgrid.grid.v1.DirectoryService`: departments, categories, deadline
//! policies and working calendars. County admins and the command centre
//! write; every authenticated caller reads, because every role works with
//! tasks measured against the directory.

pub mod parse;

use chrono::{Datelike, NaiveDate};
use civicgrid_cell_tree::row::timestamp;
use civicgrid_proto::google::r#type::Date;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::directory_service_server::DirectoryService;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use std::sync::Arc;

use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::directory::{
    create_category, create_department, set_deadline_policy, set_working_calendar,
};
use crate::domain::calendar::{Allowance, Clock, YearCalendar};
use crate::domain::directory::{
    Category, DeadlinePolicy, Department, Urgency, Versioned, calendar_name, policy_name,
};
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
        let stored = create_department(&self.pool, caller, department).await?;
        // The directory changed: stop serving cached policies and calendars.
        self.lookups.invalidate();
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
        let stored = create_category(&self.pool, caller, category).await?;
        // The directory changed: stop serving cached policies and calendars.
        self.lookups.invalidate();
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
        let stored = set_deadline_policy(&self.pool, caller, policy).await?;
        // The directory changed: stop serving cached policies and calendars.
        self.lookups.invalidate();
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
            return Err(Status::not_found(format!(
                "{} not found",
                parent.resource_name()
            )));
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
        let stored = set_working_calendar(&self.pool, caller, calendar).await?;
        // The directory changed: stop serving cached policies and calendars.
        self.lookups.invalidate();
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
            .ok_or_else(|| Status::not_found(format!("{} not found", calendar_name(year))))?;
        Ok(Response::new(pb::GetWorkingCalendarResponse {
            calendar: Some(calendar_proto(&stored)),
        }))
    }
}

/// One more row than the page holds, to learn whether another page follows.
fn limit(size: usize) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX).saturating_add(1)
}

/// The page of `rows` (fetched with [`limit`]) and the token of the next
/// page, empty at the end.
fn paged<T>(
    mut rows: Vec<T>,
    size: usize,
    query: &str,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, String) {
    if rows.len() > size {
        rows.truncate(size);
        let next = rows
            .last()
            .map(|row| paging::encode(&key(row), query))
            .unwrap_or_default();
        (rows, next)
    } else {
        (rows, String::new())
    }
}

/// The contract's urgency for a domain one.
pub fn urgency_to_proto(urgency: Urgency) -> pb::Urgency {
    match urgency {
        Urgency::Low => pb::Urgency::Low,
        Urgency::Normal => pb::Urgency::Normal,
        Urgency::Urgent => pb::Urgency::Urgent,
        Urgency::Emergency => pb::Urgency::Emergency,
    }
}

/// The domain's urgency for a contract value; `None` for UNSPECIFIED and unknown values.
pub fn urgency_from_proto(value: i32) -> Option<Urgency> {
    match pb::Urgency::try_from(value).ok()? {
        pb::Urgency::Unspecified => None,
        pb::Urgency::Low => Some(Urgency::Low),
        pb::Urgency::Normal => Some(Urgency::Normal),
        pb::Urgency::Urgent => Some(Urgency::Urgent),
        pb::Urgency::Emergency => Some(Urgency::Emergency),
    }
}

fn department_proto(stored: &Versioned<Department>) -> pb::Department {
    pb::Department {
        name: stored.value.id.resource_name(),
        display_name: stored.value.display_name.as_str().to_owned(),
        version: stored.version,
        create_time: Some(timestamp(stored.create_time)),
    }
}

fn category_proto(stored: &Versioned<Category>) -> pb::Category {
    pb::Category {
        name: stored.value.id.resource_name(),
        display_name: stored.value.display_name.as_str().to_owned(),
        fields: stored
            .value
            .fields
            .iter()
            .map(|field| pb::CategoryField {
                key: field.key.as_str().to_owned(),
                display_name: field.display_name.as_str().to_owned(),
                required: field.required,
            })
            .collect(),
        version: stored.version,
    }
}

fn policy_proto(stored: &Versioned<DeadlinePolicy>) -> pb::DeadlinePolicy {
    let policy = &stored.value;
    pb::DeadlinePolicy {
        name: policy.resource_name(),
        accept: Some(allowance_proto(policy.accept)),
        check_in: Some(allowance_proto(policy.check_in)),
        resolve: Some(allowance_proto(policy.resolve)),
        r#return: Some(allowance_proto(policy.r#return)),
        version: stored.version,
    }
}

fn allowance_proto(allowance: Allowance) -> pb::Allowance {
    pb::Allowance {
        // Stored allowances are at most 525600 minutes.
        minutes: i32::try_from(allowance.minutes).unwrap_or(i32::MAX),
        clock: match allowance.clock {
            Clock::Calendar => pb::DeadlineClock::Calendar,
            Clock::Working => pb::DeadlineClock::Working,
        } as i32,
    }
}

fn calendar_proto(stored: &Versioned<YearCalendar>) -> pb::WorkingCalendar {
    let calendar = &stored.value;
    pb::WorkingCalendar {
        name: calendar_name(calendar.year),
        holidays: calendar.holidays.iter().map(|d| date_proto(*d)).collect(),
        make_up_working_days: calendar
            .make_up_working_days
            .iter()
            .map(|d| date_proto(*d))
            .collect(),
        version: stored.version,
    }
}

fn date_proto(date: NaiveDate) -> Date {
    Date {
        year: date.year(),
        // Month and day are at most 12 and 31.
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgencies_map_both_ways_and_unspecified_is_none() {
        for urgency in Urgency::ALL {
            assert_eq!(
                urgency_from_proto(urgency_to_proto(urgency) as i32),
                Some(urgency)
            );
            assert_eq!(
                urgency_to_proto(urgency) as i32,
                i32::from(urgency.number())
            );
        }
        assert_eq!(urgency_from_proto(0), None);
        assert_eq!(urgency_from_proto(7), None);
    }

    #[test]
    fn a_page_token_is_issued_only_when_rows_remain() {
        let (rows, token) = paged(vec![1, 2, 3], 2, "q", |n| n.to_string());
        assert_eq!(rows, vec![1, 2]);
        assert!(!token.is_empty());
        let (rows, token) = paged(vec![1, 2], 2, "q", |n| n.to_string());
        assert_eq!(rows, vec![1, 2]);
        assert!(token.is_empty());
    }
}
