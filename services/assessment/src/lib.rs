//! The assessment service: metrics built from the grid's events, kept in
//! its own event store so they can be rebuilt and explained; later,
//! indicator schemes, scores, rankings, demonstration sites and the
//! community-work whitelist.
//!
//! It keeps a replica of the grid's cells and compounds, in which its
//! metrics are placed and rolled up.

pub mod api;
pub mod commands;
pub mod convert;
pub mod domain;
pub mod events;
pub mod export;
pub mod scheme_file;
pub mod startup;
pub mod store;

pub use startup::Application;
