//! CreateDemand: a need enters the demand list.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, invalid, now};
use crate::domain::access::{may_book, sees};
use crate::domain::centre::Location;
use crate::domain::lists::{Demand, DemandState, NewDemand, Placed};
use crate::events::publish;
use crate::store::{lists, places};

/// Where `location` lies, if the replica knows it at community level or
/// below and the caller sees it; the violation names `field_prefix.cell`
/// or `.compound`.
pub(crate) async fn place_in_scope(
    conn: &mut PgConnection,
    caller: &Caller,
    location: &Location,
    field_prefix: &str,
) -> Result<Placed, CommandError> {
    let (field, name) = match location {
        Location::Cell(id) => ("cell", civicgrid_cell_tree::resource_name(id)),
        Location::Compound(id) => ("compound", civicgrid_cell_tree::compound_name(id)),
    };
    let place = places::resolve(&mut *conn, location)
        .await?
        .ok_or_else(|| {
            invalid(
                format!("{field_prefix}.{field}"),
                format!("{name} is not a known community, compound or cell below a community"),
            )
        })?;
    if !sees(&place.path, caller.scope_roots("cells").as_deref()) {
        return Err(CommandError::PermissionDenied(format!(
            "{name} is outside your scope"
        )));
    }
    Ok(place)
}

/// Enters the demand and writes `centres.demand.registered`.
#[tracing::instrument(skip_all)]
pub async fn create_demand(
    conn: &mut PgConnection,
    caller: &Caller,
    new: NewDemand,
) -> Result<Demand, CommandError> {
    if !may_book(caller) {
        return Err(CommandError::PermissionDenied(
            "your roles do not allow entering demands".to_owned(),
        ));
    }
    let place = place_in_scope(&mut *conn, caller, &new.location, "demand").await?;
    let entered = enter_demand(
        &mut *conn,
        new,
        place,
        Source {
            requested_by: &caller.subject,
            task: None,
            actor: &caller.subject,
            causation: "",
        },
    )
    .await?;
    // Only a demand with a source task can be refused as entered before.
    entered.ok_or_else(|| {
        CommandError::Unavailable("the demand was not stored; retry the call".to_owned())
    })
}

/// Who a demand comes from and which change caused it.
pub(crate) struct Source<'a> {
    /// Stored as the demand's `requested_by`.
    pub requested_by: &'a str,
    /// `tasks/{task_id}` for a resident's request from the grid.
    pub task: Option<String>,
    /// The event's actor.
    pub actor: &'a str,
    /// The event that caused it (empty for an API call).
    pub causation: &'a str,
}

/// Stores a demand at `place` and writes `centres.demand.registered`, the
/// one path every demand takes into the list, grid tasks included;
/// `None` (nothing written) when `source.task` has a demand already.
pub(crate) async fn enter_demand(
    conn: &mut PgConnection,
    new: NewDemand,
    place: Placed,
    source: Source<'_>,
) -> Result<Option<Demand>, CommandError> {
    let demand = Demand {
        id: Uuid::now_v7(),
        category: new.category,
        place,
        quantity: new.quantity,
        start: new.start,
        end: new.end,
        small_wish: new.small_wish,
        description: new.description,
        requested_by: source.requested_by.to_owned(),
        task: source.task,
        state: DemandState::Open,
        create_time: now(),
    };
    if !lists::insert_demand(&mut *conn, &demand).await? {
        return Ok(None);
    }
    outbox::enqueue(
        &mut *conn,
        &publish::demand_registered(&demand, source.actor, source.causation),
    )
    .await?;
    Ok(Some(demand))
}
