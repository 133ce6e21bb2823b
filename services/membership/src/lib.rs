//! The membership service: party organisations and members, dual reports,
//! co-building agreements, joint conferences and four-party property
//! management.
//!
//! Built so far: the organisation tree placed in the replicated grid, its
//! standardisation gaps report, and members with their personal data
//! sealed at rest and found by ID number through a keyed blind index.

pub mod api;
pub mod commands;
pub mod config;
pub mod convert;
pub mod domain;
pub mod events;
pub mod sealing;
pub mod startup;
pub mod store;

pub use startup::Application;
