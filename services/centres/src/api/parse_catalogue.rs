//! Service catalogue requests into command inputs, once, naming every bad field.

use chrono::{DateTime, Utc};
use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::commands::create_centre_service::CreateCentreService;
use crate::commands::create_service_slot::CreateServiceSlot;
use crate::commands::create_slot_booking::CreateSlotBooking;
use crate::domain::activity::is_attendee;
use crate::domain::catalogue::{
    MAX_DESCRIPTION_CHARS, MAX_SLOT_CAPACITY, parse_service_name, parse_slot_name,
};
use crate::domain::centre::CentreId;
use crate::domain::parse_text;

fn time(
    value: Option<&prost_types::Timestamp>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<DateTime<Utc>> {
    let parsed =
        value.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?));
    if parsed.is_none() {
        violations.add(field, "is required");
    }
    parsed
}

/// CreateCentreService.
pub fn create_centre_service(
    request: &pb::CreateCentreServiceRequest,
) -> Result<CreateCentreService, Status> {
    let mut violations = FieldViolations::new();
    let centre = CentreId::parse_name(&request.parent);
    if centre.is_none() {
        violations.add("parent", "must be a centre name `centres/{centre_id}`");
    }
    if !civicgrid_cell_tree::is_valid_id(&request.service_id) {
        violations.add(
            "service_id",
            "must be 1-63 characters of a-z, 0-9 and -, not starting with -",
        );
    }
    let Some(service) = &request.service else {
        violations.add("service", "is required");
        return Err(violations.into_status());
    };
    let display_name = parse_text(&service.display_name, 1, 200).unwrap_or_else(|why| {
        violations.add("service.display_name", why);
        String::new()
    });
    let description =
        parse_text(&service.description, 0, MAX_DESCRIPTION_CHARS).unwrap_or_else(|why| {
            violations.add("service.description", why);
            String::new()
        });
    match centre {
        Some(centre) if violations.is_empty() => Ok(CreateCentreService {
            centre_id: centre.as_str().to_owned(),
            service_id: request.service_id.clone(),
            display_name,
            description,
        }),
        _ => Err(violations.into_status()),
    }
}

/// CreateServiceSlot.
pub fn create_service_slot(
    request: &pb::CreateServiceSlotRequest,
) -> Result<CreateServiceSlot, Status> {
    let mut violations = FieldViolations::new();
    let service = parse_service_name(&request.parent);
    if service.is_none() {
        violations.add(
            "parent",
            "must be a service name `centres/{centre_id}/services/{service_id}`",
        );
    }
    let Some(slot) = &request.slot else {
        violations.add("slot", "is required");
        return Err(violations.into_status());
    };
    let start = time(slot.start_time.as_ref(), "slot.start_time", &mut violations);
    let end = time(slot.end_time.as_ref(), "slot.end_time", &mut violations);
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        violations.add("slot.end_time", "must be after start_time");
    }
    if !(1..=MAX_SLOT_CAPACITY).contains(&slot.capacity) {
        violations.add(
            "slot.capacity",
            format!("must be 1-{MAX_SLOT_CAPACITY} people"),
        );
    }
    match (service, start, end) {
        (Some((centre_id, service_id)), Some(start), Some(end)) if violations.is_empty() => {
            Ok(CreateServiceSlot {
                centre_id,
                service_id,
                start,
                end,
                capacity: slot.capacity,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// CreateSlotBooking.
pub fn create_slot_booking(
    request: &pb::CreateSlotBookingRequest,
) -> Result<CreateSlotBooking, Status> {
    let mut violations = FieldViolations::new();
    let slot = parse_slot_name(&request.parent).filter(|(_, _, _, tail)| tail.is_empty());
    if slot.is_none() {
        violations.add(
            "parent",
            "must be a slot name `centres/{centre_id}/services/{service_id}/slots/{slot_id}`",
        );
    }
    let request_id = if request.request_id.is_empty() {
        None
    } else {
        let parsed = Uuid::parse_str(&request.request_id).ok();
        if parsed.is_none() {
            violations.add("request_id", "must be empty or a UUID");
        }
        parsed
    };
    let attendee = request
        .booking
        .as_ref()
        .map(|b| b.attendee.clone())
        .unwrap_or_default();
    if !is_attendee(&attendee) {
        violations.add(
            "booking.attendee",
            "must be `members/{member_id}` or `residents/{resident_id}`",
        );
    }
    match slot {
        Some((centre_id, service_id, slot_id, _)) if violations.is_empty() => {
            Ok(CreateSlotBooking {
                centre_id,
                service_id,
                slot_id,
                attendee,
                request_id,
                join_waitlist: request.join_waitlist,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// The slot's parts and the booking id of a slot booking name in `field`.
pub fn slot_booking_name(
    name: &str,
    field: &str,
) -> Result<((String, String, Uuid), Uuid), Status> {
    parse_slot_name(name)
        .and_then(|(centre, service, slot, tail)| {
            let id = Uuid::parse_str(tail.strip_prefix("/bookings/")?).ok()?;
            Some(((centre, service, slot), id))
        })
        .ok_or_else(|| {
            let mut violations = FieldViolations::new();
            violations.add(
                field,
                "must be `centres/{centre_id}/services/{service_id}/slots/{slot_id}/bookings/{booking_id}`",
            );
            violations.into_status()
        })
}
