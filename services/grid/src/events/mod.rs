//! What the grid publishes.

pub mod publish;
