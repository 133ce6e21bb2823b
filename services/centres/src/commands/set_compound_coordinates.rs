//! SetCompoundCoordinates: where a compound is, for walking-radius coverage.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;

use super::CommandError;
use super::publish_state::publish_coverage;
use crate::domain::access::{may_edit_centres, sees};
use crate::domain::centre::GeoPoint;
use crate::events::publish;
use crate::store::coverage;

/// Records the compound's coordinates (replacing earlier ones) and writes
/// `centres.compound.located` and its community's `centres.coverage.changed`
/// (a community centre covers within `walking_radius_metres`).
#[tracing::instrument(skip_all, fields(compound = %id))]
pub async fn set_compound_coordinates(
    conn: &mut PgConnection,
    caller: &Caller,
    id: String,
    point: GeoPoint,
    walking_radius_metres: f64,
) -> Result<GeoPoint, CommandError> {
    let name = civicgrid_cell_tree::compound_name(&id);
    let compound = civicgrid_cell_tree::get_compound(&mut *conn, &id)
        .await?
        .filter(|k| sees(&k.community_path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| CommandError::NotFound(name))?;
    if !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow placing compounds".to_owned(),
        ));
    }
    coverage::set_compound_coordinates(
        &mut *conn,
        &id,
        point.latitude(),
        point.longitude(),
        &caller.subject,
    )
    .await?;
    outbox::enqueue(
        &mut *conn,
        &publish::compound_located(&id, point, &caller.subject),
    )
    .await?;
    publish_coverage(
        &mut *conn,
        &[compound.community_id].into_iter().collect(),
        walking_radius_metres,
        &caller.subject,
        "",
    )
    .await?;
    Ok(point)
}
