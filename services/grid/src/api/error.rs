//! The one map from a grid command's refusal to a gRPC status. The
//! outcomes every service shares go to the runtime's map; the grid's own
//! rules are FAILED_PRECONDITION, a bad layout INVALID_ARGUMENT naming each
//! bad line.

use tonic::Status;

use crate::commands::CommandError;
use crate::commands::import_cells::violations;

impl From<CommandError> for Status {
    fn from(error: CommandError) -> Status {
        match error {
            CommandError::UseCase(error) => error.into(),
            CommandError::Cell(rule) => Status::failed_precondition(rule.to_string()),
            CommandError::Directory(rule) => Status::failed_precondition(rule.to_string()),
            CommandError::Staff(rule) => Status::failed_precondition(rule.to_string()),
            CommandError::Transition(refusal) => Status::failed_precondition(refusal.to_string()),
            CommandError::Layout(format, error) => violations(format, error).into_status(),
        }
    }
}
