//! Compounds, their claims on buildings and CreateCompound idempotency
//! keys. Reads go through `civicgrid_cell_tree`, which every replica shares.

use civicgrid_cell_tree::CompoundRow;
use civicgrid_cell_tree::compound::COMPOUND_COLUMNS;
use sqlx::PgConnection;
use uuid::Uuid;

/// Inserts `row`; `false` when the id is taken.
#[tracing::instrument(level = "debug", skip_all, fields(compound = %row.id))]
pub async fn insert(conn: &mut PgConnection, row: &CompoundRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO compounds (id, community_id, community_path, display_name, building_ids, address, \
           year_built, newly_built, lacks_required_facilities, property_company, version, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&row.id)
    .bind(&row.community_id)
    .bind(&row.community_path)
    .bind(&row.display_name)
    .bind(&row.building_ids)
    .bind(&row.address)
    .bind(row.year_built)
    .bind(row.newly_built)
    .bind(row.lacks_required_facilities)
    .bind(&row.property_company)
    .bind(row.version)
    .bind(row.create_time)
    .bind(row.update_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The compound `id`, locked until the transaction ends.
#[tracing::instrument(level = "debug", skip_all, fields(compound = %id))]
pub async fn lock(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<CompoundRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COMPOUND_COLUMNS} FROM compounds WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Stores the changeable fields and version of `row`.
#[tracing::instrument(level = "debug", skip_all, fields(compound = %row.id))]
pub async fn update(conn: &mut PgConnection, row: &CompoundRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE compounds SET display_name = $2, building_ids = $3, address = $4, year_built = $5, \
           newly_built = $6, lacks_required_facilities = $7, property_company = $8, version = $9, \
           update_time = $10 \
         WHERE id = $1",
    )
    .bind(&row.id)
    .bind(&row.display_name)
    .bind(&row.building_ids)
    .bind(&row.address)
    .bind(row.year_built)
    .bind(row.newly_built)
    .bind(row.lacks_required_facilities)
    .bind(&row.property_company)
    .bind(row.version)
    .bind(row.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes `building_ids` the buildings of `compound_id`, releasing the ones
/// it held before. Returns the buildings another compound holds, with that
/// compound, in building order (nothing claimed for them; the caller rolls
/// back). A concurrent claim on the same building waits for the other
/// transaction and then counts as taken.
#[tracing::instrument(level = "debug", skip_all, fields(compound = %compound_id))]
pub async fn claim_buildings(
    conn: &mut PgConnection,
    compound_id: &str,
    building_ids: &[String],
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query("DELETE FROM compound_buildings WHERE compound_id = $1")
        .bind(compound_id)
        .execute(&mut *conn)
        .await?;
    let claimed: Vec<String> = sqlx::query_scalar(
        "INSERT INTO compound_buildings (building_id, compound_id) \
         SELECT building, $2 FROM UNNEST($1::text[]) AS building \
         ON CONFLICT (building_id) DO NOTHING RETURNING building_id",
    )
    .bind(building_ids)
    .bind(compound_id)
    .fetch_all(&mut *conn)
    .await?;
    if claimed.len() == building_ids.len() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT building_id, compound_id FROM compound_buildings \
         WHERE building_id = ANY($1) AND compound_id <> $2 ORDER BY building_id",
    )
    .bind(building_ids)
    .bind(compound_id)
    .fetch_all(conn)
    .await
}

/// The compound a CreateCompound request with `request_id` created, if any.
pub async fn created_by_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT compound_id FROM create_compound_requests WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(conn)
        .await
}

/// Remembers that `request_id` created `compound_id`.
pub async fn remember_request(
    conn: &mut PgConnection,
    request_id: Uuid,
    compound_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO create_compound_requests (request_id, compound_id) VALUES ($1, $2)")
        .bind(request_id)
        .bind(compound_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The compounds among `ids` that are stored.
pub async fn find_all(conn: &mut PgConnection, ids: &[String]) -> sqlx::Result<Vec<CompoundRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COMPOUND_COLUMNS} FROM compounds WHERE id = ANY($1)"
    )))
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Every compound whose community lies at `path` or below, by id.
pub async fn within(pool: &sqlx::PgPool, path: &str) -> sqlx::Result<Vec<CompoundRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COMPOUND_COLUMNS} FROM compounds WHERE community_path LIKE $1 || '%' ORDER BY id"
    )))
    .bind(path)
    .fetch_all(pool)
    .await
}
