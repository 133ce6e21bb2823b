//! Use cases. Each takes the caller's connection (a transaction it does
//! not commit) and its inputs, applies the domain rules, stores the change
//! and writes its events to the outbox in that transaction. The API runs
//! one inside [`civicgrid_runtime::transaction::transact`].
//!
//! Commands know nothing of gRPC: why one refused is a [`CommandError`],
//! which the API maps to a status (`api::error`).

pub mod create_organisation;
pub mod register_member;
pub mod update_organisation;

use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::status::FieldViolations;
use civicgrid_runtime::transaction::Retryable;

/// Why a command did not happen. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// An outcome every service shares.
    #[error(transparent)]
    UseCase(#[from] UseCaseError),
}

impl CommandError {
    /// The resource does not exist or is outside the caller's scope.
    pub fn not_found(what: impl Into<String>) -> Self {
        UseCaseError::NotFound(what.into()).into()
    }

    /// The id (or what it names) is taken.
    pub fn already_exists(what: impl Into<String>) -> Self {
        UseCaseError::AlreadyExists(what.into()).into()
    }

    /// The caller may not do this.
    pub fn permission_denied(why: impl Into<String>) -> Self {
        UseCaseError::PermissionDenied(why.into()).into()
    }

    /// A concurrent change won.
    pub fn aborted(why: impl Into<String>) -> Self {
        UseCaseError::Aborted(why.into()).into()
    }

    /// One field, only checkable against stored data, is bad.
    pub fn invalid_field(field: &str, why: impl Into<String>) -> Self {
        let mut violations = FieldViolations::new();
        violations.add(field, why);
        UseCaseError::Invalid(violations).into()
    }
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

/// Microsecond precision, as PostgreSQL stores it, so an event carries
/// exactly the times a later read returns.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
