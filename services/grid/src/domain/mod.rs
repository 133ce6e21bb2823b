//! Grid domain: no I/O, no proto, no SQL.

pub mod access;
pub mod calendar;
pub mod cell;
pub mod deadlines;
pub mod directory;
pub mod report;
pub mod supervision;
pub mod task;
