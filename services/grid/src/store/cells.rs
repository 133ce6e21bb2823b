//! Cells and CreateCell idempotency keys. Reads go through
//! `civicgrid_cell_tree`, which every replica shares.

use civicgrid_cell_tree::CellRow;
use sqlx::PgConnection;
use uuid::Uuid;

/// Inserts `row`; `false` when the id is taken.
pub async fn insert(conn: &mut PgConnection, row: &CellRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO cells (id, parent_id, level, display_name, newly_built, path, version, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&row.id)
    .bind(&row.parent_id)
    .bind(row.level)
    .bind(&row.display_name)
    .bind(row.newly_built)
    .bind(&row.path)
    .bind(row.version)
    .bind(row.create_time)
    .bind(row.update_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The cell `id`, locked until the transaction ends.
pub async fn lock(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<CellRow>> {
    sqlx::query_as(
        "SELECT id, parent_id, level, display_name, newly_built, path, version, create_time, update_time \
         FROM cells WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Stores the changed fields and version of `row`.
pub async fn update(conn: &mut PgConnection, row: &CellRow) -> sqlx::Result<()> {
    sqlx::query("UPDATE cells SET display_name = $2, newly_built = $3, version = $4, update_time = $5 WHERE id = $1")
        .bind(&row.id)
        .bind(&row.display_name)
        .bind(row.newly_built)
        .bind(row.version)
        .bind(row.update_time)
        .execute(conn)
        .await?;
    Ok(())
}

/// The cell a CreateCell request with `request_id` created, if any.
pub async fn created_by_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT cell_id FROM create_cell_requests WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(conn)
        .await
}

/// Remembers that `request_id` created `cell_id`.
pub async fn remember_request(
    conn: &mut PgConnection,
    request_id: Uuid,
    cell_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO create_cell_requests (request_id, cell_id) VALUES ($1, $2)")
        .bind(request_id)
        .bind(cell_id)
        .execute(conn)
        .await?;
    Ok(())
}
