//! Rows to domain types and back. A stored value the service cannot
//! decode fails loudly (`sqlx::Error::Decode`, naming the column), never
//! defaulting.

pub mod activities;
pub mod bookings;
pub mod catalogue;
pub mod centres;
pub mod checkins;
pub mod coverage;
pub mod lists;
pub mod places;
pub mod registrations;
pub mod standards;

/// A decode failure naming the column.
pub(crate) fn bad(column: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("invalid value in {column}").into())
}
