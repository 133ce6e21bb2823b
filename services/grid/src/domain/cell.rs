//! Cells of the six-level grid and the rules for placing and changing them.

use std::fmt;

/// The six levels, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// 县: the root.
    County = 1,
    /// 街道.
    Street = 2,
    /// 社区.
    Community = 3,
    /// 网格.
    Grid = 4,
    /// 楼栋 / 楼院.
    Building = 5,
    /// 单元.
    Unit = 6,
}

impl Level {
    /// The level for its number (1-6).
    pub fn from_number(number: i32) -> Option<Level> {
        Some(match number {
            1 => Level::County,
            2 => Level::Street,
            3 => Level::Community,
            4 => Level::Grid,
            5 => Level::Building,
            6 => Level::Unit,
            _ => return None,
        })
    }

    /// Its number (1-6), as stored.
    pub fn number(self) -> i16 {
        self as i16
    }

    /// The level a parent must have; `None` for the county.
    pub fn parent_level(self) -> Option<Level> {
        Level::from_number(self as i32 - 1)
    }

    /// Residential compounds (grids and buildings/courtyards) can be newly built.
    pub fn may_be_newly_built(self) -> bool {
        matches!(self, Level::Grid | Level::Building)
    }

    /// The level named as [`Display`](fmt::Display) writes it (`county`, ...),
    /// ASCII case ignored.
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|level| name.eq_ignore_ascii_case(&level.to_string()))
    }

    /// Every level, top to bottom.
    pub const ALL: [Level; 6] = [
        Level::County,
        Level::Street,
        Level::Community,
        Level::Grid,
        Level::Building,
        Level::Unit,
    ];
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Level::County => "county",
            Level::Street => "street",
            Level::Community => "community",
            Level::Grid => "grid",
            Level::Building => "building",
            Level::Unit => "unit",
        };
        f.write_str(name)
    }
}

/// A cell's code, valid by construction (see `civicgrid_cell_tree::is_valid_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CellId(String);

impl CellId {
    /// Accepts a valid code.
    pub fn parse(id: &str) -> Option<CellId> {
        civicgrid_cell_tree::is_valid_id(id).then(|| CellId(id.to_owned()))
    }

    /// Accepts `cells/{id}`.
    pub fn parse_name(name: &str) -> Option<CellId> {
        civicgrid_cell_tree::parse_name(name).map(|id| CellId(id.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CellId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;

/// A display name: 1-200 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Accepts a valid name, trimmed; or says what is wrong.
    pub fn parse(name: &str) -> Result<DisplayName, &'static str> {
        let name = name.trim();
        if name.is_empty() {
            return Err("must not be empty");
        }
        if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
            return Err("must be at most 200 characters");
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(DisplayName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A cell to create, parsed from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCell {
    /// Its code.
    pub id: CellId,
    /// Its parent; `None` only for a county.
    pub parent: Option<CellId>,
    /// Its level.
    pub level: Level,
    /// Its name.
    pub display_name: DisplayName,
    /// Newly built compound.
    pub newly_built: bool,
}

/// Changes to a cell, parsed from a request and its field mask.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CellPatch {
    /// New name, when masked.
    pub display_name: Option<DisplayName>,
    /// New flag, when masked.
    pub newly_built: Option<bool>,
}

/// Why a cell change is refused, whatever the caller's rights.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellRuleError {
    /// The named parent does not exist.
    #[error("parent cell `{0}` does not exist")]
    ParentMissing(CellId),
    /// The parent is not exactly one level up.
    #[error("a {child} must be placed under a {expected}, but `{parent}` is a {actual}")]
    WrongParentLevel {
        /// The new cell's level.
        child: Level,
        /// The level its parent needs.
        expected: Level,
        /// The named parent.
        parent: CellId,
        /// The parent's actual level.
        actual: Level,
    },
    /// Only grids and buildings can be newly built compounds.
    #[error("a {0} cannot be flagged newly built; only grid and building cells can")]
    NotACompound(Level),
}

/// Checks that `cell` may sit under a parent of `parent_level` (`None` when
/// the parent named in `cell` does not exist).
pub fn check_placement(cell: &NewCell, parent_level: Option<Level>) -> Result<(), CellRuleError> {
    if let Some(parent) = &cell.parent {
        check_parent(cell.level, parent, parent_level)?;
    }
    check_newly_built(cell.level, cell.newly_built)
}

/// Checks that a cell at `level` may sit under `parent`, whose level is
/// `parent_level` (`None` when it does not exist). Split from
/// [`check_placement`] so a layout file reports a bad parent and a bad flag
/// on the same row together.
pub fn check_parent(
    level: Level,
    parent: &CellId,
    parent_level: Option<Level>,
) -> Result<(), CellRuleError> {
    let actual = parent_level.ok_or_else(|| CellRuleError::ParentMissing(parent.clone()))?;
    let expected = level.parent_level();
    if expected != Some(actual) {
        return Err(CellRuleError::WrongParentLevel {
            child: level,
            expected: expected.unwrap_or(Level::County),
            parent: parent.clone(),
            actual,
        });
    }
    Ok(())
}

/// Checks that a cell at `level` may carry the `newly_built` flag.
pub fn check_newly_built(level: Level, newly_built: bool) -> Result<(), CellRuleError> {
    if newly_built && !level.may_be_newly_built() {
        return Err(CellRuleError::NotACompound(level));
    }
    Ok(())
}

/// Checks that `patch` may apply to a cell at `level`.
pub fn check_patch(level: Level, patch: &CellPatch) -> Result<(), CellRuleError> {
    check_newly_built(level, patch.newly_built == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(level: Level, parent: Option<&str>) -> NewCell {
        NewCell {
            id: CellId::parse("c1").unwrap_or_else(|| unreachable!()),
            parent: parent.and_then(CellId::parse),
            level,
            display_name: DisplayName::parse("A cell").unwrap_or_else(|_| unreachable!()),
            newly_built: false,
        }
    }

    #[test]
    fn a_cell_sits_exactly_one_level_below_its_parent() {
        assert_eq!(
            check_placement(&cell(Level::Street, Some("county")), Some(Level::County)),
            Ok(())
        );
        assert_eq!(
            check_placement(&cell(Level::Unit, Some("b1")), Some(Level::Building)),
            Ok(())
        );
        assert!(matches!(
            check_placement(&cell(Level::Grid, Some("st")), Some(Level::Street)),
            Err(CellRuleError::WrongParentLevel {
                expected: Level::Community,
                actual: Level::Street,
                ..
            })
        ));
        assert!(matches!(
            check_placement(&cell(Level::Street, Some("gone")), None),
            Err(CellRuleError::ParentMissing(_))
        ));
    }

    #[test]
    fn only_compounds_can_be_newly_built() {
        let mut street = cell(Level::Street, Some("county"));
        street.newly_built = true;
        assert_eq!(
            check_placement(&street, Some(Level::County)),
            Err(CellRuleError::NotACompound(Level::Street))
        );
        assert_eq!(
            check_patch(
                Level::Building,
                &CellPatch {
                    newly_built: Some(true),
                    ..Default::default()
                }
            ),
            Ok(())
        );
        assert!(
            check_patch(
                Level::Unit,
                &CellPatch {
                    newly_built: Some(true),
                    ..Default::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  青山街道 ").map(|n| n.as_str().to_owned()),
            Ok("青山街道".to_owned())
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"名".repeat(201)).is_err());
        assert!(DisplayName::parse(&"名".repeat(200)).is_ok());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }
}
