//! ImportMembers: a county's roll, thousands of members, all or nothing.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use civicgrid_runtime::status::FieldViolations;
use sqlx::PgConnection;
use uuid::Uuid;

use super::member_rows::sealed_row;
use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::visible;
use crate::domain::roll::{self, LineError, RollError};
use crate::events::publish;
use crate::sealing::PersonalDataKeys;
use crate::store::members;
use crate::store::organisations;

/// A parsed ImportMembers request.
#[derive(Debug, Clone)]
pub struct ImportMembers {
    /// The CSV roll.
    pub content: Vec<u8>,
    /// Check everything, write nothing.
    pub validate_only: bool,
    /// The day birth dates may not be after.
    pub today: NaiveDate,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Members in the roll, all valid.
    pub valid: usize,
    /// Members registered: `valid`, or 0 when only validating.
    pub created: usize,
}

/// Validates the whole roll, against stored organisations, cells and
/// members too, and unless only validating registers every member with its
/// `membership.member.registered` event in one transaction. Any bad line:
/// nothing is written and the error names every bad line and field.
#[tracing::instrument(skip_all, fields(bytes = input.content.len()))]
pub async fn import_members(
    conn: &mut PgConnection,
    caller: &Caller,
    keys: &PersonalDataKeys,
    input: &ImportMembers,
) -> Result<Imported, CommandError> {
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow registering members",
        ));
    }
    let roll = roll::read(&input.content, input.today).map_err(CommandError::Roll)?;
    let (lines, mut errors) = (roll.lines, roll.errors);
    let roots = caller.scope_roots("cells");

    let mut wanted: Vec<String> = lines
        .iter()
        .flat_map(|l| {
            [Some(&l.member.organisation), l.member.work_unit.as_ref()]
                .into_iter()
                .flatten()
                .map(|id| id.as_str().to_owned())
        })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let stored: HashMap<String, organisations::OrganisationRow> =
        organisations::find_all(&mut *conn, &wanted)
            .await?
            .into_iter()
            .map(|row| (row.id.clone(), row))
            .collect();
    let mut cells: Vec<String> = lines
        .iter()
        .filter_map(|l| l.member.residence_cell.clone())
        .collect();
    cells.sort_unstable();
    cells.dedup();
    let known_cells: HashSet<String> =
        sqlx::query_scalar("SELECT id FROM cells WHERE id = ANY($1)")
            .bind(&cells)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let indexes: Vec<Vec<u8>> = lines
        .iter()
        .map(|l| keys.blind_index(&l.member.id_number))
        .collect();
    let taken: HashSet<Vec<u8>> = members::indexes_taken(&mut *conn, &indexes)
        .await?
        .into_iter()
        .collect();

    for (line, index) in lines.iter().zip(&indexes) {
        let problem = |field: &'static str, message: String| LineError {
            line: line.line,
            field: Some(field),
            message,
        };
        let member = &line.member;
        match stored.get(member.organisation.as_str()) {
            // Outside the scope reads as absent: no answer describes it.
            Some(org) if visible(&org.area_path, roots.as_deref()) => {
                if !org.kind.is_party_organisation() {
                    errors.push(problem(
                        "organisation",
                        format!("is a {}, not a party organisation", org.kind),
                    ));
                }
            }
            _ => errors.push(problem(
                "organisation",
                format!(
                    "{} does not exist in your scope",
                    member.organisation.resource_name()
                ),
            )),
        }
        if let Some(unit) = &member.work_unit
            && !stored.contains_key(unit.as_str())
        {
            errors.push(problem(
                "work_unit",
                format!("{} does not exist", unit.resource_name()),
            ));
        }
        if let Some(cell) = &member.residence_cell
            && !known_cells.contains(cell)
        {
            errors.push(problem(
                "residence_cell",
                format!(
                    "{} is not a cell this service knows",
                    civicgrid_cell_tree::resource_name(cell)
                ),
            ));
        }
        if taken.contains(index) {
            errors.push(problem(
                "id_number",
                "belongs to a member already registered".to_owned(),
            ));
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(CommandError::Roll(RollError::Lines(errors)));
    }
    let valid = lines.len();
    if input.validate_only {
        return Ok(Imported { valid, created: 0 });
    }

    let at = now();
    // One id for the whole import: every event names it as its cause.
    let import_id = Uuid::now_v7().to_string();
    let mut events = Vec::with_capacity(valid);
    for (line, index) in lines.into_iter().zip(&indexes) {
        let member = line.member;
        let Some(organisation) = stored.get(member.organisation.as_str()) else {
            return Err(CommandError::not_found(member.organisation.resource_name()));
        };
        let row = sealed_row(&member, organisation, keys, at);
        if !members::insert(&mut *conn, &row, index).await? {
            // Registered by someone else since the check above; the
            // transaction rolls back when dropped.
            return Err(CommandError::already_exists(format!(
                "a member with the ID number of line {}",
                line.line
            )));
        }
        events.push(publish::member_registered(
            &row,
            &caller.subject,
            &import_id,
        ));
    }
    outbox::enqueue_all(&mut *conn, &events).await?;
    tracing::info!(import = %import_id, members = valid, "roll imported");
    Ok(Imported {
        valid,
        created: valid,
    })
}

/// The most a status may spend on violations. Clients refuse trailers over
/// 16 KiB (hyper's and grpc-go's default header list limit); the details
/// travel base64-encoded and the message repeats every field name.
const VIOLATION_BUDGET: usize = 10 * 1024;

/// A roll's problems as INVALID_ARGUMENT field violations, one per bad
/// field (`content.line[7].id_number`), as many as one status carries,
/// then a count of the rest.
pub fn violations(error: RollError) -> FieldViolations {
    let mut violations = FieldViolations::new();
    match error {
        RollError::File(message) => violations.add("content", format!("the roll {message}")),
        RollError::Lines(errors) => {
            let mut spent = 0;
            let total = errors.len();
            for (shown, error) in errors.into_iter().enumerate() {
                let field = match error.field {
                    Some(column) => format!("content.line[{}].{column}", error.line),
                    None => format!("content.line[{}]", error.line),
                };
                spent += (field.len() + error.message.len()) * 4 / 3 + field.len() + 16;
                if spent > VIOLATION_BUDGET {
                    violations.add(
                        "content",
                        format!(
                            "{} more problems are not listed: one response carries only so many; \
                             fix these and validate again",
                            total - shown
                        ),
                    );
                    break;
                }
                violations.add(field, error.message);
            }
        }
    }
    violations
}
