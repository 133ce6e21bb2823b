//! The gRPC API. One file per service (`grid.rs`, `directory.rs`,
//! `tasks.rs`) whose handlers each parse the request once (`<resource>/parse.rs`),
//! run one command in a transaction (or one read) and convert the result
//! (`<resource>/convert.rs`, or `crate::convert` for what events publish
//! too). `error.rs` maps every refusal to a status.

pub mod cells;
pub mod compounds;
pub mod directory;
pub mod error;
pub mod grid;
pub mod layout;
pub mod staff;
pub mod tasks;
