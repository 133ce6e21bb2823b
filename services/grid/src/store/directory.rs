//! Departments, categories, deadline policies and working calendars.
//!
//! Rows are turned back into domain values here; a row the domain would not
//! accept (edited by hand past the CHECKs) is a decode error, not a panic.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Row};

use super::decode;
use crate::domain::calendar::{Allowance, Clock, WorkCalendar, YearCalendar};
use crate::domain::cell::DisplayName;
use crate::domain::directory::{
    Category, CategoryField, CategoryId, DeadlinePolicy, Department, DepartmentId, FieldKey,
    Urgency, Versioned,
};

/// Inserts `department` at version 1; `false` when the id is taken.
pub async fn insert_department(
    conn: &mut PgConnection,
    department: &Department,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO departments (id, display_name, version, create_time, update_time) \
         VALUES ($1, $2, 1, $3, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(department.id.as_str())
    .bind(department.display_name.as_str())
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Whether the department `id` exists.
pub async fn department_exists(conn: &mut PgConnection, id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM departments WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Which of `ids` are departments.
pub async fn departments_existing(
    conn: &mut PgConnection,
    ids: &[&str],
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT id FROM departments WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Up to `limit` departments with ids after `after`, by id.
pub async fn list_departments(
    conn: &mut PgConnection,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<Versioned<Department>>> {
    let rows = sqlx::query(
        "SELECT id, display_name, version, create_time, update_time FROM departments \
         WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            versioned(
                row,
                Department {
                    id: decode(DepartmentId::parse(row.try_get("id")?), "departments.id")?,
                    display_name: display_name(row.try_get("display_name")?)?,
                },
            )
        })
        .collect()
}

/// One extra field as the `categories.fields` JSONB array stores it.
#[derive(Serialize, Deserialize)]
struct StoredField {
    key: String,
    display_name: String,
    required: bool,
}

/// Inserts `category` at version 1; `false` when the id is taken.
pub async fn insert_category(
    conn: &mut PgConnection,
    category: &Category,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let fields: Vec<StoredField> = category
        .fields
        .iter()
        .map(|field| StoredField {
            key: field.key.as_str().to_owned(),
            display_name: field.display_name.as_str().to_owned(),
            required: field.required,
        })
        .collect();
    let inserted = sqlx::query(
        "INSERT INTO categories (id, display_name, fields, version, create_time, update_time) \
         VALUES ($1, $2, $3, 1, $4, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(category.id.as_str())
    .bind(category.display_name.as_str())
    .bind(Json(fields))
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

const CATEGORY_COLUMNS: &str = "id, display_name, fields, version, create_time, update_time";

/// The category `id` with its extra fields, if it exists.
pub async fn category(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<Category>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CATEGORY_COLUMNS} FROM categories WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(category_of).transpose()
}

/// Whether the category `id` exists; locks it against deletion until the
/// transaction ends, so a policy written next cannot be orphaned.
pub async fn lock_category(conn: &mut PgConnection, id: &str) -> sqlx::Result<bool> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM categories WHERE id = $1 FOR KEY SHARE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Up to `limit` categories with ids after `after`, by id.
pub async fn list_categories(
    conn: &mut PgConnection,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<Versioned<Category>>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CATEGORY_COLUMNS} FROM categories \
         WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2"
    )))
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| versioned(row, category_of(row)?))
        .collect()
}

fn category_of(row: &PgRow) -> sqlx::Result<Category> {
    let Json(fields): Json<Vec<StoredField>> = row.try_get("fields")?;
    let fields = fields
        .into_iter()
        .map(|field| {
            Ok(CategoryField {
                key: decode(FieldKey::parse(&field.key), "categories.fields.key")?,
                display_name: display_name(field.display_name)?,
                required: field.required,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(Category {
        id: decode(CategoryId::parse(row.try_get("id")?), "categories.id")?,
        display_name: display_name(row.try_get("display_name")?)?,
        fields,
    })
}

const POLICY_COLUMNS: &str = "category_id, urgency, accept_minutes, accept_clock, \
     check_in_minutes, check_in_clock, resolve_minutes, resolve_clock, \
     return_minutes, return_clock, version, create_time, update_time";

/// Creates the policy of its category and urgency at version 1, or replaces
/// it and bumps its version; the stored result.
pub async fn upsert_deadline_policy(
    conn: &mut PgConnection,
    policy: &DeadlinePolicy,
    at: DateTime<Utc>,
) -> sqlx::Result<Versioned<DeadlinePolicy>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO deadline_policies ({POLICY_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) \
         ON CONFLICT (category_id, urgency) DO UPDATE SET \
           accept_minutes = EXCLUDED.accept_minutes, accept_clock = EXCLUDED.accept_clock, \
           check_in_minutes = EXCLUDED.check_in_minutes, check_in_clock = EXCLUDED.check_in_clock, \
           resolve_minutes = EXCLUDED.resolve_minutes, resolve_clock = EXCLUDED.resolve_clock, \
           return_minutes = EXCLUDED.return_minutes, return_clock = EXCLUDED.return_clock, \
           version = deadline_policies.version + 1, update_time = EXCLUDED.update_time \
         RETURNING {POLICY_COLUMNS}"
    )))
    .bind(policy.category.as_str())
    .bind(policy.urgency.number())
    .bind(minutes_column(policy.accept))
    .bind(clock_column(policy.accept.clock))
    .bind(minutes_column(policy.check_in))
    .bind(clock_column(policy.check_in.clock))
    .bind(minutes_column(policy.resolve))
    .bind(clock_column(policy.resolve.clock))
    .bind(minutes_column(policy.r#return))
    .bind(clock_column(policy.r#return.clock))
    .bind(at)
    .fetch_one(conn)
    .await?;
    versioned(&row, policy_of(&row)?)
}

/// The policy of `category_id` at `urgency`, if one is set.
pub async fn deadline_policy(
    conn: &mut PgConnection,
    category_id: &str,
    urgency: Urgency,
) -> sqlx::Result<Option<DeadlinePolicy>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLUMNS} FROM deadline_policies WHERE category_id = $1 AND urgency = $2"
    )))
    .bind(category_id)
    .bind(urgency.number())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(policy_of).transpose()
}

/// Up to `limit` policies (of one category, or all), ordered by category and
/// then from least to most urgent, after the policy `after`.
pub async fn list_deadline_policies(
    conn: &mut PgConnection,
    category_id: Option<&str>,
    after: Option<(&str, Urgency)>,
    limit: i64,
) -> sqlx::Result<Vec<Versioned<DeadlinePolicy>>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLUMNS} FROM deadline_policies \
         WHERE ($1::text IS NULL OR category_id = $1) \
           AND ($2::text IS NULL OR (category_id, urgency) > ($2, $3::smallint)) \
         ORDER BY category_id, urgency LIMIT $4"
    )))
    .bind(category_id)
    .bind(after.map(|(category, _)| category))
    .bind(after.map(|(_, urgency)| urgency.number()))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| versioned(row, policy_of(row)?))
        .collect()
}

fn policy_of(row: &PgRow) -> sqlx::Result<DeadlinePolicy> {
    let urgency: i16 = row.try_get("urgency")?;
    Ok(DeadlinePolicy {
        category: decode(
            CategoryId::parse(row.try_get("category_id")?),
            "deadline_policies.category_id",
        )?,
        urgency: decode(
            Urgency::from_number(i32::from(urgency)),
            "deadline_policies.urgency",
        )?,
        accept: allowance(row, "accept")?,
        check_in: allowance(row, "check_in")?,
        resolve: allowance(row, "resolve")?,
        r#return: allowance(row, "return")?,
    })
}

fn allowance(row: &PgRow, step: &str) -> sqlx::Result<Allowance> {
    let minutes: i32 = row.try_get(format!("{step}_minutes").as_str())?;
    let clock: String = row.try_get(format!("{step}_clock").as_str())?;
    Ok(Allowance {
        minutes: decode(u32::try_from(minutes).ok(), "deadline_policies minutes")?,
        clock: decode(
            match clock.as_str() {
                "calendar" => Some(Clock::Calendar),
                "working" => Some(Clock::Working),
                _ => None,
            },
            "deadline_policies clock",
        )?,
    })
}

fn minutes_column(allowance: Allowance) -> i32 {
    // Parsed allowances are at most 525600 minutes; the CHECK refuses the fallback.
    i32::try_from(allowance.minutes).unwrap_or(i32::MAX)
}

fn clock_column(clock: Clock) -> &'static str {
    match clock {
        Clock::Calendar => "calendar",
        Clock::Working => "working",
    }
}

const CALENDAR_COLUMNS: &str =
    "year, holidays, make_up_working_days, version, create_time, update_time";

/// Creates or replaces `calendar`'s year (version +1 on replacement); the stored result.
pub async fn upsert_working_calendar(
    conn: &mut PgConnection,
    calendar: &YearCalendar,
    at: DateTime<Utc>,
) -> sqlx::Result<Versioned<YearCalendar>> {
    let holidays: Vec<NaiveDate> = calendar.holidays.iter().copied().collect();
    let make_up: Vec<NaiveDate> = calendar.make_up_working_days.iter().copied().collect();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO working_calendars ({CALENDAR_COLUMNS}) VALUES ($1, $2, $3, 1, $4, $4) \
         ON CONFLICT (year) DO UPDATE SET \
           holidays = EXCLUDED.holidays, make_up_working_days = EXCLUDED.make_up_working_days, \
           version = working_calendars.version + 1, update_time = EXCLUDED.update_time \
         RETURNING {CALENDAR_COLUMNS}"
    )))
    .bind(calendar.year)
    .bind(holidays)
    .bind(make_up)
    .bind(at)
    .fetch_one(conn)
    .await?;
    versioned(&row, year_calendar_of(&row)?)
}

/// The stored calendar of `year`, if any.
pub async fn working_calendar(
    conn: &mut PgConnection,
    year: i32,
) -> sqlx::Result<Option<Versioned<YearCalendar>>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CALENDAR_COLUMNS} FROM working_calendars WHERE year = $1"
    )))
    .bind(year)
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(|row| versioned(row, year_calendar_of(row)?))
        .transpose()
}

/// The working calendar of every stored year, for computing deadlines.
pub async fn work_calendar(conn: &mut PgConnection) -> sqlx::Result<WorkCalendar> {
    // A few dozen rows of a few dozen dates at most: read whole, no paging.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CALENDAR_COLUMNS} FROM working_calendars ORDER BY year"
    )))
    .fetch_all(conn)
    .await?;
    let years = rows
        .iter()
        .map(year_calendar_of)
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(WorkCalendar::new(years))
}

fn year_calendar_of(row: &PgRow) -> sqlx::Result<YearCalendar> {
    let holidays: Vec<NaiveDate> = row.try_get("holidays")?;
    let make_up: Vec<NaiveDate> = row.try_get("make_up_working_days")?;
    Ok(YearCalendar {
        year: row.try_get("year")?,
        holidays: holidays.into_iter().collect::<BTreeSet<_>>(),
        make_up_working_days: make_up.into_iter().collect::<BTreeSet<_>>(),
    })
}

fn versioned<T>(row: &PgRow, value: T) -> sqlx::Result<Versioned<T>> {
    Ok(Versioned {
        value,
        version: row.try_get("version")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

fn display_name(name: String) -> sqlx::Result<DisplayName> {
    DisplayName::parse(&name).map_err(|reason| {
        sqlx::Error::Decode(format!("stored display name `{name}` {reason}").into())
    })
}
