//! A county's layout as a file: thousands of cells in CSV or JSON, read,
//! checked against itself and the cells already stored, and written back.
//!
//! Reading never stops at the first problem: a county office fixing a
//! spreadsheet wants every bad line at once, so every check runs on every
//! row and all findings are returned together.

use std::collections::HashMap;

use serde::Serialize;

use super::cell::{CellId, DisplayName, Level, NewCell, check_newly_built, check_parent};

/// Most rows one file may carry; larger layouts are imported street by street.
pub const MAX_ROWS: usize = 20_000;

/// UTF-8 byte order mark, as spreadsheet programs write it.
const BOM: &[u8] = b"\xEF\xBB\xBF";

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

/// Reads `content` as a layout in `format`. Only problems with the file as
/// a whole fail here; row problems are kept for [`Layout::validate`].
pub fn read(format: LayoutFormat, content: &[u8]) -> Result<Layout, LayoutError> {
    let content = content.strip_prefix(BOM).unwrap_or(content);
    let layout = match format {
        LayoutFormat::Csv => read_csv(content)?,
        LayoutFormat::Json => read_json(content)?,
    };
    if layout.rows.is_empty() && layout.errors.is_empty() {
        return Err(LayoutError::File("contains no cells".to_owned()));
    }
    Ok(layout)
}

fn too_many_rows() -> LayoutError {
    LayoutError::File(format!(
        "has more than {MAX_ROWS} rows; import the layout in parts (for example street by street)"
    ))
}

fn read_csv(content: &[u8]) -> Result<Layout, LayoutError> {
    let mut layout = Layout {
        format: LayoutFormat::Csv,
        rows: Vec::new(),
        errors: Vec::new(),
    };
    // Flexible: a row with the wrong number of fields is reported with its
    // line instead of ending the read. Byte records: bad UTF-8 is reported
    // per field, too.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(content);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => return Err(LayoutError::File("contains no cells".to_owned())),
        Some(Err(error)) => return Err(LayoutError::File(format!("is not valid CSV: {error}"))),
        Some(Ok(header)) => header,
    };
    let columns = csv_columns(&header)?;
    let mut row_count = 0;
    for record in records {
        row_count += 1;
        if row_count > MAX_ROWS {
            return Err(too_many_rows());
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line() as usize);
                layout.errors.push(LineError {
                    line,
                    field: None,
                    message: format!("is not valid CSV: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.len() != columns.len() {
            layout.errors.push(LineError {
                line,
                field: None,
                message: format!(
                    "has {} fields, but the header has {}",
                    record.len(),
                    columns.len()
                ),
            });
            continue;
        }
        let mut row = RawRow {
            line,
            newly_built: Some(String::new()),
            ..RawRow::default()
        };
        for (column, bytes) in columns.iter().zip(record.iter()) {
            match std::str::from_utf8(bytes) {
                Ok(text) => *row.field_mut(*column) = Some(text.to_owned()),
                Err(_) => layout.errors.push(LineError {
                    line,
                    field: Some(*column),
                    message: "is not valid UTF-8".to_owned(),
                }),
            }
        }
        layout.rows.push(row);
    }
    Ok(layout)
}

/// The column of each header field. `newly_built` may be left out (every
/// cell is then not newly built); the other four are required.
fn csv_columns(header: &csv::ByteRecord) -> Result<Vec<Column>, LayoutError> {
    let mut columns = Vec::with_capacity(header.len());
    let mut problems = Vec::new();
    for name in header.iter() {
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        match Column::from_name(&name) {
            Some(column) if columns.contains(&column) => {
                problems.push(format!("has the column {} twice", shown(&name)))
            }
            Some(column) => columns.push(column),
            None => problems.push(format!("has an unknown column {}", shown(&name))),
        }
    }
    for column in [
        Column::CellId,
        Column::ParentId,
        Column::Level,
        Column::DisplayName,
    ] {
        if !columns.contains(&column) {
            problems.push(format!("lacks the column `{}`", column.as_str()));
        }
    }
    if problems.is_empty() {
        return Ok(columns);
    }
    let expected = Column::ALL.map(Column::as_str).join(",");
    Err(LayoutError::Rows(
        problems
            .into_iter()
            .map(|problem| LineError {
                line: 1,
                field: None,
                message: format!("the header {problem}; expected `{expected}`"),
            })
            .collect(),
    ))
}

fn read_json(content: &[u8]) -> Result<Layout, LayoutError> {
    let value: serde_json::Value = serde_json::from_slice(content)
        .map_err(|error| LayoutError::File(format!("is not valid JSON: {error}")))?;
    let serde_json::Value::Array(entries) = value else {
        return Err(LayoutError::File(
            "must be a JSON array of cell objects".to_owned(),
        ));
    };
    if entries.len() > MAX_ROWS {
        return Err(too_many_rows());
    }
    let mut layout = Layout {
        format: LayoutFormat::Json,
        rows: Vec::with_capacity(entries.len()),
        errors: Vec::new(),
    };
    for (index, entry) in entries.into_iter().enumerate() {
        let line = index + 1;
        let serde_json::Value::Object(object) = entry else {
            layout.errors.push(LineError {
                line,
                field: None,
                message: "must be an object with the keys cell_id, parent_id, level, display_name, newly_built".to_owned(),
            });
            continue;
        };
        // A misspelt key would otherwise silently read as an empty field.
        for key in object.keys() {
            if Column::from_name(key).is_none() {
                layout.errors.push(LineError {
                    line,
                    field: None,
                    message: format!(
                        "has the unknown key {}; keys are cell_id, parent_id, level, display_name, newly_built",
                        shown(key)
                    ),
                });
            }
        }
        let mut row = RawRow {
            line,
            ..RawRow::default()
        };
        for column in Column::ALL {
            let text = match object.get(column.as_str()) {
                None | Some(serde_json::Value::Null) => Some(String::new()),
                Some(serde_json::Value::String(text)) => Some(text.trim().to_owned()),
                Some(serde_json::Value::Bool(flag)) if column == Column::NewlyBuilt => {
                    Some(flag.to_string())
                }
                Some(_) => {
                    layout.errors.push(LineError {
                        line,
                        field: Some(column),
                        message: if column == Column::NewlyBuilt {
                            "must be true or false".to_owned()
                        } else {
                            "must be a string".to_owned()
                        },
                    });
                    None
                }
            };
            *row.field_mut(column) = text;
        }
        layout.rows.push(row);
    }
    Ok(layout)
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

/// One cell as a layout file carries it, for [`write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutRow<'a> {
    /// The cell's code.
    pub id: &'a str,
    /// The parent's code; `None` for a county.
    pub parent_id: Option<&'a str>,
    /// Its level.
    pub level: Level,
    /// Its name.
    pub display_name: &'a str,
    /// Newly built compound.
    pub newly_built: bool,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    cell_id: &'a str,
    parent_id: Option<&'a str>,
    level: String,
    display_name: &'a str,
    newly_built: bool,
}

/// Writing a layout failed (only the encoders can fail; nothing here does I/O).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the layout: {0}")]
pub struct WriteError(String);

/// `rows` as a file [`read`] accepts; rows given parents first stay so.
pub fn write(format: LayoutFormat, rows: &[LayoutRow<'_>]) -> Result<Vec<u8>, WriteError> {
    match format {
        LayoutFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let error = |e: csv::Error| WriteError(e.to_string());
            writer
                .write_record(Column::ALL.map(Column::as_str))
                .map_err(error)?;
            for row in rows {
                let level = row.level.to_string();
                writer
                    .write_record([
                        row.id,
                        row.parent_id.unwrap_or_default(),
                        &level,
                        row.display_name,
                        if row.newly_built { "true" } else { "false" },
                    ])
                    .map_err(error)?;
            }
            writer
                .into_inner()
                .map_err(|e| WriteError(e.error().to_string()))
        }
        LayoutFormat::Json => {
            // One entry per line: readable and diffable without the size of
            // pretty-printing every key on its own line.
            let mut out = b"[".to_vec();
            for (index, row) in rows.iter().enumerate() {
                out.extend_from_slice(if index == 0 { b"\n" } else { b",\n" });
                let entry = JsonRow {
                    cell_id: row.id,
                    parent_id: row.parent_id,
                    level: row.level.to_string(),
                    display_name: row.display_name,
                    newly_built: row.newly_built,
                };
                serde_json::to_writer(&mut out, &entry).map_err(|e| WriteError(e.to_string()))?;
            }
            out.extend_from_slice(b"\n]\n");
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(cells: &[(&str, Level)]) -> HashMap<String, Level> {
        cells
            .iter()
            .map(|(id, level)| ((*id).to_owned(), *level))
            .collect()
    }

    fn import(
        format: LayoutFormat,
        text: &str,
        existing: &[(&str, Level)],
    ) -> Result<Vec<NewCell>, LayoutError> {
        read(format, text.as_bytes())?.validate(&stored(existing))
    }

    fn problems(result: Result<Vec<NewCell>, LayoutError>) -> Vec<(usize, Option<&'static str>)> {
        match result {
            Err(LayoutError::Rows(errors)) => errors
                .iter()
                .map(|e| (e.line, e.field.map(Column::as_str)))
                .collect(),
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    fn ids(cells: &[NewCell]) -> Vec<&str> {
        cells.iter().map(|c| c.id.as_str()).collect()
    }

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
    fn quoted_newlines_keep_physical_line_numbers() {
        let csv = "cell_id,parent_id,level,display_name\n\
                   c,,county,\"Two\nlines\"\n\
                   s,c,street,\n";
        // The county's name spans lines 2-3 (and holds a control character);
        // the street starts on line 4.
        assert_eq!(
            problems(import(LayoutFormat::Csv, csv, &[])),
            vec![(2, Some("display_name")), (4, Some("display_name"))]
        );
    }

    #[test]
    fn a_header_with_unknown_or_missing_columns_is_refused_on_line_one() {
        let csv = "cell_id,parent,level,display_name\nc,,county,County\n";
        assert_eq!(
            problems(import(LayoutFormat::Csv, csv, &[])),
            vec![(1, None), (1, None)]
        );
    }

    #[test]
    fn empty_and_oversized_files_are_refused_as_a_whole() {
        for empty in ["", "cell_id,parent_id,level,display_name\n", "[]"] {
            let format = if empty.starts_with('[') {
                LayoutFormat::Json
            } else {
                LayoutFormat::Csv
            };
            assert!(matches!(
                read(format, empty.as_bytes()),
                Err(LayoutError::File(_))
            ));
        }
        let mut csv = String::from("cell_id,parent_id,level,display_name\n");
        for i in 0..=MAX_ROWS {
            csv.push_str(&format!("s{i},c,street,S\n"));
        }
        assert!(matches!(
            read(LayoutFormat::Csv, csv.as_bytes()),
            Err(LayoutError::File(message)) if message.contains("20000")
        ));
    }

    #[test]
    fn json_entries_are_numbered_from_one_and_typed() {
        let json = r#"[
            {"cell_id": "c", "parent_id": null, "level": "county", "display_name": "County"},
            {"cell_id": "s", "parent_id": "c", "level": "street", "display_name": "S", "newly_built": false},
            {"cell_id": "g", "parent_id": "s", "level": 4, "display_name": "G", "newly_built": "maybe"},
            "not an object",
            {"cell_id": "m", "parent": "s", "level": "community", "display_name": "M"}
        ]"#;
        assert_eq!(
            problems(import(LayoutFormat::Json, json, &[])),
            vec![
                (3, Some("level")),
                (3, Some("newly_built")),
                (4, None),
                (5, None),
                (5, Some("parent_id")),
            ]
        );
        assert!(matches!(
            read(LayoutFormat::Json, b"{\"cell_id\": \"c\"}"),
            Err(LayoutError::File(_))
        ));
        assert!(matches!(
            read(LayoutFormat::Json, b"[{"),
            Err(LayoutError::File(_))
        ));
    }

    #[test]
    fn referenced_ids_are_the_cells_and_parents_named_once_each() {
        let csv = "cell_id,parent_id,level,display_name\n\
                   s1,c,street,S1\n\
                   s2,c,street,S2\n";
        let layout = read(LayoutFormat::Csv, csv.as_bytes()).expect("readable");
        assert_eq!(layout.referenced_ids(), vec!["c", "s1", "s2"]);
    }

    #[test]
    fn what_is_written_reads_back_as_the_same_cells() {
        let rows = [
            LayoutRow {
                id: "c",
                parent_id: None,
                level: Level::County,
                display_name: "县",
                newly_built: false,
            },
            LayoutRow {
                id: "s",
                parent_id: Some("c"),
                level: Level::Street,
                display_name: "Street, \"quoted\"",
                newly_built: false,
            },
            LayoutRow {
                id: "m",
                parent_id: Some("s"),
                level: Level::Community,
                display_name: "M",
                newly_built: false,
            },
            LayoutRow {
                id: "g",
                parent_id: Some("m"),
                level: Level::Grid,
                display_name: "G",
                newly_built: true,
            },
        ];
        for format in [LayoutFormat::Csv, LayoutFormat::Json] {
            let bytes = write(format, &rows).expect("written");
            let cells = read(format, &bytes)
                .expect("readable")
                .validate(&HashMap::new())
                .expect("valid");
            let back: Vec<LayoutRow<'_>> = cells
                .iter()
                .map(|c| LayoutRow {
                    id: c.id.as_str(),
                    parent_id: c.parent.as_ref().map(CellId::as_str),
                    level: c.level,
                    display_name: c.display_name.as_str(),
                    newly_built: c.newly_built,
                })
                .collect();
            assert_eq!(back, rows, "{format:?}");
        }
    }
}
