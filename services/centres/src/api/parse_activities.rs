//! Activity, registration and check-in requests into domain inputs, once,
//! naming every bad field.

use chrono::{DateTime, Utc};
use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::convert::activity_type_of;
use crate::domain::activity::{
    ActivityType, MAX_CAPACITY, MAX_VOLUNTEER_MINUTES, NewActivity, is_attendee,
    parse_activity_name, parse_child_name,
};
use crate::domain::centre::CentreId;
use crate::domain::parse_text;

/// The id of `activities/{id}` in `field`.
pub fn activity_name(name: &str, field: &str) -> Result<Uuid, Status> {
    parse_activity_name(name).ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(field, "must be an activity name `activities/{activity_id}`");
        violations.into_status()
    })
}

/// The activity and registration ids of a registration name in `field`.
pub fn registration_name(name: &str, field: &str) -> Result<(Uuid, Uuid), Status> {
    parse_child_name(name, "registrations").ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(
            field,
            "must be `activities/{activity_id}/registrations/{registration_id}`",
        );
        violations.into_status()
    })
}

fn attendee(value: &str, field: &str, violations: &mut FieldViolations) -> String {
    if !is_attendee(value) {
        violations.add(
            field,
            "must be `members/{member_id}` or `residents/{resident_id}`",
        );
    }
    value.to_owned()
}

fn resource(value: &str, prefix: &str, field: &str, violations: &mut FieldViolations) {
    let valid = value
        .strip_prefix(prefix)
        .is_some_and(|id| !id.is_empty() && id.len() <= 200 && !id.contains(char::is_whitespace));
    if !valid {
        violations.add(field, format!("must be `{prefix}{{id}}`"));
    }
}

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

/// CreateActivity.
pub fn create_activity(request: &pb::CreateActivityRequest) -> Result<NewActivity, Status> {
    let mut violations = FieldViolations::new();
    let centre = CentreId::parse_name(&request.parent);
    if centre.is_none() {
        violations.add("parent", "must be a centre name `centres/{centre_id}`");
    }
    let Some(activity) = &request.activity else {
        violations.add("activity", "is required");
        return Err(violations.into_status());
    };
    let display_name = parse_text(&activity.display_name, 1, 200).unwrap_or_else(|why| {
        violations.add("activity.display_name", why);
        String::new()
    });
    resource(
        &activity.organiser,
        "organisations/",
        "activity.organiser",
        &mut violations,
    );
    let activity_type = activity_type_of(activity.activity_type);
    match activity_type {
        None => violations.add("activity.activity_type", "must be an ActivityType"),
        Some(ActivityType::CoBuilding) => resource(
            &activity.agreement,
            "agreements/",
            "activity.agreement",
            &mut violations,
        ),
        Some(_) if !activity.agreement.is_empty() => violations.add(
            "activity.agreement",
            "must be empty unless activity_type is CO_BUILDING",
        ),
        Some(_) => {}
    }
    let start = time(
        activity.start_time.as_ref(),
        "activity.start_time",
        &mut violations,
    );
    let end = time(
        activity.end_time.as_ref(),
        "activity.end_time",
        &mut violations,
    );
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        violations.add("activity.end_time", "must be after start_time");
    }
    if !(1..=MAX_CAPACITY).contains(&activity.capacity) {
        violations.add(
            "activity.capacity",
            format!("must be 1-{MAX_CAPACITY} places"),
        );
    }
    if !(0..=MAX_VOLUNTEER_MINUTES).contains(&activity.volunteer_minutes) {
        violations.add(
            "activity.volunteer_minutes",
            format!("must be 0-{MAX_VOLUNTEER_MINUTES} minutes"),
        );
    }
    let request_id = super::parse::request_id(&request.request_id, &mut violations);
    match (centre, activity_type, start, end) {
        (Some(centre), Some(activity_type), Some(start), Some(end)) if violations.is_empty() => {
            Ok(NewActivity {
                request_id,
                centre_id: centre.as_str().to_owned(),
                display_name,
                organiser: activity.organiser.clone(),
                activity_type,
                agreement: activity.agreement.clone(),
                start,
                end,
                capacity: activity.capacity,
                volunteer_minutes: activity.volunteer_minutes,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// CreateRegistration: the activity and the attendee.
pub fn create_registration(
    request: &pb::CreateRegistrationRequest,
) -> Result<(Uuid, String), Status> {
    let mut violations = FieldViolations::new();
    let activity = parse_activity_name(&request.parent);
    if activity.is_none() {
        violations.add(
            "parent",
            "must be an activity name `activities/{activity_id}`",
        );
    }
    let who = match &request.registration {
        Some(registration) => attendee(
            &registration.attendee,
            "registration.attendee",
            &mut violations,
        ),
        None => {
            violations.add("registration", "is required");
            String::new()
        }
    };
    match activity {
        Some(activity) if violations.is_empty() => Ok((activity, who)),
        _ => Err(violations.into_status()),
    }
}

/// RecordCheckin: the activity, the attendee and the walk-in flag.
pub fn record_checkin(request: &pb::RecordCheckinRequest) -> Result<(Uuid, String, bool), Status> {
    let mut violations = FieldViolations::new();
    let activity = parse_activity_name(&request.parent);
    if activity.is_none() {
        violations.add(
            "parent",
            "must be an activity name `activities/{activity_id}`",
        );
    }
    let who = attendee(&request.attendee, "attendee", &mut violations);
    match activity {
        Some(activity) if violations.is_empty() => Ok((activity, who, request.walk_in)),
        _ => Err(violations.into_status()),
    }
}
