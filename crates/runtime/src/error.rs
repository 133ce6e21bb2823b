//! Why a use case did not happen, in the terms every service shares.
//!
//! Each service's command error wraps [`UseCaseError`] for the generic
//! outcomes and adds its own domain rules; its API maps those and hands
//! this one to the single map here, so NOT_FOUND or ABORTED mean the same
//! in every service. Reads use it too, instead of building statuses.

use tonic::Status;

use crate::status::{self, FieldViolations};
use crate::transaction::Retryable;

/// The outcomes of a use case that are the same in every service. Nothing
/// was changed in any of them.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    /// The resource (a resource name) does not exist or is outside the caller's scope.
    #[error("{0} not found")]
    NotFound(String),
    /// The id (a resource name, perhaps with why) is taken.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The caller may not do this; says why.
    #[error("{0}")]
    PermissionDenied(String),
    /// A concurrent change won (a stale etag); says what to do.
    #[error("{0}")]
    Aborted(String),
    /// Something the request refers to is missing or not in a usable state.
    #[error("{0}")]
    Precondition(String),
    /// Fields only checkable against stored data.
    #[error("invalid request")]
    Invalid(FieldViolations),
    /// The service cannot take the request now (shutting down, a worker
    /// gone); another replica, or a retry later, can.
    #[error("{0}")]
    Unavailable(String),
    /// The database failed (or held a value the service cannot read).
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Constructors of the shared outcomes for any error that wraps
/// [`UseCaseError`] (each service's `CommandError`), so no service writes
/// them again: `CommandError::not_found("cells/x")` with this trait in scope
/// (`use civicgrid_runtime::error::Outcomes as _;`).
pub trait Outcomes: From<UseCaseError> + Sized {
    /// The resource (a resource name) does not exist or is outside the caller's scope.
    fn not_found(what: impl Into<String>) -> Self {
        UseCaseError::NotFound(what.into()).into()
    }

    /// The id (a resource name, perhaps with why) is taken.
    fn already_exists(what: impl Into<String>) -> Self {
        UseCaseError::AlreadyExists(what.into()).into()
    }

    /// The caller may not do this; says why.
    fn permission_denied(why: impl Into<String>) -> Self {
        UseCaseError::PermissionDenied(why.into()).into()
    }

    /// A concurrent change won; says what to do.
    fn aborted(why: impl Into<String>) -> Self {
        UseCaseError::Aborted(why.into()).into()
    }

    /// The service cannot take it now; a retry (elsewhere) can.
    fn unavailable(why: impl Into<String>) -> Self {
        UseCaseError::Unavailable(why.into()).into()
    }

    /// Something the request refers to is missing or not in a usable state.
    fn precondition(why: impl Into<String>) -> Self {
        UseCaseError::Precondition(why.into()).into()
    }

    /// Fields only checkable against stored data.
    fn invalid(violations: FieldViolations) -> Self {
        UseCaseError::Invalid(violations).into()
    }

    /// One field, only checkable against stored data, is bad.
    fn invalid_field(field: &str, why: impl Into<String>) -> Self {
        let mut violations = FieldViolations::new();
        violations.add(field, why);
        UseCaseError::Invalid(violations).into()
    }
}

impl<E: From<UseCaseError>> Outcomes for E {}

impl Retryable for UseCaseError {
    fn is_retryable(&self) -> bool {
        matches!(self, UseCaseError::Database(error) if error.is_retryable())
    }
}

impl From<UseCaseError> for Status {
    fn from(error: UseCaseError) -> Status {
        match error {
            UseCaseError::NotFound(what) => Status::not_found(format!("{what} not found")),
            UseCaseError::AlreadyExists(what) => {
                Status::already_exists(format!("{what} already exists"))
            }
            UseCaseError::PermissionDenied(why) => Status::permission_denied(why),
            UseCaseError::Aborted(why) => Status::aborted(why),
            UseCaseError::Precondition(why) => Status::failed_precondition(why),
            UseCaseError::Invalid(violations) => violations.into_status(),
            UseCaseError::Unavailable(why) => Status::unavailable(why),
            UseCaseError::Database(error) => status::database(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn each_outcome_has_its_own_code() {
        let cases = [
            (UseCaseError::NotFound("cells/x".into()), Code::NotFound),
            (
                UseCaseError::AlreadyExists("cells/x".into()),
                Code::AlreadyExists,
            ),
            (
                UseCaseError::PermissionDenied("no".into()),
                Code::PermissionDenied,
            ),
            (UseCaseError::Aborted("stale".into()), Code::Aborted),
            (
                UseCaseError::Unavailable("shutting down".into()),
                Code::Unavailable,
            ),
            (
                UseCaseError::Precondition("missing".into()),
                Code::FailedPrecondition,
            ),
            (
                UseCaseError::Invalid(FieldViolations::new()),
                Code::InvalidArgument,
            ),
            (
                UseCaseError::Database(sqlx::Error::Decode("bad state".into())),
                Code::Internal,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(Status::from(error).code(), code);
        }
        assert_eq!(
            Status::from(UseCaseError::NotFound("cells/x".into())).message(),
            "cells/x not found"
        );
    }
}
