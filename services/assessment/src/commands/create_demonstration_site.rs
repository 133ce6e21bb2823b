//! CreateDemonstrationSite: a street or community nominated as a
//! demonstration site (示范点), in stage application.

use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::error::{Outcomes as _, UseCaseError};
use sqlx::PgConnection;

use crate::store::{
    schemes,
    sites::{self, SiteRow},
};

/// Stores the nomination. The county, or street admins whose scope covers
/// the subject, nominate; the scheme must exist.
#[tracing::instrument(skip_all, fields(site = %site.id))]
pub async fn create_demonstration_site(
    conn: &mut PgConnection,
    caller: &Caller,
    site: &SiteRow,
) -> Result<(), UseCaseError> {
    let id = civicgrid_cell_tree::parse_name(&site.subject).unwrap_or_default();
    let cell = civicgrid_cell_tree::get(&mut *conn, id)
        .await?
        .ok_or_else(|| UseCaseError::not_found(site.subject.clone()))?;
    let county = caller.has_role(Role::CountyAdmin) && caller.sees_everything();
    let street = caller.has_role(Role::StreetAdmin)
        && civicgrid_cell_tree::visible(&cell, caller.scope_roots("cells").as_deref());
    if !(county || street) {
        return Err(UseCaseError::permission_denied(format!(
            "only the county or the street of {} nominates it",
            site.subject
        )));
    }
    let expected_level = if site.level == "street" { 2 } else { 3 };
    if cell.level != expected_level {
        return Err(UseCaseError::invalid_field(
            "demonstration_site.level",
            format!("{} is not a {}", site.subject, site.level),
        ));
    }
    if !schemes::exists(&mut *conn, &site.scheme_id).await? {
        return Err(UseCaseError::not_found(format!(
            "schemes/{}",
            site.scheme_id
        )));
    }
    if !sites::insert(conn, site).await? {
        return Err(UseCaseError::already_exists(format!(
            "demonstrationSites/{}",
            site.id
        )));
    }
    tracing::info!(by = %caller.subject, "demonstration site nominated");
    Ok(())
}
