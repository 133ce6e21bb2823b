//! The file formats of a layout: CSV (with or without a spreadsheet's byte
//! order mark) and JSON, read into rows as written and written back. Nothing
//! here looks at what a row means; [`super::checks`] does that.

use serde::Serialize;

use super::{
    COMPOUND_LEVEL, Column, Layout, LayoutError, LayoutFormat, LineError, MAX_ROWS, RawRow, shown,
};
use crate::domain::cell::Level;

/// UTF-8 byte order mark, as spreadsheet programs write it.
const BOM: &[u8] = b"\xEF\xBB\xBF";

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
        // Optional columns the header leaves out read as empty.
        let mut row = RawRow {
            line,
            ..RawRow::default()
        };
        for column in Column::ALL {
            *row.field_mut(column) = Some(String::new());
        }
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
/// cell is then not newly built), and so may the compound columns; the
/// other four are required.
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
    let expected = format!(
        "{}` and optionally `{}",
        Column::CELL_COLUMNS.map(Column::as_str).join(","),
        Column::ALL[Column::CELL_COLUMNS.len()..]
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
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
                message: format!("must be an object with the keys {}", Column::names()),
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
                        "has the unknown key {}; keys are {}",
                        shown(key),
                        Column::names()
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
                Some(serde_json::Value::Bool(flag)) if column.is_flag() => Some(flag.to_string()),
                Some(serde_json::Value::Number(year)) if column == Column::YearBuilt => {
                    Some(year.to_string())
                }
                Some(_) => {
                    layout.errors.push(LineError {
                        line,
                        field: Some(column),
                        message: match column {
                            _ if column.is_flag() => "must be true or false".to_owned(),
                            Column::YearBuilt => "must be a year (a number) or null".to_owned(),
                            _ => "must be a string".to_owned(),
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
    /// Newly built compound (deprecated on cells, still carried).
    pub newly_built: bool,
    /// A building's compound, when the file carries it.
    pub compound_id: Option<&'a str>,
}

/// One compound as a layout file carries it, for [`write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompoundLayoutRow<'a> {
    /// The compound's code.
    pub id: &'a str,
    /// Its community's code.
    pub community_id: &'a str,
    /// Its name.
    pub display_name: &'a str,
    /// Newly built residential compound.
    pub newly_built: bool,
    /// Postal address, may be empty.
    pub address: &'a str,
    /// Year of completion, `None` when unknown.
    pub year_built: Option<i16>,
    /// Property company, may be empty.
    pub property_company: &'a str,
    /// Still lacks the required facilities.
    pub lacks_required_facilities: bool,
}

/// A JSON entry: the five cell keys always, the compound keys only where
/// they mean something, so a file without compounds looks as it always did.
#[derive(Serialize)]
struct JsonRow<'a> {
    cell_id: &'a str,
    parent_id: Option<&'a str>,
    level: String,
    display_name: &'a str,
    newly_built: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    compound_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    year_built: Option<i16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    property_company: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lacks_required_facilities: Option<bool>,
}

impl<'a> JsonRow<'a> {
    fn cell(row: &LayoutRow<'a>) -> JsonRow<'a> {
        JsonRow {
            cell_id: row.id,
            parent_id: row.parent_id,
            level: row.level.to_string(),
            display_name: row.display_name,
            newly_built: row.newly_built,
            compound_id: row.compound_id,
            address: None,
            year_built: None,
            property_company: None,
            lacks_required_facilities: None,
        }
    }

    fn compound(row: &CompoundLayoutRow<'a>) -> JsonRow<'a> {
        JsonRow {
            cell_id: row.id,
            parent_id: Some(row.community_id),
            level: COMPOUND_LEVEL.to_owned(),
            display_name: row.display_name,
            newly_built: row.newly_built,
            compound_id: None,
            address: Some(row.address),
            year_built: row.year_built,
            property_company: Some(row.property_company),
            lacks_required_facilities: Some(row.lacks_required_facilities),
        }
    }
}

/// Writing a layout failed (only the encoders can fail; nothing here does I/O).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the layout: {0}")]
pub struct WriteError(String);

fn flag(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// `rows` and then `compounds` as a file [`read`] accepts; rows given
/// parents first stay so. Without compounds the CSV has the five cell
/// columns only, as before compounds existed.
pub fn write(
    format: LayoutFormat,
    rows: &[LayoutRow<'_>],
    compounds: &[CompoundLayoutRow<'_>],
) -> Result<Vec<u8>, WriteError> {
    match format {
        LayoutFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let error = |e: csv::Error| WriteError(e.to_string());
            let columns: &[Column] = if compounds.is_empty() {
                &Column::CELL_COLUMNS
            } else {
                &Column::ALL
            };
            writer
                .write_record(columns.iter().map(|c| c.as_str()))
                .map_err(error)?;
            for row in rows {
                let level = row.level.to_string();
                let mut record = vec![
                    row.id,
                    row.parent_id.unwrap_or_default(),
                    &level,
                    row.display_name,
                    flag(row.newly_built),
                ];
                if !compounds.is_empty() {
                    record.extend([row.compound_id.unwrap_or_default(), "", "", "", ""]);
                }
                writer.write_record(record).map_err(error)?;
            }
            for compound in compounds {
                let year = compound
                    .year_built
                    .map(|y| y.to_string())
                    .unwrap_or_default();
                writer
                    .write_record([
                        compound.id,
                        compound.community_id,
                        COMPOUND_LEVEL,
                        compound.display_name,
                        flag(compound.newly_built),
                        "",
                        compound.address,
                        &year,
                        compound.property_company,
                        flag(compound.lacks_required_facilities),
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
            let entries = rows
                .iter()
                .map(JsonRow::cell)
                .chain(compounds.iter().map(JsonRow::compound));
            let mut out = b"[".to_vec();
            for (index, entry) in entries.enumerate() {
                out.extend_from_slice(if index == 0 { b"\n" } else { b",\n" });
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
    use crate::domain::cell::CellId;
    use crate::domain::layout::Stored;
    use crate::domain::layout::testing::{import, now, problems};

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
    fn what_is_written_reads_back_as_the_same_cells() {
        let rows = [
            LayoutRow {
                id: "c",
                parent_id: None,
                level: Level::County,
                display_name: "县",
                newly_built: false,
                compound_id: None,
            },
            LayoutRow {
                id: "s",
                parent_id: Some("c"),
                level: Level::Street,
                display_name: "Street, \"quoted\"",
                newly_built: false,
                compound_id: None,
            },
            LayoutRow {
                id: "m",
                parent_id: Some("s"),
                level: Level::Community,
                display_name: "M",
                newly_built: false,
                compound_id: None,
            },
            LayoutRow {
                id: "g",
                parent_id: Some("m"),
                level: Level::Grid,
                display_name: "G",
                newly_built: true,
                compound_id: None,
            },
        ];
        for format in [LayoutFormat::Csv, LayoutFormat::Json] {
            let bytes = write(format, &rows, &[]).expect("written");
            let cells = read(format, &bytes)
                .expect("readable")
                .validate(&Stored::default(), now())
                .expect("valid")
                .cells;
            let back: Vec<LayoutRow<'_>> = cells
                .iter()
                .map(|c| LayoutRow {
                    id: c.id.as_str(),
                    parent_id: c.parent.as_ref().map(CellId::as_str),
                    level: c.level,
                    display_name: c.display_name.as_str(),
                    newly_built: c.newly_built,
                    compound_id: None,
                })
                .collect();
            assert_eq!(back, rows, "{format:?}");
        }
    }
}
