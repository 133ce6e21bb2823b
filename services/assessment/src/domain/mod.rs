//! The assessment domain, without I/O: periods, metric names and the facts
//! a task's events count for.

pub mod facts;
pub mod metric;
pub mod period;
