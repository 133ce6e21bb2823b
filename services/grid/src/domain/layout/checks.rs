//! A layout's rows checked against each other and against the cells already
//! stored, into cells ready to insert parents first.

use std::collections::HashMap;

use super::{Column, Layout, LayoutError, LineError, shown};
use crate::domain::cell::{CellId, DisplayName, Level, NewCell, check_newly_built, check_parent};

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
    /// stored cells validation needs are among these.
    pub fn referenced_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .rows
            .iter()
            .flat_map(|row| [row.cell_id.as_deref(), row.parent()])
            .flatten()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Checks every row against the file itself and `stored` (the level of
    /// each stored cell the file references; see [`Layout::referenced_ids`]).
    /// On success the cells come parents first, ready to insert in order.
    pub fn validate(self, stored: &HashMap<String, Level>) -> Result<Vec<NewCell>, LayoutError> {
        let mut errors = self.errors;
        let row_word = self.format.row_word();
        // The first row of each id: later rows with it are duplicates, and
        // children resolve their parent's level from it.
        let mut first: HashMap<&str, (usize, Option<Level>)> = HashMap::new();
        for row in &self.rows {
            if let Some(id) = row.cell_id.as_deref().filter(|id| !id.is_empty()) {
                first.entry(id).or_insert((row.line, row.level()));
            }
        }

        let mut cells = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
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
                    Some((first_line, _)) if *first_line != line => {
                        fail(
                            Column::CellId,
                            format!("{} is already on {row_word} {first_line}", shown(text)),
                        );
                        None
                    }
                    _ if stored.contains_key(text) => {
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
                    "" => Err("is required: county, street, community, grid, building or unit".to_owned()),
                    text => Level::from_name(text).ok_or_else(|| format!(
                        "{} is not a level; use county, street, community, grid, building or unit",
                        shown(text)
                    )),
                };
                level.map_err(|m| fail(Column::Level, m)).ok()
            });

            let display_name = row.display_name.as_deref().and_then(|text| {
                DisplayName::parse(text)
                    .map_err(|m| fail(Column::DisplayName, m.to_owned()))
                    .ok()
            });

            let newly_built = row.newly_built.as_deref().and_then(|text| {
                let flag = match text.to_ascii_lowercase().as_str() {
                    "" | "false" => Some(false),
                    "true" => Some(true),
                    _ => None,
                };
                if flag.is_none() {
                    fail(
                        Column::NewlyBuilt,
                        format!("{} must be true, false or empty (false)", shown(text)),
                    );
                }
                flag
            });
            if let (Some(level), Some(flag)) = (level, newly_built)
                && let Err(rule) = check_newly_built(level, flag)
            {
                fail(Column::NewlyBuilt, rule.to_string());
            }

            let parent = match check_row_parent(row.parent_id.as_deref(), level, &first, stored) {
                Ok(parent) => Some(parent),
                Err(Some(message)) => {
                    fail(Column::ParentId, message);
                    None
                }
                Err(None) => None,
            };

            if let (Some(id), Some(level), Some(display_name), Some(newly_built), Some(parent)) =
                (id, level, display_name, newly_built, parent)
            {
                cells.push(NewCell {
                    id,
                    parent,
                    level,
                    display_name,
                    newly_built,
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
        Ok(cells)
    }
}

/// A row's parent (`None` for a county), or why not: `Some(message)` to
/// report on its `parent_id`, `None` when it cannot be checked because what
/// it depends on is unreadable and reported elsewhere.
fn check_row_parent(
    text: Option<&str>,
    level: Option<Level>,
    in_file: &HashMap<&str, (usize, Option<Level>)>,
    stored: &HashMap<String, Level>,
) -> Result<Option<CellId>, Option<String>> {
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
}
