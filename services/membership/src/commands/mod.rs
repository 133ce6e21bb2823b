//! Use cases. Each takes the caller's connection (a transaction it does
//! not commit) and its inputs, applies the domain rules, stores the change
//! and writes its events to the outbox in that transaction. The API runs
//! one inside [`civicgrid_runtime::transaction::transact`].
//!
//! Commands know nothing of gRPC: why one refused is a [`CommandError`],
//! which the API maps to a status (`api::error`).

pub mod assign_post;
pub mod award_points;
pub mod conferences;
pub mod create_organisation;
pub mod end_post;
pub mod end_report;
pub mod fulfil_commitment;
pub mod import_members;
mod member_rows;
pub mod record_checkin;
pub mod record_demand;
pub mod register_member;
pub mod register_report;
pub mod sign_agreement;
pub mod transfer_member;
pub mod update_member;
pub mod update_organisation;

use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::transaction::Retryable;

/// Why a command did not happen. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// An outcome every service shares.
    #[error(transparent)]
    UseCase(#[from] UseCaseError),
    /// A member roll has bad lines (or is unusable as a whole).
    #[error("invalid roll: {0}")]
    Roll(crate::domain::roll::RollError),
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
