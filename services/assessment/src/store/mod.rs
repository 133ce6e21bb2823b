//! Rows to domain types and back: the event store and the metrics.

pub mod events;
pub mod metrics;
