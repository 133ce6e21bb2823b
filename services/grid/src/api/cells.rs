//! Cells: CreateCell, GetCell, ListCells and UpdateCell of the GridService.
//! Cells convert with `CellRow::to_proto` (in `civicgrid_cell_tree`, which
//! every replica of the tree shares).

pub mod parse;

use civicgrid_runtime::auth::{Caller, Role};
use sqlx::PgPool;

/// The cell subtrees `caller` may read (see `access::cell_read_roots`).
#[tracing::instrument(level = "debug", skip_all)]
pub(crate) async fn read_roots(
    pool: &PgPool,
    caller: &Caller,
) -> sqlx::Result<Option<Vec<String>>> {
    let duty_cells = if caller.has_role(Role::GridWorker) {
        crate::store::staff::cells_of_person(pool, &caller.subject, chrono::Utc::now()).await?
    } else {
        Vec::new()
    };
    Ok(crate::domain::access::cell_read_roots(caller, duty_cells))
}
