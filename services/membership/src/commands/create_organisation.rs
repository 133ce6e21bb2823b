//! CreateOrganisation: an organisation under its parent, placed in the
//! replicated grid.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::{
    Kind, OrganisationId, Placement, PlacementError, Standardisation, StoredPlacement, area_path,
    check_parent, organisation_name, visible,
};
use crate::events::publish;
use crate::store::organisations::{self, OrganisationRow};

/// A parsed CreateOrganisation request.
#[derive(Debug, Clone)]
pub struct CreateOrganisation {
    /// Its code.
    pub id: OrganisationId,
    /// Human-readable name.
    pub display_name: String,
    /// Its kind.
    pub kind: Kind,
    /// The parent; `None` for the county committee.
    pub parent: Option<OrganisationId>,
    /// Where it is placed.
    pub placement: Placement,
    /// Its flags (always default for non-party kinds).
    pub standardisation: Standardisation,
    /// Idempotency key.
    pub request_id: Option<Uuid>,
}

/// Creates the organisation and writes `membership.organisation.created`.
#[tracing::instrument(skip_all, fields(organisation = %input.id))]
pub async fn create_organisation(
    conn: &mut PgConnection,
    caller: &Caller,
    input: CreateOrganisation,
) -> Result<OrganisationRow, CommandError> {
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow editing organisations",
        ));
    }
    let roots = caller.scope_roots("cells");
    if let Some(request_id) = input.request_id
        && let Some(existing) = organisations::created_by_request(&mut *conn, request_id).await?
    {
        // A retry of a request that already succeeded: same answer, no new event.
        return organisations::get(&mut *conn, &existing)
            .await?
            .filter(|row| visible(&row.area_path, roots.as_deref()))
            .ok_or_else(|| CommandError::not_found(organisation_name(&existing)));
    }

    let parent = match &input.parent {
        None => None,
        Some(id) => Some(
            organisations::get(&mut *conn, id.as_str())
                .await?
                .ok_or_else(|| {
                    CommandError::invalid_field(
                        "organisation.parent",
                        format!("{} does not exist", id.resource_name()),
                    )
                })?,
        ),
    };
    check_parent(input.kind, parent.as_ref().map(|p| p.kind))
        .map_err(|e| CommandError::invalid_field("organisation.parent", e.to_string()))?;

    let (cell, compound);
    let (stored, field) = match &input.placement {
        Placement::None => (StoredPlacement::None, "organisation.cell"),
        Placement::Cell(id) => {
            cell = civicgrid_cell_tree::get(&mut *conn, id)
                .await?
                .ok_or_else(|| {
                    CommandError::invalid_field(
                        "organisation.cell",
                        format!(
                            "{} is not a cell this service knows",
                            civicgrid_cell_tree::resource_name(id)
                        ),
                    )
                })?;
            (
                StoredPlacement::Cell {
                    level: cell.level,
                    path: &cell.path,
                },
                "organisation.cell",
            )
        }
        Placement::Compound(id) => {
            compound = civicgrid_cell_tree::get_compound(&mut *conn, id)
                .await?
                .ok_or_else(|| {
                    CommandError::invalid_field(
                        "organisation.compound",
                        format!(
                            "{} is not a compound this service knows",
                            civicgrid_cell_tree::compound_name(id)
                        ),
                    )
                })?;
            (
                StoredPlacement::Compound {
                    community_path: &compound.community_path,
                },
                "organisation.compound",
            )
        }
    };
    let area = area_path(
        input.kind,
        stored,
        parent.as_ref().map(|p| p.area_path.as_str()),
    )
    .map_err(|error| match error {
        PlacementError::OutsideParent if matches!(input.placement, Placement::None) => {
            CommandError::invalid_field("organisation.parent", error.to_string())
        }
        error => CommandError::invalid_field(field, error.to_string()),
    })?;
    if !visible(&area, roots.as_deref()) {
        return Err(CommandError::permission_denied(format!(
            "{} would lie outside your scope",
            input.id.resource_name()
        )));
    }

    let at = now();
    let (cell_id, compound_id) = match input.placement {
        Placement::None => (None, None),
        Placement::Cell(id) => (Some(id), None),
        Placement::Compound(id) => (None, Some(id)),
    };
    let row = OrganisationRow {
        id: input.id.as_str().to_owned(),
        kind: input.kind,
        display_name: input.display_name,
        parent_id: parent.map(|p| p.id),
        cell_id,
        compound_id,
        area_path: area,
        standardisation: input.standardisation,
        version: 1,
        create_time: at,
        update_time: at,
    };
    if !organisations::insert(&mut *conn, &row).await? {
        return Err(CommandError::already_exists(input.id.resource_name()));
    }
    let causation = input
        .request_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    if let Some(request_id) = input.request_id {
        organisations::remember_request(&mut *conn, request_id, &row.id).await?;
    }
    outbox::enqueue(
        &mut *conn,
        &publish::organisation_created(&row, &caller.subject, &causation),
    )
    .await?;
    tracing::info!(organisation = %row.id, kind = %row.kind, "organisation created");
    Ok(row)
}
