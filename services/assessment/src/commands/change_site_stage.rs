//! AdvanceDemonstrationSite and EvaluateDemonstrationSite: a site's stage
//! moved by hand, or by an evaluation of its criteria against the
//! published ranking; every change publishes `assessment.site.stage_changed`.

use chrono::Utc;
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::{Outcomes as _, UseCaseError};
use sqlx::PgConnection;

use super::check_county_admin;
use crate::domain::period::Period;
use crate::domain::sites::{self, Stage};
use crate::events::publish;
use crate::store::schemes;
use crate::store::sites::{self as store, SiteRow};

async fn locked(conn: &mut PgConnection, id: &str) -> Result<SiteRow, UseCaseError> {
    store::get_for_update(conn, id)
        .await?
        .ok_or_else(|| UseCaseError::not_found(format!("demonstrationSites/{id}")))
}

async fn save(
    conn: &mut PgConnection,
    site: &mut SiteRow,
    from: Stage,
    actor: &str,
) -> Result<(), UseCaseError> {
    site.version += 1;
    site.update_time = Utc::now();
    store::update(&mut *conn, site).await?;
    if site.stage != from {
        outbox::enqueue(conn, &publish::site_stage_changed(site, from, actor)).await?;
    }
    Ok(())
}

/// Moves a site by hand (county administrators).
#[tracing::instrument(skip_all, fields(site = %id, to = to.as_str()))]
pub async fn advance_site(
    conn: &mut PgConnection,
    caller: &Caller,
    id: &str,
    to: Stage,
) -> Result<SiteRow, UseCaseError> {
    check_county_admin(caller, "moves demonstration sites")?;
    let mut site = locked(&mut *conn, id).await?;
    let from = site.stage;
    site.stage = sites::advance(from, to).map_err(|e| UseCaseError::precondition(e.to_string()))?;
    save(conn, &mut site, from, &caller.subject).await?;
    Ok(site)
}

/// Evaluates a site against the ranking of `period`; returns it and
/// whether it passed.
#[tracing::instrument(skip_all, fields(site = %id, %period))]
pub async fn evaluate_site(
    conn: &mut PgConnection,
    caller: &Caller,
    id: &str,
    period: Period,
) -> Result<(SiteRow, bool), UseCaseError> {
    check_county_admin(caller, "evaluates demonstration sites")?;
    let mut site = locked(&mut *conn, id).await?;
    let from = site.stage;
    // Refuse before reading anything when the stage is not evaluated.
    sites::after_evaluation(from, true).map_err(|e| UseCaseError::precondition(e.to_string()))?;
    let ranking = schemes::ranking_in(
        &mut *conn,
        &site.scheme_id,
        &site.level,
        &period.to_string(),
    )
    .await?
    .ok_or_else(|| {
        UseCaseError::precondition(format!(
            "schemes/{}/rankings/{}/{period} is not published yet; publish the scores first",
            site.scheme_id, site.level
        ))
    })?;
    let card = ranking.iter().find(|c| c.subject == site.subject);
    site.failing_criteria = sites::failing(&site.criteria, site.min_score, card);
    let passed = site.failing_criteria.is_empty();
    site.stage = sites::after_evaluation(from, passed)
        .map_err(|e| UseCaseError::precondition(e.to_string()))?;
    site.evaluated_period = period.to_string();
    save(conn, &mut site, from, &caller.subject).await?;
    Ok((site, passed))
}
