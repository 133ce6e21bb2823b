//! Organisation requests into command inputs, once, with every field violation named.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::fields;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::commands::create_organisation::CreateOrganisation;
use crate::commands::update_organisation::{OrganisationPatch, UpdateOrganisation};
use crate::domain::organisation::{
    Kind, OrganisationId, Placement, Standardisation, parse_display_name,
};

/// An organisation name `organisations/{organisation_id}` in `field`.
pub fn organisation_name(name: &str, field: &str) -> Result<OrganisationId, Status> {
    OrganisationId::parse_name(name).ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(
            field,
            "must be an organisation name `organisations/{organisation_id}`",
        );
        violations.into_status()
    })
}

/// An optional UUID idempotency key in `request_id`.
pub fn request_id(text: &str, violations: &mut FieldViolations) -> Option<Uuid> {
    match text {
        "" => None,
        text => {
            let parsed = Uuid::parse_str(text).ok();
            if parsed.is_none() {
                violations.add("request_id", "must be a UUID");
            }
            parsed
        }
    }
}

/// A CreateOrganisationRequest into a command input.
pub fn create_organisation(
    request: &pb::CreateOrganisationRequest,
) -> Result<CreateOrganisation, Status> {
    let mut violations = FieldViolations::new();
    let id = OrganisationId::parse(&request.organisation_id);
    if id.is_none() {
        violations.add(
            "organisation_id",
            "must be 1-63 characters of a-z, 0-9 and '-', not starting with '-'",
        );
    }
    let request_id = request_id(&request.request_id, &mut violations);
    let Some(organisation) = request.organisation.as_ref() else {
        violations.add("organisation", "is required");
        return Err(violations.into_status());
    };
    let display_name = parse_display_name(&organisation.display_name)
        .map_err(|reason| violations.add("organisation.display_name", reason))
        .ok();
    let kind = Kind::from_number(organisation.kind);
    if kind.is_none() {
        violations.add(
            "organisation.kind",
            "must be an OrganisationKind other than UNSPECIFIED",
        );
    }
    let parent = match organisation.parent.as_str() {
        "" => None,
        name => {
            let parent = OrganisationId::parse_name(name);
            if parent.is_none() {
                violations.add(
                    "organisation.parent",
                    "must be empty or an organisation name `organisations/{organisation_id}`",
                );
            }
            parent
        }
    };
    let placement = match (organisation.cell.as_str(), organisation.compound.as_str()) {
        ("", "") => Placement::None,
        (cell, "") => match civicgrid_cell_tree::parse_name(cell) {
            Some(id) => Placement::Cell(id.to_owned()),
            None => {
                violations.add("organisation.cell", "must be a cell name `cells/{cell_id}`");
                Placement::None
            }
        },
        ("", compound) => match civicgrid_cell_tree::parse_compound_name(compound) {
            Some(id) => Placement::Compound(id.to_owned()),
            None => {
                violations.add(
                    "organisation.compound",
                    "must be a compound name `compounds/{compound_id}`",
                );
                Placement::None
            }
        },
        _ => {
            violations.add(
                "organisation.compound",
                "must be empty when organisation.cell is set: an organisation is placed in one of them",
            );
            Placement::None
        }
    };
    let standardisation = organisation
        .standardisation
        .as_ref()
        .map(|flags| Standardisation {
            branch_committee_formed: flags.branch_committee_formed,
            office_premises: flags.office_premises,
            activity_premises: flags.activity_premises,
        })
        .unwrap_or_default();
    if let Some(kind) = kind
        && !kind.is_party_organisation()
        && standardisation != Standardisation::default()
    {
        violations.add(
            "organisation.standardisation",
            format!("must be empty: a {kind} has no standardisation flags"),
        );
    }
    match (id, display_name, kind) {
        (Some(id), Some(display_name), Some(kind)) if violations.is_empty() => {
            Ok(CreateOrganisation {
                id,
                display_name,
                kind,
                parent,
                placement,
                standardisation,
                request_id,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// The paths UpdateOrganisation accepts.
const UPDATABLE: &str = "display_name, standardisation, standardisation.branch_committee_formed, \
                         standardisation.office_premises, standardisation.activity_premises";

/// An UpdateOrganisationRequest into a command input.
pub fn update_organisation(
    request: &pb::UpdateOrganisationRequest,
) -> Result<UpdateOrganisation, Status> {
    let mut violations = FieldViolations::new();
    let Some(organisation) = request.organisation.as_ref() else {
        violations.add("organisation", "is required");
        return Err(violations.into_status());
    };
    let id = OrganisationId::parse_name(&organisation.name);
    if id.is_none() {
        violations.add(
            "organisation.name",
            "must be an organisation name `organisations/{organisation_id}`",
        );
    }
    let expected_version = fields::etag(&organisation.etag, "organisation.etag", &mut violations);
    let paths = fields::update_paths(request.update_mask.as_ref(), UPDATABLE, &mut violations);
    let flags = organisation.standardisation.unwrap_or_default();
    let mut patch = OrganisationPatch::default();
    for path in paths {
        match path.as_str() {
            "display_name" => match parse_display_name(&organisation.display_name) {
                Ok(name) => patch.display_name = Some(name),
                Err(reason) => violations.add("organisation.display_name", reason),
            },
            "standardisation" => {
                patch.branch_committee_formed = Some(flags.branch_committee_formed);
                patch.office_premises = Some(flags.office_premises);
                patch.activity_premises = Some(flags.activity_premises);
            }
            "standardisation.branch_committee_formed" => {
                patch.branch_committee_formed = Some(flags.branch_committee_formed)
            }
            "standardisation.office_premises" => {
                patch.office_premises = Some(flags.office_premises)
            }
            "standardisation.activity_premises" => {
                patch.activity_premises = Some(flags.activity_premises)
            }
            other => violations.add(
                "update_mask",
                format!("`{other}` cannot be updated; only {UPDATABLE}"),
            ),
        }
    }
    match id {
        Some(id) if violations.is_empty() => Ok(UpdateOrganisation {
            id,
            patch,
            expected_version,
        }),
        _ => Err(violations.into_status()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civicgrid_testkit::invalid_fields as fields;

    #[test]
    fn every_bad_field_of_a_create_is_named() {
        let request = pb::CreateOrganisationRequest {
            organisation_id: "Bad Id".into(),
            organisation: Some(pb::Organisation {
                display_name: " ".into(),
                kind: 99,
                parent: "orgs/x".into(),
                cell: "cells/m1".into(),
                compound: "compounds/k1".into(),
                ..Default::default()
            }),
            request_id: "nope".into(),
        };
        assert_eq!(
            fields(create_organisation(&request).expect_err("invalid")),
            vec![
                "organisation_id",
                "request_id",
                "organisation.display_name",
                "organisation.kind",
                "organisation.parent",
                "organisation.compound",
            ]
        );
    }

    #[test]
    fn a_property_company_takes_no_standardisation_flags() {
        let request = pb::CreateOrganisationRequest {
            organisation_id: "pm".into(),
            organisation: Some(pb::Organisation {
                display_name: "Property".into(),
                kind: pb::OrganisationKind::PropertyCompany as i32,
                parent: "organisations/m1-pc".into(),
                compound: "compounds/k1".into(),
                standardisation: Some(pb::Standardisation {
                    office_premises: true,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        assert_eq!(
            fields(create_organisation(&request).expect_err("invalid")),
            vec!["organisation.standardisation"]
        );
    }

    #[test]
    fn an_update_needs_a_mask_of_known_paths_and_a_real_etag() {
        let request = pb::UpdateOrganisationRequest {
            organisation: Some(pb::Organisation {
                name: "organisations/m1-pc".into(),
                etag: "v1".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["kind".into(), "display_name".into()],
            }),
        };
        assert_eq!(
            fields(update_organisation(&request).expect_err("invalid")),
            vec![
                "organisation.etag",
                "update_mask",
                "organisation.display_name"
            ]
        );
        let good = pb::UpdateOrganisationRequest {
            organisation: Some(pb::Organisation {
                name: "organisations/m1-pc".into(),
                etag: "\"3\"".into(),
                standardisation: Some(pb::Standardisation {
                    office_premises: true,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["standardisation.office_premises".into()],
            }),
        };
        let input = update_organisation(&good).expect("valid");
        assert_eq!(input.expected_version, Some(3));
        assert_eq!(input.patch.office_premises, Some(true));
        assert_eq!(input.patch.branch_committee_formed, None);
    }
}
