//! sqlx functions: writes take the caller's connection (a transaction it
//! commits), reads a pool or a connection. Rows decode into domain types
//! and fail loudly on a value the service cannot read.

pub mod agreements;
pub mod conferences;
pub mod demands;
pub mod members;
pub mod organisations;
pub mod points;
pub mod posts;
pub mod reports;
