//! The assessment domain, without I/O: periods, metric names, the facts a
//! task's events count for, indicator schemes and scoring, two-way
//! ratings and burden reduction.

pub mod burden;
pub mod facts;
pub mod levels;
pub mod metric;
pub mod participation;
pub mod period;
pub mod rating;
pub mod scheme;
pub mod scoring;
pub mod sites;
