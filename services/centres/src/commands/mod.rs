//! Use cases. Each takes the caller's connection (a transaction it does
//! not commit) and its inputs, applies the rules, stores the change and
//! writes its events to the outbox. The gRPC API runs one inside
//! [`civicgrid_runtime::transaction::transact`]; an event handler would run
//! the same function on the consumer's inbox transaction.
//!
//! Every refusal of a centres command is one of the outcomes all services
//! share, so the command error is the runtime's [`UseCaseError`] itself
//! (its own status map) rather than a wrapper with nothing else in it.

pub mod accept_offer;
pub mod accept_slot_offer;
mod activity_context;
pub mod apply_report;
pub mod cancel_activity;
pub mod cancel_booking;
pub mod cancel_registration;
pub mod cancel_slot_booking;
mod catalogue_context;
pub mod claim_match;
pub mod close_activity;
pub mod complete_project;
pub mod create_activity;
pub mod create_booking;
pub mod create_centre;
pub mod create_centre_service;
pub mod create_demand;
pub mod create_registration;
pub mod create_resource;
pub mod create_service_slot;
pub mod create_slot_booking;
pub mod enter_task_demand;
pub(crate) mod publish_state;
pub mod record_checkin;
pub mod seed_standards;
pub mod set_compound_coordinates;
pub mod sweep_offers;
pub mod update_centre;
pub mod update_standard;
mod waitlist;

use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::status::FieldViolations;

/// Why a command did not happen; nothing was changed.
pub type CommandError = UseCaseError;

/// INVALID_ARGUMENT naming one field.
pub(crate) fn invalid(field: impl Into<String>, why: impl Into<String>) -> CommandError {
    let mut violations = FieldViolations::new();
    violations.add(field, why);
    UseCaseError::Invalid(violations)
}

/// Microsecond precision, as PostgreSQL stores it, so an event carries
/// exactly the times a later read returns.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
