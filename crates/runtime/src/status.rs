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

/// What a database failure means to the caller, decided once for every
/// service by [`classify`] and turned into a status by [`database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseFailure {
    /// The database cannot be reached or is refusing work for now (a
    /// restart, a cut connection, an exhausted pool or server resource):
    /// UNAVAILABLE, which standard gRPC retry policies retry.
    Unavailable,
    /// The transaction lost a serialization conflict or a deadlock
    /// (40001, 40P01). Worth running again inside the command; once those
    /// tries are spent, ABORTED tells the client to retry the whole call.
    Conflict,
    /// The statement ran out of time or was cancelled (57014): DEADLINE_EXCEEDED.
    TimedOut,
    /// Anything else is a bug or a broken invariant (a constraint the code
    /// should have checked, a type mismatch): an opaque INTERNAL.
    Unexpected,
}

impl DatabaseFailure {
    /// The gRPC code a caller sees for this failure.
    pub fn code(self) -> Code {
        match self {
            DatabaseFailure::Unavailable => Code::Unavailable,
            DatabaseFailure::Conflict => Code::Aborted,
            DatabaseFailure::TimedOut => Code::DeadlineExceeded,
            DatabaseFailure::Unexpected => Code::Internal,
        }
    }
}

/// Sorts a database error by what the caller can do about it: by SQLSTATE
/// class for errors the server sent, by kind for the driver's own.
pub fn classify(error: &sqlx::Error) -> DatabaseFailure {
    match error {
        sqlx::Error::Database(database) => match database.code() {
            Some(code) => classify_sqlstate(&code),
            None => DatabaseFailure::Unexpected,
        },
        // Every I/O error is the connection's: reset, refused, broken pipe,
        // and the UnexpectedEof sqlx reports when the server closes the
        // socket mid-message. A TLS failure is a handshake with a server
        // that is going away or misconfigured; neither is a bug in the call.
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => DatabaseFailure::Unavailable,
        sqlx::Error::Migrate(migrate) => match migrate.as_ref() {
            sqlx::migrate::MigrateError::Execute(inner)
            | sqlx::migrate::MigrateError::ExecuteMigration(inner, _) => classify(inner),
            _ => DatabaseFailure::Unexpected,
        },
        // Protocol errors are sqlx's "unexpected or invalid data": a driver
        // bug or a corrupted stream, not an outage (an outage shows up as
        // Io). Decode, RowNotFound and the rest are the code's mistakes.
        _ => DatabaseFailure::Unexpected,
    }
}

/// The classification of a SQLSTATE the server returned.
fn classify_sqlstate(code: &str) -> DatabaseFailure {
    match code {
        // 57P01 admin shutdown (what a restart sends every session),
        // 57P02 crash shutdown, 57P03 cannot connect now (starting up or
        // shutting down), 57P05 idle session timeout: the session is gone
        // and a new one will work.
        "57P01" | "57P02" | "57P03" | "57P05" => DatabaseFailure::Unavailable,
        "40001" | "40P01" => DatabaseFailure::Conflict,
        "57014" => DatabaseFailure::TimedOut,
        // 08 connection exception, 53 insufficient resources (disk full,
        // out of memory, too many connections).
        _ if code.starts_with("08") || code.starts_with("53") => DatabaseFailure::Unavailable,
        _ => DatabaseFailure::Unexpected,
    }
}

/// Whether `error` is a serialization failure or deadlock, which a
/// command should retry (a bounded number of times) before giving up with
/// ABORTED.
pub fn is_transaction_conflict(error: &sqlx::Error) -> bool {
    classify(error) == DatabaseFailure::Conflict
}

/// A database failure as a status a client can act on (see [`classify`]):
/// UNAVAILABLE and DEADLINE_EXCEEDED invite a retry later, ABORTED a retry
/// of the whole call; anything else is an opaque INTERNAL with the cause
/// in the log.
pub fn database(error: sqlx::Error) -> Status {
    match classify(&error) {
        DatabaseFailure::Unavailable => {
            tracing::warn!(%error, "database unavailable");
            Status::unavailable("database unavailable; retry later")
        }
        DatabaseFailure::Conflict => {
            tracing::warn!(%error, "transaction conflict outlasted its retries");
            Status::aborted("the change conflicted with a concurrent one; retry")
        }
        DatabaseFailure::TimedOut => {
            tracing::warn!(%error, "database statement timed out");
            Status::deadline_exceeded("the database took too long; retry later")
        }
        DatabaseFailure::Unexpected => internal(error),
    }
}

/// An unexpected failure: logged with its cause, opaque to the caller.
pub fn internal(error: impl std::fmt::Display) -> Status {
    tracing::error!(error = %error, "internal error");
    Status::internal("internal error")
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::io;

    use sqlx::error::{DatabaseError, ErrorKind};

    use super::*;

    /// A server error carrying only a SQLSTATE, as the driver would box it.
    #[derive(Debug)]
    struct ServerError(Option<&'static str>);

    impl std::fmt::Display for ServerError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "server error {:?}", self.0)
        }
    }

    impl std::error::Error for ServerError {}

    impl DatabaseError for ServerError {
        fn message(&self) -> &str {
            "server error"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            self.0.map(Cow::Borrowed)
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn sqlstate(code: &'static str) -> sqlx::Error {
        sqlx::Error::Database(Box::new(ServerError(Some(code))))
    }

    #[test]
    fn connection_exceptions_shutdowns_and_exhausted_resources_are_unavailable() {
        for code in [
            "08000", "08003", "08006", "08001", "08004", "57P01", "57P02", "57P03", "57P05",
            "53000", "53100", "53200", "53300", "53400",
        ] {
            assert_eq!(
                classify(&sqlstate(code)),
                DatabaseFailure::Unavailable,
                "{code}"
            );
            assert_eq!(database(sqlstate(code)).code(), Code::Unavailable, "{code}");
        }
    }

    #[test]
    fn a_cut_connection_or_an_exhausted_pool_is_unavailable() {
        let errors = [
            sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset)),
            sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused)),
            sqlx::Error::Io(io::Error::from(io::ErrorKind::BrokenPipe)),
            sqlx::Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "expected to read 5 bytes, got 0 bytes at EOF",
            )),
            sqlx::Error::Tls("handshake interrupted".into()),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            sqlx::Error::Migrate(Box::new(sqlx::migrate::MigrateError::Execute(
                sqlx::Error::PoolTimedOut,
            ))),
        ];
        for error in errors {
            let shown = error.to_string();
            assert_eq!(classify(&error), DatabaseFailure::Unavailable, "{shown}");
            let status = database(error);
            assert_eq!(status.code(), Code::Unavailable, "{shown}");
            assert_eq!(status.message(), "database unavailable; retry later");
        }
    }

    #[test]
    fn serialization_failures_and_deadlocks_are_conflicts_reported_as_aborted() {
        for code in ["40001", "40P01"] {
            assert_eq!(
                classify(&sqlstate(code)),
                DatabaseFailure::Conflict,
                "{code}"
            );
            assert!(is_transaction_conflict(&sqlstate(code)), "{code}");
            assert_eq!(database(sqlstate(code)).code(), Code::Aborted, "{code}");
        }
        assert!(!is_transaction_conflict(&sqlstate("57P01")));
        assert!(!is_transaction_conflict(&sqlx::Error::PoolTimedOut));
    }

    #[test]
    fn a_cancelled_statement_is_deadline_exceeded() {
        assert_eq!(classify(&sqlstate("57014")), DatabaseFailure::TimedOut);
        assert_eq!(database(sqlstate("57014")).code(), Code::DeadlineExceeded);
    }

    #[test]
    fn everything_else_is_an_opaque_internal_error() {
        let errors = [
            // unique, foreign key, check violations: the code should have checked
            sqlstate("23505"),
            sqlstate("23503"),
            sqlstate("23514"),
            // syntax error, undefined table, other class 40 and 57 codes
            sqlstate("42601"),
            sqlstate("42P01"),
            sqlstate("40002"),
            sqlstate("57000"),
            sqlx::Error::Database(Box::new(ServerError(None))),
            sqlx::Error::Protocol("unknown message type: 'x'".to_owned()),
            sqlx::Error::RowNotFound,
            sqlx::Error::ColumnNotFound("id".to_owned()),
            sqlx::Error::Decode("bad value".into()),
            sqlx::Error::Configuration("bad url".into()),
            sqlx::Error::BeginFailed,
            sqlx::Error::Migrate(Box::new(sqlx::migrate::MigrateError::VersionMissing(1))),
        ];
        for error in errors {
            let shown = error.to_string();
            assert_eq!(classify(&error), DatabaseFailure::Unexpected, "{shown}");
            let status = database(error);
            assert_eq!(status.code(), Code::Internal, "{shown}");
            assert_eq!(
                status.message(),
                "internal error",
                "the cause stays in the log"
            );
        }
    }
}
