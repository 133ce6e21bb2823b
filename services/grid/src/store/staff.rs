//! Staff assignments: who holds which duty in which cell, and when.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::decode;
use crate::domain::staff::StaffRole;

const COLUMNS: &str = "s.id, s.cell_id, s.person, s.person_display_name, s.role, s.home_department, \
                       s.valid_from, s.valid_until, s.create_time";

/// A stored staff assignment, its role decoded (an unknown stored role
/// fails the read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    /// The assignment's id (UUID v7: ordered by creation).
    pub id: Uuid,
    /// The cell the duty is held in.
    pub cell_id: String,
    /// The person's account.
    pub person: String,
    /// Their name.
    pub person_display_name: String,
    /// The duty.
    pub role: StaffRole,
    /// The sunk cadre's department code, without `departments/`.
    pub home_department: Option<String>,
    /// Holds from (inclusive).
    pub valid_from: DateTime<Utc>,
    /// Holds until (exclusive); `None`: open-ended.
    pub valid_until: Option<DateTime<Utc>>,
    /// Created at.
    pub create_time: DateTime<Utc>,
}

impl<'r> sqlx::FromRow<'r, PgRow> for StaffRow {
    fn from_row(row: &'r PgRow) -> sqlx::Result<StaffRow> {
        let role: i16 = row.try_get("role")?;
        Ok(StaffRow {
            id: row.try_get("id")?,
            cell_id: row.try_get("cell_id")?,
            person: row.try_get("person")?,
            person_display_name: row.try_get("person_display_name")?,
            role: decode(
                StaffRole::from_number(role.into()),
                "staff_assignments.role",
            )?,
            home_department: row.try_get("home_department")?,
            valid_from: row.try_get("valid_from")?,
            valid_until: row.try_get("valid_until")?,
            create_time: row.try_get("create_time")?,
        })
    }
}

/// Inserts `row`.
pub async fn insert(conn: &mut PgConnection, row: &StaffRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO staff_assignments \
           (id, cell_id, person, person_display_name, role, home_department, valid_from, valid_until, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(row.id)
    .bind(&row.cell_id)
    .bind(&row.person)
    .bind(&row.person_display_name)
    .bind(row.role.number())
    .bind(&row.home_department)
    .bind(row.valid_from)
    .bind(row.valid_until)
    .bind(row.create_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// An assignment of the same duty to the same person in the same cell
/// whose period overlaps `[from, until)`, if there is one.
pub async fn overlapping(
    conn: &mut PgConnection,
    cell_id: &str,
    person: &str,
    role: StaffRole,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM staff_assignments \
         WHERE cell_id = $1 AND person = $2 AND role = $3 \
           AND ($5::timestamptz IS NULL OR valid_from < $5) \
           AND (valid_until IS NULL OR valid_until > $4) \
         LIMIT 1",
    )
    .bind(cell_id)
    .bind(person)
    .bind(role.number())
    .bind(from)
    .bind(until)
    .fetch_optional(conn)
    .await
}

/// The assignment `id` in cell `cell_id`, locked until the transaction ends.
#[tracing::instrument(level = "debug", skip_all, fields(cell = cell_id, assignment = %id))]
pub async fn lock(
    conn: &mut PgConnection,
    cell_id: &str,
    id: Uuid,
) -> sqlx::Result<Option<StaffRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM staff_assignments s WHERE s.id = $1 AND s.cell_id = $2 FOR UPDATE"
    )))
    .bind(id)
    .bind(cell_id)
    .fetch_optional(conn)
    .await
}

/// Sets the end of assignment `id`.
pub async fn set_valid_until(
    conn: &mut PgConnection,
    id: Uuid,
    until: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE staff_assignments SET valid_until = $2 WHERE id = $1")
        .bind(id)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

/// A page of assignments.
#[derive(Debug, Clone)]
pub struct StaffQuery {
    /// Only cells at or below this path.
    pub ancestor_path: Option<String>,
    /// Only cells under one of these roots; `None` means everywhere.
    pub scope_roots: Option<Vec<String>>,
    /// Only this person's.
    pub person: Option<String>,
    /// Only those valid at this time.
    pub valid_at: DateTime<Utc>,
    /// Only ids after this one (keyset pagination).
    pub after: Option<Uuid>,
    /// At most this many.
    pub limit: i64,
}

/// Assignments matching `query`, ordered by id (creation order).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &PgPool, query: &StaffQuery) -> sqlx::Result<Vec<StaffRow>> {
    let patterns: Option<Vec<String>> = query
        .scope_roots
        .as_ref()
        .map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM staff_assignments s JOIN cells c ON c.id = s.cell_id \
         WHERE ($1::text IS NULL OR c.path LIKE $1 || '%') \
           AND ($2::text[] IS NULL OR c.path LIKE ANY($2)) \
           AND ($3::text IS NULL OR s.person = $3) \
           AND s.valid_from <= $4 AND (s.valid_until IS NULL OR s.valid_until > $4) \
           AND ($5::uuid IS NULL OR s.id > $5) \
         ORDER BY s.id LIMIT $6"
    )))
    .bind(query.ancestor_path.as_deref())
    .bind(patterns)
    .bind(query.person.as_deref())
    .bind(query.valid_at)
    .bind(query.after)
    .bind(query.limit)
    .fetch_all(pool)
    .await
}

/// The ids of the cells where `person` holds a duty at `at`, sorted, each
/// once: where a grid worker's tasks come from.
pub async fn cells_of_person<'e>(
    db: impl sqlx::PgExecutor<'e>,
    person: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT cell_id FROM staff_assignments \
         WHERE person = $1 AND valid_from <= $2 AND (valid_until IS NULL OR valid_until > $2) \
         ORDER BY cell_id",
    )
    .bind(person)
    .bind(at)
    .fetch_all(db)
    .await
}
