//! Compound requests into command inputs, once, with every field violation named.

use chrono::{DateTime, Utc};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::fields;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::commands::create_compound::CreateCompound;
use crate::commands::update_compound::UpdateCompound;
use crate::domain::cell::{CellId, DisplayName};
use crate::domain::compound::{
    CompoundId, CompoundPatch, MAX_ADDRESS_CHARS, MAX_BUILDINGS, MAX_PROPERTY_COMPANY_CHARS,
    NewCompound, parse_text, parse_year_built,
};

/// A compound name `compounds/{compound_id}` in `field`.
pub fn compound_name(name: &str, field: &str) -> Result<CompoundId, Status> {
    CompoundId::parse_name(name).ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(field, "must be a compound name `compounds/{compound_id}`");
        violations.into_status()
    })
}

/// The building names of `compound.buildings`: cell names, each once.
fn buildings(names: &[String], violations: &mut FieldViolations) -> Vec<CellId> {
    if names.len() > MAX_BUILDINGS {
        violations.add(
            "compound.buildings",
            format!("must list at most {MAX_BUILDINGS} buildings"),
        );
        return Vec::new();
    }
    let mut parsed: Vec<CellId> = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        let field = format!("compound.buildings[{index}]");
        match CellId::parse_name(name) {
            None => violations.add(field, "must be a cell name `cells/{cell_id}`"),
            Some(id) => match parsed.iter().position(|seen| *seen == id) {
                Some(first) => {
                    violations.add(field, format!("repeats compound.buildings[{first}]"))
                }
                None => parsed.push(id),
            },
        }
    }
    parsed
}

/// A CreateCompoundRequest into a command input; `now` bounds year_built.
pub fn create_compound(
    request: &pb::CreateCompoundRequest,
    now: DateTime<Utc>,
) -> Result<CreateCompound, Status> {
    let mut violations = FieldViolations::new();
    let id = CompoundId::parse(&request.compound_id);
    if id.is_none() {
        violations.add(
            "compound_id",
            "must be 1-63 characters of a-z, 0-9 and '-', not starting with '-'",
        );
    }
    let request_id = match request.request_id.as_str() {
        "" => None,
        text => {
            let parsed = Uuid::parse_str(text).ok();
            if parsed.is_none() {
                violations.add("request_id", "must be a UUID");
            }
            parsed
        }
    };
    let Some(compound) = request.compound.as_ref() else {
        violations.add("compound", "is required");
        return Err(violations.into_status());
    };
    let community = CellId::parse_name(&compound.community);
    if community.is_none() {
        violations.add(
            "compound.community",
            "must be the cell name `cells/{cell_id}` of a community",
        );
    }
    let display_name = DisplayName::parse(&compound.display_name)
        .map_err(|reason| violations.add("compound.display_name", reason))
        .ok();
    let buildings = buildings(&compound.buildings, &mut violations);
    let address = parse_text(&compound.address, MAX_ADDRESS_CHARS)
        .map_err(|reason| violations.add("compound.address", reason))
        .unwrap_or_default();
    let year_built = parse_year_built(compound.year_built, now)
        .map_err(|reason| violations.add("compound.year_built", reason))
        .unwrap_or_default();
    let property_company = parse_text(&compound.property_company, MAX_PROPERTY_COMPANY_CHARS)
        .map_err(|reason| violations.add("compound.property_company", reason))
        .unwrap_or_default();
    match (id, community, display_name) {
        (Some(id), Some(community), Some(display_name)) if violations.is_empty() => {
            Ok(CreateCompound {
                compound: NewCompound {
                    id,
                    community,
                    display_name,
                    buildings,
                    address,
                    year_built,
                    newly_built: compound.newly_built,
                    lacks_required_facilities: compound.lacks_required_facilities,
                    property_company,
                },
                request_id,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// The paths UpdateCompound accepts.
const UPDATABLE: &str = "display_name, buildings, address, year_built, newly_built, \
                         lacks_required_facilities, property_company";

/// An UpdateCompoundRequest into a command input; `now` bounds year_built.
pub fn update_compound(
    request: &pb::UpdateCompoundRequest,
    now: DateTime<Utc>,
) -> Result<UpdateCompound, Status> {
    let mut violations = FieldViolations::new();
    let Some(compound) = request.compound.as_ref() else {
        violations.add("compound", "is required");
        return Err(violations.into_status());
    };
    let id = CompoundId::parse_name(&compound.name);
    if id.is_none() {
        violations.add(
            "compound.name",
            "must be a compound name `compounds/{compound_id}`",
        );
    }
    let expected_version = fields::etag(&compound.etag, "compound.etag", &mut violations);
    let paths = fields::update_paths(request.update_mask.as_ref(), UPDATABLE, &mut violations);
    let mut patch = CompoundPatch::default();
    for path in paths {
        match path.as_str() {
            "display_name" => match DisplayName::parse(&compound.display_name) {
                Ok(name) => patch.display_name = Some(name),
                Err(reason) => violations.add("compound.display_name", reason),
            },
            "buildings" => patch.buildings = Some(buildings(&compound.buildings, &mut violations)),
            "address" => match parse_text(&compound.address, MAX_ADDRESS_CHARS) {
                Ok(address) => patch.address = Some(address),
                Err(reason) => violations.add("compound.address", reason),
            },
            "year_built" => match parse_year_built(compound.year_built, now) {
                Ok(year) => patch.year_built = Some(year),
                Err(reason) => violations.add("compound.year_built", reason),
            },
            "newly_built" => patch.newly_built = Some(compound.newly_built),
            "lacks_required_facilities" => {
                patch.lacks_required_facilities = Some(compound.lacks_required_facilities)
            }
            "property_company" => {
                match parse_text(&compound.property_company, MAX_PROPERTY_COMPANY_CHARS) {
                    Ok(company) => patch.property_company = Some(company),
                    Err(reason) => violations.add("compound.property_company", reason),
                }
            }
            other => violations.add(
                "update_mask",
                format!("`{other}` cannot be updated; only {UPDATABLE}"),
            ),
        }
    }
    match id {
        Some(id) if violations.is_empty() => Ok(UpdateCompound {
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

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap_or_else(|_| unreachable!())
            .with_timezone(&Utc)
    }

    #[test]
    fn every_bad_field_of_a_create_is_named() {
        let request = pb::CreateCompoundRequest {
            compound_id: "Jinxiu Garden".into(),
            compound: Some(pb::Compound {
                community: "communities/m".into(),
                display_name: "名".repeat(201),
                buildings: vec!["cells/b1".into(), "b2".into(), "cells/b1".into()],
                address: "line\u{7}".into(),
                year_built: 2030,
                property_company: "x".repeat(201),
                ..Default::default()
            }),
            request_id: "nope".into(),
        };
        assert_eq!(
            fields(create_compound(&request, now()).expect_err("invalid")),
            vec![
                "compound_id",
                "request_id",
                "compound.community",
                "compound.display_name",
                "compound.buildings[1]",
                "compound.buildings[2]",
                "compound.address",
                "compound.year_built",
                "compound.property_company",
            ]
        );
    }

    #[test]
    fn a_good_create_keeps_the_buildings_in_request_order() {
        let request = pb::CreateCompoundRequest {
            compound_id: "jinxiu".into(),
            compound: Some(pb::Compound {
                community: "cells/m".into(),
                display_name: " 锦绣花园 ".into(),
                buildings: vec!["cells/b2".into(), "cells/b1".into()],
                year_built: 2026,
                newly_built: true,
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let input = create_compound(&request, now()).expect("valid");
        let names: Vec<&str> = input
            .compound
            .buildings
            .iter()
            .map(CellId::as_str)
            .collect();
        assert_eq!(names, vec!["b2", "b1"]);
        assert_eq!(input.compound.display_name.as_str(), "锦绣花园");
        assert_eq!(input.compound.year_built, Some(2026));
    }

    #[test]
    fn an_update_needs_a_mask_of_known_paths_and_valid_values_for_them() {
        let request = pb::UpdateCompoundRequest {
            compound: Some(pb::Compound {
                name: "compounds/jinxiu".into(),
                etag: "v1".into(),
                year_built: 1850,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["community".into(), "year_built".into()],
            }),
        };
        assert_eq!(
            fields(update_compound(&request, now()).expect_err("invalid")),
            vec!["compound.etag", "update_mask", "compound.year_built"]
        );
        let empty = pb::UpdateCompoundRequest {
            compound: Some(pb::Compound {
                name: "cells/jinxiu".into(),
                ..Default::default()
            }),
            update_mask: None,
        };
        assert_eq!(
            fields(update_compound(&empty, now()).expect_err("invalid")),
            vec!["compound.name", "update_mask"]
        );
    }
}
