//! Bookings of zones by half-open time range.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Longest purpose, in characters.
pub const MAX_PURPOSE_CHARS: usize = 500;

/// A booking to make, parsed from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    /// The centre's code.
    pub centre_id: String,
    /// The zone within it.
    pub zone_id: String,
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end, after `start`.
    pub end: DateTime<Utc>,
    /// What for.
    pub purpose: String,
}

/// Whether a booking holds its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingState {
    /// Holds the zone for its range.
    Confirmed,
    /// Freed.
    Cancelled,
}

impl BookingState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Confirmed => "confirmed",
            BookingState::Cancelled => "cancelled",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<BookingState> {
        match text {
            "confirmed" => Some(BookingState::Confirmed),
            "cancelled" => Some(BookingState::Cancelled),
            _ => None,
        }
    }
}

/// A stored booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Its id.
    pub id: Uuid,
    /// The centre's code.
    pub centre_id: String,
    /// The zone.
    pub zone_id: String,
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
    /// What for.
    pub purpose: String,
    /// The booker's subject.
    pub booked_by: String,
    /// Confirmed or cancelled.
    pub state: BookingState,
    /// Made at.
    pub create_time: DateTime<Utc>,
}

impl Booking {
    /// `centres/{centre}/bookings/{id}`.
    pub fn resource_name(&self) -> String {
        booking_name(&self.centre_id, self.id)
    }

    /// The version its events carry: 1 when confirmed, 2 once cancelled.
    pub fn version(&self) -> i64 {
        match self.state {
            BookingState::Confirmed => 1,
            BookingState::Cancelled => 2,
        }
    }
}

/// `centres/{centre}/bookings/{id}`.
pub fn booking_name(centre_id: &str, id: Uuid) -> String {
    format!("centres/{centre_id}/bookings/{id}")
}

/// The centre code and booking id of `centres/{centre}/bookings/{id}`.
pub fn parse_booking_name(name: &str) -> Option<(String, Uuid)> {
    let rest = name.strip_prefix("centres/")?;
    let (centre, id) = rest.split_once("/bookings/")?;
    if !civicgrid_cell_tree::is_valid_id(centre) {
        return None;
    }
    Some((centre.to_owned(), Uuid::parse_str(id).ok()?))
}
