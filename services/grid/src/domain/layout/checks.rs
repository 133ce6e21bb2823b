//! A layout's rows checked against each other and against the cells already
//! stored, into cells ready to insert parents first.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{Column, Layout, LayoutError, LineError, RawRow, shown};
use crate::domain::cell::{CellId, DisplayName, Level, NewCell, check_newly_built, check_parent};
use crate::domain::compound::{
    CompoundId, MAX_ADDRESS_CHARS, MAX_PROPERTY_COMPANY_CHARS, NewCompound, parse_text,
    parse_year_built,
};

/// What validation needs to know of the stored grid, for the ids a file
/// names (see [`Layout::referenced_ids`] and [`Layout::referenced_compound_ids`]).
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// The level of each stored cell the file references.
    pub levels: HashMap<String, Level>,
    /// The parent of each of those stored cells (a county has none): a
    /// building's grid may be stored, and the grid's parent is the
    /// community the building's compound must lie in.
    pub parents: HashMap<String, String>,
    /// The stored compounds among those the file's compound rows name.
    pub compounds: HashSet<String>,
}

/// A layout that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// The cells, parents first, ready to insert in order.
    pub cells: Vec<NewCell>,
    /// The compounds, in file order, with their buildings (cells of this file).
    pub compounds: Vec<NewCompound>,
}

impl Layout {
    /// How many rows were read.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was read.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every cell id the file names, as a cell or a parent, once each: the
    /// stored cells validation needs are among these (and their parents).
    pub fn referenced_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .rows
            .iter()
            .flat_map(|row| {
                let own = if row.is_compound() {
                    None
                } else {
                    row.cell_id.as_deref()
                };
                [own, row.parent()]
            })
            .flatten()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The compound ids the file's compound rows name, once each.
    pub fn referenced_compound_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .rows
            .iter()
            .filter(|row| row.is_compound())
            .filter_map(|row| row.cell_id.clone())
            .filter(|id| !id.is_empty())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Checks every row against the file itself and `stored`; `now` bounds
    /// a compound's year of completion. On success the cells come parents
    /// first, ready to insert in order, then the compounds.
    pub fn validate(self, stored: &Stored, now: DateTime<Utc>) -> Result<Validated, LayoutError> {
        let mut errors = self.errors;
        let row_word = self.format.row_word();
        // The first row of each id (cells and compounds apart: they are two
        // namespaces): later rows with it are duplicates, and children
        // resolve their parent's level (and a building its grid's
        // community) from it.
        let mut first: HashMap<&str, (usize, Option<Level>, Option<&str>)> = HashMap::new();
        let mut first_compound: HashMap<&str, (usize, Option<&str>)> = HashMap::new();
        for row in &self.rows {
            let Some(id) = row.cell_id.as_deref().filter(|id| !id.is_empty()) else {
                continue;
            };
            if row.is_compound() {
                first_compound.entry(id).or_insert((row.line, row.parent()));
            } else {
                first
                    .entry(id)
                    .or_insert((row.line, row.level(), row.parent()));
            }
        }
        let levels: HashMap<&str, (usize, Option<Level>)> = first
            .iter()
            .map(|(id, (line, level, _))| (*id, (*line, *level)))
            .collect();

        let mut cells = Vec::with_capacity(self.rows.len());
        // Buildings of each compound of the file, in file order.
        let mut buildings: HashMap<&str, Vec<CellId>> = HashMap::new();
        for row in self.rows.iter().filter(|row| !row.is_compound()) {
            let line = row.line;
            let mut fail = |field: Column, message: String| {
                errors.push(LineError {
                    line,
                    field: Some(field),
                    message,
                })
            };

            let id = row.cell_id.as_deref().and_then(|text| {
                let id = check_id(text).map_err(|m| fail(Column::CellId, m)).ok()?;
                match first.get(text) {
                    Some((first_line, _, _)) if *first_line != line => {
                        fail(
                            Column::CellId,
                            format!("{} is already on {row_word} {first_line}", shown(text)),
                        );
                        None
                    }
                    _ if stored.levels.contains_key(text) => {
                        fail(
                            Column::CellId,
                            format!("cell {} already exists", shown(text)),
                        );
                        None
                    }
                    _ => Some(id),
                }
            });

            let level = row.level.as_deref().and_then(|text| {
                let level = match text {
                    "" => Err(format!("is required: {LEVELS}")),
                    text => Level::from_name(text)
                        .ok_or_else(|| format!("{} is not a level; use {LEVELS}", shown(text))),
                };
                level.map_err(|m| fail(Column::Level, m)).ok()
            });

            let display_name = row.display_name.as_deref().and_then(|text| {
                DisplayName::parse(text)
                    .map_err(|m| fail(Column::DisplayName, m.to_owned()))
                    .ok()
            });

            let newly_built = row.newly_built.as_deref().and_then(|text| {
                parse_flag(text)
                    .map_err(|m| fail(Column::NewlyBuilt, m))
                    .ok()
            });
            if let (Some(level), Some(flag)) = (level, newly_built)
                && let Err(rule) = check_newly_built(level, flag)
            {
                fail(Column::NewlyBuilt, rule.to_string());
            }

            let parent = match check_row_parent(row.parent_id.as_deref(), level, &levels, stored) {
                Ok(parent) => Some(parent),
                Err(Some(message)) => {
                    fail(Column::ParentId, message);
                    None
                }
                Err(None) => None,
            };

            for column in Column::COMPOUND_ONLY {
                if row.field(column).is_some_and(|text| !text.is_empty()) {
                    fail(column, "is only for rows of level compound".to_owned());
                }
            }
            let compound = match row.compound_id.as_deref() {
                None | Some("") => Ok(None),
                Some(text) => {
                    check_building_compound(text, row, level, &first, &first_compound, stored)
                        .map(Some)
                }
            };
            let compound = compound.map_err(|m| fail(Column::CompoundId, m)).ok();

            if let (
                Some(id),
                Some(level),
                Some(display_name),
                Some(newly_built),
                Some(parent),
                Some(compound),
            ) = (id, level, display_name, newly_built, parent, compound)
            {
                if let Some(compound) = compound {
                    buildings.entry(compound).or_default().push(id.clone());
                }
                cells.push(NewCell {
                    id,
                    parent,
                    level,
                    display_name,
                    newly_built,
                });
            }
        }

        let mut compounds = Vec::new();
        for row in self.rows.iter().filter(|row| row.is_compound()) {
            let line = row.line;
            let mut fail = |field: Column, message: String| {
                errors.push(LineError {
                    line,
                    field: Some(field),
                    message,
                })
            };
            let id = row.cell_id.as_deref().and_then(|text| {
                let id = check_compound_id(text)
                    .map_err(|m| fail(Column::CellId, m))
                    .ok()?;
                match first_compound.get(text) {
                    Some((first_line, _)) if *first_line != line => {
                        fail(
                            Column::CellId,
                            format!(
                                "compound {} is already on {row_word} {first_line}",
                                shown(text)
                            ),
                        );
                        None
                    }
                    _ if stored.compounds.contains(text) => {
                        fail(
                            Column::CellId,
                            format!("compound {} already exists", shown(text)),
                        );
                        None
                    }
                    _ => Some(id),
                }
            });
            let community = row.parent_id.as_deref().and_then(|text| {
                check_community(text, &levels, stored)
                    .map_err(|m| m.map(|m| fail(Column::ParentId, m)))
                    .ok()
            });
            let display_name = row.display_name.as_deref().and_then(|text| {
                DisplayName::parse(text)
                    .map_err(|m| fail(Column::DisplayName, m.to_owned()))
                    .ok()
            });
            let newly_built = row.newly_built.as_deref().and_then(|text| {
                parse_flag(text)
                    .map_err(|m| fail(Column::NewlyBuilt, m))
                    .ok()
            });
            let lacks = row.lacks_required_facilities.as_deref().and_then(|text| {
                parse_flag(text)
                    .map_err(|m| fail(Column::LacksRequiredFacilities, m))
                    .ok()
            });
            let address = row.address.as_deref().and_then(|text| {
                parse_text(text, MAX_ADDRESS_CHARS)
                    .map_err(|m| fail(Column::Address, m))
                    .ok()
            });
            let company = row.property_company.as_deref().and_then(|text| {
                parse_text(text, MAX_PROPERTY_COMPANY_CHARS)
                    .map_err(|m| fail(Column::PropertyCompany, m))
                    .ok()
            });
            let year_built = row.year_built.as_deref().and_then(|text| {
                let year = match text {
                    "" => Ok(None),
                    text => text
                        .parse::<i32>()
                        .map_err(|_| format!("{} is not a year", shown(text)))
                        .and_then(|year| {
                            if year == 0 {
                                Err("must be a year, or empty when unknown".to_owned())
                            } else {
                                parse_year_built(year, now)
                            }
                        }),
                };
                year.map_err(|m| fail(Column::YearBuilt, m)).ok()
            });
            if row
                .compound_id
                .as_deref()
                .is_some_and(|text| !text.is_empty())
            {
                fail(
                    Column::CompoundId,
                    "is only for building rows; a compound row names itself in cell_id".to_owned(),
                );
            }
            if let (
                Some(id),
                Some(Some(community)),
                Some(display_name),
                Some(newly_built),
                Some(lacks_required_facilities),
                Some(address),
                Some(property_company),
                Some(year_built),
            ) = (
                id,
                community,
                display_name,
                newly_built,
                lacks,
                address,
                company,
                year_built,
            ) {
                let buildings = buildings.remove(id.as_str()).unwrap_or_default();
                compounds.push(NewCompound {
                    id,
                    community,
                    display_name,
                    buildings,
                    address,
                    year_built,
                    newly_built,
                    lacks_required_facilities,
                    property_company,
                });
            }
        }

        if !errors.is_empty() {
            errors.sort_by_key(|error| (error.line, error.field));
            return Err(LayoutError::Rows(errors));
        }
        // Every parent is exactly one level up, so level order is a
        // topological order; the stable sort keeps file order within a level.
        cells.sort_by_key(|cell| cell.level);
        Ok(Validated { cells, compounds })
    }
}

/// The levels a cell row may have, for messages.
const LEVELS: &str =
    "county, street, community, grid, building or unit (or compound for a compound's row)";

/// `true`, `false` or empty (false), ASCII case ignored.
fn parse_flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "" | "false" => Ok(false),
        "true" => Ok(true),
        _ => Err(format!(
            "{} must be true, false or empty (false)",
            shown(text)
        )),
    }
}

/// The compound a building row names in `compound_id` (`text`, not
/// empty), or why it cannot: only buildings belong to compounds, the
/// compound must be a row of this file, and lie in the building's community.
fn check_building_compound<'f>(
    text: &'f str,
    row: &RawRow,
    level: Option<Level>,
    cells: &HashMap<&str, (usize, Option<Level>, Option<&str>)>,
    compounds: &HashMap<&'f str, (usize, Option<&'f str>)>,
    stored: &Stored,
) -> Result<&'f str, String> {
    if let Some(level) = level
        && level != Level::Building
    {
        return Err(format!(
            "only building rows belong to a compound, not a {level}"
        ));
    }
    let Some((_, compound_community)) = compounds.get(text) else {
        return Err(format!(
            "compound {} is not a row of this file; add buildings to a stored compound with UpdateCompound",
            shown(text)
        ));
    };
    // The building's grid, then the grid's parent: the community.
    let community = row.parent().and_then(|grid| match cells.get(grid) {
        Some((_, _, parent)) => *parent,
        None => stored.parents.get(grid).map(String::as_str),
    });
    match (community, compound_community) {
        (Some(community), Some(compound_community)) if community != *compound_community => {
            Err(format!(
                "compound {} lies in community {}, but this building is in {}",
                shown(text),
                shown(compound_community),
                shown(community)
            ))
        }
        _ => Ok(text),
    }
}

/// A compound row's community, or why not (`None`: unreadable, reported elsewhere).
fn check_community(
    text: &str,
    in_file: &HashMap<&str, (usize, Option<Level>)>,
    stored: &Stored,
) -> Result<Option<CellId>, Option<String>> {
    if text.is_empty() {
        return Err(Some("is required: the compound's community".to_owned()));
    }
    let community = check_id(text).map_err(Some)?;
    let level = match (in_file.get(text), stored.levels.get(text)) {
        (Some((_, Some(level))), _) | (None, Some(level)) => *level,
        (Some((_, None)), _) => return Err(None),
        (None, None) => {
            return Err(Some(format!(
                "community {} is neither in the file nor stored",
                shown(text)
            )));
        }
    };
    if level != Level::Community {
        return Err(Some(format!(
            "a compound lies in a community, but {} is a {level}",
            shown(text)
        )));
    }
    Ok(Some(community))
}

fn check_compound_id(text: &str) -> Result<CompoundId, String> {
    if text.is_empty() {
        return Err("is required".to_owned());
    }
    CompoundId::parse(text).ok_or_else(|| {
        format!(
            "{} is not a compound code: 1-63 characters of a-z, 0-9 and '-', not starting with '-'",
            shown(text)
        )
    })
}

/// A row's parent (`None` for a county), or why not: `Some(message)` to
/// report on its `parent_id`, `None` when it cannot be checked because what
/// it depends on is unreadable and reported elsewhere.
fn check_row_parent(
    text: Option<&str>,
    level: Option<Level>,
    in_file: &HashMap<&str, (usize, Option<Level>)>,
    stored: &Stored,
) -> Result<Option<CellId>, Option<String>> {
    let stored = &stored.levels;
    let text = text.ok_or(None)?;
    match (text, level) {
        ("", Some(Level::County)) => Ok(None),
        ("", Some(level)) => Err(Some(format!("is required for a {level}"))),
        ("", None) => Err(None),
        (text, Some(Level::County)) => Err(Some(format!(
            "must be empty for a county, not {}",
            shown(text)
        ))),
        (text, level) => {
            let parent = check_id(text).map_err(Some)?;
            let parent_level = match (in_file.get(text), stored.get(text)) {
                (Some((_, Some(parent_level))), _) | (None, Some(parent_level)) => *parent_level,
                // The parent's row has a bad level, reported on that row.
                (Some((_, None)), _) => return Err(None),
                (None, None) => {
                    return Err(Some(format!(
                        "parent cell {} is neither in the file nor stored",
                        shown(text)
                    )));
                }
            };
            let level = level.ok_or(None)?;
            check_parent(level, &parent, Some(parent_level))
                .map_err(|rule| Some(rule.to_string()))?;
            Ok(Some(parent))
        }
    }
}

fn check_id(text: &str) -> Result<CellId, String> {
    if text.is_empty() {
        return Err("is required".to_owned());
    }
    CellId::parse(text).ok_or_else(|| {
        format!(
            "{} is not a cell code: 1-63 characters of a-z, 0-9 and '-', not starting with '-'",
            shown(text)
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::domain::cell::{CellId, Level};
    use crate::domain::layout::testing::{ids, import, problems};
    use crate::domain::layout::{LayoutError, LayoutFormat, read};

    #[test]
    fn a_valid_csv_comes_back_parents_first_whatever_the_file_order() {
        let csv = "cell_id,parent_id,level,display_name,newly_built\n\
                   g1,m1,grid,Grid 1,true\n\
                   m1,s1,community,\"Community, one\",\n\
                   s1,c,street,Street 1,false\n\
                   c,,county,County,\n";
        let cells = import(LayoutFormat::Csv, csv, &[]).expect("valid");
        assert_eq!(ids(&cells), vec!["c", "s1", "m1", "g1"]);
        assert_eq!(cells[2].display_name.as_str(), "Community, one");
        assert!(cells[3].newly_built);
        assert_eq!(cells[0].parent, None);
        assert_eq!(cells[1].parent.as_ref().map(CellId::as_str), Some("c"));
    }

    #[test]
    fn rows_may_hang_under_cells_already_stored() {
        let csv = "cell_id,parent_id,level,display_name\n\
                   m9,s1,community,New community\n";
        let cells = import(LayoutFormat::Csv, csv, &[("s1", Level::Street)]).expect("valid");
        assert_eq!(ids(&cells), vec!["m9"]);
        let wrong = import(LayoutFormat::Csv, csv, &[("s1", Level::Community)]);
        assert_eq!(problems(wrong), vec![(2, Some("parent_id"))]);
    }

    #[test]
    fn every_problem_in_a_file_is_reported_with_its_line_and_field() {
        let csv = "\u{feff}cell_id,parent_id,level,display_name,newly_built\n\
                   c,,county,County,\n\
                   s1,c,street,Street 1,\n\
                   Bad Id,c,street,Bad,\n\
                   s1,c,street,Duplicate,\n\
                   m1,nowhere,community,Orphan,\n\
                   m2,c,community,Skips a level,\n\
                   g1,s1,district,Unknown level,\n\
                   g2,m1,grid,  ,\n\
                   s2,c,street,Street 2,yes\n\
                   s3,c,street,Street 3,true\n\
                   c2,c,county,Second county,\n\
                   g3,,grid,No parent,\n\
                   too,few\n\
                   old,c,street,Stored already,\n\
                   g4,-bad,grid,Bad parent,\n";
        let result = import(LayoutFormat::Csv, csv, &[("old", Level::Street)]);
        assert_eq!(
            problems(result),
            vec![
                (4, Some("cell_id")),
                (5, Some("cell_id")),
                (6, Some("parent_id")),
                (7, Some("parent_id")),
                (8, Some("level")),
                (9, Some("display_name")),
                (10, Some("newly_built")),
                (11, Some("newly_built")),
                (12, Some("parent_id")),
                (13, Some("parent_id")),
                (14, None),
                (15, Some("cell_id")),
                (16, Some("parent_id")),
            ]
        );
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let csv = "cell_id,parent_id,level,display_name\n\
                   c,,county,County\n\
                   c,,county,Again\n\
                   m2,c,community,Skips\n";
        let Err(LayoutError::Rows(errors)) = import(LayoutFormat::Csv, csv, &[]) else {
            panic!("expected errors");
        };
        assert_eq!(errors[0].message, "`c` is already on line 2");
        assert_eq!(
            errors[1].message,
            "a community must be placed under a street, but `c` is a county"
        );
    }

    #[test]
    fn long_values_are_cut_short_in_messages() {
        let junk = "x".repeat(5000);
        let csv = format!("cell_id,parent_id,level,display_name\nc,,{junk},County\n");
        let Err(LayoutError::Rows(errors)) = import(LayoutFormat::Csv, &csv, &[]) else {
            panic!("expected errors");
        };
        assert!(errors[0].message.len() < 200, "{}", errors[0].message);
        assert!(
            errors[0]
                .message
                .starts_with(&format!("`{}…`", "x".repeat(40)))
        );
    }

    #[test]
    fn a_wrong_parent_and_a_wrong_flag_on_one_row_are_both_reported() {
        let csv = "cell_id,parent_id,level,display_name,newly_built\n\
                   c,,county,County,\n\
                   u,c,unit,Unit,true\n";
        assert_eq!(
            problems(import(LayoutFormat::Csv, csv, &[])),
            vec![(3, Some("parent_id")), (3, Some("newly_built"))]
        );
    }

    #[test]
    fn referenced_ids_are_the_cells_and_parents_named_once_each() {
        let csv = "cell_id,parent_id,level,display_name\n\
                   s1,c,street,S1\n\
                   s2,c,street,S2\n";
        let layout = read(LayoutFormat::Csv, csv.as_bytes()).expect("readable");
        assert_eq!(layout.referenced_ids(), vec!["c", "s1", "s2"]);
    }

    fn with_compounds(
        text: &str,
        existing: &[(&str, Level)],
        parents: &[(&str, &str)],
    ) -> Result<crate::domain::layout::Validated, LayoutError> {
        let mut known = crate::domain::layout::testing::stored(existing);
        known.parents = parents
            .iter()
            .map(|(id, parent)| ((*id).to_owned(), (*parent).to_owned()))
            .collect();
        known.compounds.insert("old".to_owned());
        read(LayoutFormat::Csv, text.as_bytes())?
            .validate(&known, crate::domain::layout::testing::now())
    }

    #[test]
    fn compound_rows_and_building_rows_naming_them_come_back_as_compounds_with_buildings() {
        let csv = "cell_id,parent_id,level,display_name,newly_built,compound_id,address,year_built,property_company,lacks_required_facilities\n\
                   jinxiu,m,compound,锦绣花园,true,,锦绣路 8 号,2024,绿城物业,true\n\
                   g,m,grid,Grid,false,,,,,\n\
                   b2,g,building,2号楼,false,jinxiu,,,,\n\
                   b1,g,building,1号楼,false,jinxiu,,,,\n\
                   b3,g2,building,3号楼,false,jinxiu,,,,\n\
                   b4,g,building,4号楼,false,,,,,\n\
                   m,s,community,M,false,,,,,\n\
                   jinxiu,m,grid,A cell may share a compound code,false,,,,,\n";
        let valid = with_compounds(
            csv,
            &[("s", Level::Street), ("g2", Level::Grid)],
            &[("g2", "m")],
        )
        .expect("valid");
        assert_eq!(
            ids(&valid.cells),
            vec!["m", "g", "jinxiu", "b2", "b1", "b3", "b4"]
        );
        assert_eq!(valid.compounds.len(), 1);
        let compound = &valid.compounds[0];
        let buildings: Vec<&str> = compound.buildings.iter().map(CellId::as_str).collect();
        assert_eq!(buildings, vec!["b2", "b1", "b3"]);
        assert_eq!(
            (
                compound.community.as_str(),
                compound.display_name.as_str(),
                compound.address.as_str(),
                compound.year_built,
                compound.property_company.as_str(),
                compound.newly_built,
                compound.lacks_required_facilities,
            ),
            (
                "m",
                "锦绣花园",
                "锦绣路 8 号",
                Some(2024),
                "绿城物业",
                true,
                true
            )
        );
    }

    #[test]
    fn every_problem_of_a_compound_or_its_buildings_is_reported_with_its_line_and_field() {
        let csv = "cell_id,parent_id,level,display_name,compound_id,address,year_built,property_company,lacks_required_facilities\n\
                   cp,m,compound,CP,,,,,\n\
                   cp,m,compound,Twice,,,,,\n\
                   old,m,compound,Stored already,,,,,\n\
                   Bad,s,compound,,,,2999,,maybe\n\
                   cp2,,compound,No community,b9,,1492,,\n\
                   cp3,nowhere,compound,Orphan,,,abc,,\n\
                   g,m,grid,Grid,cp,Main street,,,\n\
                   b1,g,building,B1,missing,,,,\n\
                   m2,s,community,M2,,,,,\n\
                   g2,m2,grid,G2,,,,,\n\
                   b2,g2,building,B2,cp,,,,\n\
                   b3,g,building,B3,,,,Acme,\n";
        let result = with_compounds(csv, &[("s", Level::Street), ("m", Level::Community)], &[]);
        assert_eq!(
            problems(result.map(|valid| valid.cells)),
            vec![
                (3, Some("cell_id")),
                (4, Some("cell_id")),
                (5, Some("cell_id")),
                (5, Some("parent_id")),
                (5, Some("display_name")),
                (5, Some("year_built")),
                (5, Some("lacks_required_facilities")),
                (6, Some("parent_id")),
                (6, Some("compound_id")),
                (6, Some("year_built")),
                (7, Some("parent_id")),
                (7, Some("year_built")),
                (8, Some("compound_id")),
                (8, Some("address")),
                (9, Some("compound_id")),
                (12, Some("compound_id")),
                (13, Some("property_company")),
            ]
        );
    }

    #[test]
    fn a_file_without_compound_columns_reads_as_before() {
        let csv = "cell_id,parent_id,level,display_name\nc,,county,County\n";
        let valid = with_compounds(csv, &[], &[]).expect("valid");
        assert_eq!(ids(&valid.cells), vec!["c"]);
        assert!(valid.compounds.is_empty());
    }
}
