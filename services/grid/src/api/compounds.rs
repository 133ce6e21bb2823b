//! Compounds: CreateCompound, GetCompound, ListCompounds and UpdateCompound
//! of the GridService. Compounds convert with `CompoundRow::to_proto` (in
//! `civicgrid_cell_tree`, which every replica shares).

pub mod parse;

use civicgrid_cell_tree::{CompoundQuery, CompoundRow, list_compounds, path_of_visible_ancestor};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;

use super::cells::read_roots;
use crate::domain::cell::Level;

/// The compound `name` if the caller sees it; NOT_FOUND otherwise (outside
/// the scope is indistinguishable from absent).
pub async fn get(pool: &PgPool, caller: &Caller, name: &str) -> Result<CompoundRow, Status> {
    let id = parse::compound_name(name, "name")?;
    let roots = read_roots(pool, caller).await.map_err(status::database)?;
    Ok(civicgrid_cell_tree::get_compound(pool, id.as_str())
        .await
        .map_err(status::database)?
        .filter(|row| row.visible(roots.as_deref()))
        .ok_or_else(|| UseCaseError::NotFound(name.to_owned()))?)
}

/// One page of the compounds in the caller's scope below `ancestor`.
pub async fn list(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListCompoundsRequest,
) -> Result<pb::ListCompoundsResponse, Status> {
    let mut violations = FieldViolations::new();
    let ancestor_id = match request.ancestor.as_str() {
        "" => None,
        name => {
            let id = civicgrid_cell_tree::parse_name(name);
            if id.is_none() {
                violations.add(
                    "ancestor",
                    "must be empty or the cell name `cells/{cell_id}` of a county, street or community",
                );
            }
            id
        }
    };
    let limit = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!("ancestor={}", request.ancestor);
    let after = paging::decode(&request.page_token, &fingerprint, &mut violations);
    violations.check(())?;

    let roots = read_roots(pool, caller).await.map_err(status::database)?;
    let within_path = match ancestor_id {
        None => None,
        Some(id) => {
            let path = path_of_visible_ancestor(pool, id, roots.as_deref())
                .await
                .map_err(status::database)?
                .ok_or_else(|| UseCaseError::NotFound(format!("cell `{}`", request.ancestor)))?;
            // Every cell sits exactly one level below its parent, so the
            // depth of its path is its level.
            let depth = path.split('/').filter(|s| !s.is_empty()).count();
            if depth > Level::Community as usize {
                let mut violations = FieldViolations::new();
                violations.add(
                    "ancestor",
                    "must be a county, street or community: compounds lie in communities",
                );
                return Err(UseCaseError::Invalid(violations).into());
            }
            Some(path)
        }
    };
    let query = CompoundQuery {
        within_path,
        scope_roots: roots,
        after,
        limit: paging::limit(limit),
    };
    let rows = list_compounds(pool, &query)
        .await
        .map_err(status::database)?;
    let (rows, next_page_token) = paging::paged(rows, limit, &fingerprint, |row| row.id.clone());
    Ok(pb::ListCompoundsResponse {
        compounds: rows.iter().map(CompoundRow::to_proto).collect(),
        next_page_token,
    })
}
