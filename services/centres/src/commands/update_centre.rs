//! UpdateCentre: rename, re-own, resize, reschedule, re-zone or re-link a centre.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;

use super::create_centre::check_links;
use super::publish_state::{
    communities_of, publish_compliance, publish_coverage, standard_in_force,
};
use super::{CommandError, now};
use crate::domain::access::{may_edit_centres, sees};
use crate::domain::centre::{Centre, CentreId, CentrePatch};
use crate::events::publish;
use crate::store::centres;

/// A parsed UpdateCentre request.
#[derive(Debug, Clone)]
pub struct UpdateCentre {
    /// The centre.
    pub id: CentreId,
    /// What changes.
    pub patch: CentrePatch,
    /// The version the caller last read, from its etag.
    pub expected_version: Option<i64>,
}

/// Applies the patch and writes `centres.centre.updated` with it; then
/// `centres.compliance.changed` when zones or floor area changed (what the
/// standard checks) and `centres.coverage.changed` of every community
/// concerned when coordinates or linked compounds changed (what coverage
/// depends on beside the immutable category and place).
#[tracing::instrument(skip_all, fields(centre = %input.id))]
pub async fn update_centre(
    conn: &mut PgConnection,
    caller: &Caller,
    input: UpdateCentre,
    walking_radius_metres: f64,
) -> Result<Centre, CommandError> {
    let name = input.id.resource_name();
    let mut centre = centres::lock(&mut *conn, input.id.as_str())
        .await?
        .filter(|centre| {
            sees(
                &centre.location_path,
                caller.scope_roots("cells").as_deref(),
            )
        })
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    if !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow editing centres".to_owned(),
        ));
    }
    if let Some(expected) = input.expected_version
        && expected != centre.version
    {
        return Err(CommandError::Aborted(format!(
            "{name} changed since you read it (your etag is for version {expected}, it is now at {}); read it again",
            centre.version
        )));
    }
    let patch = input.patch;
    let linked_before = centre.linked_compounds.clone();
    let mut paths = Vec::new();
    if let Some(display_name) = patch.display_name {
        centre.display_name = display_name;
        paths.push("display_name");
    }
    if let Some(owner) = patch.owner_organisation {
        centre.owner_organisation = owner;
        paths.push("owner_organisation");
    }
    if let Some(area) = patch.floor_area {
        centre.floor_area = area;
        paths.push("floor_area_square_metres");
    }
    if let Some(hours) = patch.opening_hours {
        centre.opening_hours = hours;
        paths.push("opening_hours");
    }
    if let Some(zones) = patch.zones {
        centre.zones = zones;
        paths.push("zones");
    }
    if let Some(coordinates) = patch.coordinates {
        centre.coordinates = coordinates;
        paths.push("coordinates");
    }
    if let Some(linked) = patch.linked_compounds {
        check_links(&mut *conn, &centre.location_path, &linked).await?;
        centre.linked_compounds = linked;
        paths.push("linked_compounds");
    }
    centre.version += 1;
    centre.update_time = now();
    centres::update(&mut *conn, &centre).await?;
    let changed = |path: &str| paths.contains(&path);
    let (compliance, coverage) = (
        changed("zones") || changed("floor_area_square_metres"),
        changed("coordinates") || changed("linked_compounds"),
    );
    let paths = paths.into_iter().map(str::to_owned).collect();
    outbox::enqueue(
        &mut *conn,
        &publish::centre_updated(&centre, paths, &caller.subject),
    )
    .await?;
    if compliance {
        let standard = standard_in_force(&mut *conn, centre.category).await?;
        publish_compliance(&mut *conn, &centre, &standard, &caller.subject, "").await?;
    }
    if coverage {
        let communities = communities_of(&mut *conn, &centre, &linked_before).await?;
        publish_coverage(
            &mut *conn,
            &communities,
            walking_radius_metres,
            &caller.subject,
            "",
        )
        .await?;
    }
    Ok(centre)
}
