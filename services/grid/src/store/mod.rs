//! The grid's SQL. Writes take the caller's transaction; the command commits.

pub mod cells;
pub mod compounds;
pub mod directory;
pub mod lookups;
pub mod staff;
pub mod supervision;
pub mod tallies;
pub mod tasks;

/// A stored value the domain refuses (the row was written past the API, or
/// by a newer version): the read fails loudly, an INTERNAL with the column
/// in the log, instead of passing the value off as some valid state.
pub(crate) fn decode<T>(value: Option<T>, column: &str) -> sqlx::Result<T> {
    value.ok_or_else(|| sqlx::Error::Decode(format!("invalid value in {column}").into()))
}
