//! CreateResource: a resource entered directly; and the one path every
//! resource takes into the list, report events included.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::create_demand::place_in_scope;
use super::{CommandError, now};
use crate::domain::access::may_book;
use crate::domain::lists::{NewResource, Placed, Resource, ResourceState};
use crate::events::publish;
use crate::store::lists;

/// Enters the resource and writes `centres.resource.registered`.
#[tracing::instrument(skip_all)]
pub async fn create_resource(
    conn: &mut PgConnection,
    caller: &Caller,
    new: NewResource,
) -> Result<Resource, CommandError> {
    if !may_book(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow entering resources".to_owned(),
        ));
    }
    let place = place_in_scope(&mut *conn, caller, &new.location, "resource").await?;
    register_resource(&mut *conn, new, place, &caller.subject, "").await
}

/// Stores a resource at `place` and writes its event.
pub(crate) async fn register_resource(
    conn: &mut PgConnection,
    new: NewResource,
    place: Placed,
    actor: &str,
    causation: &str,
) -> Result<Resource, CommandError> {
    let resource = Resource {
        id: Uuid::now_v7(),
        category: new.category,
        place,
        capacity: new.capacity,
        start: new.start,
        end: new.end,
        description: new.description,
        provider: new.provider,
        source: new.source,
        state: ResourceState::Idle,
        create_time: now(),
    };
    lists::insert_resource(&mut *conn, &resource).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::resource_changed(&resource, "registered", actor, causation),
    )
    .await?;
    Ok(resource)
}
