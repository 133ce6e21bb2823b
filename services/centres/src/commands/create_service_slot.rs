//! CreateServiceSlot: an opening of a service, within the centre's hours.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::catalogue_context::visible_centre;
use super::{CommandError, now};
use crate::domain::access::may_edit_centres;
use crate::domain::catalogue::{ServiceSlot, service_name};
use crate::domain::hours::{TIME_ZONE, period_for};
use crate::events::publish;
use crate::store::catalogue;

/// A parsed CreateServiceSlot request.
#[derive(Debug, Clone)]
pub struct CreateServiceSlot {
    /// The centre's code.
    pub centre_id: String,
    /// The service's code.
    pub service_id: String,
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
    /// People it serves.
    pub capacity: i32,
}

/// Opens the slot and writes `centres.slot.opened`.
#[tracing::instrument(skip_all, fields(centre = %input.centre_id, service = %input.service_id))]
pub async fn create_service_slot(
    conn: &mut PgConnection,
    caller: &Caller,
    input: CreateServiceSlot,
) -> Result<ServiceSlot, CommandError> {
    let centre = visible_centre(&mut *conn, caller, &input.centre_id).await?;
    let name = service_name(&input.centre_id, &input.service_id);
    if !catalogue::service_exists(&mut *conn, &input.centre_id, &input.service_id).await? {
        return Err(CommandError::NotFound(name));
    }
    if !may_edit_centres(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow opening service slots".to_owned(),
        ));
    }
    if period_for(&centre.opening_hours, input.start, input.end).is_none() {
        return Err(CommandError::Precondition(format!(
            "centres/{} is not open for the whole of the slot: it must fall within one opening period ({TIME_ZONE}, whole minutes)",
            centre.id
        )));
    }
    let slot = ServiceSlot {
        id: Uuid::now_v7(),
        centre_id: input.centre_id,
        service_id: input.service_id,
        start: input.start,
        end: input.end,
        capacity: input.capacity,
        booked: 0,
        create_time: now(),
    };
    catalogue::insert_slot(&mut *conn, &slot).await?;
    outbox::enqueue(&mut *conn, &publish::slot_opened(&slot, &caller.subject)).await?;
    Ok(slot)
}
