//! UpdateCompound: rename, re-address or re-flag a compound, or change its buildings.

use civicgrid_cell_tree::CompoundRow;
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;

use super::create_compound::{check_building_cells, claim};
use super::{CommandError, now};
use crate::domain::access::may_edit_grid;
use crate::domain::cell::CellId;
use crate::domain::compound::{CompoundId, CompoundPatch};
use crate::events::publish;
use crate::store::compounds;

/// A parsed UpdateCompound request.
#[derive(Debug, Clone)]
pub struct UpdateCompound {
    /// The compound.
    pub id: CompoundId,
    /// What changes.
    pub patch: CompoundPatch,
    /// The version the caller last read, from its etag.
    pub expected_version: Option<i64>,
}

/// Applies the patch and writes `grid.compound.updated` with it.
#[tracing::instrument(skip_all, fields(compound = %input.id))]
pub async fn update_compound(
    conn: &mut PgConnection,
    caller: &Caller,
    input: UpdateCompound,
) -> Result<CompoundRow, CommandError> {
    let name = input.id.resource_name();
    let mut row = compounds::lock(&mut *conn, input.id.as_str())
        .await?
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    if !row.visible(caller.scope_roots("cells").as_deref()) {
        return Err(CommandError::permission_denied(format!(
            "{name} is outside your scope"
        )));
    }
    if !may_edit_grid(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow editing the grid".to_owned(),
        ));
    }
    if let Some(expected) = input.expected_version
        && expected != row.version
    {
        return Err(CommandError::aborted(format!(
            "{name} changed since you read it (your etag is for version {expected}, it is now at {}); read it again",
            row.version
        )));
    }

    let patch = input.patch;
    let mut paths = Vec::new();
    if let Some(display_name) = patch.display_name {
        row.display_name = display_name.as_str().to_owned();
        paths.push("display_name");
    }
    if let Some(buildings) = &patch.buildings {
        // Parsed ids: the stored community id is always a valid code.
        let community = CellId::parse(&row.community_id)
            .ok_or_else(|| sqlx::Error::Decode("invalid value in compounds.community_id".into()))?;
        check_building_cells(
            &mut *conn,
            &community,
            &row.community_path,
            buildings,
            "compound.buildings",
        )
        .await?;
        let mut ids: Vec<String> = buildings.iter().map(|b| b.as_str().to_owned()).collect();
        ids.sort();
        row.building_ids = ids;
        claim(&mut *conn, &row).await?;
        paths.push("buildings");
    }
    if let Some(address) = patch.address {
        row.address = address;
        paths.push("address");
    }
    if let Some(year_built) = patch.year_built {
        row.year_built = year_built;
        paths.push("year_built");
    }
    if let Some(newly_built) = patch.newly_built {
        row.newly_built = newly_built;
        paths.push("newly_built");
    }
    if let Some(lacks) = patch.lacks_required_facilities {
        row.lacks_required_facilities = lacks;
        paths.push("lacks_required_facilities");
    }
    if let Some(company) = patch.property_company {
        row.property_company = company;
        paths.push("property_company");
    }
    row.version += 1;
    row.update_time = now();
    compounds::update(&mut *conn, &row).await?;
    let paths = paths.into_iter().map(str::to_owned).collect();
    outbox::enqueue(
        &mut *conn,
        &publish::compound_updated(&row, paths, &caller.subject),
    )
    .await?;
    Ok(row)
}
