//! Turning failures into precise gRPC statuses.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Field violations gathered while parsing a request; INVALID_ARGUMENT with
/// `google.rpc.BadRequest` details when any were found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldViolations(Vec<(String, String)>);

impl FieldViolations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` (a request path such as `cell.display_name`) is wrong.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push((field.into(), description.into()));
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded (field, description) pairs.
    pub fn violations(&self) -> &[(String, String)] {
        &self.0
    }

    /// `Ok(value)` when nothing was recorded, INVALID_ARGUMENT otherwise.
    pub fn check<T>(self, value: T) -> Result<T, Status> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.into_status())
        }
    }

    /// INVALID_ARGUMENT naming every violated field.
    pub fn into_status(self) -> Status {
        let fields: Vec<&str> = self.0.iter().map(|(field, _)| field.as_str()).collect();
        let message = format!("invalid request: {}", fields.join(", "));
        let mut details = ErrorDetails::new();
        for (field, description) in &self.0 {
            details.add_bad_request_violation(field.clone(), description.clone());
        }
        Status::with_error_details(Code::InvalidArgument, message, details)
    }
}

/// The field violations carried by `status`, as (field, description).
pub fn field_violations(status: &Status) -> Vec<(String, String)> {
    status
        .get_details_bad_request()
        .map(|bad| {
            bad.field_violations
                .into_iter()
                .map(|v| (v.field, v.description))
                .collect()
        })
        .unwrap_or_default()
}

/// A database failure: UNAVAILABLE when the database cannot be reached (the
/// caller may retry), otherwise an opaque INTERNAL with the cause in the log.
pub fn database(error: sqlx::Error) -> Status {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            tracing::warn!(%error, "database unavailable");
            Status::unavailable("database unavailable; retry later")
        }
        other => internal(other),
    }
}

/// An unexpected failure: logged with its cause, opaque to the caller.
pub fn internal(error: impl std::fmt::Display) -> Status {
    tracing::error!(error = %error, "internal error");
    Status::internal("internal error")
}
