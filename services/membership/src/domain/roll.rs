//! A member roll as counties keep it, one member per CSV line, read into
//! registrations. Every check runs on every line, so a spreadsheet gets
//! every problem at once; messages never repeat a value (it may be
//! personal data). What needs stored data (does the organisation exist, is
//! the ID number taken) is checked by the command, reported the same way.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::id_number::IdNumber;
use super::member::{FullName, NewMember, Standing};
use super::organisation::OrganisationId;
use super::phone::Phone;

/// The most lines one import takes.
pub const MAX_LINES: usize = 20_000;

/// UTF-8 byte order mark, as spreadsheet programs write it.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The columns of a roll, in the order a written roll has them.
pub const COLUMNS: [&str; 8] = [
    "full_name",
    "id_number",
    "phone",
    "organisation",
    "standing",
    "flow_member",
    "residence_cell",
    "work_unit",
];

/// One problem on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The CSV line (the header is line 1).
    pub line: usize,
    /// The column, or `None` for the line as a whole.
    pub field: Option<&'static str>,
    /// Why, never repeating the value.
    pub message: String,
}

/// Why a roll cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollError {
    /// The file as a whole is unusable.
    #[error("the roll {0}")]
    File(String),
    /// These lines are wrong, ordered by line.
    #[error("{} problems in the roll, the first on line {}", .0.len(), .0.first().map_or(0, |e| e.line))]
    Lines(Vec<LineError>),
}

/// A registration read from a line.
#[derive(Debug, Clone)]
pub struct RollLine {
    /// Its CSV line.
    pub line: usize,
    /// The member.
    pub member: NewMember,
}

/// A roll as read: the good lines and the problems of the others, so that
/// the checks against stored data run on the good ones and every problem
/// is reported at once.
#[derive(Debug, Clone, Default)]
pub struct Roll {
    /// Lines that read as registrations.
    pub lines: Vec<RollLine>,
    /// Problems of the other lines, by line.
    pub errors: Vec<LineError>,
}

/// Reads every line of `content`; `today` bounds birth dates.
pub fn read(content: &[u8], today: NaiveDate) -> Result<Roll, RollError> {
    let content = content.strip_prefix(BOM).unwrap_or(content);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(content);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => return Err(RollError::File("is empty".to_owned())),
        Some(Err(error)) => return Err(RollError::File(format!("is not valid CSV: {error}"))),
        Some(Ok(header)) => header,
    };
    let positions = columns(&header)?;
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    // Where each ID number was first seen, so a repeat names that line.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, record) in records.enumerate() {
        let line = index + 2;
        if index >= MAX_LINES {
            return Err(RollError::File(format!(
                "has more than {MAX_LINES} members; import it in parts"
            )));
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                errors.push(LineError {
                    line,
                    field: None,
                    message: format!("is not valid CSV: {error}"),
                });
                continue;
            }
        };
        if record.iter().all(|field| field.is_empty()) {
            continue;
        }
        match read_line(line, &record, &positions, today) {
            Ok(member) => {
                let number = member.id_number.as_str().to_owned();
                if let Some(first) = seen.get(&number) {
                    errors.push(LineError {
                        line,
                        field: Some("id_number"),
                        message: format!("is the ID number of line {first} too"),
                    });
                } else {
                    seen.insert(number, line);
                    lines.push(RollLine { line, member });
                }
            }
            Err(mut problems) => errors.append(&mut problems),
        }
    }
    if lines.is_empty() && errors.is_empty() {
        return Err(RollError::File("contains no members".to_owned()));
    }
    Ok(Roll { lines, errors })
}

/// The position of each of [`COLUMNS`] in the header.
fn columns(header: &csv::ByteRecord) -> Result<[usize; 8], RollError> {
    let names: Vec<String> = header
        .iter()
        .map(|name| String::from_utf8_lossy(name).trim().to_ascii_lowercase())
        .collect();
    let mut positions = [0; 8];
    let mut missing = Vec::new();
    for (slot, column) in COLUMNS.iter().enumerate() {
        match names.iter().position(|name| name == column) {
            Some(position) => positions[slot] = position,
            None => missing.push(*column),
        }
    }
    if !missing.is_empty() {
        return Err(RollError::File(format!(
            "header lacks the column(s) {}; a roll has the columns {}",
            missing.join(", "),
            COLUMNS.join(",")
        )));
    }
    if let Some(unknown) = names.iter().find(|name| !COLUMNS.contains(&name.as_str())) {
        return Err(RollError::File(format!(
            "header has the unknown column `{unknown}`; a roll has the columns {}",
            COLUMNS.join(",")
        )));
    }
    Ok(positions)
}

fn read_line(
    line: usize,
    record: &csv::ByteRecord,
    positions: &[usize; 8],
    today: NaiveDate,
) -> Result<NewMember, Vec<LineError>> {
    let mut errors = Vec::new();
    let mut problem = |field: &'static str, message: String| {
        errors.push(LineError {
            line,
            field: Some(field),
            message,
        });
    };
    let mut values: [&str; 8] = [""; 8];
    for (slot, position) in positions.iter().enumerate() {
        match record.get(*position).map(std::str::from_utf8) {
            None => {}
            Some(Ok(text)) => values[slot] = text,
            Some(Err(_)) => problem(COLUMNS[slot], "is not UTF-8".to_owned()),
        }
    }
    let [
        name,
        id_number,
        phone,
        organisation,
        standing,
        flow,
        cell,
        unit,
    ] = values;
    let full_name = FullName::parse(name)
        .map_err(|why| problem("full_name", why))
        .ok();
    let id_number = IdNumber::parse(id_number, today)
        .map_err(|why| problem("id_number", why.to_string()))
        .ok();
    let phone = Phone::parse(phone)
        .map_err(|why| problem("phone", why.to_owned()))
        .ok();
    let organisation = match organisation {
        "" => {
            problem("organisation", "is required".to_owned());
            None
        }
        code => {
            let id = OrganisationId::parse(code);
            if id.is_none() {
                problem(
                    "organisation",
                    "must be an organisation code (a-z, 0-9 and '-')".to_owned(),
                );
            }
            id
        }
    };
    let standing = match standing.to_ascii_lowercase().as_str() {
        "full" => Some(Standing::Full),
        "probationary" => Some(Standing::Probationary),
        _ => {
            problem("standing", "must be `full` or `probationary`".to_owned());
            None
        }
    };
    let flow_member = match flow.to_ascii_lowercase().as_str() {
        "" | "false" => false,
        "true" => true,
        _ => {
            problem("flow_member", "must be `true`, `false` or empty".to_owned());
            false
        }
    };
    let residence_cell = match cell {
        "" => None,
        code if civicgrid_cell_tree::is_valid_id(code) => Some(code.to_owned()),
        _ => {
            problem(
                "residence_cell",
                "must be empty or a cell code (a-z, 0-9 and '-')".to_owned(),
            );
            None
        }
    };
    let work_unit = match unit {
        "" => None,
        code => {
            let id = OrganisationId::parse(code);
            if id.is_none() {
                problem(
                    "work_unit",
                    "must be empty or an organisation code (a-z, 0-9 and '-')".to_owned(),
                );
            }
            id
        }
    };
    match (full_name, id_number, phone, organisation, standing) {
        (Some(full_name), Some(id_number), Some(phone), Some(organisation), Some(standing))
            if errors.is_empty() =>
        {
            Ok(NewMember {
                full_name,
                id_number,
                phone,
                organisation,
                standing,
                flow_member,
                residence_cell,
                work_unit,
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()
    }

    fn problems(content: &str) -> Vec<(usize, Option<&'static str>)> {
        read(content.as_bytes(), today())
            .unwrap_or_default()
            .errors
            .iter()
            .map(|e| (e.line, e.field))
            .collect()
    }

    const HEADER: &str =
        "full_name,id_number,phone,organisation,standing,flow_member,residence_cell,work_unit\n";

    #[test]
    fn a_good_roll_reads_every_member_in_any_column_order() {
        let content = "\u{feff}standing,full_name,id_number,phone,organisation,flow_member,residence_cell,work_unit\n\
                       full,王小明,11010519491231002x,13812345678,m1-pc,true,g1,\n\
                       ,,,,,,,\n\
                       Probationary,李四,440524200001010013,+8613912345678,m1-pc,,,unit-1\n";
        let roll = read(content.as_bytes(), today()).unwrap_or_default();
        assert!(roll.errors.is_empty());
        let lines = roll.lines;
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].line, 2);
        assert_eq!(lines[0].member.id_number.as_str(), "11010519491231002X");
        assert!(lines[0].member.flow_member);
        assert_eq!(lines[1].line, 4);
        assert_eq!(lines[1].member.standing, Standing::Probationary);
        assert_eq!(
            lines[1]
                .member
                .work_unit
                .as_ref()
                .map(OrganisationId::as_str),
            Some("unit-1")
        );
    }

    #[test]
    fn every_bad_field_of_every_line_is_named_without_its_value() {
        let content = format!(
            "{HEADER}\
             王小明,11010519491231002X,13812345678,m1-pc,full,,,\n\
             ,110105194912310021,12812345678,M1,member,maybe,G 1,Unit!\n\
             李四,11010519491231002x,13812345678,m1-pc,full,,,\n\
             张三,440524200001010013,13812345678,m1-pc\n"
        );
        assert_eq!(
            problems(&content),
            vec![
                (3, Some("full_name")),
                (3, Some("id_number")),
                (3, Some("phone")),
                (3, Some("organisation")),
                (3, Some("standing")),
                (3, Some("flow_member")),
                (3, Some("residence_cell")),
                (3, Some("work_unit")),
                (4, Some("id_number")),
                (5, Some("standing")),
            ]
        );
        for error in read(content.as_bytes(), today()).unwrap_or_default().errors {
            for secret in ["110105194912310021", "12812345678", "11010519491231002"] {
                assert!(!error.message.contains(secret), "{}", error.message);
            }
        }
    }

    #[test]
    fn a_roll_without_its_columns_or_members_is_refused_as_a_whole() {
        for content in [
            "",
            "full_name,id_number\n",
            "full_name,id_number,phone,organisation,standing,flow_member,residence_cell,work_unit,extra\n",
            HEADER,
        ] {
            assert!(
                matches!(read(content.as_bytes(), today()), Err(RollError::File(_))),
                "{content}"
            );
        }
    }
}
