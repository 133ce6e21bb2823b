//! Reading the cell tree: by id, by subtree, within the caller's scope, paged.

use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgExecutor;
use tonic::Status;

use crate::row::CellRow;

const COLUMNS: &str =
    "id, parent_id, level, display_name, newly_built, path, version, create_time, update_time";

/// A page of cells in a subtree and a scope.
#[derive(Debug, Clone, Default)]
pub struct CellQuery {
    /// Only strict descendants of the cell at this path.
    pub ancestor_path: Option<String>,
    /// Only this level (1-6).
    pub level: Option<i16>,
    /// Only cells under one of these roots; `None` means everywhere.
    pub scope_roots: Option<Vec<String>>,
    /// Only ids after this one (keyset pagination).
    pub after: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// The cell `id`, if stored.
pub async fn get<'e>(executor: impl PgExecutor<'e>, id: &str) -> sqlx::Result<Option<CellRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cells WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// Whether a caller whose scope roots are `roots` (`None`: everything) sees `row`.
pub fn visible(row: &CellRow, roots: Option<&[String]>) -> bool {
    match roots {
        None => true,
        Some(roots) => roots
            .iter()
            .any(|root| row.path.contains(&format!("/{root}/"))),
    }
}

/// Cells matching `query`, ordered by id.
pub async fn list<'e>(
    executor: impl PgExecutor<'e>,
    query: &CellQuery,
) -> sqlx::Result<Vec<CellRow>> {
    let patterns: Option<Vec<String>> = query
        .scope_roots
        .as_ref()
        .map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cells \
         WHERE ($1::text IS NULL OR (path LIKE $1 || '%' AND path <> $1)) \
           AND ($2::smallint IS NULL OR level = $2) \
           AND ($3::text[] IS NULL OR path LIKE ANY($3)) \
           AND ($4::text IS NULL OR id > $4) \
         ORDER BY id LIMIT $5"
    )))
    .bind(query.ancestor_path.as_deref())
    .bind(query.level)
    .bind(patterns)
    .bind(query.after.as_deref())
    .bind(query.limit)
    .fetch_all(executor)
    .await
}

/// The path of `ancestor_id` if the caller may list below it: it is visible,
/// or lies above one of the caller's roots (a street admin listing "below
/// the county" sees their own street). `None` when it is missing or foreign.
pub async fn path_of_visible_ancestor(
    pool: &sqlx::PgPool,
    ancestor_id: &str,
    roots: Option<&[String]>,
) -> sqlx::Result<Option<String>> {
    let Some(row) = get(pool, ancestor_id).await? else {
        return Ok(None);
    };
    if visible(&row, roots) {
        return Ok(Some(row.path));
    }
    let roots = roots.unwrap_or_default();
    let above_a_root: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM cells WHERE id = ANY($1) AND path LIKE $2)",
    )
    .bind(roots)
    .bind(format!("%/{ancestor_id}/%"))
    .fetch_one(pool)
    .await?;
    Ok(above_a_root.then_some(row.path))
}

/// The fields of a List request over cells.
#[derive(Debug, Clone, Copy)]
pub struct ListRequest<'a> {
    /// `cells/{id}` or empty.
    pub ancestor: &'a str,
    /// A `CellLevel` value; 0 means any.
    pub level: i32,
    /// Requested page size.
    pub page_size: i32,
    /// Token from the previous page.
    pub page_token: &'a str,
}

/// One page of cells for a caller who sees the subtrees of `roots` (`None`:
/// everything), with the next page's token (empty at the end). Validates the
/// request (INVALID_ARGUMENT with field violations) and hides everything
/// outside those subtrees.
pub async fn list_page(
    pool: &sqlx::PgPool,
    roots: Option<Vec<String>>,
    request: ListRequest<'_>,
) -> Result<(Vec<pb::Cell>, String), Status> {
    let mut violations = FieldViolations::new();
    let ancestor_id = match request.ancestor {
        "" => None,
        name => {
            let id = crate::parse_name(name);
            if id.is_none() {
                violations.add("ancestor", "must be empty or a cell name `cells/{cell_id}`");
            }
            id
        }
    };
    let level = match pb::CellLevel::try_from(request.level) {
        Ok(pb::CellLevel::Unspecified) => None,
        Ok(level) => Some(level as i16),
        Err(_) => {
            violations.add("level", "is not a CellLevel");
            None
        }
    };
    let limit = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!("ancestor={}&level={}", request.ancestor, request.level);
    let after = paging::decode(request.page_token, &fingerprint, &mut violations);
    violations.check(())?;

    let ancestor_path = match ancestor_id {
        None => None,
        Some(id) => Some(
            path_of_visible_ancestor(pool, id, roots.as_deref())
                .await
                .map_err(status::database)?
                .ok_or_else(|| UseCaseError::NotFound(format!("cell `{}`", request.ancestor)))?,
        ),
    };
    let query = CellQuery {
        ancestor_path,
        level,
        scope_roots: roots,
        after,
        limit: paging::limit(limit),
    };
    let rows = list(pool, &query).await.map_err(status::database)?;
    let (rows, next) = paging::paged(rows, limit, &fingerprint, |row| row.id.clone());
    Ok((rows.iter().map(CellRow::to_proto).collect(), next))
}
