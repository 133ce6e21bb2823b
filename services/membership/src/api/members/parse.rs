//! Member requests into command inputs, once, with every field violation
//! named. Violation messages never repeat the value they refuse: it may be
//! personal data.

use chrono::NaiveDate;
use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::fields;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::api::organisations::parse::request_id;
use crate::commands::register_member::RegisterMember;
use crate::commands::transfer_member::TransferMember;
use crate::commands::update_member::{MemberPatch, UpdateMember};
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

/// The paths UpdateMember accepts.
const UPDATABLE: &str = "full_name, phone, standing, flow_member, residence_cell, work_unit";

/// An UpdateMemberRequest into a command input.
pub fn update_member(request: &pb::UpdateMemberRequest) -> Result<UpdateMember, Status> {
    let mut violations = FieldViolations::new();
    let Some(member) = request.member.as_ref() else {
        violations.add("member", "is required");
        return Err(violations.into_status());
    };
    let id = member
        .name
        .strip_prefix("members/")
        .and_then(|id| Uuid::parse_str(id).ok());
    if id.is_none() {
        violations.add("member.name", "must be a member name `members/{member_id}`");
    }
    let expected_version = fields::etag(&member.etag, "member.etag", &mut violations);
    let paths = fields::update_paths(request.update_mask.as_ref(), UPDATABLE, &mut violations);
    let mut patch = MemberPatch::default();
    for path in paths {
        match path.as_str() {
            "full_name" => match FullName::parse(&member.full_name) {
                Ok(name) => patch.full_name = Some(name),
                Err(why) => violations.add("member.full_name", why),
            },
            "phone" => match Phone::parse(&member.phone) {
                Ok(phone) => patch.phone = Some(phone),
                Err(why) => violations.add("member.phone", why),
            },
            "standing" => match Standing::from_number(member.standing) {
                Some(standing) => patch.standing = Some(standing),
                None => violations.add("member.standing", "must be FULL or PROBATIONARY"),
            },
            "flow_member" => patch.flow_member = Some(member.flow_member),
            "residence_cell" => match member.residence_cell.as_str() {
                "" => patch.residence_cell = Some(None),
                name => match civicgrid_cell_tree::parse_name(name) {
                    Some(id) => patch.residence_cell = Some(Some(id.to_owned())),
                    None => violations.add(
                        "member.residence_cell",
                        "must be empty or a cell name `cells/{cell_id}`",
                    ),
                },
            },
            "work_unit" => match member.work_unit.as_str() {
                "" => patch.work_unit = Some(None),
                name => match OrganisationId::parse_name(name) {
                    Some(id) => patch.work_unit = Some(Some(id)),
                    None => violations.add(
                        "member.work_unit",
                        "must be empty or an organisation name `organisations/{organisation_id}`",
                    ),
                },
            },
            other => violations.add(
                "update_mask",
                format!("`{other}` cannot be updated; only {UPDATABLE}"),
            ),
        }
    }
    match id {
        Some(id) if violations.is_empty() => Ok(UpdateMember {
            id,
            patch,
            expected_version,
        }),
        _ => Err(violations.into_status()),
    }
}

/// A TransferMemberRequest into a command input.
pub fn transfer_member(request: &pb::TransferMemberRequest) -> Result<TransferMember, Status> {
    let mut violations = FieldViolations::new();
    let id = request
        .name
        .strip_prefix("members/")
        .and_then(|id| Uuid::parse_str(id).ok());
    if id.is_none() {
        violations.add("name", "must be a member name `members/{member_id}`");
    }
    let to = OrganisationId::parse_name(&request.to_organisation);
    if to.is_none() {
        violations.add(
            "to_organisation",
            "must be an organisation name `organisations/{organisation_id}`",
        );
    }
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        violations.add("reason", "is required: 1-200 characters");
    }
    let expected_version = fields::etag(&request.etag, "etag", &mut violations);
    match (id, to) {
        (Some(id), Some(to)) if violations.is_empty() => Ok(TransferMember {
            id,
            to,
            reason: reason.to_owned(),
            expected_version,
        }),
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
