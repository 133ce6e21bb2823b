//! The one place a domain value becomes a proto message (for the API and
//! for the events alike), and the enum mappings both ways.

use chrono::{DateTime, Utc};
use civicgrid_proto::centres::v1 as pb;

use crate::domain::activity::{
    Activity, ActivityState, ActivityType, Checkin, Registration, RegistrationState,
};
use crate::domain::booking::{Booking, BookingState};
use crate::domain::catalogue::{CentreService, ServiceSlot, SlotBooking, SlotBookingState};
use crate::domain::centre::{Category, Centre, Function, GeoPoint, Location, Zone, centre_name};
use crate::domain::hours::{OpeningKind, OpeningPeriod, TIME_ZONE, format_clock};
use crate::domain::lists::{Demand, DemandState, Project, Resource, ResourceState};
use crate::domain::standard::{Compliance, Standard};

/// A protobuf timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The quoted decimal version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The proto category.
pub fn category_proto(category: Category) -> pb::CentreCategory {
    use pb::CentreCategory as P;
    match category {
        Category::Community => P::Community,
        Category::ResidentialCompound => P::ResidentialCompound,
        Category::IndustrialPark => P::IndustrialPark,
        Category::OfficeBuilding => P::OfficeBuilding,
        Category::BusinessDistrict => P::BusinessDistrict,
        Category::IndustrySystem => P::IndustrySystem,
        Category::NonPublicEnterprise => P::NonPublicEnterprise,
        Category::SocialOrganisation => P::SocialOrganisation,
    }
}

/// The domain category of a proto value; `None` for unspecified or unknown.
pub fn category_of(value: i32) -> Option<Category> {
    let index = usize::try_from(value).ok()?.checked_sub(1)?;
    Category::ALL.get(index).copied()
}

/// The proto function.
pub fn function_proto(function: Function) -> pb::CentreFunction {
    use pb::CentreFunction as P;
    match function {
        Function::PartyMassActivity => P::PartyMassActivity,
        Function::StudyAndDeliberation => P::StudyAndDeliberation,
        Function::CultureAndFitness => P::CultureAndFitness,
        Function::ConvenienceServices => P::ConvenienceServices,
    }
}

/// The domain function of a proto value; `None` for unspecified or unknown.
pub fn function_of(value: i32) -> Option<Function> {
    let index = usize::try_from(value).ok()?.checked_sub(1)?;
    Function::ALL.get(index).copied()
}

/// The domain opening kind of a proto value.
pub fn kind_of(value: i32) -> Option<OpeningKind> {
    match pb::OpeningKind::try_from(value).ok()? {
        pb::OpeningKind::Regular => Some(OpeningKind::Regular),
        pb::OpeningKind::Extended => Some(OpeningKind::Extended),
        pb::OpeningKind::OffPeak => Some(OpeningKind::OffPeak),
        pb::OpeningKind::Unspecified => None,
    }
}

fn kind_proto(kind: OpeningKind) -> pb::OpeningKind {
    match kind {
        OpeningKind::Regular => pb::OpeningKind::Regular,
        OpeningKind::Extended => pb::OpeningKind::Extended,
        OpeningKind::OffPeak => pb::OpeningKind::OffPeak,
    }
}

fn period_proto(period: &OpeningPeriod) -> pb::OpeningPeriod {
    pb::OpeningPeriod {
        weekday: i32::from(period.weekday),
        opens: format_clock(period.opens),
        closes: format_clock(period.closes),
        kind: kind_proto(period.kind) as i32,
    }
}

fn zone_proto(zone: &Zone) -> pb::Zone {
    pb::Zone {
        zone_id: zone.id.clone(),
        display_name: zone.display_name.clone(),
        function: function_proto(zone.function) as i32,
        area_square_metres: zone.area,
        capacity: zone.capacity,
    }
}

/// The proto centre.
pub fn centre_proto(centre: &Centre) -> pb::Centre {
    let (cell, compound) = match &centre.location {
        Location::Cell(id) => (civicgrid_cell_tree::resource_name(id), String::new()),
        Location::Compound(id) => (String::new(), civicgrid_cell_tree::compound_name(id)),
    };
    pb::Centre {
        name: centre_name(&centre.id),
        display_name: centre.display_name.clone(),
        category: category_proto(centre.category) as i32,
        owner_organisation: centre.owner_organisation.clone(),
        cell,
        compound,
        ancestors: ancestor_names(&centre.location_path),
        floor_area_square_metres: centre.floor_area,
        opening_hours: centre.opening_hours.iter().map(period_proto).collect(),
        time_zone: TIME_ZONE.to_owned(),
        zones: centre.zones.iter().map(zone_proto).collect(),
        linked_compounds: centre
            .linked_compounds
            .iter()
            .map(|id| civicgrid_cell_tree::compound_name(id))
            .collect(),
        version: centre.version,
        etag: etag(centre.version),
        create_time: Some(timestamp(centre.create_time)),
        update_time: Some(timestamp(centre.update_time)),
        coordinates: centre.coordinates.map(geo_point_proto),
    }
}

/// The proto point.
pub fn geo_point_proto(point: GeoPoint) -> pb::GeoPoint {
    pb::GeoPoint {
        latitude: point.latitude(),
        longitude: point.longitude(),
    }
}

/// `standards/{category}`.
pub fn standard_name(category: Category) -> String {
    format!("standards/{category}")
}

/// The proto standard.
pub fn standard_proto(standard: &Standard) -> pb::CentreStandard {
    pb::CentreStandard {
        name: standard_name(standard.category),
        category: category_proto(standard.category) as i32,
        required_functions: standard
            .requirement
            .required_functions
            .iter()
            .map(|f| function_proto(*f) as i32)
            .collect(),
        minimum_floor_area_square_metres: standard.requirement.minimum_floor_area,
        version: standard.version,
        etag: etag(standard.version),
        create_time: Some(timestamp(standard.create_time)),
    }
}

/// The proto compliance of `centre`.
pub fn compliance_proto(centre: &Centre, compliance: &Compliance) -> pb::CentreCompliance {
    pb::CentreCompliance {
        centre: centre_name(&centre.id),
        category: category_proto(centre.category) as i32,
        standard_version: compliance.standard_version,
        compliant: compliance.compliant(),
        missing_functions: compliance
            .missing_functions
            .iter()
            .map(|f| function_proto(*f) as i32)
            .collect(),
        area_shortfall_square_metres: compliance.area_shortfall,
    }
}

/// "cells/{id}" of every cell on `path` (`/county/street/.../`), top first.
pub fn ancestor_names(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|id| !id.is_empty())
        .map(civicgrid_cell_tree::resource_name)
        .collect()
}

/// The proto booking.
pub fn booking_proto(booking: &Booking) -> pb::Booking {
    pb::Booking {
        name: booking.resource_name(),
        zone_id: booking.zone_id.clone(),
        start_time: Some(timestamp(booking.start)),
        end_time: Some(timestamp(booking.end)),
        purpose: booking.purpose.clone(),
        booked_by: booking.booked_by.clone(),
        state: match booking.state {
            BookingState::Confirmed => pb::BookingState::Confirmed,
            BookingState::Cancelled => pb::BookingState::Cancelled,
        } as i32,
        create_time: Some(timestamp(booking.create_time)),
    }
}

/// The contract's activity type.
pub fn activity_type_proto(value: ActivityType) -> pb::ActivityType {
    match value {
        ActivityType::VolunteerService => pb::ActivityType::VolunteerService,
        ActivityType::Study => pb::ActivityType::Study,
        ActivityType::DeliberationMeeting => pb::ActivityType::DeliberationMeeting,
        ActivityType::CultureAndFitness => pb::ActivityType::CultureAndFitness,
        ActivityType::CoBuilding => pb::ActivityType::CoBuilding,
    }
}

/// The domain activity type of a proto value; `None` for unspecified or unknown.
pub fn activity_type_of(value: i32) -> Option<ActivityType> {
    let index = usize::try_from(value).ok()?.checked_sub(1)?;
    ActivityType::ALL.get(index).copied()
}

/// The proto activity.
pub fn activity_proto(activity: &Activity) -> pb::Activity {
    pb::Activity {
        name: activity.resource_name(),
        centre: centre_name(&activity.centre_id),
        display_name: activity.display_name.clone(),
        organiser: activity.organiser.clone(),
        activity_type: activity_type_proto(activity.activity_type) as i32,
        agreement: activity.agreement.clone(),
        start_time: Some(timestamp(activity.start)),
        end_time: Some(timestamp(activity.end)),
        capacity: activity.capacity,
        volunteer_minutes: activity.volunteer_minutes,
        state: match activity.state {
            ActivityState::Scheduled => pb::ActivityState::Scheduled,
            ActivityState::Held => pb::ActivityState::Held,
            ActivityState::Cancelled => pb::ActivityState::Cancelled,
        } as i32,
        seats_taken: activity.seats_taken,
        scheduled_by: activity.scheduled_by.clone(),
        version: activity.version,
        etag: etag(activity.version),
        create_time: Some(timestamp(activity.create_time)),
        update_time: Some(timestamp(activity.update_time)),
    }
}

/// The proto registration.
pub fn registration_proto(registration: &Registration) -> pb::Registration {
    use pb::RegistrationState as P;
    pb::Registration {
        name: registration.resource_name(),
        attendee: registration.attendee.clone(),
        state: match registration.state {
            RegistrationState::Registered => P::Registered,
            RegistrationState::Waitlisted => P::Waitlisted,
            RegistrationState::Offered => P::Offered,
            RegistrationState::Cancelled => P::Cancelled,
            RegistrationState::Expired => P::Expired,
        } as i32,
        waitlist_position: registration.queue_seq,
        offer_expire_time: registration.offer_expire_time.map(timestamp),
        no_show: registration.no_show,
        registered_by: registration.registered_by.clone(),
        version: registration.version,
        create_time: Some(timestamp(registration.create_time)),
        update_time: Some(timestamp(registration.update_time)),
    }
}

/// The proto check-in.
pub fn checkin_proto(checkin: &Checkin) -> pb::Checkin {
    pb::Checkin {
        name: checkin.resource_name(),
        attendee: checkin.attendee.clone(),
        walk_in: checkin.walk_in,
        volunteer_minutes: checkin.volunteer_minutes,
        recorded_by: checkin.recorded_by.clone(),
        checked_in_at: Some(timestamp(checkin.checked_in_at)),
    }
}

/// The proto service.
pub fn service_proto(service: &CentreService) -> pb::CentreService {
    pb::CentreService {
        name: service.resource_name(),
        display_name: service.display_name.clone(),
        description: service.description.clone(),
        create_time: Some(timestamp(service.create_time)),
    }
}

/// The proto slot.
pub fn slot_proto(slot: &ServiceSlot) -> pb::ServiceSlot {
    pb::ServiceSlot {
        name: slot.resource_name(),
        start_time: Some(timestamp(slot.start)),
        end_time: Some(timestamp(slot.end)),
        capacity: slot.capacity,
        booked: slot.booked,
        create_time: Some(timestamp(slot.create_time)),
    }
}

/// The proto slot booking of `slot`.
pub fn slot_booking_proto(slot: &ServiceSlot, booking: &SlotBooking) -> pb::SlotBooking {
    pb::SlotBooking {
        name: format!("{}/bookings/{}", slot.resource_name(), booking.id),
        attendee: booking.attendee.clone(),
        state: match booking.state {
            SlotBookingState::Confirmed => pb::SlotBookingState::Confirmed,
            SlotBookingState::Cancelled => pb::SlotBookingState::Cancelled,
            SlotBookingState::Waitlisted => pb::SlotBookingState::Waitlisted,
            SlotBookingState::Offered => pb::SlotBookingState::Offered,
            SlotBookingState::Expired => pb::SlotBookingState::Expired,
        } as i32,
        booked_by: booking.booked_by.clone(),
        create_time: Some(timestamp(booking.create_time)),
        waitlist_position: booking.queue_seq,
        offer_expire_time: booking.offer_expire_time.map(timestamp),
    }
}

fn place_names(location: &Location) -> (String, String) {
    match location {
        Location::Cell(id) => (civicgrid_cell_tree::resource_name(id), String::new()),
        Location::Compound(id) => (String::new(), civicgrid_cell_tree::compound_name(id)),
    }
}

/// The proto demand.
pub fn demand_proto(demand: &Demand) -> pb::Demand {
    let (cell, compound) = place_names(&demand.place.location);
    pb::Demand {
        name: demand.resource_name(),
        category: demand.category.clone(),
        cell,
        compound,
        quantity: demand.quantity,
        start_time: Some(timestamp(demand.start)),
        end_time: Some(timestamp(demand.end)),
        small_wish: demand.small_wish,
        description: demand.description.clone(),
        state: match demand.state {
            DemandState::Open => pb::DemandState::Open,
            DemandState::Matched => pb::DemandState::Matched,
        } as i32,
        requested_by: demand.requested_by.clone(),
        create_time: Some(timestamp(demand.create_time)),
        task: demand.task.clone().unwrap_or_default(),
    }
}

/// The proto resource.
pub fn resource_proto(resource: &Resource) -> pb::Resource {
    let (cell, compound) = place_names(&resource.place.location);
    pb::Resource {
        name: resource.resource_name(),
        category: resource.category.clone(),
        cell,
        compound,
        capacity: resource.capacity,
        start_time: Some(timestamp(resource.start)),
        end_time: Some(timestamp(resource.end)),
        description: resource.description.clone(),
        provider: resource.provider.clone(),
        source: resource.source.clone(),
        state: match resource.state {
            ResourceState::Idle => pb::ResourceState::Idle,
            ResourceState::Committed => pb::ResourceState::Committed,
            ResourceState::Withdrawn => pb::ResourceState::Withdrawn,
        } as i32,
        create_time: Some(timestamp(resource.create_time)),
    }
}

/// The proto project.
pub fn project_proto(project: &Project) -> pb::Project {
    pb::Project {
        name: project.resource_name(),
        demand: format!("demands/{}", project.demand_id),
        resource: format!("resources/{}", project.resource_id),
        category: project.category.clone(),
        state: if project.completed {
            pb::ProjectState::Completed
        } else {
            pb::ProjectState::Started
        } as i32,
        milestones: project
            .milestones
            .iter()
            .map(|m| pb::Milestone {
                title: m.title.clone(),
                reach_time: Some(timestamp(m.reach_time)),
            })
            .collect(),
        rating: project.rating,
        started_by: project.started_by.clone(),
        start_time: Some(timestamp(project.start_time)),
        complete_time: project.complete_time.map(timestamp),
    }
}
