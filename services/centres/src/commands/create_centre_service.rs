//! CreateCentreService: a service joins a centre's catalogue.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;

use super::catalogue_context::visible_centre;
use super::{CommandError, now};
use crate::domain::access::may_edit_centres;
use crate::domain::catalogue::CentreService;
use crate::events::publish;
use crate::store::catalogue;

/// A parsed CreateCentreService request.
#[derive(Debug, Clone)]
pub struct CreateCentreService {
    /// The centre's code.
    pub centre_id: String,
    /// The service's code.
    pub service_id: String,
    /// Display name.
    pub display_name: String,
    /// What it is.
    pub description: String,
}

/// Adds the service and writes `centres.service.registered`.
#[tracing::instrument(skip_all, fields(centre = %input.centre_id, service = %input.service_id))]
pub async fn create_centre_service(
    conn: &mut PgConnection,
    caller: &Caller,
    input: CreateCentreService,
) -> Result<CentreService, CommandError> {
    visible_centre(&mut *conn, caller, &input.centre_id).await?;
    if !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow editing a centre's catalogue".to_owned(),
        ));
    }
    let service = CentreService {
        centre_id: input.centre_id,
        id: input.service_id,
        display_name: input.display_name,
        description: input.description,
        create_time: now(),
    };
    if !catalogue::insert_service(&mut *conn, &service).await? {
        return Err(CommandError::AlreadyExists(service.resource_name()));
    }
    outbox::enqueue(
        &mut *conn,
        &publish::service_registered(&service, &caller.subject),
    )
    .await?;
    Ok(service)
}
