//! Organisations and CreateOrganisation idempotency keys.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::organisation::{Kind, Standardisation};

/// One stored organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationRow {
    /// Its code.
    pub id: String,
    /// Its kind.
    pub kind: Kind,
    /// Human-readable name.
    pub display_name: String,
    /// The parent's code; `None` for the county committee.
    pub parent_id: Option<String>,
    /// The cell it is placed in.
    pub cell_id: Option<String>,
    /// The compound it is placed in.
    pub compound_id: Option<String>,
    /// `/county/.../` of its area.
    pub area_path: String,
    /// Its flags.
    pub standardisation: Standardisation,
    /// Incremented on every change.
    pub version: i64,
    /// Created at.
    pub create_time: DateTime<Utc>,
    /// Last changed at.
    pub update_time: DateTime<Utc>,
}

const COLUMNS: &str = "id, kind, display_name, parent_id, cell_id, compound_id, area_path, \
     branch_committee_formed, office_premises, activity_premises, version, create_time, update_time";

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for OrganisationRow {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        let kind: i16 = row.try_get("kind")?;
        Ok(OrganisationRow {
            id: row.try_get("id")?,
            kind: Kind::from_number(i32::from(kind))
                .ok_or_else(|| sqlx::Error::Decode("invalid value in organisations.kind".into()))?,
            display_name: row.try_get("display_name")?,
            parent_id: row.try_get("parent_id")?,
            cell_id: row.try_get("cell_id")?,
            compound_id: row.try_get("compound_id")?,
            area_path: row.try_get("area_path")?,
            standardisation: Standardisation {
                branch_committee_formed: row.try_get("branch_committee_formed")?,
                office_premises: row.try_get("office_premises")?,
                activity_premises: row.try_get("activity_premises")?,
            },
            version: row.try_get("version")?,
            create_time: row.try_get("create_time")?,
            update_time: row.try_get("update_time")?,
        })
    }
}

/// Inserts `row`; `false` when the id is taken.
#[tracing::instrument(level = "debug", skip_all, fields(organisation = %row.id))]
pub async fn insert(conn: &mut PgConnection, row: &OrganisationRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO organisations (id, kind, display_name, parent_id, cell_id, compound_id, area_path, \
           branch_committee_formed, office_premises, activity_premises, version, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&row.id)
    .bind(row.kind as i16)
    .bind(&row.display_name)
    .bind(&row.parent_id)
    .bind(&row.cell_id)
    .bind(&row.compound_id)
    .bind(&row.area_path)
    .bind(row.standardisation.branch_committee_formed)
    .bind(row.standardisation.office_premises)
    .bind(row.standardisation.activity_premises)
    .bind(row.version)
    .bind(row.create_time)
    .bind(row.update_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The organisation `id`, if stored.
#[tracing::instrument(level = "debug", skip_all, fields(organisation = %id))]
pub async fn get<'e>(
    executor: impl PgExecutor<'e>,
    id: &str,
) -> sqlx::Result<Option<OrganisationRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM organisations WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// The organisation `id`, locked until the transaction ends.
#[tracing::instrument(level = "debug", skip_all, fields(organisation = %id))]
pub async fn lock(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<OrganisationRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM organisations WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Stores the changeable fields and version of `row`.
#[tracing::instrument(level = "debug", skip_all, fields(organisation = %row.id))]
pub async fn update(conn: &mut PgConnection, row: &OrganisationRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE organisations SET display_name = $2, branch_committee_formed = $3, \
           office_premises = $4, activity_premises = $5, version = $6, update_time = $7 \
         WHERE id = $1",
    )
    .bind(&row.id)
    .bind(&row.display_name)
    .bind(row.standardisation.branch_committee_formed)
    .bind(row.standardisation.office_premises)
    .bind(row.standardisation.activity_premises)
    .bind(row.version)
    .bind(row.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// A page of organisations.
#[derive(Debug, Clone, Default)]
pub struct OrganisationQuery {
    /// Only direct children of this organisation.
    pub parent_id: Option<String>,
    /// Only organisations whose area is at this path or below.
    pub within_path: Option<String>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only under one of these cell roots; `None` means everywhere.
    pub scope_roots: Option<Vec<String>>,
    /// Only ids after this one.
    pub after: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// Organisations matching `query`, by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list<'e>(
    executor: impl PgExecutor<'e>,
    query: &OrganisationQuery,
) -> sqlx::Result<Vec<OrganisationRow>> {
    let patterns: Option<Vec<String>> = query
        .scope_roots
        .as_ref()
        .map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM organisations \
         WHERE ($1::text IS NULL OR parent_id = $1) \
           AND ($2::text IS NULL OR area_path LIKE $2 || '%') \
           AND ($3::smallint IS NULL OR kind = $3) \
           AND ($4::text[] IS NULL OR area_path LIKE ANY($4)) \
           AND ($5::text IS NULL OR id > $5) \
         ORDER BY id LIMIT $6"
    )))
    .bind(query.parent_id.as_deref())
    .bind(query.within_path.as_deref())
    .bind(query.kind.map(|kind| kind as i16))
    .bind(patterns)
    .bind(query.after.as_deref())
    .bind(query.limit)
    .fetch_all(executor)
    .await
}

/// Every organisation whose area lies at `path` or below.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn within<'e>(
    executor: impl PgExecutor<'e>,
    path: &str,
) -> sqlx::Result<Vec<OrganisationRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM organisations WHERE area_path LIKE $1 || '%' ORDER BY id"
    )))
    .bind(path)
    .fetch_all(executor)
    .await
}

/// The organisation a CreateOrganisation request with `request_id` created.
pub async fn created_by_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT organisation_id FROM create_organisation_requests WHERE request_id = $1",
    )
    .bind(request_id)
    .fetch_optional(conn)
    .await
}

/// Remembers that `request_id` created `organisation_id`.
pub async fn remember_request(
    conn: &mut PgConnection,
    request_id: Uuid,
    organisation_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO create_organisation_requests (request_id, organisation_id) VALUES ($1, $2)",
    )
    .bind(request_id)
    .bind(organisation_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The community party committee whose area is the community at `path`.
pub async fn community_committee<'e>(
    executor: impl PgExecutor<'e>,
    path: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT id FROM organisations WHERE kind = $1 AND area_path = $2 ORDER BY id LIMIT 1",
    )
    .bind(Kind::CommunityPartyCommittee as i16)
    .bind(path)
    .fetch_optional(executor)
    .await
}

/// The organisations among `ids` that are stored.
pub async fn find_all(
    conn: &mut PgConnection,
    ids: &[String],
) -> sqlx::Result<Vec<OrganisationRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM organisations WHERE id = ANY($1)"
    )))
    .bind(ids)
    .fetch_all(conn)
    .await
}
