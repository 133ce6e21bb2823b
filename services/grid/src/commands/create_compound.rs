//! CreateCompound: a residential compound in a community, with its buildings.

use civicgrid_runtime::error::Outcomes as _;
use std::collections::HashMap;

use civicgrid_cell_tree::{CellRow, CompoundRow, resource_name, visible};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::status::FieldViolations;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit_grid;
use crate::domain::cell::{CellId, Level};
use crate::domain::compound::{NewCompound, StoredCell, check_buildings};
use crate::events::publish;
use crate::store::{cells, compounds};

/// A parsed CreateCompound request.
#[derive(Debug, Clone)]
pub struct CreateCompound {
    /// The compound.
    pub compound: NewCompound,
    /// Idempotency key.
    pub request_id: Option<Uuid>,
}

/// Creates the compound, claims its buildings and writes its
/// `grid.compound.created` event.
#[tracing::instrument(skip_all, fields(compound = %input.compound.id))]
pub async fn create_compound(
    conn: &mut PgConnection,
    caller: &Caller,
    input: CreateCompound,
) -> Result<CompoundRow, CommandError> {
    if !may_edit_grid(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow editing the grid".to_owned(),
        ));
    }
    let roots = caller.scope_roots("cells");
    let new = input.compound;

    if let Some(request_id) = input.request_id
        && let Some(existing) = compounds::created_by_request(&mut *conn, request_id).await?
    {
        // A retry of a request that already succeeded: same answer, no new event.
        return civicgrid_cell_tree::get_compound(&mut *conn, &existing)
            .await?
            .filter(|row| row.visible(roots.as_deref()))
            .ok_or_else(|| CommandError::not_found(civicgrid_cell_tree::compound_name(&existing)));
    }

    let community = community(&mut *conn, &new.community, roots.as_deref()).await?;
    check_building_cells(
        &mut *conn,
        &new.community,
        &community.path,
        &new.buildings,
        "compound.buildings",
    )
    .await?;

    let at = now();
    let mut building_ids: Vec<String> = new
        .buildings
        .iter()
        .map(|b| b.as_str().to_owned())
        .collect();
    building_ids.sort();
    let row = CompoundRow {
        id: new.id.as_str().to_owned(),
        community_id: community.id.clone(),
        community_path: community.path.clone(),
        display_name: new.display_name.as_str().to_owned(),
        building_ids,
        address: new.address,
        year_built: new.year_built,
        newly_built: new.newly_built,
        lacks_required_facilities: new.lacks_required_facilities,
        property_company: new.property_company,
        version: 1,
        create_time: at,
        update_time: at,
    };
    if !compounds::insert(&mut *conn, &row).await? {
        return Err(CommandError::already_exists(new.id.resource_name()));
    }
    claim(&mut *conn, &row).await?;
    let causation = input
        .request_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    if let Some(request_id) = input.request_id {
        compounds::remember_request(&mut *conn, request_id, &row.id).await?;
    }
    outbox::enqueue(
        &mut *conn,
        &publish::compound_created(&row, &caller.subject, &causation),
    )
    .await?;
    tracing::info!(compound = %row.id, buildings = row.building_ids.len(), "compound created");
    Ok(row)
}

/// The community cell `id` for a compound: INVALID_ARGUMENT on
/// `compound.community` when it is missing or no community,
/// PERMISSION_DENIED when it is outside the caller's scope.
async fn community(
    conn: &mut PgConnection,
    id: &CellId,
    roots: Option<&[String]>,
) -> Result<CellRow, CommandError> {
    let field = "compound.community";
    let Some(row) = civicgrid_cell_tree::get(&mut *conn, id.as_str()).await? else {
        let mut violations = FieldViolations::new();
        violations.add(
            field,
            format!("{} does not exist", resource_name(id.as_str())),
        );
        return Err(CommandError::invalid(violations));
    };
    if !visible(&row, roots) {
        return Err(CommandError::permission_denied(format!(
            "{} is outside your scope",
            resource_name(&row.id)
        )));
    }
    let level = cells::level(&row)?;
    if level != Level::Community {
        let mut violations = FieldViolations::new();
        violations.add(field, format!("is a {level} cell, not a community"));
        return Err(CommandError::invalid(violations));
    }
    Ok(row)
}

/// INVALID_ARGUMENT naming `{field}[i]` for every building that is not a
/// building cell under the community at `community_path`.
pub(crate) async fn check_building_cells(
    conn: &mut PgConnection,
    community: &CellId,
    community_path: &str,
    buildings: &[CellId],
    field: &str,
) -> Result<(), CommandError> {
    if buildings.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = buildings.iter().map(|b| b.as_str().to_owned()).collect();
    let stored: HashMap<String, (Level, String)> = cells::find_all(&mut *conn, &ids)
        .await?
        .into_iter()
        .map(|row| Ok((row.id.clone(), (cells::level(&row)?, row.path))))
        .collect::<sqlx::Result<_>>()?;
    let problems = check_buildings(community, community_path, buildings, |id| {
        stored.get(id).map(|(level, path)| StoredCell {
            level: *level,
            path,
        })
    });
    if problems.is_empty() {
        return Ok(());
    }
    let mut violations = FieldViolations::new();
    for (index, problem) in problems {
        violations.add(format!("{field}[{index}]"), problem.to_string());
    }
    Err(CommandError::invalid(violations))
}

/// Claims `row`'s buildings for it; FAILED_PRECONDITION naming the first
/// building another compound holds.
pub(crate) async fn claim(conn: &mut PgConnection, row: &CompoundRow) -> Result<(), CommandError> {
    let taken = compounds::claim_buildings(&mut *conn, &row.id, &row.building_ids).await?;
    match taken.first() {
        None => Ok(()),
        Some((building, holder)) => {
            let more = match taken.len() {
                1 => String::new(),
                n => format!(" (and {} more of its buildings are taken)", n - 1),
            };
            Err(CommandError::precondition(format!(
                "{} already belongs to {}; remove it there first{more}",
                resource_name(building),
                civicgrid_cell_tree::compound_name(holder)
            )))
        }
    }
}
