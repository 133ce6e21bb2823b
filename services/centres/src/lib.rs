//! The centres service: party-mass service centres of eight categories
//! with their "1+3" zones, the standard each category must meet (held as
//! data, versioned) and every centre's compliance with it, coverage of the
//! replicated grid, and bookings of zones. Keeps a replica of the grid's
//! cells and compounds built from grid.cell.* and grid.compound.* events.

pub mod api;
pub mod commands;
pub mod config;
pub mod convert;
pub mod domain;
pub mod events;
pub mod startup;
pub mod store;

pub use startup::Application;
