//! A county's layout as a file: thousands of cells in CSV or JSON, read,
//! checked against itself and the cells already stored, and written back.
//!
//! Two halves: [`codec`] reads and writes the file formats (CSV, JSON, a
//! spreadsheet's byte order mark) into rows as written, and [`checks`] turns
//! those rows into cells, checking them against each other and the cells
//! already stored. This module holds the vocabulary both share.
//!
//! Compounds (小区) travel in the same file: a row of level `compound`
//! names the compound (`cell_id`) and its community (`parent_id`) and fills
//! the compound-only columns; building rows name their compound in
//! `compound_id`. Every such column is optional, so files written before
//! compounds import unchanged, and an export without compounds writes the
//! old five columns.
//!
//! Reading never stops at the first problem: a county office fixing a
//! spreadsheet wants every bad line at once, so every check runs on every
//! row and all findings are returned together.

pub mod checks;
pub mod codec;

pub use checks::{Stored, Validated};
pub use codec::{CompoundLayoutRow, LayoutRow, WriteError, read, write};

use super::cell::Level;

/// Most rows one file may carry; larger layouts are imported street by street.
pub const MAX_ROWS: usize = 20_000;

/// The `level` of a compound's row.
pub const COMPOUND_LEVEL: &str = "compound";

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutFormat {
    /// Header `cell_id,parent_id,level,display_name,newly_built`, one cell a row.
    Csv,
    /// An array of objects with the same keys.
    Json,
}

impl LayoutFormat {
    /// What a row is called in this format: a CSV `line` (the header is line
    /// 1) or a JSON array `entry` (the first is entry 1).
    pub fn row_word(self) -> &'static str {
        match self {
            LayoutFormat::Csv => "line",
            LayoutFormat::Json => "entry",
        }
    }
}

/// A column of the layout (a key of a JSON entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    /// The cell's code (a compound row: the compound's code).
    CellId,
    /// The parent's code; empty for a county (a compound row: its community).
    ParentId,
    /// `county` ... `unit`, or `compound`.
    Level,
    /// The cell's (compound's) name.
    DisplayName,
    /// `true`, `false` or empty (false).
    NewlyBuilt,
    /// Building rows: the compound (a compound row of the file) it belongs to.
    CompoundId,
    /// Compound rows: postal address.
    Address,
    /// Compound rows: year of completion, empty when unknown.
    YearBuilt,
    /// Compound rows: the property company's name.
    PropertyCompany,
    /// Compound rows: `true`, `false` or empty (false).
    LacksRequiredFacilities,
}

impl Column {
    /// Every column, in the order files carry them.
    pub const ALL: [Column; 10] = [
        Column::CellId,
        Column::ParentId,
        Column::Level,
        Column::DisplayName,
        Column::NewlyBuilt,
        Column::CompoundId,
        Column::Address,
        Column::YearBuilt,
        Column::PropertyCompany,
        Column::LacksRequiredFacilities,
    ];

    /// The columns of a file without compounds: what every layout carried
    /// before compounds, and what an export without compounds still writes.
    pub const CELL_COLUMNS: [Column; 5] = [
        Column::CellId,
        Column::ParentId,
        Column::Level,
        Column::DisplayName,
        Column::NewlyBuilt,
    ];

    /// Only compound rows fill these.
    pub const COMPOUND_ONLY: [Column; 4] = [
        Column::Address,
        Column::YearBuilt,
        Column::PropertyCompany,
        Column::LacksRequiredFacilities,
    ];

    /// The header (key) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Column::CellId => "cell_id",
            Column::ParentId => "parent_id",
            Column::Level => "level",
            Column::DisplayName => "display_name",
            Column::NewlyBuilt => "newly_built",
            Column::CompoundId => "compound_id",
            Column::Address => "address",
            Column::YearBuilt => "year_built",
            Column::PropertyCompany => "property_company",
            Column::LacksRequiredFacilities => "lacks_required_facilities",
        }
    }

    fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether the column holds true/false.
    fn is_flag(self) -> bool {
        matches!(self, Column::NewlyBuilt | Column::LacksRequiredFacilities)
    }

    /// Every column name, comma-separated, for messages.
    fn names() -> String {
        Column::ALL.map(Column::as_str).join(", ")
    }
}

/// What is wrong with one row (or one field of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The CSV line (header = 1) or JSON entry (first = 1).
    pub line: usize,
    /// The field at fault; `None` when the row as a whole is.
    pub field: Option<Column>,
    /// What is wrong, for a person fixing the file.
    pub message: String,
}

/// Why a layout cannot be imported. Nothing may be imported in either case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The file as a whole is unusable: not JSON, no rows, too many rows.
    #[error("{0}")]
    File(String),
    /// These rows are wrong, ordered by line.
    #[error("{} problems in the layout, the first on row {}", .0.len(), .0.first().map_or(0, |e| e.line))]
    Rows(Vec<LineError>),
}

/// One row as read from the file, trimmed, before any check. A field is
/// `None` when it could not be read at all (already reported); a missing
/// JSON key or empty CSV field is `Some("")`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawRow {
    /// The CSV line or JSON entry.
    pub line: usize,
    /// As written.
    pub cell_id: Option<String>,
    /// As written.
    pub parent_id: Option<String>,
    /// As written.
    pub level: Option<String>,
    /// As written.
    pub display_name: Option<String>,
    /// As written.
    pub newly_built: Option<String>,
    /// As written.
    pub compound_id: Option<String>,
    /// As written.
    pub address: Option<String>,
    /// As written.
    pub year_built: Option<String>,
    /// As written.
    pub property_company: Option<String>,
    /// As written.
    pub lacks_required_facilities: Option<String>,
}

impl RawRow {
    fn field_mut(&mut self, column: Column) -> &mut Option<String> {
        match column {
            Column::CellId => &mut self.cell_id,
            Column::ParentId => &mut self.parent_id,
            Column::Level => &mut self.level,
            Column::DisplayName => &mut self.display_name,
            Column::NewlyBuilt => &mut self.newly_built,
            Column::CompoundId => &mut self.compound_id,
            Column::Address => &mut self.address,
            Column::YearBuilt => &mut self.year_built,
            Column::PropertyCompany => &mut self.property_company,
            Column::LacksRequiredFacilities => &mut self.lacks_required_facilities,
        }
    }

    fn field(&self, column: Column) -> Option<&str> {
        match column {
            Column::CellId => self.cell_id.as_deref(),
            Column::ParentId => self.parent_id.as_deref(),
            Column::Level => self.level.as_deref(),
            Column::DisplayName => self.display_name.as_deref(),
            Column::NewlyBuilt => self.newly_built.as_deref(),
            Column::CompoundId => self.compound_id.as_deref(),
            Column::Address => self.address.as_deref(),
            Column::YearBuilt => self.year_built.as_deref(),
            Column::PropertyCompany => self.property_company.as_deref(),
            Column::LacksRequiredFacilities => self.lacks_required_facilities.as_deref(),
        }
    }

    /// Whether the row is a compound's (level `compound`), not a cell's.
    pub fn is_compound(&self) -> bool {
        self.level
            .as_deref()
            .is_some_and(|level| level.eq_ignore_ascii_case(COMPOUND_LEVEL))
    }

    /// The parent named, when the row names one.
    pub fn parent(&self) -> Option<&str> {
        self.parent_id.as_deref().filter(|p| !p.is_empty())
    }

    /// The level, when it reads as one.
    pub fn level(&self) -> Option<Level> {
        self.level.as_deref().and_then(Level::from_name)
    }
}

/// A file read into rows, with the problems found while reading them.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The format it was read from.
    pub format: LayoutFormat,
    /// Every row that could be read at all, in file order.
    pub rows: Vec<RawRow>,
    /// Problems found while reading (unreadable rows and fields).
    pub errors: Vec<LineError>,
}

/// Most characters of a file's text that a message repeats: every message
/// must fit, many together, into one gRPC status.
const SHOWN_CHARS: usize = 40;

/// `text` in backticks, cut short if long.
fn shown(text: &str) -> String {
    if text.chars().count() <= SHOWN_CHARS {
        format!("`{text}`")
    } else {
        let head: String = text.chars().take(SHOWN_CHARS).collect();
        format!("`{head}…`")
    }
}

#[cfg(test)]
mod testing {
    //! Helpers the codec's and the checks' tests share: most of them read a
    //! file and check it, as an import does.

    use super::{Column, LayoutError, LayoutFormat, Stored, read};
    use crate::domain::cell::{Level, NewCell};

    pub(super) fn stored(cells: &[(&str, Level)]) -> Stored {
        Stored {
            levels: cells
                .iter()
                .map(|(id, level)| ((*id).to_owned(), *level))
                .collect(),
            ..Stored::default()
        }
    }

    /// A fixed "now" for the year-built checks: 1 June 2026.
    pub(super) fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_780_272_000, 0).unwrap_or_default()
    }

    pub(super) fn import(
        format: LayoutFormat,
        text: &str,
        existing: &[(&str, Level)],
    ) -> Result<Vec<NewCell>, LayoutError> {
        read(format, text.as_bytes())?
            .validate(&stored(existing), now())
            .map(|valid| valid.cells)
    }

    pub(super) fn problems(
        result: Result<Vec<NewCell>, LayoutError>,
    ) -> Vec<(usize, Option<&'static str>)> {
        match result {
            Err(LayoutError::Rows(errors)) => errors
                .iter()
                .map(|e| (e.line, e.field.map(Column::as_str)))
                .collect(),
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    pub(super) fn ids(cells: &[NewCell]) -> Vec<&str> {
        cells.iter().map(|c| c.id.as_str()).collect()
    }
}
