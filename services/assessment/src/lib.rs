//! The assessment service: indicator schemes, metrics built from events, scores, rankings, demonstration sites, the community-work whitelist and campaign register.
//!
//! This first version keeps the service's replica of the grid, which all of
//! its later capabilities place their records in.

pub mod api;
pub mod events;
pub mod startup;

/// The running assessment service.
pub type Application = civicgrid_cell_tree::Replica<api::AssessmentApi>;
