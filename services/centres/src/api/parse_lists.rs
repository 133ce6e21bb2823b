//! Demand, resource and project requests into domain inputs, once, naming
//! every bad field.

use chrono::{DateTime, Utc};
use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::domain::centre::Location;
use crate::domain::lists::{MAX_AMOUNT, NewDemand, NewResource, is_category, parse_id};
use crate::domain::parse_text;

const MAX_DESCRIPTION_CHARS: usize = 2000;

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

/// The parts a demand and a resource share: category, place, amount,
/// window and description, checked under `prefix`.
#[allow(clippy::too_many_arguments)]
fn common(
    prefix: &str,
    category: &str,
    cell: &str,
    compound: &str,
    amount: (&str, i32),
    start: Option<&prost_types::Timestamp>,
    end: Option<&prost_types::Timestamp>,
    description: &str,
    violations: &mut FieldViolations,
) -> Option<(Location, DateTime<Utc>, DateTime<Utc>, String)> {
    if !is_category(category) {
        violations.add(
            format!("{prefix}.category"),
            "must be a category code: 1-63 of a-z, 0-9 and _",
        );
    }
    let location = if cell.is_empty() == compound.is_empty() {
        violations.add(
            format!("{prefix}.cell"),
            "exactly one of cell and compound must be set",
        );
        None
    } else if !cell.is_empty() {
        let id = civicgrid_cell_tree::parse_name(cell);
        if id.is_none() {
            violations.add(format!("{prefix}.cell"), "must be `cells/{cell_id}`");
        }
        id.map(|id| Location::Cell(id.to_owned()))
    } else {
        let id = civicgrid_cell_tree::parse_compound_name(compound);
        if id.is_none() {
            violations.add(
                format!("{prefix}.compound"),
                "must be `compounds/{compound_id}`",
            );
        }
        id.map(|id| Location::Compound(id.to_owned()))
    };
    if !(1..=MAX_AMOUNT).contains(&amount.1) {
        violations.add(
            format!("{prefix}.{}", amount.0),
            format!("must be 1-{MAX_AMOUNT}"),
        );
    }
    let start = time(start, &format!("{prefix}.start_time"), violations);
    let end = time(end, &format!("{prefix}.end_time"), violations);
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        violations.add(format!("{prefix}.end_time"), "must be after start_time");
    }
    let description = parse_text(description, 0, MAX_DESCRIPTION_CHARS).unwrap_or_else(|why| {
        violations.add(format!("{prefix}.description"), why);
        String::new()
    });
    Some((location?, start?, end?, description))
}

/// CreateDemand.
pub fn create_demand(request: &pb::CreateDemandRequest) -> Result<NewDemand, Status> {
    let mut violations = FieldViolations::new();
    let Some(demand) = &request.demand else {
        violations.add("demand", "is required");
        return Err(violations.into_status());
    };
    let parsed = common(
        "demand",
        &demand.category,
        &demand.cell,
        &demand.compound,
        ("quantity", demand.quantity),
        demand.start_time.as_ref(),
        demand.end_time.as_ref(),
        &demand.description,
        &mut violations,
    );
    match parsed {
        Some((location, start, end, description)) if violations.is_empty() => Ok(NewDemand {
            category: demand.category.clone(),
            location,
            quantity: demand.quantity,
            start,
            end,
            small_wish: demand.small_wish,
            description,
        }),
        _ => Err(violations.into_status()),
    }
}

/// CreateResource.
pub fn create_resource(request: &pb::CreateResourceRequest) -> Result<NewResource, Status> {
    let mut violations = FieldViolations::new();
    let Some(resource) = &request.resource else {
        violations.add("resource", "is required");
        return Err(violations.into_status());
    };
    let parsed = common(
        "resource",
        &resource.category,
        &resource.cell,
        &resource.compound,
        ("capacity", resource.capacity),
        resource.start_time.as_ref(),
        resource.end_time.as_ref(),
        &resource.description,
        &mut violations,
    );
    let provider_ok = ["organisations/", "members/"].iter().any(|prefix| {
        resource
            .provider
            .strip_prefix(prefix)
            .is_some_and(|id| !id.is_empty() && !id.contains(char::is_whitespace))
    });
    if !provider_ok {
        violations.add(
            "resource.provider",
            "must be `organisations/{id}` or `members/{id}`",
        );
    }
    match parsed {
        Some((location, start, end, description)) if violations.is_empty() => Ok(NewResource {
            category: resource.category.clone(),
            location,
            capacity: resource.capacity,
            start,
            end,
            description,
            provider: resource.provider.clone(),
            source: String::new(),
        }),
        _ => Err(violations.into_status()),
    }
}

/// The uuid of `{collection}/{uuid}` in `field`.
pub fn id_of(name: &str, collection: &str, field: &str) -> Result<Uuid, Status> {
    parse_id(name, collection).ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(field, format!("must be `{collection}/{{id}}`"));
        violations.into_status()
    })
}

/// ClaimMatch: the demand and the resource.
pub fn claim_match(request: &pb::ClaimMatchRequest) -> Result<(Uuid, Uuid), Status> {
    let mut violations = FieldViolations::new();
    let demand = parse_id(&request.demand, "demands");
    if demand.is_none() {
        violations.add("demand", "must be `demands/{id}`");
    }
    let resource = parse_id(&request.resource, "resources");
    if resource.is_none() {
        violations.add("resource", "must be `resources/{id}`");
    }
    match (demand, resource) {
        (Some(demand), Some(resource)) => Ok((demand, resource)),
        _ => Err(violations.into_status()),
    }
}

/// RecordProjectMilestone: the project and the title.
pub fn record_milestone(
    request: &pb::RecordProjectMilestoneRequest,
) -> Result<(Uuid, String), Status> {
    let mut violations = FieldViolations::new();
    let project = parse_id(&request.project, "projects");
    if project.is_none() {
        violations.add("project", "must be `projects/{id}`");
    }
    let title = request
        .milestone
        .as_ref()
        .map(|m| m.title.as_str())
        .unwrap_or_default();
    let title = parse_text(title, 1, 200).unwrap_or_else(|why| {
        violations.add("milestone.title", why);
        String::new()
    });
    match project {
        Some(project) if violations.is_empty() => Ok((project, title)),
        _ => Err(violations.into_status()),
    }
}

/// CompleteProject: the project and the rating.
pub fn complete_project(request: &pb::CompleteProjectRequest) -> Result<(Uuid, i32), Status> {
    let mut violations = FieldViolations::new();
    let project = parse_id(&request.name, "projects");
    if project.is_none() {
        violations.add("name", "must be `projects/{id}`");
    }
    if !(1..=5).contains(&request.rating) {
        violations.add(
            "rating",
            "must be 1 (very dissatisfied) to 5 (very satisfied)",
        );
    }
    match project {
        Some(project) if violations.is_empty() => Ok((project, request.rating)),
        _ => Err(violations.into_status()),
    }
}
