//! What of the `civicgrid` command line other programs use: the county
//! generator's plan, so `make bench-large` can ask the loaded county for
//! the members it generated (their ID numbers come from the seed alone).
//! The binary's `county` module re-exports this plan rather than
//! compiling it twice.

pub mod county {
    pub mod plan;
}
