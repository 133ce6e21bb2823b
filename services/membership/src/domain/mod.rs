//! Membership's domain: newtypes that exist only once parsed, the rules of
//! the organisation tree, ID number and phone validation, the gaps report.
//! No I/O, no proto, no sqlx.

pub mod access;
pub mod demand;
pub mod gaps;
pub mod id_number;
pub mod member;
pub mod organisation;
pub mod phone;
pub mod points;
pub mod post;
pub mod property;
pub mod report;
pub mod roll;
pub mod similarity;
