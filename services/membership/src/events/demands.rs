//! `centres.demand.registered` into the communities' demand lists, which
//! ListDemandOffers matches to reported members' skills. The demand's id
//! is the key: a redelivered event is skipped by the inbox, the same
//! demand under another event id by the key.

use std::sync::Arc;

use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use civicgrid_proto::centres::v1 as centres;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::commands::record_demand::{Place, RecordDemandError, record_demand};
use crate::store::demands::DemandRow;

/// Routing key of the demands centres registers.
pub const DEMAND_REGISTERED: &str = "centres.demand.registered";

/// Applies `DemandRegistered`.
pub struct CommunityDemands;

impl CommunityDemands {
    /// The subscription membership consumes demands through. Live, like
    /// the check-ins: membership does not read centres' log, so demands
    /// registered before membership first started are not offered.
    pub fn subscription(topology: &Topology) -> Subscription {
        Subscription::new(topology, "membership", "centres-demands")
            .on(DEMAND_REGISTERED, Arc::new(CommunityDemands))
    }
}

/// The place and row of a demand event; a malformed event is permanent.
/// The community is filled in from the replica.
pub fn row_from_event(
    event: &centres::DemandRegistered,
) -> Result<(Place, DemandRow), HandlerError> {
    let bad = |what: &str| HandlerError::Permanent(format!("demand event with {what}"));
    let demand = event.demand.as_ref().ok_or_else(|| bad("no demand"))?;
    let id = demand
        .name
        .strip_prefix("demands/")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| bad("a bad demand name"))?;
    let (place, cell_id, compound_id) = match (demand.cell.as_str(), demand.compound.as_str()) {
        (cell, "") => {
            let id = civicgrid_cell_tree::parse_name(cell)
                .ok_or_else(|| bad("a bad cell name"))?
                .to_owned();
            (Place::Cell(id.clone()), Some(id), None)
        }
        ("", compound) => {
            let id = compound
                .strip_prefix("compounds/")
                .filter(|id| !id.is_empty())
                .ok_or_else(|| bad("a bad compound name"))?
                .to_owned();
            (Place::Compound(id.clone()), None, Some(id))
        }
        _ => return Err(bad("both a cell and a compound")),
    };
    let time = |t: Option<&prost_types::Timestamp>, what: &str| {
        t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
            .ok_or_else(|| bad(what))
    };
    let start_time = time(demand.start_time.as_ref(), "no start_time")?;
    let end_time = time(demand.end_time.as_ref(), "no end_time")?;
    let registered_at = time(demand.create_time.as_ref(), "no create_time")?;
    Ok((
        place,
        DemandRow {
            id,
            category: demand.category.clone(),
            community_id: String::new(),
            community_path: String::new(),
            cell_id,
            compound_id,
            start_time,
            end_time,
            description: demand.description.clone(),
            task: demand.task.clone(),
            registered_at,
        },
    ))
}

impl Handler for CommunityDemands {
    fn name(&self) -> &'static str {
        "community-demands"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let registered = event.decode::<centres::DemandRegistered>()?;
            let (place, row) = row_from_event(&registered)?;
            match record_demand(conn, place, row).await {
                Ok(_) => Ok(()),
                Err(RecordDemandError::NotYet(why)) => Err(HandlerError::Transient(why)),
                Err(RecordDemandError::Invalid(why)) => Err(HandlerError::Permanent(why)),
                Err(RecordDemandError::Command(error)) => {
                    Err(HandlerError::Transient(error.to_string()))
                }
            }
        })
    }
}
