//! Staff assignment requests into command inputs, once, with every field
//! violation named.

use chrono::{DateTime, Utc};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::commands::end_staff_assignment::EndStaffAssignment;
use crate::domain::cell::{CellId, DisplayName};
use crate::domain::staff::{DepartmentId, NewStaffAssignment, Person, StaffRole, ValidityPeriod};

/// A protobuf timestamp as a time PostgreSQL stores exactly: within years
/// 1-9999 (as the Timestamp type demands), cut to microseconds.
pub(crate) fn time(at: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    const MIN_SECONDS: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const MAX_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&at.seconds) {
        return None;
    }
    let nanos = u32::try_from(at.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    let at = DateTime::from_timestamp(at.seconds, nanos)?;
    DateTime::from_timestamp_micros(at.timestamp_micros())
}

pub(crate) const BAD_TIME: &str = "must be a valid timestamp between the years 1 and 9999";

/// A CreateStaffAssignmentRequest into a new duty; `now` is the start of a
/// duty that names none.
pub fn create(
    request: &pb::CreateStaffAssignmentRequest,
    now: DateTime<Utc>,
) -> Result<NewStaffAssignment, Status> {
    let mut violations = FieldViolations::new();
    let cell = CellId::parse_name(&request.parent);
    if cell.is_none() {
        violations.add("parent", "must be a cell name `cells/{cell_id}`");
    }
    let Some(assignment) = request.staff_assignment.as_ref() else {
        violations.add("staff_assignment", "is required");
        return Err(violations.into_status());
    };
    let person = Person::parse(&assignment.person)
        .map_err(|reason| violations.add("staff_assignment.person", reason))
        .ok();
    let person_display_name = DisplayName::parse(&assignment.person_display_name)
        .map_err(|reason| violations.add("staff_assignment.person_display_name", reason))
        .ok();
    let role = StaffRole::from_number(assignment.role);
    if role.is_none() {
        violations.add(
            "staff_assignment.role",
            "must be one of GRID_CHIEF, GRID_WORKER, BUILDING_CHIEF, UNIT_CHIEF, SUNK_CADRE",
        );
    }
    let home_department = match (assignment.home_department.as_str(), role) {
        ("", Some(StaffRole::SunkCadre)) => {
            violations.add(
                "staff_assignment.home_department",
                "is required for a sunk cadre: `departments/{department_id}`",
            );
            None
        }
        ("", _) => None,
        (_, Some(role)) if !role.has_home_department() => {
            violations.add(
                "staff_assignment.home_department",
                format!("must be empty for a {role}: only sunk cadres have a home department"),
            );
            None
        }
        (name, _) => {
            let department = DepartmentId::parse_name(name);
            if department.is_none() {
                violations.add(
                    "staff_assignment.home_department",
                    "must be a department name `departments/{department_id}`",
                );
            }
            department
        }
    };
    let valid_from = match assignment.valid_from.as_ref() {
        None => Some(now),
        Some(at) => {
            let parsed = time(at);
            if parsed.is_none() {
                violations.add("staff_assignment.valid_from", BAD_TIME);
            }
            parsed
        }
    };
    let valid_until = assignment.valid_until.as_ref().map(|at| {
        let parsed = time(at);
        if parsed.is_none() {
            violations.add("staff_assignment.valid_until", BAD_TIME);
        }
        parsed
    });
    let period = match (valid_from, valid_until) {
        (Some(from), None) => ValidityPeriod::new(from, None).ok(),
        (Some(from), Some(Some(until))) => ValidityPeriod::new(from, Some(until))
            .map_err(|reason| violations.add("staff_assignment.valid_until", reason))
            .ok(),
        _ => None,
    };
    match (cell, person, person_display_name, role, period) {
        (Some(cell), Some(person), Some(person_display_name), Some(role), Some(period))
            if violations.is_empty() =>
        {
            Ok(NewStaffAssignment {
                cell,
                person,
                person_display_name,
                role,
                home_department,
                period,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// An EndStaffAssignmentRequest into a command input.
pub fn end(request: &pb::EndStaffAssignmentRequest) -> Result<EndStaffAssignment, Status> {
    parse_name(&request.name).ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(
            "name",
            "must be a staff assignment name `cells/{cell_id}/staffAssignments/{assignment_id}`",
        );
        violations.into_status()
    })
}

fn parse_name(name: &str) -> Option<EndStaffAssignment> {
    let rest = name.strip_prefix("cells/")?;
    let (cell, id) = rest.split_once("/staffAssignments/")?;
    Some(EndStaffAssignment {
        cell: CellId::parse(cell)?,
        id: Uuid::parse_str(id).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::create_staff_assignment::assignment_name;
    use civicgrid_testkit::invalid_fields as fields;

    fn ts(seconds: i64) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos: 0 }
    }

    #[test]
    fn every_bad_field_of_a_new_duty_is_named() {
        let request = pb::CreateStaffAssignmentRequest {
            parent: "grid-1".into(),
            staff_assignment: Some(pb::StaffAssignment {
                person: "has space".into(),
                person_display_name: "".into(),
                role: 9,
                home_department: "housing".into(),
                valid_from: Some(ts(2_000_000_000)),
                valid_until: Some(ts(1_000_000_000)),
                ..Default::default()
            }),
        };
        assert_eq!(
            fields(create(&request, Utc::now()).expect_err("invalid")),
            vec![
                "parent",
                "staff_assignment.person",
                "staff_assignment.person_display_name",
                "staff_assignment.role",
                "staff_assignment.home_department",
                "staff_assignment.valid_until",
            ]
        );
    }

    #[test]
    fn only_sunk_cadres_carry_a_home_department() {
        let mut request = pb::CreateStaffAssignmentRequest {
            parent: "cells/g".into(),
            staff_assignment: Some(pb::StaffAssignment {
                person: "li".into(),
                person_display_name: "Li".into(),
                role: pb::StaffRole::SunkCadre as i32,
                ..Default::default()
            }),
        };
        assert_eq!(
            fields(create(&request, Utc::now()).expect_err("invalid")),
            vec!["staff_assignment.home_department"]
        );
        if let Some(a) = request.staff_assignment.as_mut() {
            a.home_department = "departments/housing".into();
        }
        let duty = create(&request, Utc::now()).expect("valid");
        assert_eq!(
            duty.home_department.map(|d| d.as_str().to_owned()),
            Some("housing".to_owned())
        );
        if let Some(a) = request.staff_assignment.as_mut() {
            a.role = pb::StaffRole::GridWorker as i32;
        }
        assert_eq!(
            fields(create(&request, Utc::now()).expect_err("invalid")),
            vec!["staff_assignment.home_department"]
        );
    }

    #[test]
    fn a_duty_without_a_start_starts_now_and_times_are_cut_to_microseconds() {
        let now = Utc::now();
        let request = pb::CreateStaffAssignmentRequest {
            parent: "cells/g".into(),
            staff_assignment: Some(pb::StaffAssignment {
                person: "li".into(),
                person_display_name: "Li".into(),
                role: pb::StaffRole::GridWorker as i32,
                valid_until: Some(prost_types::Timestamp {
                    seconds: now.timestamp() + 60,
                    nanos: 123_456_789,
                }),
                ..Default::default()
            }),
        };
        let duty = create(&request, now).expect("valid");
        assert_eq!(duty.period.from(), now);
        assert_eq!(
            duty.period.until().map(|t| t.timestamp_subsec_nanos()),
            Some(123_456_000)
        );
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(time(&bad), None);
        assert_eq!(time(&ts(300_000_000_000)), None);
    }

    #[test]
    fn assignment_names_parse_back() {
        let id = Uuid::now_v7();
        let parsed = parse_name(&assignment_name("g-1", id)).expect("parses");
        assert_eq!((parsed.cell.as_str(), parsed.id), ("g-1", id));
        for bad in [
            "cells/g-1",
            "cells/g-1/staffAssignments/nope",
            "cells/G/staffAssignments/0190a6d4-0000-7000-8000-000000000000",
            "staffAssignments/0190a6d4-0000-7000-8000-000000000000",
        ] {
            assert!(parse_name(bad).is_none(), "{bad}");
        }
    }
}
