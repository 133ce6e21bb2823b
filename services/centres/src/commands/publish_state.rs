//! The level events published beside a change: a centre's compliance and
//! a community's coverage, worked out inside the change's transaction by
//! the same rules and queries as ListCentreCompliance and
//! GetCoverageReport, so that a consumer (assessment) keeps the latest
//! and never re-implements them.

use std::collections::BTreeSet;

use civicgrid_messaging::outbox;
use sqlx::PgConnection;

use super::CommandError;
use crate::domain::centre::{Category, Centre};
use crate::domain::standard::{Standard, check};
use crate::events::publish;
use crate::store::coverage::{self, Area};
use crate::store::standards;

/// The standard in force of `category`, read after any new version being
/// put in force committed (and holding that off until the caller commits).
pub(crate) async fn standard_in_force(
    conn: &mut PgConnection,
    category: Category,
) -> Result<Standard, CommandError> {
    standards::share_category(&mut *conn, category).await?;
    standards::in_force(&mut *conn)
        .await?
        .remove(&category)
        .ok_or_else(|| {
            CommandError::Precondition(format!("no standard in force for category {category}"))
        })
}

/// Writes `centres.compliance.changed` for `centre` checked against
/// `standard` (its category's, in force).
pub(crate) async fn publish_compliance(
    conn: &mut PgConnection,
    centre: &Centre,
    standard: &Standard,
    actor: &str,
    causation: &str,
) -> sqlx::Result<()> {
    let version = standards::next_compliance_version(&mut *conn, &centre.id).await?;
    let compliance = check(centre, standard);
    outbox::enqueue(
        conn,
        &publish::compliance_changed(centre, &compliance, version, actor, causation),
    )
    .await
}

/// The community on `path` (`/county/street/community/...`), if it reaches one.
pub(crate) fn community_on(path: &str) -> Option<&str> {
    path.split('/').filter(|s| !s.is_empty()).nth(2)
}

/// The communities whose coverage `centre` takes part in: its own (a
/// community centre covers within the walking radius, a compound's centre
/// its compound) and those of its linked compounds and of `also_linked`
/// (the links it had before an update).
pub(crate) async fn communities_of(
    conn: &mut PgConnection,
    centre: &Centre,
    also_linked: &[String],
) -> sqlx::Result<BTreeSet<String>> {
    let mut out: BTreeSet<String> = community_on(&centre.location_path)
        .map(str::to_owned)
        .into_iter()
        .collect();
    for id in centre.linked_compounds.iter().chain(also_linked) {
        if let Some(compound) = civicgrid_cell_tree::get_compound(&mut *conn, id).await? {
            out.insert(compound.community_id);
        }
    }
    Ok(out)
}

/// Writes `centres.coverage.changed` for each of `communities` the grid
/// replica knows (as a cell or through its compounds), in id order (so two publishers lock the counters in one
/// order). Each version is bumped before the compounds are read: a
/// concurrent publisher of the same community waits for the counter and
/// then reads what this one wrote, so its higher version is also the later
/// state.
pub(crate) async fn publish_coverage(
    conn: &mut PgConnection,
    communities: &BTreeSet<String>,
    walking_radius_metres: f64,
    actor: &str,
    causation: &str,
) -> sqlx::Result<()> {
    for id in communities {
        let Some(path) = coverage::community_path(&mut *conn, id).await? else {
            continue;
        };
        let version = coverage::next_version(&mut *conn, id).await?;
        let area = Area::new(Some(path.clone()), None);
        let compounds = coverage::compounds(&mut *conn, &area, walking_radius_metres).await?;
        outbox::enqueue(
            &mut *conn,
            &publish::coverage_changed(id, &path, &compounds, version, actor, causation),
        )
        .await?;
    }
    Ok(())
}
