//! The membership service: party organisations and members, dual reports, co-building agreements, joint conferences and four-party property management.
//!
//! This first version keeps the service's replica of the grid, which all of
//! its later capabilities place their records in.

pub mod api;
pub mod events;
pub mod startup;

/// The running membership service.
pub type Application = civicgrid_cell_tree::Replica<api::MembershipApi>;
