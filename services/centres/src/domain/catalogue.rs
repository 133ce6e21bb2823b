//! The service catalogue: services a centre offers, their slots with
//! capacity, and bookings of places in them.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Most people one slot serves.
pub const MAX_SLOT_CAPACITY: i32 = 10_000;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// A service of a centre's catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentreService {
    /// The centre's code.
    pub centre_id: String,
    /// The service's code within the centre.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// What it is.
    pub description: String,
    /// Added at.
    pub create_time: DateTime<Utc>,
}

impl CentreService {
    /// `centres/{c}/services/{s}`.
    pub fn resource_name(&self) -> String {
        service_name(&self.centre_id, &self.id)
    }
}

/// `centres/{c}/services/{s}`.
pub fn service_name(centre_id: &str, service_id: &str) -> String {
    format!("centres/{centre_id}/services/{service_id}")
}

/// An opening of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSlot {
    /// Its id.
    pub id: Uuid,
    /// The centre's code.
    pub centre_id: String,
    /// The service's code.
    pub service_id: String,
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
    /// People it serves.
    pub capacity: i32,
    /// Confirmed bookings.
    pub booked: i32,
    /// Opened at.
    pub create_time: DateTime<Utc>,
}

impl ServiceSlot {
    /// `centres/{c}/services/{s}/slots/{id}`.
    pub fn resource_name(&self) -> String {
        format!(
            "{}/slots/{}",
            service_name(&self.centre_id, &self.service_id),
            self.id
        )
    }
}

/// Where a slot booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotBookingState {
    /// Holds a place.
    Confirmed,
    /// Withdrawn.
    Cancelled,
    /// Waits for a place.
    Waitlisted,
    /// A place is held for it until its offer expires.
    Offered,
    /// Its offer lapsed.
    Expired,
}

impl SlotBookingState {
    const ALL: [SlotBookingState; 5] = [
        SlotBookingState::Confirmed,
        SlotBookingState::Cancelled,
        SlotBookingState::Waitlisted,
        SlotBookingState::Offered,
        SlotBookingState::Expired,
    ];

    /// The stored name (also the last word of its routing key).
    pub fn as_str(self) -> &'static str {
        match self {
            SlotBookingState::Confirmed => "confirmed",
            SlotBookingState::Cancelled => "cancelled",
            SlotBookingState::Waitlisted => "waitlisted",
            SlotBookingState::Offered => "offered",
            SlotBookingState::Expired => "expired",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<SlotBookingState> {
        SlotBookingState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    /// Whether it holds one of the slot's places.
    pub fn holds_place(self) -> bool {
        matches!(
            self,
            SlotBookingState::Confirmed | SlotBookingState::Offered
        )
    }

    /// Whether it is still in play.
    pub fn is_live(self) -> bool {
        self.holds_place() || self == SlotBookingState::Waitlisted
    }
}

/// A place booked in a slot, or a wait for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotBooking {
    /// Its id.
    pub id: Uuid,
    /// The slot.
    pub slot_id: Uuid,
    /// `members/{id}` or `residents/{id}`.
    pub attendee: String,
    /// Where it stands.
    pub state: SlotBookingState,
    /// Order of arrival in the slot.
    pub queue_seq: i64,
    /// While offered: when the offer lapses.
    pub offer_expire_time: Option<DateTime<Utc>>,
    /// The booker's subject.
    pub booked_by: String,
    /// Incremented on every change.
    pub version: i64,
    /// Made at.
    pub create_time: DateTime<Utc>,
}

impl SlotBooking {
    /// Moves to `state` at `now` (an offer gets its expiry, any other state drops it).
    pub fn become_(&mut self, state: SlotBookingState, now: DateTime<Utc>, offer_ttl: Duration) {
        self.offer_expire_time = (state == SlotBookingState::Offered).then(|| now + offer_ttl);
        self.state = state;
        self.version += 1;
    }

    /// Accepting the offer at `now`: the reason it cannot be, if any.
    pub fn refuse_acceptance(&self, now: DateTime<Utc>) -> Option<String> {
        match (self.state, self.offer_expire_time) {
            (SlotBookingState::Offered, Some(expiry)) if expiry > now => None,
            (SlotBookingState::Offered, _) => {
                Some("the offer of a place expired; it passes to the next in line".to_owned())
            }
            (state, _) => Some(format!(
                "there is no open offer (the booking is {})",
                state.as_str()
            )),
        }
    }
}

/// The centre, service and slot of `centres/{c}/services/{s}/slots/{id}`,
/// and the rest of the name after it (empty, or `/bookings/{id}`).
pub fn parse_slot_name(name: &str) -> Option<(String, String, Uuid, &str)> {
    let rest = name.strip_prefix("centres/")?;
    let (centre, rest) = rest.split_once("/services/")?;
    let (service, rest) = rest.split_once("/slots/")?;
    let (slot, tail) = match rest.split_once('/') {
        Some((slot, _)) => (slot, &rest[slot.len()..]),
        None => (rest, ""),
    };
    if !civicgrid_cell_tree::is_valid_id(centre) || !civicgrid_cell_tree::is_valid_id(service) {
        return None;
    }
    Some((
        centre.to_owned(),
        service.to_owned(),
        Uuid::parse_str(slot).ok()?,
        tail,
    ))
}

/// The centre and service codes of `centres/{c}/services/{s}`.
pub fn parse_service_name(name: &str) -> Option<(String, String)> {
    let rest = name.strip_prefix("centres/")?;
    let (centre, service) = rest.split_once("/services/")?;
    (civicgrid_cell_tree::is_valid_id(centre) && civicgrid_cell_tree::is_valid_id(service))
        .then(|| (centre.to_owned(), service.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn slot_and_slot_booking_names_parse_back_to_their_parts() {
        let slot = Uuid::now_v7();
        let booking = Uuid::now_v7();
        let name = format!("centres/c1/services/legal-aid/slots/{slot}");
        let (centre, service, id, tail) = parse_slot_name(&name).unwrap();
        assert_eq!(
            (centre.as_str(), service.as_str(), id, tail),
            ("c1", "legal-aid", slot, "")
        );
        let name = format!("{name}/bookings/{booking}");
        assert_eq!(
            parse_slot_name(&name).unwrap().3,
            format!("/bookings/{booking}")
        );
        assert_eq!(
            parse_service_name("centres/c1/services/meals"),
            Some(("c1".to_owned(), "meals".to_owned()))
        );
        assert_eq!(parse_service_name("centres/c1/services/Bad Id"), None);
        assert!(parse_slot_name("centres/c1/services/meals/slots/nope").is_none());
    }
}
