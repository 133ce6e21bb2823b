//! CreateCentre: registers a centre at a known cell or compound.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::status::FieldViolations;
use sqlx::PgConnection;
use uuid::Uuid;

use super::publish_state::{
    communities_of, publish_compliance, publish_coverage, standard_in_force,
};
use super::{CommandError, invalid, now};
use crate::domain::access::{may_edit_centres, sees};
use crate::domain::centre::{Category, Centre, Location, NewCentre, centre_name};
use crate::events::publish;
use crate::store::centres;

/// Level of community cells in the tree.
const COMMUNITY_LEVEL: i16 = 3;

/// A parsed CreateCentre request.
#[derive(Debug, Clone)]
pub struct CreateCentre {
    /// The centre.
    pub centre: NewCentre,
    /// Idempotency key.
    pub request_id: Option<Uuid>,
}

/// Registers the centre and writes `centres.centre.registered`, its
/// `centres.compliance.changed` and `centres.coverage.changed` of the
/// communities it covers in (a community centre covers compounds within
/// `walking_radius_metres` of it).
#[tracing::instrument(skip_all, fields(centre = %input.centre.id))]
pub async fn create_centre(
    conn: &mut PgConnection,
    caller: &Caller,
    input: CreateCentre,
    walking_radius_metres: f64,
) -> Result<Centre, CommandError> {
    if !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow registering centres".to_owned(),
        ));
    }
    let roots = caller.scope_roots("cells");
    if let Some(request_id) = input.request_id
        && let Some(existing) = centres::created_by_request(&mut *conn, request_id).await?
    {
        // A retry of a request that already succeeded: same answer, no new event.
        return centres::get(&mut *conn, &existing)
            .await?
            .filter(|centre| sees(&centre.location_path, roots.as_deref()))
            .ok_or_else(|| CommandError::NotFound(centre_name(&existing)));
    }
    let new = input.centre;
    let location_path = place(&mut *conn, new.category, &new.location, roots.as_deref()).await?;
    check_links(&mut *conn, &location_path, &new.linked_compounds).await?;

    let at = now();
    let centre = Centre {
        id: new.id.as_str().to_owned(),
        display_name: new.display_name,
        category: new.category,
        owner_organisation: new.owner_organisation,
        location: new.location,
        location_path,
        floor_area: new.floor_area,
        opening_hours: new.opening_hours,
        zones: new.zones,
        linked_compounds: new.linked_compounds,
        coordinates: new.coordinates,
        version: 1,
        create_time: at,
        update_time: at,
    };
    if !centres::insert(&mut *conn, &centre).await? {
        return Err(CommandError::AlreadyExists(new.id.resource_name()));
    }
    let causation = input
        .request_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    if let Some(request_id) = input.request_id {
        centres::remember_request(&mut *conn, request_id, &centre.id).await?;
    }
    outbox::enqueue(
        &mut *conn,
        &publish::centre_registered(&centre, &caller.subject, &causation),
    )
    .await?;
    let standard = standard_in_force(&mut *conn, centre.category).await?;
    publish_compliance(&mut *conn, &centre, &standard, &caller.subject, &causation).await?;
    let communities = communities_of(&mut *conn, &centre, &[]).await?;
    publish_coverage(
        &mut *conn,
        &communities,
        walking_radius_metres,
        &caller.subject,
        &causation,
    )
    .await?;
    tracing::info!(centre = %centre.id, category = %centre.category, "centre registered");
    Ok(centre)
}

/// The path a centre at `location` takes: the cell's path, or the
/// compound's community's. INVALID_ARGUMENT on `centre.cell` /
/// `centre.compound` when it is unknown or does not fit the category,
/// PERMISSION_DENIED when it is outside the caller's scope.
async fn place(
    conn: &mut PgConnection,
    category: Category,
    location: &Location,
    roots: Option<&[String]>,
) -> Result<String, CommandError> {
    let (path, name) = match location {
        Location::Cell(id) => {
            let name = civicgrid_cell_tree::resource_name(id);
            let cell = civicgrid_cell_tree::get(&mut *conn, id)
                .await?
                .ok_or_else(|| invalid("centre.cell", format!("{name} is not a known cell")))?;
            match category {
                Category::ResidentialCompound => {
                    return Err(invalid(
                        "centre.compound",
                        "a residential compound centre must be placed at its compound",
                    ));
                }
                Category::Community if cell.level != COMMUNITY_LEVEL => {
                    return Err(invalid(
                        "centre.cell",
                        format!(
                            "{name} is not a community: a community centre sits at its community cell"
                        ),
                    ));
                }
                _ => {}
            }
            (cell.path, name)
        }
        Location::Compound(id) => {
            let name = civicgrid_cell_tree::compound_name(id);
            let compound = civicgrid_cell_tree::get_compound(&mut *conn, id)
                .await?
                .ok_or_else(|| {
                    invalid("centre.compound", format!("{name} is not a known compound"))
                })?;
            if category == Category::Community {
                return Err(invalid(
                    "centre.cell",
                    "a community centre must be placed at its community cell",
                ));
            }
            (compound.community_path, name)
        }
    };
    if !sees(&path, roots) {
        return Err(CommandError::PermissionDenied(format!(
            "{name} is outside your scope"
        )));
    }
    Ok(path)
}

/// INVALID_ARGUMENT naming `centre.linked_compounds[i]` for every linked
/// compound that is unknown or lies outside the centre's cell.
pub(crate) async fn check_links(
    conn: &mut PgConnection,
    location_path: &str,
    linked: &[String],
) -> Result<(), CommandError> {
    let mut violations = FieldViolations::new();
    for (index, id) in linked.iter().enumerate() {
        let field = format!("centre.linked_compounds[{index}]");
        match civicgrid_cell_tree::get_compound(&mut *conn, id).await? {
            None => violations.add(field, format!("compounds/{id} is not a known compound")),
            Some(compound) if !compound.community_path.starts_with(location_path) => violations
                .add(
                    field,
                    format!("compounds/{id} lies outside the centre's cell"),
                ),
            Some(_) => {}
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Invalid(violations))
    }
}
