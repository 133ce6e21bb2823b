//! Grid domain: no I/O, no proto, no SQL.

pub mod access;
pub mod calendar;
pub mod cell;
pub mod compound;
pub mod deadlines;
pub mod directory;
pub mod layout;
pub mod report;
pub mod staff;
pub mod statistics;
pub mod supervision;
pub mod task;
