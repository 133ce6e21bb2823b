//! The centres service: party-mass service centres of eight categories, bookings, activities and check-ins, and the demand, resource and project lists.
//!
//! This first version keeps the service's replica of the grid, which all of
//! its later capabilities place their records in.

pub mod api;
pub mod events;
pub mod startup;

/// The running centres service.
pub type Application = civicgrid_cell_tree::Replica<api::CentresApi>;
