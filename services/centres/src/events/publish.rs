//! Domain changes into versioned protobuf events for the outbox.

use civicgrid_messaging::NewEvent;
use civicgrid_messaging::event::meta;
use civicgrid_proto::centres::v1 as pb;

use crate::convert::{
    activity_proto, activity_type_proto, ancestor_names, booking_proto, centre_proto,
    compliance_proto, demand_proto, geo_point_proto, project_proto, registration_proto,
    resource_proto, service_proto, slot_booking_proto, slot_proto, standard_name, standard_proto,
    timestamp,
};
use crate::domain::activity::{Activity, Checkin, Registration, activity_name, member_of};
use crate::domain::booking::Booking;
use crate::domain::catalogue::{CentreService, ServiceSlot, SlotBooking};
use crate::domain::centre::{Centre, GeoPoint, Location, centre_name};
use crate::domain::lists::{Demand, Placed, Project, Resource, ResourceState};
use crate::domain::standard::{Compliance, Standard};
use crate::store::coverage::Place;

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

/// Routing key of [`activity_scheduled`].
pub const ACTIVITY_SCHEDULED: &str = "centres.activity.scheduled";
/// Routing key of [`activity_cancelled`].
pub const ACTIVITY_CANCELLED: &str = "centres.activity.cancelled";
/// Routing key of [`activity_held`] (cross-service contract).
pub const ACTIVITY_HELD: &str = "centres.activity.held";
/// Routing key of [`checkin_recorded`] (cross-service contract).
pub const CHECKIN_RECORDED: &str = "centres.checkin.recorded";

/// `centres.activity.scheduled` for a new activity.
pub fn activity_scheduled(activity: &Activity, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        ACTIVITY_SCHEDULED,
        &activity.resource_name(),
        activity.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        ACTIVITY_SCHEDULED,
        &pb::ActivityScheduled {
            meta: Some(meta),
            activity: Some(activity_proto(activity)),
        },
    )
}

/// `centres.activity.cancelled`.
pub fn activity_cancelled(activity: &Activity, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        ACTIVITY_CANCELLED,
        &activity.resource_name(),
        activity.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        ACTIVITY_CANCELLED,
        &pb::ActivityCancelled {
            meta: Some(meta),
            activity: Some(activity_proto(activity)),
        },
    )
}

/// `centres.registration.{state}` for a registration after a change.
pub fn registration_changed(registration: &Registration, actor: &str) -> NewEvent {
    let routing_key = format!("centres.registration.{}", registration.state);
    let (event_id, meta) = meta(
        PRODUCER,
        &routing_key,
        &registration.resource_name(),
        registration.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        &routing_key,
        &pb::RegistrationChanged {
            meta: Some(meta),
            activity: activity_name(registration.activity_id),
            registration: Some(registration_proto(registration)),
        },
    )
}

/// The cell and compound names the contract's events carry for a centre.
/// A centre in a compound names the compound's community as its cell too:
/// consumers count by cell (and membership refuses an event without one),
/// so a compound's check-ins would otherwise count nowhere.
fn place_names(centre: &Centre) -> (String, String) {
    match &centre.location {
        Location::Cell(id) => (civicgrid_cell_tree::resource_name(id), String::new()),
        Location::Compound(id) => {
            let community = centre
                .location_path
                .rsplit('/')
                .find(|segment| !segment.is_empty())
                .map(civicgrid_cell_tree::resource_name)
                .unwrap_or_default();
            (community, civicgrid_cell_tree::compound_name(id))
        }
    }
}

/// `centres.checkin.recorded`, exactly as the cross-service contract says:
/// aggregate_id the activity's name, `member` only for a party member.
pub fn checkin_recorded(activity: &Activity, centre: &Centre, checkin: &Checkin) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        CHECKIN_RECORDED,
        &activity.resource_name(),
        activity.version,
        &checkin.recorded_by,
        "",
    );
    let (cell, compound) = place_names(centre);
    NewEvent::encode(
        event_id,
        CHECKIN_RECORDED,
        &pb::CheckinRecorded {
            meta: Some(meta),
            checkin: checkin.resource_name(),
            activity: activity.resource_name(),
            centre: centre_name(&centre.id),
            organiser: activity.organiser.clone(),
            activity_type: activity_type_proto(activity.activity_type) as i32,
            agreement: activity.agreement.clone(),
            member: member_of(&checkin.attendee).unwrap_or_default().to_owned(),
            cell,
            compound,
            walk_in: checkin.walk_in,
            volunteer_minutes: checkin.volunteer_minutes,
            checked_in_at: Some(timestamp(checkin.checked_in_at)),
        },
    )
}

/// What an activity came to when it closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attendance {
    /// Registrations holding a place.
    pub registered: i32,
    /// Check-ins, walk-ins included.
    pub attended: i32,
    /// Registered but not checked in.
    pub no_shows: i32,
    /// Credited in all.
    pub volunteer_minutes: i64,
}

/// `centres.activity.held` (cross-service contract).
pub fn activity_held(
    activity: &Activity,
    centre: &Centre,
    attendance: Attendance,
    actor: &str,
) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        ACTIVITY_HELD,
        &activity.resource_name(),
        activity.version,
        actor,
        "",
    );
    let (cell, compound) = place_names(centre);
    NewEvent::encode(
        event_id,
        ACTIVITY_HELD,
        &pb::ActivityHeld {
            meta: Some(meta),
            activity: activity.resource_name(),
            centre: centre_name(&centre.id),
            organiser: activity.organiser.clone(),
            activity_type: activity_type_proto(activity.activity_type) as i32,
            agreement: activity.agreement.clone(),
            cell,
            compound,
            start_time: Some(timestamp(activity.start)),
            end_time: Some(timestamp(activity.end)),
            registered: attendance.registered,
            attended: attendance.attended,
            no_shows: attendance.no_shows,
            volunteer_minutes: attendance.volunteer_minutes,
        },
    )
}

/// Routing key of [`service_registered`].
pub const SERVICE_REGISTERED: &str = "centres.service.registered";
/// Routing key of [`slot_opened`].
pub const SLOT_OPENED: &str = "centres.slot.opened";

/// `centres.service.registered`.
pub fn service_registered(service: &CentreService, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        SERVICE_REGISTERED,
        &service.resource_name(),
        1,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        SERVICE_REGISTERED,
        &pb::CentreServiceRegistered {
            meta: Some(meta),
            service: Some(service_proto(service)),
        },
    )
}

/// `centres.slot.opened`.
pub fn slot_opened(slot: &ServiceSlot, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(PRODUCER, SLOT_OPENED, &slot.resource_name(), 1, actor, "");
    NewEvent::encode(
        event_id,
        SLOT_OPENED,
        &pb::ServiceSlotOpened {
            meta: Some(meta),
            slot: Some(slot_proto(slot)),
        },
    )
}

/// `centres.slot_booking.{state}`: confirmed, waitlisted, offered, expired
/// or cancelled, as the booking's state says.
pub fn slot_booking_changed(slot: &ServiceSlot, booking: &SlotBooking, actor: &str) -> NewEvent {
    let routing_key = format!("centres.slot_booking.{}", booking.state.as_str());
    let proto = slot_booking_proto(slot, booking);
    let (event_id, meta) = meta(
        PRODUCER,
        &routing_key,
        &proto.name,
        booking.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        &routing_key,
        &pb::SlotBookingChanged {
            meta: Some(meta),
            slot: slot.resource_name(),
            booking: Some(proto),
        },
    )
}

/// Routing key of [`demand_registered`].
pub const DEMAND_REGISTERED: &str = "centres.demand.registered";
/// Routing key of [`project_started`] (cross-service contract).
pub const PROJECT_STARTED: &str = "centres.project.started";
/// Routing key of [`project_milestone_reached`].
pub const PROJECT_MILESTONE_REACHED: &str = "centres.project.milestone_reached";
/// Routing key of [`project_completed`] (cross-service contract).
pub const PROJECT_COMPLETED: &str = "centres.project.completed";

/// `centres.demand.registered`.
pub fn demand_registered(demand: &Demand, actor: &str, causation: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        DEMAND_REGISTERED,
        &demand.resource_name(),
        1,
        actor,
        causation,
    );
    NewEvent::encode(
        event_id,
        DEMAND_REGISTERED,
        &pb::DemandRegistered {
            meta: Some(meta),
            demand: Some(demand_proto(demand)),
        },
    )
}

/// `centres.resource.registered` or `.withdrawn`, as `change` says.
pub fn resource_changed(
    resource: &Resource,
    change: &str,
    actor: &str,
    causation: &str,
) -> NewEvent {
    let routing_key = format!("centres.resource.{change}");
    let version = if resource.state == ResourceState::Idle {
        1
    } else {
        2
    };
    let (event_id, meta) = meta(
        PRODUCER,
        &routing_key,
        &resource.resource_name(),
        version,
        actor,
        causation,
    );
    NewEvent::encode(
        event_id,
        &routing_key,
        &pb::ResourceChanged {
            meta: Some(meta),
            resource: Some(resource_proto(resource)),
        },
    )
}

/// `centres.project.started` (cross-service contract): cell and compound
/// are the demand's.
pub fn project_started(project: &Project, demand: &Placed, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        PROJECT_STARTED,
        &project.resource_name(),
        project.version,
        actor,
        "",
    );
    let (cell, compound) = location_names(&demand.location);
    NewEvent::encode(
        event_id,
        PROJECT_STARTED,
        &pb::ProjectStarted {
            meta: Some(meta),
            project: project.resource_name(),
            demand: format!("demands/{}", project.demand_id),
            resource: format!("resources/{}", project.resource_id),
            category: project.category.clone(),
            cell,
            compound,
            started_at: Some(timestamp(project.start_time)),
        },
    )
}

/// `centres.project.milestone_reached`.
pub fn project_milestone_reached(project: &Project, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        PROJECT_MILESTONE_REACHED,
        &project.resource_name(),
        project.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        PROJECT_MILESTONE_REACHED,
        &pb::ProjectMilestoneReached {
            meta: Some(meta),
            project: Some(project_proto(project)),
        },
    )
}

/// `centres.project.completed` (cross-service contract), with the rating.
pub fn project_completed(project: &Project, demand: &Placed, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        PROJECT_COMPLETED,
        &project.resource_name(),
        project.version,
        actor,
        "",
    );
    let (cell, compound) = location_names(&demand.location);
    NewEvent::encode(
        event_id,
        PROJECT_COMPLETED,
        &pb::ProjectCompleted {
            meta: Some(meta),
            project: project.resource_name(),
            demand: format!("demands/{}", project.demand_id),
            resource: format!("resources/{}", project.resource_id),
            category: project.category.clone(),
            cell,
            compound,
            completed_at: project.complete_time.map(timestamp),
            rating: project.rating,
        },
    )
}

fn location_names(location: &Location) -> (String, String) {
    match location {
        Location::Cell(id) => (civicgrid_cell_tree::resource_name(id), String::new()),
        Location::Compound(id) => (String::new(), civicgrid_cell_tree::compound_name(id)),
    }
}

/// Routing key of [`compound_located`].
pub const COMPOUND_LOCATED: &str = "centres.compound.located";

/// `centres.compound.located`.
pub fn compound_located(compound_id: &str, point: GeoPoint, actor: &str) -> NewEvent {
    let name = civicgrid_cell_tree::compound_name(compound_id);
    let (event_id, meta) = meta(PRODUCER, COMPOUND_LOCATED, &name, 1, actor, "");
    NewEvent::encode(
        event_id,
        COMPOUND_LOCATED,
        &pb::CompoundLocated {
            meta: Some(meta),
            compound: name,
            coordinates: Some(geo_point_proto(point)),
        },
    )
}

/// Routing key of [`compliance_changed`] (cross-service contract).
pub const COMPLIANCE_CHANGED: &str = "centres.compliance.changed";
/// Routing key of [`coverage_changed`] (cross-service contract).
pub const COVERAGE_CHANGED: &str = "centres.coverage.changed";

/// `centres.compliance.changed`: `centre` checked against its standard in
/// force, as the centre's compliance `version`.
pub fn compliance_changed(
    centre: &Centre,
    compliance: &Compliance,
    version: i64,
    actor: &str,
    causation: &str,
) -> NewEvent {
    let name = centre_name(&centre.id);
    let (event_id, meta) = meta(
        PRODUCER,
        COMPLIANCE_CHANGED,
        &name,
        version,
        actor,
        causation,
    );
    let (cell, compound) = place_names(centre);
    NewEvent::encode(
        event_id,
        COMPLIANCE_CHANGED,
        &pb::ComplianceChanged {
            meta: Some(meta),
            compliance: Some(compliance_proto(centre, compliance)),
            cell,
            compound,
            ancestors: ancestor_names(&centre.location_path),
            version,
        },
    )
}

/// `centres.coverage.changed`: the compounds of the community at `path`
/// (`compounds` as the coverage report reads them), as the community's
/// coverage `version`.
pub fn coverage_changed(
    community_id: &str,
    path: &str,
    compounds: &[Place],
    version: i64,
    actor: &str,
    causation: &str,
) -> NewEvent {
    let community = civicgrid_cell_tree::resource_name(community_id);
    let (event_id, meta) = meta(
        PRODUCER,
        COVERAGE_CHANGED,
        &community,
        version,
        actor,
        causation,
    );
    let count = |covered: bool| {
        i32::try_from(compounds.iter().filter(|c| c.covered == covered).count()).unwrap_or(i32::MAX)
    };
    NewEvent::encode(
        event_id,
        COVERAGE_CHANGED,
        &pb::CoverageChanged {
            meta: Some(meta),
            community,
            ancestors: ancestor_names(path),
            compound_count: i32::try_from(compounds.len()).unwrap_or(i32::MAX),
            covered_compound_count: count(true),
            uncovered_compounds: compounds
                .iter()
                .filter(|c| !c.covered)
                .map(|c| civicgrid_cell_tree::compound_name(&c.id))
                .collect(),
            version,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::centre::Category;

    fn centre_at(location: Location, path: &str) -> Centre {
        Centre {
            id: "k1-room".into(),
            display_name: "小区党群服务站".into(),
            category: Category::ResidentialCompound,
            owner_organisation: "organisations/k1-b".into(),
            location,
            location_path: path.into(),
            floor_area: 60,
            opening_hours: Vec::new(),
            zones: Vec::new(),
            linked_compounds: Vec::new(),
            coordinates: None,
            version: 1,
            create_time: chrono::DateTime::UNIX_EPOCH,
            update_time: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_centre_in_a_compound_names_the_compounds_community_as_its_cell() {
        let in_compound = centre_at(Location::Compound("k1".into()), "c/s1/s1-m1");
        assert_eq!(
            place_names(&in_compound),
            ("cells/s1-m1".to_owned(), "compounds/k1".to_owned())
        );
        let in_cell = centre_at(Location::Cell("s1-m1-g1".into()), "c/s1/s1-m1/s1-m1-g1");
        assert_eq!(
            place_names(&in_cell),
            ("cells/s1-m1-g1".to_owned(), String::new())
        );
    }
}
