//! Domain changes into versioned protobuf events for the outbox.

use civicgrid_messaging::NewEvent;
use civicgrid_messaging::event::meta;
use civicgrid_proto::centres::v1 as pb;

use crate::convert::{booking_proto, centre_proto, standard_name, standard_proto};
use crate::domain::booking::Booking;
use crate::domain::centre::{Centre, centre_name};
use crate::domain::standard::Standard;

const PRODUCER: &str = "centres";

/// Routing key of [`centre_registered`].
pub const CENTRE_REGISTERED: &str = "centres.centre.registered";
/// Routing key of [`centre_updated`].
pub const CENTRE_UPDATED: &str = "centres.centre.updated";
/// Routing key of [`standard_updated`].
pub const STANDARD_UPDATED: &str = "centres.standard.updated";
/// Routing key of [`booking_confirmed`].
pub const BOOKING_CONFIRMED: &str = "centres.booking.confirmed";
/// Routing key of [`booking_cancelled`].
pub const BOOKING_CANCELLED: &str = "centres.booking.cancelled";

/// `centres.centre.registered` for a new centre.
pub fn centre_registered(centre: &Centre, actor: &str, causation: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        CENTRE_REGISTERED,
        &centre_name(&centre.id),
        centre.version,
        actor,
        causation,
    );
    NewEvent::encode(
        event_id,
        CENTRE_REGISTERED,
        &pb::CentreRegistered {
            meta: Some(meta),
            centre: Some(centre_proto(centre)),
        },
    )
}

/// `centres.centre.updated` naming the changed `paths`.
pub fn centre_updated(centre: &Centre, paths: Vec<String>, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        CENTRE_UPDATED,
        &centre_name(&centre.id),
        centre.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        CENTRE_UPDATED,
        &pb::CentreUpdated {
            meta: Some(meta),
            centre: Some(centre_proto(centre)),
            update_mask: Some(prost_types::FieldMask { paths }),
        },
    )
}

/// `centres.standard.updated` for a new version in force.
pub fn standard_updated(standard: &Standard, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        STANDARD_UPDATED,
        &standard_name(standard.category),
        standard.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        STANDARD_UPDATED,
        &pb::StandardUpdated {
            meta: Some(meta),
            standard: Some(standard_proto(standard)),
        },
    )
}

/// `centres.booking.confirmed` for a new booking.
pub fn booking_confirmed(booking: &Booking, actor: &str, causation: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        BOOKING_CONFIRMED,
        &booking.resource_name(),
        booking.version(),
        actor,
        causation,
    );
    NewEvent::encode(
        event_id,
        BOOKING_CONFIRMED,
        &pb::BookingConfirmed {
            meta: Some(meta),
            booking: Some(booking_proto(booking)),
        },
    )
}

/// `centres.booking.cancelled` for a cancelled booking.
pub fn booking_cancelled(booking: &Booking, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        BOOKING_CANCELLED,
        &booking.resource_name(),
        booking.version(),
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        BOOKING_CANCELLED,
        &pb::BookingCancelled {
            meta: Some(meta),
            booking: Some(booking_proto(booking)),
        },
    )
}
