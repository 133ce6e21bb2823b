//! Cells and CreateCell idempotency keys. Reads go through
//! `civicgrid_cell_tree`, which every replica shares.

use civicgrid_cell_tree::CellRow;
use sqlx::PgConnection;
use uuid::Uuid;

use super::decode;
use crate::domain::cell::Level;

/// The level of a stored cell; a number that is no level fails loudly.
pub fn level(row: &CellRow) -> sqlx::Result<Level> {
    decode(Level::from_number(i32::from(row.level)), "cells.level")
}

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

/// The cell `id`, locked against other writers of its staff until the
/// transaction ends. NO KEY: children and assignments may still be inserted
/// under it (their foreign-key checks take KEY SHARE).
pub async fn lock_for_staff(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<CellRow>> {
    sqlx::query_as(
        "SELECT id, parent_id, level, display_name, newly_built, path, version, create_time, update_time \
         FROM cells WHERE id = $1 FOR NO KEY UPDATE",
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

/// The cells among `ids` that are stored, as rows.
pub async fn find_all(conn: &mut PgConnection, ids: &[String]) -> sqlx::Result<Vec<CellRow>> {
    sqlx::query_as(
        "SELECT id, parent_id, level, display_name, newly_built, path, version, create_time, update_time \
         FROM cells WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Inserts `rows` with one statement; returns the ids that were taken (and
/// so not inserted). Parents must come before their children.
pub async fn insert_all(conn: &mut PgConnection, rows: &[CellRow]) -> sqlx::Result<Vec<String>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let parents: Vec<Option<&str>> = rows.iter().map(|r| r.parent_id.as_deref()).collect();
    let levels: Vec<i16> = rows.iter().map(|r| r.level).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.display_name.as_str()).collect();
    let newly_built: Vec<bool> = rows.iter().map(|r| r.newly_built).collect();
    let paths: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
    let versions: Vec<i64> = rows.iter().map(|r| r.version).collect();
    let create_times: Vec<_> = rows.iter().map(|r| r.create_time).collect();
    let update_times: Vec<_> = rows.iter().map(|r| r.update_time).collect();
    let inserted: Vec<String> = sqlx::query_scalar(
        "INSERT INTO cells (id, parent_id, level, display_name, newly_built, path, version, create_time, update_time) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::smallint[], $4::text[], $5::bool[], $6::text[], \
                              $7::bigint[], $8::timestamptz[], $9::timestamptz[]) \
         ON CONFLICT (id) DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(&parents)
    .bind(&levels)
    .bind(&names)
    .bind(&newly_built)
    .bind(&paths)
    .bind(&versions)
    .bind(&create_times)
    .bind(&update_times)
    .fetch_all(conn)
    .await?;
    if inserted.len() == rows.len() {
        return Ok(Vec::new());
    }
    let inserted: std::collections::HashSet<String> = inserted.into_iter().collect();
    Ok(rows
        .iter()
        .filter(|row| !inserted.contains(&row.id))
        .map(|row| row.id.clone())
        .collect())
}

/// The cell at `path` and its whole subtree, parents before children.
pub async fn subtree(pool: &sqlx::PgPool, path: &str) -> sqlx::Result<Vec<CellRow>> {
    // A parent's path is a byte prefix of its children's: in the "C"
    // collation that sorts every parent first, depth first.
    sqlx::query_as(
        "SELECT id, parent_id, level, display_name, newly_built, path, version, create_time, update_time \
         FROM cells WHERE path LIKE $1 || '%' ORDER BY path COLLATE \"C\"",
    )
    .bind(path)
    .fetch_all(pool)
    .await
}
