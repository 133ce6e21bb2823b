//! The six-level cell tree as every service stores it.
//!
//! The grid service owns the tree; membership, centres and assessment keep
//! a replica built from `grid.cell.*` events. All of them use the same
//! `cells` table, so the queries (by subtree, by the caller's scope, paged)
//! and the conversion to `civicgrid.grid.v1.Cell` live here once. The same
//! goes for residential compounds (`compounds`, `grid.compound.*`), which
//! hang on community cells.

pub mod compound;
pub mod compound_replica;
pub mod query;
pub mod replica;
pub mod row;
pub mod service;

/// The `cells` table, for every service that stores the tree (the grid
/// and each replica). Listed in a service's
/// `civicgrid_host::Service::MIGRATIONS` after `civicgrid_messaging::MIGRATOR`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub use compound::{
    COMPOUND_CREATED, COMPOUND_UPDATED, CompoundQuery, CompoundRow, compound_name, get_compound,
    list_compounds, parse_compound_name,
};
pub use compound_replica::CompoundReplica;
pub use query::{CellQuery, ListRequest, get, list, list_page, path_of_visible_ancestor, visible};
pub use replica::CellReplica;
pub use row::CellRow;
pub use service::{KnownCells, Replica, ReplicaService};

/// Routing key of `CellCreated`.
pub const CELL_CREATED: &str = "grid.cell.created";
/// Routing key of `CellUpdated`.
pub const CELL_UPDATED: &str = "grid.cell.updated";

/// `cells/{id}` from an id.
pub fn resource_name(id: &str) -> String {
    format!("cells/{id}")
}

/// The id from `cells/{id}`, if `name` has that form and a valid id.
pub fn parse_name(name: &str) -> Option<&str> {
    name.strip_prefix("cells/").filter(|id| is_valid_id(id))
}

/// 1-63 characters of a-z, 0-9 and `-`, starting with a letter or digit:
/// safe in URLs, in resource names and inside a LIKE pattern.
pub fn is_valid_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_codes_safe_in_patterns() {
        for good in ["c1", "st-01", "330102", "a"] {
            assert!(is_valid_id(good), "{good}");
        }
        for bad in ["", "-a", "A1", "a_b", "a/b", "a%", &"x".repeat(64)] {
            assert!(!is_valid_id(bad), "{bad}");
        }
        assert_eq!(parse_name("cells/st-01"), Some("st-01"));
        assert_eq!(parse_name("cell/st-01"), None);
        assert_eq!(parse_name("cells/"), None);
    }
}
