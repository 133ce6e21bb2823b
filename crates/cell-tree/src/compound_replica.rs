//! A service's replica of the grid's compounds, built from
//! `grid.compound.*` events.
//!
//! Like cells, events carry the whole compound (and its community's
//! ancestry), so applying one is an upsert guarded by the version: a late
//! or repeated event never rolls a compound back, and an update that
//! overtakes its create still leaves the right compound. The replica needs
//! no cell to be there first.

use std::sync::Arc;

use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use civicgrid_proto::grid::v1 as pb;
use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::compound::{COMPOUND_CREATED, COMPOUND_UPDATED, CompoundRow, parse_compound_name};
use crate::parse_name;
use crate::row::from_timestamp;

/// Applies `CompoundCreated` and `CompoundUpdated` to the local `compounds` table.
pub struct CompoundReplica;

impl CompoundReplica {
    /// What a rebuild of the replica empties: the statements to pass to
    /// [`Subscription::catch_up`].
    pub const RESET: &'static [&'static str] = &["DELETE FROM compounds"];

    /// The subscription `service` consumes the grid's compounds through.
    pub fn subscription(topology: &Topology, service: &str) -> Subscription {
        let handler = Arc::new(CompoundReplica);
        Subscription::new(topology, service, "grid-compounds")
            .on(COMPOUND_CREATED, handler.clone())
            .on(COMPOUND_UPDATED, handler)
    }
}

impl Handler for CompoundReplica {
    fn name(&self) -> &'static str {
        "compound-replica"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let compound = match event.routing_key.as_str() {
                COMPOUND_CREATED => event.decode::<pb::CompoundCreated>()?.compound,
                COMPOUND_UPDATED => event.decode::<pb::CompoundUpdated>()?.compound,
                other => {
                    return Err(HandlerError::Permanent(format!(
                        "not a compound event: {other}"
                    )));
                }
            };
            let compound = compound
                .ok_or_else(|| HandlerError::Permanent("event without a compound".to_owned()))?;
            upsert(conn, &row_from_event(&compound)?).await?;
            Ok(())
        })
    }
}

/// The stored row for a compound as an event carries it; a malformed one is
/// permanent poison (a retry cannot fix it).
pub fn row_from_event(compound: &pb::Compound) -> Result<CompoundRow, HandlerError> {
    let bad = |what: &str| HandlerError::Permanent(format!("compound event with {what}"));
    let id = parse_compound_name(&compound.name)
        .ok_or_else(|| bad("a bad name"))?
        .to_owned();
    let community_id = parse_name(&compound.community)
        .ok_or_else(|| bad("a bad community"))?
        .to_owned();
    let mut community_path = String::from("/");
    for ancestor in &compound.ancestors {
        community_path.push_str(parse_name(ancestor).ok_or_else(|| bad("a bad ancestor"))?);
        community_path.push('/');
    }
    if compound.ancestors.last() != Some(&compound.community) {
        return Err(bad("ancestors that do not end at its community"));
    }
    let mut building_ids = compound
        .buildings
        .iter()
        .map(|name| parse_name(name).map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("a bad building"))?;
    building_ids.sort();
    let year_built = match compound.year_built {
        0 => None,
        year => Some(i16::try_from(year).map_err(|_| bad("a bad year_built"))?),
    };
    Ok(CompoundRow {
        id,
        community_id,
        community_path,
        display_name: compound.display_name.clone(),
        building_ids,
        address: compound.address.clone(),
        year_built,
        newly_built: compound.newly_built,
        lacks_required_facilities: compound.lacks_required_facilities,
        property_company: compound.property_company.clone(),
        version: compound.version,
        create_time: from_timestamp(compound.create_time.as_ref()),
        update_time: from_timestamp(compound.update_time.as_ref()),
    })
}

/// Inserts or replaces the compound unless the stored version is newer or equal.
async fn upsert(conn: &mut PgConnection, row: &CompoundRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compounds (id, community_id, community_path, display_name, building_ids, address, \
           year_built, newly_built, lacks_required_facilities, property_company, version, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET community_id = EXCLUDED.community_id, \
           community_path = EXCLUDED.community_path, display_name = EXCLUDED.display_name, \
           building_ids = EXCLUDED.building_ids, address = EXCLUDED.address, \
           year_built = EXCLUDED.year_built, newly_built = EXCLUDED.newly_built, \
           lacks_required_facilities = EXCLUDED.lacks_required_facilities, \
           property_company = EXCLUDED.property_company, version = EXCLUDED.version, \
           create_time = EXCLUDED.create_time, update_time = EXCLUDED.update_time \
         WHERE compounds.version < EXCLUDED.version",
    )
    .bind(&row.id)
    .bind(&row.community_id)
    .bind(&row.community_path)
    .bind(&row.display_name)
    .bind(&row.building_ids)
    .bind(&row.address)
    .bind(row.year_built)
    .bind(row.newly_built)
    .bind(row.lacks_required_facilities)
    .bind(&row.property_company)
    .bind(row.version)
    .bind(row.create_time)
    .bind(row.update_time)
    .execute(conn)
    .await?;
    Ok(())
}
