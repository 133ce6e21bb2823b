//! Residential compounds (小区) as every service stores them: the row, its
//! proto form and the scoped reads. A compound lies in one community cell
//! and carries that cell's path, so a scope check on compounds is the same
//! prefix test as on cells.

use chrono::{DateTime, Utc};
use civicgrid_proto::grid::v1 as pb;
use sqlx::PgExecutor;

use crate::row::{etag, timestamp};
use crate::{is_valid_id, resource_name};

/// Routing key of `CompoundCreated`.
pub const COMPOUND_CREATED: &str = "grid.compound.created";
/// Routing key of `CompoundUpdated`.
pub const COMPOUND_UPDATED: &str = "grid.compound.updated";

/// `compounds/{id}` from an id.
pub fn compound_name(id: &str) -> String {
    format!("compounds/{id}")
}

/// The id from `compounds/{id}`, if `name` has that form and a valid id
/// (the cell code rules).
pub fn parse_compound_name(name: &str) -> Option<&str> {
    name.strip_prefix("compounds/").filter(|id| is_valid_id(id))
}

/// One row of the `compounds` table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CompoundRow {
    /// The compound's code.
    pub id: String,
    /// The community cell's code.
    pub community_id: String,
    /// The community cell's path, `/county/street/community/`.
    pub community_path: String,
    /// Human-readable name.
    pub display_name: String,
    /// Its building cells' codes, in code order.
    pub building_ids: Vec<String>,
    /// Postal address, may be empty.
    pub address: String,
    /// Year of completion; `None` when unknown.
    pub year_built: Option<i16>,
    /// A newly built residential compound.
    pub newly_built: bool,
    /// Still lacks the required community facilities.
    pub lacks_required_facilities: bool,
    /// The property company's name, may be empty.
    pub property_company: String,
    /// Incremented on every change.
    pub version: i64,
    /// Created at.
    pub create_time: DateTime<Utc>,
    /// Last changed at.
    pub update_time: DateTime<Utc>,
}

impl CompoundRow {
    /// The `civicgrid.grid.v1.Compound` for this row.
    pub fn to_proto(&self) -> pb::Compound {
        pb::Compound {
            name: compound_name(&self.id),
            community: resource_name(&self.community_id),
            display_name: self.display_name.clone(),
            buildings: self
                .building_ids
                .iter()
                .map(|id| resource_name(id))
                .collect(),
            address: self.address.clone(),
            year_built: self.year_built.map(i32::from).unwrap_or_default(),
            newly_built: self.newly_built,
            lacks_required_facilities: self.lacks_required_facilities,
            property_company: self.property_company.clone(),
            ancestors: self
                .community_path
                .split('/')
                .filter(|id| !id.is_empty())
                .map(resource_name)
                .collect(),
            version: self.version,
            etag: etag(self.version),
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
        }
    }

    /// Whether a caller whose scope roots are `roots` (`None`: everything)
    /// sees this compound: they see its community.
    pub fn visible(&self, roots: Option<&[String]>) -> bool {
        match roots {
            None => true,
            Some(roots) => roots
                .iter()
                .any(|root| self.community_path.contains(&format!("/{root}/"))),
        }
    }
}

/// The columns of [`CompoundRow`], in its order.
pub const COMPOUND_COLUMNS: &str = "id, community_id, community_path, display_name, building_ids, \
     address, year_built, newly_built, lacks_required_facilities, property_company, version, \
     create_time, update_time";

/// The compound `id`, if stored.
pub async fn get_compound<'e>(
    executor: impl PgExecutor<'e>,
    id: &str,
) -> sqlx::Result<Option<CompoundRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COMPOUND_COLUMNS} FROM compounds WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// A page of compounds in a subtree and a scope.
#[derive(Debug, Clone, Default)]
pub struct CompoundQuery {
    /// Only compounds whose community is the cell at this path or below it.
    pub within_path: Option<String>,
    /// Only compounds under one of these cell roots; `None` means everywhere.
    pub scope_roots: Option<Vec<String>>,
    /// Only ids after this one (keyset pagination).
    pub after: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// Compounds matching `query`, ordered by id.
pub async fn list_compounds<'e>(
    executor: impl PgExecutor<'e>,
    query: &CompoundQuery,
) -> sqlx::Result<Vec<CompoundRow>> {
    let patterns: Option<Vec<String>> = query
        .scope_roots
        .as_ref()
        .map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COMPOUND_COLUMNS} FROM compounds \
         WHERE ($1::text IS NULL OR community_path LIKE $1 || '%') \
           AND ($2::text[] IS NULL OR community_path LIKE ANY($2)) \
           AND ($3::text IS NULL OR id > $3) \
         ORDER BY id LIMIT $4"
    )))
    .bind(query.within_path.as_deref())
    .bind(patterns)
    .bind(query.after.as_deref())
    .bind(query.limit)
    .fetch_all(executor)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_names_follow_the_cell_code_rules() {
        assert_eq!(parse_compound_name("compounds/jinxiu-1"), Some("jinxiu-1"));
        assert_eq!(parse_compound_name("compounds/Jinxiu"), None);
        assert_eq!(parse_compound_name("cells/jinxiu"), None);
        assert_eq!(parse_compound_name("compounds/"), None);
    }

    #[test]
    fn a_compound_shows_its_communitys_ancestry_and_hides_outside_its_street() {
        let row = CompoundRow {
            id: "cp".into(),
            community_id: "m".into(),
            community_path: "/c/s/m/".into(),
            display_name: "CP".into(),
            building_ids: vec!["b1".into(), "b2".into()],
            address: String::new(),
            year_built: Some(2021),
            newly_built: true,
            lacks_required_facilities: false,
            property_company: String::new(),
            version: 3,
            create_time: DateTime::default(),
            update_time: DateTime::default(),
        };
        let proto = row.to_proto();
        assert_eq!(proto.ancestors, vec!["cells/c", "cells/s", "cells/m"]);
        assert_eq!(proto.buildings, vec!["cells/b1", "cells/b2"]);
        assert_eq!((proto.year_built, proto.etag.as_str()), (2021, "\"3\""));
        assert!(row.visible(Some(&["s".to_owned()])));
        assert!(!row.visible(Some(&["s2".to_owned()])));
        assert!(row.visible(None));
    }
}
