//! Grid domain: no I/O, no proto, no SQL.

pub mod access;
pub mod calendar;
pub mod cell;
pub mod directory;
