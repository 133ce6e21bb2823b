//! The use cases, one per file. Each takes a connection inside a
//! transaction it does not commit.

pub mod apply_grid_event;
pub mod rebuild_metrics;
