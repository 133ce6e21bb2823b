//! Grid domain: no I/O, no proto, no SQL.

pub mod access;
pub mod cell;
pub mod layout;
pub mod staff;
