//! Use cases. Each takes the caller's connection (a transaction it does
//! not commit) and its inputs, applies the domain rules, stores the change
//! and writes its events to the outbox. The gRPC API runs one inside
//! [`civicgrid_runtime::transaction::transact`], which commits (and
//! retries a conflict); an event handler runs one on the consumer's inbox
//! transaction, so the effect, its outbox rows and the `processed_events`
//! row commit or roll back together. The one exception is ReportTask,
//! which owns its batching (see [`report_task`]).
//!
//! Commands know nothing of gRPC: why one refused is a [`CommandError`],
//! which the API maps to a status (`api::error`).

pub mod create_category;
pub mod create_cell;
pub mod create_compound;
pub mod create_department;
pub mod create_staff_assignment;
pub mod end_staff_assignment;
pub mod import_cells;
pub mod import_tasks;
pub mod report_task;
pub mod set_deadline_policy;
pub mod set_working_calendar;
pub mod sweep_supervision;
pub mod transition_task;
pub mod update_cell;
pub mod update_compound;

use civicgrid_runtime::error::Outcomes as _;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::transaction::Retryable;

use crate::domain::cell::CellRuleError;
use crate::domain::directory::DirectoryRuleError;
use crate::domain::layout::{LayoutError, LayoutFormat};
use crate::domain::staff::StaffRuleError;
use crate::domain::task::TransitionError;

/// Why a command did not happen. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// An outcome every service shares: not found, already exists,
    /// permission denied, aborted, precondition, invalid fields, database.
    #[error(transparent)]
    UseCase(#[from] UseCaseError),
    /// A cell rule refused the change.
    #[error(transparent)]
    Cell(#[from] CellRuleError),
    /// A directory rule refused the change.
    #[error(transparent)]
    Directory(#[from] DirectoryRuleError),
    /// A staff rule refused the change.
    #[error(transparent)]
    Staff(#[from] StaffRuleError),
    /// The task's state machine refused the action.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A layout file has bad rows (or is unusable as a whole).
    #[error("invalid layout: {1}")]
    Layout(LayoutFormat, LayoutError),
}

impl From<sqlx::Error> for CommandError {
    fn from(error: sqlx::Error) -> Self {
        UseCaseError::Database(error).into()
    }
}

impl Retryable for CommandError {
    fn is_retryable(&self) -> bool {
        matches!(self, CommandError::UseCase(error) if error.is_retryable())
    }
}

/// Only a county admin or the command centre changes the directory.
fn check_may_edit_directory(caller: &civicgrid_runtime::auth::Caller) -> Result<(), CommandError> {
    if crate::domain::access::may_edit_directory(caller) {
        Ok(())
    } else {
        Err(CommandError::permission_denied(
            "only a county admin or the command centre changes the directory",
        ))
    }
}

/// Microsecond precision, as PostgreSQL stores it, so an event carries
/// exactly the times a later read returns.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
