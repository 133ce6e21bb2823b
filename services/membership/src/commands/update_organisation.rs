//! UpdateOrganisation: rename an organisation or change its standardisation flags.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;

use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::{OrganisationId, visible};
use crate::events::publish;
use crate::store::organisations::{self, OrganisationRow};

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrganisationPatch {
    /// A new display name.
    pub display_name: Option<String>,
    /// 支委会 formed.
    pub branch_committee_formed: Option<bool>,
    /// Office premises.
    pub office_premises: Option<bool>,
    /// Activity premises.
    pub activity_premises: Option<bool>,
}

/// A parsed UpdateOrganisation request.
#[derive(Debug, Clone)]
pub struct UpdateOrganisation {
    /// Which.
    pub id: OrganisationId,
    /// What changes.
    pub patch: OrganisationPatch,
    /// The version the caller last read, from its etag.
    pub expected_version: Option<i64>,
}

/// Applies the patch and writes `membership.organisation.updated`.
#[tracing::instrument(skip_all, fields(organisation = %input.id))]
pub async fn update_organisation(
    conn: &mut PgConnection,
    caller: &Caller,
    input: UpdateOrganisation,
) -> Result<OrganisationRow, CommandError> {
    let name = input.id.resource_name();
    // Outside the scope is indistinguishable from absent.
    let mut row = organisations::lock(&mut *conn, input.id.as_str())
        .await?
        .filter(|row| visible(&row.area_path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow editing organisations",
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
    let flags = [
        patch.branch_committee_formed,
        patch.office_premises,
        patch.activity_premises,
    ];
    if !row.kind.is_party_organisation() && flags.iter().any(Option::is_some) {
        return Err(CommandError::invalid_field(
            "update_mask",
            format!("a {} has no standardisation flags", row.kind),
        ));
    }
    let mut paths = Vec::new();
    if let Some(display_name) = patch.display_name {
        row.display_name = display_name;
        paths.push("display_name");
    }
    if let Some(value) = patch.branch_committee_formed {
        row.standardisation.branch_committee_formed = value;
        paths.push("standardisation.branch_committee_formed");
    }
    if let Some(value) = patch.office_premises {
        row.standardisation.office_premises = value;
        paths.push("standardisation.office_premises");
    }
    if let Some(value) = patch.activity_premises {
        row.standardisation.activity_premises = value;
        paths.push("standardisation.activity_premises");
    }
    row.version += 1;
    row.update_time = now();
    organisations::update(&mut *conn, &row).await?;
    let paths = paths.into_iter().map(str::to_owned).collect();
    outbox::enqueue(
        &mut *conn,
        &publish::organisation_updated(&row, paths, &caller.subject),
    )
    .await?;
    Ok(row)
}
