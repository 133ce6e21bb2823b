//! Residential compounds (小区): a named group of building cells inside one
//! community, and the rules for creating and changing them.

use std::fmt;

use chrono::{DateTime, Datelike, Utc};

use super::calendar::CST_OFFSET;
use super::cell::{CellId, DisplayName, Level};

/// A compound's code: the cell code rules (see `civicgrid_cell_tree::is_valid_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompoundId(String);

impl CompoundId {
    /// Accepts a valid code.
    pub fn parse(id: &str) -> Option<CompoundId> {
        civicgrid_cell_tree::is_valid_id(id).then(|| CompoundId(id.to_owned()))
    }

    /// Accepts `compounds/{id}`.
    pub fn parse_name(name: &str) -> Option<CompoundId> {
        civicgrid_cell_tree::parse_compound_name(name).map(|id| CompoundId(id.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `compounds/{id}`.
    pub fn resource_name(&self) -> String {
        civicgrid_cell_tree::compound_name(&self.0)
    }
}

impl fmt::Display for CompoundId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 500;
/// Longest property company name, in characters.
pub const MAX_PROPERTY_COMPANY_CHARS: usize = 200;
/// Most buildings one compound lists: the largest compounds in a county
/// have a few hundred; more is a mistake, not a compound.
pub const MAX_BUILDINGS: usize = 1000;
/// Earliest year of completion accepted: older housing in the county is
/// courtyards, not residential compounds.
pub const MIN_YEAR_BUILT: i32 = 1900;

/// Optional free text (an address, a company name): trimmed, at most
/// `max_chars` characters, no control characters; empty is allowed.
pub fn parse_text(text: &str, max_chars: usize) -> Result<String, String> {
    let text = text.trim();
    if text.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(text.to_owned())
}

/// A year of completion: 0 means unknown (`None`); otherwise from
/// [`MIN_YEAR_BUILT`] to the current year in the county (China Standard
/// Time at `now`).
pub fn parse_year_built(year: i32, now: DateTime<Utc>) -> Result<Option<i16>, String> {
    if year == 0 {
        return Ok(None);
    }
    let this_year = (now + CST_OFFSET).year();
    if !(MIN_YEAR_BUILT..=this_year).contains(&year) {
        return Err(format!(
            "must be 0 (unknown) or a year from {MIN_YEAR_BUILT} to {this_year}"
        ));
    }
    // Within 1900..=this year: always fits.
    i16::try_from(year)
        .map(Some)
        .map_err(|_| format!("must be a year from {MIN_YEAR_BUILT} to {this_year}"))
}

/// A compound to create, parsed from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCompound {
    /// Its code.
    pub id: CompoundId,
    /// The community cell it lies in.
    pub community: CellId,
    /// Its name.
    pub display_name: DisplayName,
    /// Its building cells, in request order, no duplicates.
    pub buildings: Vec<CellId>,
    /// Postal address, may be empty.
    pub address: String,
    /// Year of completion, `None` when unknown.
    pub year_built: Option<i16>,
    /// A newly built residential compound.
    pub newly_built: bool,
    /// Still lacks the required community facilities.
    pub lacks_required_facilities: bool,
    /// The property company's name, may be empty.
    pub property_company: String,
}

/// Changes to a compound, parsed from a request and its field mask.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompoundPatch {
    /// New name, when masked.
    pub display_name: Option<DisplayName>,
    /// The new list of buildings (replacing the old one), when masked.
    pub buildings: Option<Vec<CellId>>,
    /// New address, when masked.
    pub address: Option<String>,
    /// New year of completion (`Some(None)`: unknown), when masked.
    pub year_built: Option<Option<i16>>,
    /// New flag, when masked.
    pub newly_built: Option<bool>,
    /// New flag, when masked.
    pub lacks_required_facilities: Option<bool>,
    /// New company, when masked.
    pub property_company: Option<String>,
}

/// A stored cell as the building checks see it.
#[derive(Debug, Clone, Copy)]
pub struct StoredCell<'a> {
    /// Its level.
    pub level: Level,
    /// Its materialised path.
    pub path: &'a str,
}

/// Why a building named in a compound cannot be one of its buildings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildingProblem {
    /// Missing, or somewhere outside the compound's community (the two are
    /// told apart only by someone who may see the other cell).
    #[error("is not a cell in cells/{0}")]
    NotInCommunity(CellId),
    /// In the community, but not a building.
    #[error("is a {0} cell, not a building")]
    NotABuilding(Level),
}

/// Checks each building (by its position in `buildings`) against the
/// stored cells: it must be a building-level cell under the community at
/// `community_path`. `stored` looks a cell up by code.
pub fn check_buildings<'a>(
    community: &CellId,
    community_path: &str,
    buildings: &[CellId],
    stored: impl Fn(&str) -> Option<StoredCell<'a>>,
) -> Vec<(usize, BuildingProblem)> {
    buildings
        .iter()
        .enumerate()
        .filter_map(|(index, building)| {
            let problem = match stored(building.as_str()) {
                Some(cell) if cell.path.starts_with(community_path) => (cell.level
                    != Level::Building)
                    .then_some(BuildingProblem::NotABuilding(cell.level)),
                _ => Some(BuildingProblem::NotInCommunity(community.clone())),
            };
            problem.map(|problem| (index, problem))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> CellId {
        CellId::parse(text).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn a_year_built_is_unknown_or_between_1900_and_this_year_in_the_county() {
        let new_year_utc = DateTime::parse_from_rfc3339("2026-12-31T17:00:00Z")
            .unwrap_or_else(|_| unreachable!())
            .with_timezone(&Utc);
        assert_eq!(parse_year_built(0, new_year_utc), Ok(None));
        assert_eq!(parse_year_built(1900, new_year_utc), Ok(Some(1900)));
        // 01:00 on 1 January 2027 in the county, still 2026 in UTC.
        assert_eq!(parse_year_built(2027, new_year_utc), Ok(Some(2027)));
        assert!(parse_year_built(2028, new_year_utc).is_err());
        assert!(parse_year_built(1899, new_year_utc).is_err());
        assert!(parse_year_built(-5, new_year_utc).is_err());
    }

    #[test]
    fn free_text_is_trimmed_bounded_and_may_be_empty() {
        assert_eq!(
            parse_text("  锦绣路 8 号 ", 500),
            Ok("锦绣路 8 号".to_owned())
        );
        assert_eq!(parse_text("", 500), Ok(String::new()));
        assert!(parse_text(&"号".repeat(201), 200).is_err());
        assert!(parse_text("a\nb", 200).is_err());
    }

    #[test]
    fn buildings_must_be_building_cells_under_the_community() {
        let cells = [
            ("b1", Level::Building, "/c/s/m/g/b1/"),
            ("g", Level::Grid, "/c/s/m/g/"),
            ("far", Level::Building, "/c/s/m2/g/far/"),
        ];
        let lookup = |code: &str| {
            cells
                .iter()
                .find(|(id, _, _)| *id == code)
                .map(|&(_, level, path)| StoredCell { level, path })
        };
        let problems = check_buildings(
            &id("m"),
            "/c/s/m/",
            &[id("b1"), id("g"), id("far"), id("gone")],
            lookup,
        );
        assert_eq!(
            problems,
            vec![
                (1, BuildingProblem::NotABuilding(Level::Grid)),
                (2, BuildingProblem::NotInCommunity(id("m"))),
                (3, BuildingProblem::NotInCommunity(id("m"))),
            ]
        );
    }
}
