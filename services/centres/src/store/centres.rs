//! Centres and CreateCentre idempotency keys.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::bad;
use crate::domain::centre::{Category, Centre, GeoPoint, Location, Zone};
use crate::domain::hours::OpeningPeriod;

const COLUMNS: &str = "id, display_name, category, owner_organisation, cell_id, compound_id, \
     location_path, floor_area, opening_hours, zones, linked_compounds, latitude, longitude, version, \
     create_time, update_time";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    display_name: String,
    category: String,
    owner_organisation: String,
    cell_id: Option<String>,
    compound_id: Option<String>,
    location_path: String,
    floor_area: i32,
    opening_hours: Json<Vec<OpeningPeriod>>,
    zones: Json<Vec<Zone>>,
    linked_compounds: Vec<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    version: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

impl TryFrom<Row> for Centre {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> sqlx::Result<Centre> {
        let location = match (row.cell_id, row.compound_id) {
            (Some(cell), None) => Location::Cell(cell),
            (None, Some(compound)) => Location::Compound(compound),
            _ => return Err(bad("centres.cell_id/compound_id")),
        };
        Ok(Centre {
            category: Category::parse(&row.category).ok_or_else(|| bad("centres.category"))?,
            id: row.id,
            display_name: row.display_name,
            owner_organisation: row.owner_organisation,
            location,
            location_path: row.location_path,
            floor_area: row.floor_area,
            opening_hours: row.opening_hours.0,
            zones: row.zones.0,
            linked_compounds: row.linked_compounds,
            coordinates: match (row.latitude, row.longitude) {
                (Some(lat), Some(lng)) => {
                    Some(GeoPoint::from_degrees(lat, lng).ok_or_else(|| bad("centres.latitude"))?)
                }
                _ => None,
            },
            version: row.version,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}

fn decode(rows: Vec<Row>) -> sqlx::Result<Vec<Centre>> {
    rows.into_iter().map(Centre::try_from).collect()
}

/// Inserts `centre`; `false` when the id is taken.
#[tracing::instrument(level = "debug", skip_all, fields(centre = %centre.id))]
pub async fn insert(conn: &mut PgConnection, centre: &Centre) -> sqlx::Result<bool> {
    let (cell, compound) = match &centre.location {
        Location::Cell(id) => (Some(id.as_str()), None),
        Location::Compound(id) => (None, Some(id.as_str())),
    };
    let inserted = sqlx::query(
        "INSERT INTO centres (id, display_name, category, owner_organisation, cell_id, compound_id, \
           location_path, floor_area, opening_hours, zones, linked_compounds, version, create_time, update_time, \
           latitude, longitude) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&centre.id)
    .bind(&centre.display_name)
    .bind(centre.category.as_str())
    .bind(&centre.owner_organisation)
    .bind(cell)
    .bind(compound)
    .bind(&centre.location_path)
    .bind(centre.floor_area)
    .bind(Json(&centre.opening_hours))
    .bind(Json(&centre.zones))
    .bind(&centre.linked_compounds)
    .bind(centre.version)
    .bind(centre.create_time)
    .bind(centre.update_time)
    .bind(centre.coordinates.map(GeoPoint::latitude))
    .bind(centre.coordinates.map(GeoPoint::longitude))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Stores the changeable fields and version of `centre`.
#[tracing::instrument(level = "debug", skip_all, fields(centre = %centre.id))]
pub async fn update(conn: &mut PgConnection, centre: &Centre) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE centres SET display_name = $2, owner_organisation = $3, floor_area = $4, \
           opening_hours = $5, zones = $6, linked_compounds = $7, version = $8, update_time = $9, \
           latitude = $10, longitude = $11 WHERE id = $1",
    )
    .bind(&centre.id)
    .bind(&centre.display_name)
    .bind(&centre.owner_organisation)
    .bind(centre.floor_area)
    .bind(Json(&centre.opening_hours))
    .bind(Json(&centre.zones))
    .bind(&centre.linked_compounds)
    .bind(centre.version)
    .bind(centre.update_time)
    .bind(centre.coordinates.map(GeoPoint::latitude))
    .bind(centre.coordinates.map(GeoPoint::longitude))
    .execute(conn)
    .await?;
    Ok(())
}

/// The centre `id`, if stored.
#[tracing::instrument(level = "debug", skip_all, fields(centre = %id))]
pub async fn get<'e>(executor: impl PgExecutor<'e>, id: &str) -> sqlx::Result<Option<Centre>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM centres WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await?;
    row.map(Centre::try_from).transpose()
}

/// The centre `id`, locked until the transaction ends.
#[tracing::instrument(level = "debug", skip_all, fields(centre = %id))]
pub async fn lock(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<Centre>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM centres WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Centre::try_from).transpose()
}

/// A page of centres.
#[derive(Debug, Clone, Default)]
pub struct CentreQuery {
    /// Only centres whose location path starts with this one.
    pub within_path: Option<String>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only under one of these cell roots; `None`: everywhere.
    pub scope_roots: Option<Vec<String>>,
    /// Only ids after this one.
    pub after: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// Centres matching `query`, by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list<'e>(
    executor: impl PgExecutor<'e>,
    query: &CentreQuery,
) -> sqlx::Result<Vec<Centre>> {
    let patterns: Option<Vec<String>> = query
        .scope_roots
        .as_ref()
        .map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM centres \
         WHERE ($1::text IS NULL OR location_path LIKE $1 || '%') \
           AND ($2::text IS NULL OR category = $2) \
           AND ($3::text[] IS NULL OR location_path LIKE ANY($3)) \
           AND ($4::text IS NULL OR id > $4) \
         ORDER BY id LIMIT $5"
    )))
    .bind(query.within_path.as_deref())
    .bind(query.category.map(Category::as_str))
    .bind(patterns)
    .bind(query.after.as_deref())
    .bind(query.limit)
    .fetch_all(executor)
    .await?;
    decode(rows)
}

/// The centre a CreateCentre with `request_id` made, if any.
pub async fn created_by_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT centre_id FROM centre_requests WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(conn)
        .await
}

/// Remembers that `request_id` made `centre_id`.
pub async fn remember_request(
    conn: &mut PgConnection,
    request_id: Uuid,
    centre_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO centre_requests (request_id, centre_id) VALUES ($1, $2)")
        .bind(request_id)
        .bind(centre_id)
        .execute(conn)
        .await?;
    Ok(())
}
