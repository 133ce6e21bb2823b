//! The grid service: owns the six-level cell tree (county, street,
//! community, grid, building, unit) and publishes every change.

pub mod api;
pub mod commands;
pub mod config;
pub mod convert;
pub mod domain;
pub mod events;
pub mod startup;
pub mod store;

pub use startup::Application;
