//! Member requests into command inputs, once, with every field violation
//! named. Violation messages never repeat the value they refuse: it may be
//! personal data.

use chrono::NaiveDate;
use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::api::organisations::parse::request_id;
use crate::commands::register_member::RegisterMember;
use crate::domain::id_number::IdNumber;
use crate::domain::member::{FullName, NewMember, Standing};
use crate::domain::organisation::OrganisationId;
use crate::domain::phone::Phone;

/// A member name `members/{member_id}` in `field`.
pub fn member_name(name: &str, field: &str) -> Result<Uuid, Status> {
    name.strip_prefix("members/")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| {
            let mut violations = FieldViolations::new();
            violations.add(field, "must be a member name `members/{member_id}`");
            violations.into_status()
        })
}

/// An ID number in `field`, valid on `today`.
pub fn id_number(text: &str, field: &str, today: NaiveDate) -> Result<IdNumber, Status> {
    IdNumber::parse(text, today).map_err(|reason| {
        let mut violations = FieldViolations::new();
        violations.add(field, reason.to_string());
        violations.into_status()
    })
}

/// A RegisterMemberRequest into a command input; `today` bounds birth dates.
pub fn register_member(
    request: &pb::RegisterMemberRequest,
    today: NaiveDate,
) -> Result<RegisterMember, Status> {
    let mut violations = FieldViolations::new();
    let request_id = request_id(&request.request_id, &mut violations);
    let Some(member) = request.member.as_ref() else {
        violations.add("member", "is required");
        return Err(violations.into_status());
    };
    let full_name = FullName::parse(&member.full_name)
        .map_err(|reason| violations.add("member.full_name", reason))
        .ok();
    let id_number = IdNumber::parse(&member.id_number, today)
        .map_err(|reason| violations.add("member.id_number", reason.to_string()))
        .ok();
    let phone = Phone::parse(&member.phone)
        .map_err(|reason| violations.add("member.phone", reason))
        .ok();
    let organisation = OrganisationId::parse_name(&member.organisation);
    if organisation.is_none() {
        violations.add(
            "member.organisation",
            "must be an organisation name `organisations/{organisation_id}`",
        );
    }
    let standing = Standing::from_number(member.standing);
    if standing.is_none() {
        violations.add("member.standing", "must be FULL or PROBATIONARY");
    }
    let residence_cell = match member.residence_cell.as_str() {
        "" => None,
        name => {
            let id = civicgrid_cell_tree::parse_name(name).map(str::to_owned);
            if id.is_none() {
                violations.add(
                    "member.residence_cell",
                    "must be empty or a cell name `cells/{cell_id}`",
                );
            }
            id
        }
    };
    let work_unit = match member.work_unit.as_str() {
        "" => None,
        name => {
            let id = OrganisationId::parse_name(name);
            if id.is_none() {
                violations.add(
                    "member.work_unit",
                    "must be empty or an organisation name `organisations/{organisation_id}`",
                );
            }
            id
        }
    };
    match (full_name, id_number, phone, organisation, standing) {
        (Some(full_name), Some(id_number), Some(phone), Some(organisation), Some(standing))
            if violations.is_empty() =>
        {
            Ok(RegisterMember {
                member: NewMember {
                    full_name,
                    id_number,
                    phone,
                    organisation,
                    standing,
                    flow_member: member.flow_member,
                    residence_cell,
                    work_unit,
                },
                request_id,
            })
        }
        _ => Err(violations.into_status()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civicgrid_runtime::status::field_violations;
    use civicgrid_testkit::invalid_fields as fields;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()
    }

    #[test]
    fn every_bad_field_of_a_registration_is_named_without_repeating_its_value() {
        let request = pb::RegisterMemberRequest {
            member: Some(pb::Member {
                full_name: String::new(),
                id_number: "11010519491231002".into(),
                phone: "12812345678".into(),
                organisation: "cells/m1".into(),
                standing: 0,
                residence_cell: "m1".into(),
                work_unit: "units/x".into(),
                ..Default::default()
            }),
            request_id: "x".into(),
        };
        let status = register_member(&request, today()).expect_err("invalid");
        for (_, description) in field_violations(&status) {
            assert!(!description.contains("11010519491231002"), "{description}");
            assert!(!description.contains("12812345678"), "{description}");
        }
        assert_eq!(
            fields(status),
            vec![
                "request_id",
                "member.full_name",
                "member.id_number",
                "member.phone",
                "member.organisation",
                "member.standing",
                "member.residence_cell",
                "member.work_unit",
            ]
        );
    }
}
