//! The membership service against real PostgreSQL and RabbitMQ: one test
//! binary, a module per area, one TestApp (support.rs).

#![allow(clippy::unwrap_used)]

mod access;
mod agreements;
mod capture;
mod conferences;
mod import;
mod member_changes;
mod members;
mod organisations;
mod personal_data;
mod points;
mod posts;
mod replica;
mod reports;
mod support;
