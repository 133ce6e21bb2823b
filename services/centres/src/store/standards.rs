//! Versions of the standard per category.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::bad;
use crate::domain::centre::{Category, Function};
use crate::domain::standard::{Requirement, Standard};

#[derive(sqlx::FromRow)]
struct Row {
    category: String,
    version: i64,
    required_functions: Vec<String>,
    minimum_floor_area: i32,
    set_by: String,
    create_time: DateTime<Utc>,
}

impl TryFrom<Row> for Standard {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> sqlx::Result<Standard> {
        let required_functions = row
            .required_functions
            .iter()
            .map(|f| Function::parse(f).ok_or_else(|| bad("standards.required_functions")))
            .collect::<sqlx::Result<_>>()?;
        Ok(Standard {
            category: Category::parse(&row.category).ok_or_else(|| bad("standards.category"))?,
            requirement: Requirement {
                required_functions,
                minimum_floor_area: row.minimum_floor_area,
            },
            version: row.version,
            set_by: row.set_by,
            create_time: row.create_time,
        })
    }
}

/// The standard in force (highest version) of every category that has one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn in_force<'e>(
    executor: impl PgExecutor<'e>,
) -> sqlx::Result<BTreeMap<Category, Standard>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT DISTINCT ON (category) category, version, required_functions, minimum_floor_area, \
           set_by, create_time \
         FROM standards ORDER BY category, version DESC",
    )
    .fetch_all(executor)
    .await?;
    rows.into_iter()
        .map(|row| Standard::try_from(row).map(|s| (s.category, s)))
        .collect()
}

/// The standard in force of `category`, locked against a concurrent new
/// version (the next version's primary key settles any race anyway).
pub async fn current(
    conn: &mut PgConnection,
    category: Category,
) -> sqlx::Result<Option<Standard>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT category, version, required_functions, minimum_floor_area, set_by, create_time \
         FROM standards WHERE category = $1 ORDER BY version DESC LIMIT 1 FOR UPDATE",
    )
    .bind(category.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(Standard::try_from).transpose()
}

/// Key of the advisory lock between a new version of `category`'s standard
/// and the centres checked against it.
fn category_lock(category: Category) -> String {
    format!("centres.standard.{}", category.as_str())
}

/// Waits for a new version of `category`'s standard being put in force to
/// commit (many centre writers hold this at once), so that what the caller
/// reads next is the standard in force and a concurrent UpdateStandard sees
/// the caller's centre once it commits.
pub async fn share_category(conn: &mut PgConnection, category: Category) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))")
        .bind(category_lock(category))
        .execute(conn)
        .await?;
    Ok(())
}

/// Waits for every centre writer of `category` to commit and keeps new ones
/// out until the caller commits: a new version then sees every centre it
/// must check.
pub async fn lock_category(conn: &mut PgConnection, category: Category) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(category_lock(category))
        .execute(conn)
        .await?;
    Ok(())
}

/// The next version of centre `centre_id`'s compliance, its counter row
/// locked until the caller commits.
pub async fn next_compliance_version(
    conn: &mut PgConnection,
    centre_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO compliance_versions (centre_id, version) VALUES ($1, 1) \
         ON CONFLICT (centre_id) DO UPDATE SET version = compliance_versions.version + 1 \
         RETURNING version",
    )
    .bind(centre_id)
    .fetch_one(conn)
    .await
}

/// Inserts `standard`; `false` when that version exists.
#[tracing::instrument(level = "debug", skip_all, fields(category = %standard.category, version = standard.version))]
pub async fn insert(conn: &mut PgConnection, standard: &Standard) -> sqlx::Result<bool> {
    let functions: Vec<&str> = standard
        .requirement
        .required_functions
        .iter()
        .map(|f| f.as_str())
        .collect();
    let inserted = sqlx::query(
        "INSERT INTO standards (category, version, required_functions, minimum_floor_area, set_by, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(standard.category.as_str())
    .bind(standard.version)
    .bind(functions)
    .bind(standard.requirement.minimum_floor_area)
    .bind(&standard.set_by)
    .bind(standard.create_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
