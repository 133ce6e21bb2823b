//! The grid's one test binary, against real PostgreSQL and RabbitMQ: one
//! module per area, one `TestApp` (support) compiled once.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod cells;
mod compounds;
mod directory;
mod import;
mod inbox;
mod layout;
mod operations;
mod outage;
mod staff;
mod statistics;
mod support;
mod tasks;
