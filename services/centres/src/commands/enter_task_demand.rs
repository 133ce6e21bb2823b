//! A resident's request collected in the grid enters the community's
//! demand list (需求清单, 三单制), from `grid.task.reported` on the
//! consumer's inbox transaction, through the path CreateDemand takes
//! (`create_demand::enter_demand`). One demand per task: a redelivered or
//! replayed report finds the task's demand and changes nothing.

use chrono::{DateTime, Utc};
use civicgrid_proto::grid::v1 as grid;
use sqlx::PgConnection;

use super::CommandError;
use super::create_demand::{Source, enter_demand};
use crate::config::TaskDemandRules;
use crate::domain::centre::Location;
use crate::domain::lists::{Demand, NewDemand};
use crate::store::places;

/// Who the events this command writes name as their actor.
const ACTOR: &str = "centres/grid-tasks";

/// The longest demand description (the Demand contract's limit).
const MAX_DESCRIPTION: usize = 2000;

/// Why a reported task could not be entered.
#[derive(Debug)]
pub enum TaskDemandError {
    /// Malformed: retrying cannot help.
    Invalid(String),
    /// The cell is not (yet) in the replica, or the database failed.
    NotYet(String),
}

impl From<CommandError> for TaskDemandError {
    fn from(error: CommandError) -> Self {
        TaskDemandError::NotYet(error.to_string())
    }
}

impl From<sqlx::Error> for TaskDemandError {
    fn from(error: sqlx::Error) -> Self {
        TaskDemandError::NotYet(error.to_string())
    }
}

fn time(at: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    at.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
}

/// The demand a reported task asks for, or `None` when its category is not
/// one the county maps to a demand category (or the task was imported from
/// an earlier system: history, not a need open now).
pub fn demand_of(
    rules: &TaskDemandRules,
    changed: &grid::TaskChanged,
) -> Result<Option<(NewDemand, String, String)>, TaskDemandError> {
    let invalid = |why: &str| TaskDemandError::Invalid(format!("grid.task.reported {why}"));
    let task = changed
        .task
        .as_ref()
        .ok_or_else(|| invalid("without a task"))?;
    let Some(code) = rules.categories.get(&task.category) else {
        return Ok(None);
    };
    if task.imported {
        return Ok(None);
    }
    if task
        .name
        .strip_prefix("tasks/")
        .is_none_or(|id| uuid::Uuid::parse_str(id).is_err())
    {
        return Err(invalid("with a bad task name"));
    }
    let cell = civicgrid_cell_tree::parse_name(&task.cell)
        .ok_or_else(|| invalid("with a bad cell name"))?;
    let reported = time(task.create_time.as_ref())
        .or_else(|| time(changed.history.as_ref().and_then(|h| h.time.as_ref())))
        .ok_or_else(|| invalid("without a report time"))?;
    // The task's own deadline when the grid set one at report, else the
    // configured window.
    let end = time(task.resolve_due.as_ref())
        .filter(|due| *due > reported)
        .unwrap_or(reported + rules.open_for);
    let description = match task.description.trim() {
        "" => format!("a resident's request in the grid: {}", task.name),
        text => text.chars().take(MAX_DESCRIPTION).collect(),
    };
    // Who reported it as the event names them: the reporting subject, or
    // the channel. The event carries the reporter's contact masked only,
    // and none of it is copied.
    let requested_by = match changed.history.as_ref().map(|h| h.actor.as_str()) {
        Some(actor) if !actor.is_empty() => actor.to_owned(),
        _ => {
            let channel = grid::Channel::try_from(task.channel)
                .unwrap_or(grid::Channel::Unspecified)
                .as_str_name()
                .trim_start_matches("CHANNEL_")
                .to_lowercase();
            format!("grid/{channel}")
        }
    };
    Ok(Some((
        NewDemand {
            category: code.clone(),
            location: Location::Cell(cell.to_owned()),
            quantity: 1,
            start: reported,
            end,
            small_wish: false,
            description,
        },
        task.name.clone(),
        requested_by,
    )))
}

/// Enters the demand of a reported task and writes
/// `centres.demand.registered`; `None` when the task is not a demand or
/// has its demand already.
#[tracing::instrument(skip_all, fields(task = changed.task.as_ref().map(|t| t.name.as_str()).unwrap_or_default()))]
pub async fn enter_task_demand(
    conn: &mut PgConnection,
    rules: &TaskDemandRules,
    changed: &grid::TaskChanged,
    causation: &str,
) -> Result<Option<Demand>, TaskDemandError> {
    let Some((new, task, requested_by)) = demand_of(rules, changed)? else {
        return Ok(None);
    };
    let place = places::resolve(&mut *conn, &new.location)
        .await?
        .ok_or_else(|| {
            // A cell the replica does not know yet, or one above any
            // community: the grid replica will know it (retry), and a task
            // is always reported in a community or below.
            TaskDemandError::NotYet(format!(
                "{} is not a community or a cell below one in the grid replica yet",
                changed
                    .task
                    .as_ref()
                    .map(|t| t.cell.as_str())
                    .unwrap_or_default()
            ))
        })?;
    let source = Source {
        requested_by: &requested_by,
        task: Some(task),
        actor: ACTOR,
        causation,
    };
    Ok(enter_demand(&mut *conn, new, place, source).await?)
}
