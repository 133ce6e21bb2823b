//! Rows to domain types and back: the event store, the metrics, schemes
//! and rankings, ratings, the whitelist and campaigns.

pub mod burden;
pub mod events;
pub mod levels;
pub mod metrics;
pub mod ratings;
pub mod schemes;
pub mod sites;
