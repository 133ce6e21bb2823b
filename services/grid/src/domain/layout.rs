//! A county's layout as a file: thousands of cells in CSV or JSON, read,
//! checked against itself and the cells already stored, and written back.
//!
//! Two halves: [`codec`] reads and writes the file formats (CSV, JSON, a
//! spreadsheet's byte order mark) into rows as written, and [`checks`] turns
//! those rows into cells, checking them against each other and the cells
//! already stored. This module holds the vocabulary both share.
//!
//! Reading never stops at the first problem: a county office fixing a
//! spreadsheet wants every bad line at once, so every check runs on every
//! row and all findings are returned together.

pub mod checks;
pub mod codec;

pub use codec::{LayoutRow, WriteError, read, write};

use super::cell::Level;

/// Most rows one file may carry; larger layouts are imported street by street.
pub const MAX_ROWS: usize = 20_000;

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
    /// The cell's code.
    CellId,
    /// The parent's code; empty for a county.
    ParentId,
    /// `county` ... `unit`.
    Level,
    /// The cell's name.
    DisplayName,
    /// `true`, `false` or empty (false).
    NewlyBuilt,
}

impl Column {
    /// Every column, in the order files carry them.
    pub const ALL: [Column; 5] = [
        Column::CellId,
        Column::ParentId,
        Column::Level,
        Column::DisplayName,
        Column::NewlyBuilt,
    ];

    /// The header (key) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Column::CellId => "cell_id",
            Column::ParentId => "parent_id",
            Column::Level => "level",
            Column::DisplayName => "display_name",
            Column::NewlyBuilt => "newly_built",
        }
    }

    fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.as_str() == name)
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
}

impl RawRow {
    fn field_mut(&mut self, column: Column) -> &mut Option<String> {
        match column {
            Column::CellId => &mut self.cell_id,
            Column::ParentId => &mut self.parent_id,
            Column::Level => &mut self.level,
            Column::DisplayName => &mut self.display_name,
            Column::NewlyBuilt => &mut self.newly_built,
        }
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

    use std::collections::HashMap;

    use super::{Column, LayoutError, LayoutFormat, read};
    use crate::domain::cell::{Level, NewCell};

    pub(super) fn stored(cells: &[(&str, Level)]) -> HashMap<String, Level> {
        cells
            .iter()
            .map(|(id, level)| ((*id).to_owned(), *level))
            .collect()
    }

    pub(super) fn import(
        format: LayoutFormat,
        text: &str,
        existing: &[(&str, Level)],
    ) -> Result<Vec<NewCell>, LayoutError> {
        read(format, text.as_bytes())?.validate(&stored(existing))
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
