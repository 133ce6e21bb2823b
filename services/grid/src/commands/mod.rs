//! Use cases. Each begins a transaction, applies domain rules, stores the
//! change and its event in the outbox, and commits; the gRPC API and (later)
//! event handlers both call them.

pub mod create_cell;
pub mod create_staff_assignment;
pub mod directory;
pub mod end_staff_assignment;
pub mod import_cells;
pub mod report_task;
pub mod sweep_supervision;
pub mod transition_task;
pub mod update_cell;

use tonic::Status;

use crate::domain::cell::CellRuleError;
use crate::domain::directory::DirectoryRuleError;
use crate::domain::layout::{LayoutError, LayoutFormat};
use crate::domain::staff::StaffRuleError;

/// Why a command did not happen. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The resource does not exist or is outside the caller's scope.
    #[error("{0} not found")]
    NotFound(String),
    /// The id is taken.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The caller may not do this.
    #[error("{0}")]
    PermissionDenied(String),
    /// The etag was stale.
    #[error("{0}")]
    Aborted(String),
    /// A domain rule refused the change.
    #[error(transparent)]
    Rule(#[from] CellRuleError),
    /// Something the request refers to is missing or not in a usable state.
    #[error("{0}")]
    Precondition(String),
    /// Fields only checkable against stored data (e.g. a category's extra fields).
    #[error("invalid request")]
    Invalid(civicgrid_runtime::status::FieldViolations),
    /// A directory rule refused the change.
    #[error(transparent)]
    DirectoryRule(#[from] DirectoryRuleError),
    /// A staff rule refused the change.
    #[error(transparent)]
    Staff(#[from] StaffRuleError),
    /// A layout file has bad rows (or is unusable as a whole).
    #[error("invalid layout: {1}")]
    Layout(LayoutFormat, LayoutError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<CommandError> for Status {
    fn from(error: CommandError) -> Status {
        match error {
            CommandError::NotFound(what) => Status::not_found(format!("{what} not found")),
            CommandError::AlreadyExists(what) => {
                Status::already_exists(format!("{what} already exists"))
            }
            CommandError::PermissionDenied(why) => Status::permission_denied(why),
            CommandError::Aborted(why) => Status::aborted(why),
            CommandError::Rule(rule) => Status::failed_precondition(rule.to_string()),
            CommandError::Precondition(why) => Status::failed_precondition(why),
            CommandError::Invalid(violations) => violations.into_status(),
            CommandError::DirectoryRule(rule) => Status::failed_precondition(rule.to_string()),
            CommandError::Staff(rule) => Status::failed_precondition(rule.to_string()),
            CommandError::Layout(format, error) => {
                import_cells::violations(format, error).into_status()
            }
            CommandError::Database(error) => civicgrid_runtime::status::database(error),
        }
    }
}

impl From<crate::domain::task::TransitionError> for CommandError {
    fn from(error: crate::domain::task::TransitionError) -> Self {
        CommandError::Precondition(error.to_string())
    }
}

/// Microsecond precision, as PostgreSQL stores it, so an event carries
/// exactly the times a later read returns.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
