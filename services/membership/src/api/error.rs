//! The one map from a membership command's refusal to a gRPC status.

use tonic::Status;

use crate::commands::CommandError;

impl From<CommandError> for Status {
    fn from(error: CommandError) -> Status {
        match error {
            CommandError::UseCase(error) => error.into(),
            CommandError::Roll(error) => {
                crate::commands::import_members::violations(error).into_status()
            }
        }
    }
}
