//! Where a cell or compound of the replica lies: street, community, compound.

use sqlx::PgConnection;

use crate::domain::centre::Location;
use crate::domain::lists::{Placed, street_and_community};
use crate::domain::matching::GridPlace;

/// The place of `location`; `None` when the replica does not know it or it
/// lies above community level.
pub async fn resolve(conn: &mut PgConnection, location: &Location) -> sqlx::Result<Option<Placed>> {
    let (path, compound) = match location {
        Location::Cell(id) => match civicgrid_cell_tree::get(&mut *conn, id).await? {
            Some(cell) => (cell.path, None),
            None => return Ok(None),
        },
        Location::Compound(id) => match civicgrid_cell_tree::get_compound(&mut *conn, id).await? {
            Some(compound) => (compound.community_path, Some(id.clone())),
            None => return Ok(None),
        },
    };
    Ok(
        street_and_community(&path).map(|(street, community)| Placed {
            location: location.clone(),
            grid: GridPlace {
                street,
                community,
                compound,
            },
            path,
        }),
    )
}
