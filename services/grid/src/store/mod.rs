//! The grid's SQL. Writes take the caller's transaction; the command commits.

pub mod cells;
pub mod directory;
pub mod lookups;
pub mod staff;
pub mod supervision;
pub mod tasks;
