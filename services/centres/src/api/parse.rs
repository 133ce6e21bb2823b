//! Requests into domain inputs, once, naming every bad field
//! (INVALID_ARGUMENT with `google.rpc.BadRequest` paths such as
//! `centre.zones[1].zone_id`). Nothing past here validates again.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::fields;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::commands::create_booking::CreateBooking;
use crate::commands::create_centre::CreateCentre;
use crate::commands::update_centre::UpdateCentre;
use crate::commands::update_standard::UpdateStandard;
use crate::convert::{category_of, function_of, kind_of};
use crate::domain::booking::{MAX_PURPOSE_CHARS, NewBooking, parse_booking_name};
use crate::domain::centre::{
    Category, CentreId, CentrePatch, GeoPoint, Location, MAX_AREA, MAX_LINKED_COMPOUNDS, MAX_ZONES,
    NewCentre, Zone, duplicate_zone_ids,
};
use crate::domain::hours::{MAX_PERIODS, OpeningPeriod, parse_clock};
use crate::domain::parse_text;
use crate::domain::standard::Requirement;

const MAX_NAME_CHARS: usize = 200;

/// The id of `centres/{id}` in `field`.
pub fn centre_name(name: &str, field: &str) -> Result<CentreId, Status> {
    CentreId::parse_name(name).ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(field, "must be a centre name `centres/{centre_id}`");
        violations.into_status()
    })
}

/// The centre code and booking id of a booking name in `field`.
pub fn booking_name(name: &str, field: &str) -> Result<(String, Uuid), Status> {
    parse_booking_name(name).ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(field, "must be `centres/{centre_id}/bookings/{booking_id}`");
        violations.into_status()
    })
}

pub(crate) fn request_id(text: &str, violations: &mut FieldViolations) -> Option<Uuid> {
    if text.is_empty() {
        return None;
    }
    let parsed = Uuid::parse_str(text).ok();
    if parsed.is_none() {
        violations.add("request_id", "must be empty or a UUID");
    }
    parsed
}

/// An optional category filter (0: any).
pub fn category_filter(value: i32, violations: &mut FieldViolations) -> Option<Category> {
    if value == 0 {
        return None;
    }
    let category = category_of(value);
    if category.is_none() {
        violations.add("category", "is not a CentreCategory");
    }
    category
}

fn text(value: &str, field: &str, violations: &mut FieldViolations) -> String {
    parse_text(value, 1, MAX_NAME_CHARS).unwrap_or_else(|why| {
        violations.add(field, why);
        String::new()
    })
}

fn area(value: i32, field: &str, violations: &mut FieldViolations) -> i32 {
    if !(1..=MAX_AREA).contains(&value) {
        violations.add(field, format!("must be 1-{MAX_AREA} square metres"));
    }
    value
}

fn opening_hours(
    periods: &[pb::OpeningPeriod],
    field: &str,
    violations: &mut FieldViolations,
) -> Vec<OpeningPeriod> {
    if periods.len() > MAX_PERIODS {
        violations.add(field, format!("must list at most {MAX_PERIODS} periods"));
    }
    let mut parsed = Vec::new();
    for (index, period) in periods.iter().enumerate() {
        let at = format!("{field}[{index}]");
        let weekday = u8::try_from(period.weekday)
            .ok()
            .filter(|d| (1..=7).contains(d));
        if weekday.is_none() {
            violations.add(
                format!("{at}.weekday"),
                "must be a Weekday from MONDAY to SUNDAY",
            );
        }
        let opens = parse_clock(&period.opens, false)
            .map_err(|why| violations.add(format!("{at}.opens"), why))
            .ok();
        let closes = parse_clock(&period.closes, true)
            .map_err(|why| violations.add(format!("{at}.closes"), why))
            .ok();
        let kind = kind_of(period.kind);
        if kind.is_none() {
            violations.add(
                format!("{at}.kind"),
                "must be REGULAR, EXTENDED or OFF_PEAK",
            );
        }
        if let (Some(weekday), Some(opens), Some(closes), Some(kind)) =
            (weekday, opens, closes, kind)
        {
            if closes <= opens {
                violations.add(format!("{at}.closes"), "must be after opens");
            } else {
                parsed.push(OpeningPeriod {
                    weekday,
                    opens,
                    closes,
                    kind,
                });
            }
        }
    }
    parsed
}

fn zones(zones: &[pb::Zone], field: &str, violations: &mut FieldViolations) -> Vec<Zone> {
    if zones.len() > MAX_ZONES {
        violations.add(field, format!("must list at most {MAX_ZONES} zones"));
    }
    let mut parsed = Vec::new();
    for (index, zone) in zones.iter().enumerate() {
        let at = format!("{field}[{index}]");
        if !civicgrid_cell_tree::is_valid_id(&zone.zone_id) {
            violations.add(
                format!("{at}.zone_id"),
                "must be 1-63 characters of a-z, 0-9 and -, not starting with -",
            );
        }
        let display_name = text(
            &zone.display_name,
            &format!("{at}.display_name"),
            violations,
        );
        let function = function_of(zone.function);
        if function.is_none() {
            violations.add(format!("{at}.function"), "must be a CentreFunction");
        }
        let area = area(
            zone.area_square_metres,
            &format!("{at}.area_square_metres"),
            violations,
        );
        if zone.capacity < 1 {
            violations.add(format!("{at}.capacity"), "must be at least 1");
        }
        if let Some(function) = function {
            parsed.push(Zone {
                id: zone.zone_id.clone(),
                display_name,
                function,
                area,
                capacity: zone.capacity,
            });
        }
    }
    for index in duplicate_zone_ids(&parsed) {
        violations.add(
            format!("{field}[{index}].zone_id"),
            "repeats an earlier zone_id",
        );
    }
    parsed
}

fn linked_compounds(
    names: &[String],
    field: &str,
    violations: &mut FieldViolations,
) -> Vec<String> {
    if names.len() > MAX_LINKED_COMPOUNDS {
        violations.add(
            field,
            format!("must list at most {MAX_LINKED_COMPOUNDS} compounds"),
        );
    }
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    for (index, name) in names.iter().enumerate() {
        match civicgrid_cell_tree::parse_compound_name(name) {
            None => violations.add(
                format!("{field}[{index}]"),
                "must be `compounds/{compound_id}`",
            ),
            Some(id) if !seen.insert(id) => {
                violations.add(format!("{field}[{index}]"), "repeats an earlier compound")
            }
            Some(id) => ids.push(id.to_owned()),
        }
    }
    ids
}

/// Optional coordinates in `field`.
pub fn coordinates(
    point: Option<&pb::GeoPoint>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<GeoPoint> {
    let point = point?;
    let parsed = GeoPoint::from_degrees(point.latitude, point.longitude);
    if parsed.is_none() {
        violations.add(
            field,
            "latitude must be -90 to 90 and longitude -180 to 180 degrees",
        );
    }
    parsed
}

fn owner(value: &str, field: &str, violations: &mut FieldViolations) -> String {
    let owner = text(value, field, violations);
    if !owner.is_empty() && (!owner.contains('/') || owner.contains(char::is_whitespace)) {
        violations.add(
            field,
            "must be an organisation's resource name, e.g. `organisations/{id}`",
        );
    }
    owner
}

/// CreateCentre.
pub fn create_centre(request: &pb::CreateCentreRequest) -> Result<CreateCentre, Status> {
    let mut violations = FieldViolations::new();
    let id = CentreId::parse(&request.centre_id);
    if id.is_none() {
        violations.add(
            "centre_id",
            "must be 1-63 characters of a-z, 0-9 and -, not starting with -",
        );
    }
    let request_id = request_id(&request.request_id, &mut violations);
    let Some(centre) = &request.centre else {
        violations.add("centre", "is required");
        return Err(violations.into_status());
    };
    let display_name = text(&centre.display_name, "centre.display_name", &mut violations);
    let category = category_of(centre.category);
    if category.is_none() {
        violations.add(
            "centre.category",
            "must be one of the eight CentreCategory values",
        );
    }
    let owner_organisation = owner(
        &centre.owner_organisation,
        "centre.owner_organisation",
        &mut violations,
    );
    let location = if centre.cell.is_empty() == centre.compound.is_empty() {
        violations.add(
            "centre.cell",
            "exactly one of cell and compound must be set",
        );
        None
    } else if !centre.cell.is_empty() {
        let id = civicgrid_cell_tree::parse_name(&centre.cell);
        if id.is_none() {
            violations.add("centre.cell", "must be a cell name `cells/{cell_id}`");
        }
        id.map(|id| Location::Cell(id.to_owned()))
    } else {
        let id = civicgrid_cell_tree::parse_compound_name(&centre.compound);
        if id.is_none() {
            violations.add(
                "centre.compound",
                "must be a compound name `compounds/{compound_id}`",
            );
        }
        id.map(|id| Location::Compound(id.to_owned()))
    };
    let floor_area = area(
        centre.floor_area_square_metres,
        "centre.floor_area_square_metres",
        &mut violations,
    );
    let opening_hours = opening_hours(
        &centre.opening_hours,
        "centre.opening_hours",
        &mut violations,
    );
    let zones = zones(&centre.zones, "centre.zones", &mut violations);
    let linked_compounds = linked_compounds(
        &centre.linked_compounds,
        "centre.linked_compounds",
        &mut violations,
    );
    let coordinates = coordinates(
        centre.coordinates.as_ref(),
        "centre.coordinates",
        &mut violations,
    );
    match (id, category, location) {
        (Some(id), Some(category), Some(location)) if violations.is_empty() => Ok(CreateCentre {
            centre: NewCentre {
                id,
                display_name,
                category,
                owner_organisation,
                location,
                floor_area,
                opening_hours,
                zones,
                linked_compounds,
                coordinates,
            },
            request_id,
        }),
        _ => Err(violations.into_status()),
    }
}

/// UpdateCentre.
pub fn update_centre(request: &pb::UpdateCentreRequest) -> Result<UpdateCentre, Status> {
    let mut violations = FieldViolations::new();
    let Some(centre) = &request.centre else {
        violations.add("centre", "is required");
        return Err(violations.into_status());
    };
    let id = CentreId::parse_name(&centre.name);
    if id.is_none() {
        violations.add("centre.name", "must be a centre name `centres/{centre_id}`");
    }
    let expected_version = fields::etag(&centre.etag, "centre.etag", &mut violations);
    let paths = fields::update_paths(
        request.update_mask.as_ref(),
        "display_name, owner_organisation, floor_area_square_metres, opening_hours, zones, linked_compounds, coordinates",
        &mut violations,
    );
    let mut patch = CentrePatch::default();
    for path in paths {
        match path.as_str() {
            "display_name" => {
                patch.display_name = Some(text(
                    &centre.display_name,
                    "centre.display_name",
                    &mut violations,
                ))
            }
            "owner_organisation" => {
                patch.owner_organisation = Some(owner(
                    &centre.owner_organisation,
                    "centre.owner_organisation",
                    &mut violations,
                ))
            }
            "floor_area_square_metres" => {
                patch.floor_area = Some(area(
                    centre.floor_area_square_metres,
                    "centre.floor_area_square_metres",
                    &mut violations,
                ))
            }
            "opening_hours" => {
                patch.opening_hours = Some(opening_hours(
                    &centre.opening_hours,
                    "centre.opening_hours",
                    &mut violations,
                ))
            }
            "zones" => patch.zones = Some(zones(&centre.zones, "centre.zones", &mut violations)),
            "linked_compounds" => {
                patch.linked_compounds = Some(linked_compounds(
                    &centre.linked_compounds,
                    "centre.linked_compounds",
                    &mut violations,
                ))
            }
            "coordinates" => {
                patch.coordinates = Some(coordinates(
                    centre.coordinates.as_ref(),
                    "centre.coordinates",
                    &mut violations,
                ))
            }
            other => violations.add(
                "update_mask",
                format!("`{other}` cannot be updated (category and place are fixed)"),
            ),
        }
    }
    match id {
        Some(id) if violations.is_empty() => Ok(UpdateCentre {
            id,
            patch,
            expected_version,
        }),
        _ => Err(violations.into_status()),
    }
}

/// SetCompoundCoordinates: the compound's id and the point.
pub fn compound_coordinates(
    request: &pb::SetCompoundCoordinatesRequest,
) -> Result<(String, GeoPoint), Status> {
    let mut violations = FieldViolations::new();
    let compound = civicgrid_cell_tree::parse_compound_name(&request.compound);
    if compound.is_none() {
        violations.add("compound", "must be `compounds/{compound_id}`");
    }
    if request.coordinates.is_none() {
        violations.add("coordinates", "is required");
    }
    let point = coordinates(request.coordinates.as_ref(), "coordinates", &mut violations);
    match (compound, point) {
        (Some(compound), Some(point)) if violations.is_empty() => Ok((compound.to_owned(), point)),
        _ => Err(violations.into_status()),
    }
}

/// UpdateStandard.
pub fn update_standard(request: &pb::UpdateStandardRequest) -> Result<UpdateStandard, Status> {
    let mut violations = FieldViolations::new();
    let Some(standard) = &request.standard else {
        violations.add("standard", "is required");
        return Err(violations.into_status());
    };
    let category = standard
        .name
        .strip_prefix("standards/")
        .and_then(Category::parse);
    if category.is_none() {
        violations.add(
            "standard.name",
            "must be `standards/{category}`, e.g. `standards/community`",
        );
    }
    let expected_version = fields::etag(&standard.etag, "standard.etag", &mut violations);
    let mut required_functions = Vec::new();
    for (index, value) in standard.required_functions.iter().enumerate() {
        match function_of(*value) {
            Some(function) if !required_functions.contains(&function) => {
                required_functions.push(function)
            }
            Some(_) => violations.add(
                format!("standard.required_functions[{index}]"),
                "repeats an earlier function",
            ),
            None => violations.add(
                format!("standard.required_functions[{index}]"),
                "must be a CentreFunction",
            ),
        }
    }
    let minimum = standard.minimum_floor_area_square_metres;
    if !(0..=MAX_AREA).contains(&minimum) {
        violations.add(
            "standard.minimum_floor_area_square_metres",
            format!("must be 0-{MAX_AREA} square metres"),
        );
    }
    match category {
        Some(category) if violations.is_empty() => Ok(UpdateStandard {
            category,
            requirement: Requirement {
                required_functions,
                minimum_floor_area: minimum,
            },
            expected_version,
        }),
        _ => Err(violations.into_status()),
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

/// CreateBooking.
pub fn create_booking(request: &pb::CreateBookingRequest) -> Result<CreateBooking, Status> {
    let mut violations = FieldViolations::new();
    let centre = CentreId::parse_name(&request.parent);
    if centre.is_none() {
        violations.add("parent", "must be a centre name `centres/{centre_id}`");
    }
    let request_id = request_id(&request.request_id, &mut violations);
    let Some(booking) = &request.booking else {
        violations.add("booking", "is required");
        return Err(violations.into_status());
    };
    if !civicgrid_cell_tree::is_valid_id(&booking.zone_id) {
        violations.add("booking.zone_id", "must be a zone_id of the centre");
    }
    let start = time(
        booking.start_time.as_ref(),
        "booking.start_time",
        &mut violations,
    );
    let end = time(
        booking.end_time.as_ref(),
        "booking.end_time",
        &mut violations,
    );
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        violations.add("booking.end_time", "must be after start_time");
    }
    let purpose = parse_text(&booking.purpose, 0, MAX_PURPOSE_CHARS).unwrap_or_else(|why| {
        violations.add("booking.purpose", why);
        String::new()
    });
    match (centre, start, end) {
        (Some(centre), Some(start), Some(end)) if violations.is_empty() => Ok(CreateBooking {
            booking: NewBooking {
                centre_id: centre.as_str().to_owned(),
                zone_id: booking.zone_id.clone(),
                start,
                end,
                purpose,
            },
            request_id,
        }),
        _ => Err(violations.into_status()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civicgrid_runtime::status::field_violations;

    fn fields(status: Status) -> Vec<String> {
        field_violations(&status)
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    #[test]
    fn every_bad_field_of_a_centre_is_named_by_its_path() {
        let request = pb::CreateCentreRequest {
            centre_id: "Bad Id".into(),
            request_id: "nope".into(),
            centre: Some(pb::Centre {
                display_name: " ".into(),
                category: 0,
                owner_organisation: "no slash".into(),
                cell: "cells/m1".into(),
                compound: "compounds/k1".into(),
                floor_area_square_metres: 0,
                opening_hours: vec![pb::OpeningPeriod {
                    weekday: 8,
                    opens: "10:00".into(),
                    closes: "09:00".into(),
                    kind: 1,
                }],
                zones: vec![
                    pb::Zone {
                        zone_id: "hall".into(),
                        display_name: "Hall".into(),
                        function: 1,
                        area_square_metres: 50,
                        capacity: 20,
                    },
                    pb::Zone {
                        zone_id: "hall".into(),
                        display_name: "Hall 2".into(),
                        function: 9,
                        area_square_metres: 50,
                        capacity: 0,
                    },
                ],
                linked_compounds: vec!["cells/x".into()],
                ..Default::default()
            }),
        };
        assert_eq!(
            fields(create_centre(&request).unwrap_err()),
            [
                "centre_id",
                "request_id",
                "centre.display_name",
                "centre.category",
                "centre.owner_organisation",
                "centre.cell",
                "centre.floor_area_square_metres",
                "centre.opening_hours[0].weekday",
                "centre.zones[1].function",
                "centre.zones[1].capacity",
                "centre.linked_compounds[0]",
            ]
        );
    }

    #[test]
    fn a_period_closing_before_it_opens_names_its_close() {
        let mut violations = FieldViolations::new();
        let periods = [pb::OpeningPeriod {
            weekday: 1,
            opens: "10:00".into(),
            closes: "09:00".into(),
            kind: 2,
        }];
        assert!(opening_hours(&periods, "p", &mut violations).is_empty());
        assert_eq!(violations.violations()[0].0, "p[0].closes");
    }

    #[test]
    fn a_booking_needs_a_range_that_ends_after_it_starts() {
        let at = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
        let request = pb::CreateBookingRequest {
            parent: "centres/c1".into(),
            booking: Some(pb::Booking {
                zone_id: "hall".into(),
                start_time: at(100),
                end_time: at(100),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        assert_eq!(
            fields(create_booking(&request).unwrap_err()),
            ["booking.end_time"]
        );
    }
}
