//! Changes to the directory: CreateDepartment, CreateCategory,
//! SetDeadlinePolicy and SetWorkingCalendar.
//!
//! They publish no events yet: nothing outside the grid keeps a copy of the
//! directory, and tasks carry the deadlines computed when they were set.

use civicgrid_runtime::auth::Caller;
use sqlx::PgPool;

use super::{CommandError, now};
use crate::domain::access::may_edit_directory;
use crate::domain::calendar::YearCalendar;
use crate::domain::directory::{
    Category, DeadlinePolicy, Department, DirectoryRuleError, Versioned,
};
use crate::store::directory as store;

fn check_may_edit(caller: &Caller) -> Result<(), CommandError> {
    if may_edit_directory(caller) {
        Ok(())
    } else {
        Err(CommandError::PermissionDenied(
            "only a county admin or the command centre changes the directory".to_owned(),
        ))
    }
}

/// Creates a department at version 1; ALREADY_EXISTS when the id is taken.
pub async fn create_department(
    pool: &PgPool,
    caller: &Caller,
    department: Department,
) -> Result<Versioned<Department>, CommandError> {
    check_may_edit(caller)?;
    let at = now();
    let mut tx = pool.begin().await?;
    if !store::insert_department(&mut tx, &department, at).await? {
        return Err(CommandError::AlreadyExists(department.id.resource_name()));
    }
    tx.commit().await?;
    tracing::info!(department = %department.id, by = %caller.subject, "department created");
    Ok(Versioned {
        value: department,
        version: 1,
        create_time: at,
        update_time: at,
    })
}

/// Creates a category with its extra fields at version 1; ALREADY_EXISTS
/// when the id is taken.
pub async fn create_category(
    pool: &PgPool,
    caller: &Caller,
    category: Category,
) -> Result<Versioned<Category>, CommandError> {
    check_may_edit(caller)?;
    let at = now();
    let mut tx = pool.begin().await?;
    if !store::insert_category(&mut tx, &category, at).await? {
        return Err(CommandError::AlreadyExists(category.id.resource_name()));
    }
    tx.commit().await?;
    tracing::info!(category = %category.id, by = %caller.subject, "category created");
    Ok(Versioned {
        value: category,
        version: 1,
        create_time: at,
        update_time: at,
    })
}

/// Creates or replaces the policy of one category and urgency (version +1);
/// FAILED_PRECONDITION when the category does not exist.
pub async fn set_deadline_policy(
    pool: &PgPool,
    caller: &Caller,
    policy: DeadlinePolicy,
) -> Result<Versioned<DeadlinePolicy>, CommandError> {
    check_may_edit(caller)?;
    let mut tx = pool.begin().await?;
    if !store::lock_category(&mut tx, policy.category.as_str()).await? {
        return Err(DirectoryRuleError::CategoryMissing(policy.category).into());
    }
    let stored = store::upsert_deadline_policy(&mut tx, &policy, now()).await?;
    tx.commit().await?;
    tracing::info!(
        policy = %policy.resource_name(),
        version = stored.version,
        by = %caller.subject,
        "deadline policy set"
    );
    Ok(stored)
}

/// Creates or replaces one year's working calendar (version +1).
pub async fn set_working_calendar(
    pool: &PgPool,
    caller: &Caller,
    calendar: YearCalendar,
) -> Result<Versioned<YearCalendar>, CommandError> {
    check_may_edit(caller)?;
    let mut tx = pool.begin().await?;
    let stored = store::upsert_working_calendar(&mut tx, &calendar, now()).await?;
    tx.commit().await?;
    tracing::info!(
        year = calendar.year,
        version = stored.version,
        by = %caller.subject,
        "working calendar set"
    );
    Ok(stored)
}
