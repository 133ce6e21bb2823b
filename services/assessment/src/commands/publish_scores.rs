//! PublishScores: scores every subject of one level for one period with
//! the scheme version in force, stores the ranking and publishes
//! `assessment.scores.published`.

use chrono::Utc;
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::{Outcomes as _, UseCaseError};
use sqlx::PgConnection;

use super::check_county_admin;
use crate::domain::period::Period;
use crate::domain::scheme::{Indicator, Level, first_month};
use crate::domain::scoring::{self, Subject};
use crate::events::publish;
use crate::store::metrics;
use crate::store::schemes::{self, RankingRow};

/// The replica's level number of streets and communities.
fn cell_level(level: Level) -> Option<i16> {
    match level {
        Level::Street => Some(2),
        Level::Community => Some(3),
        Level::Department => None,
    }
}

/// The subjects of `level` with their counts in `period`: streets and
/// communities over their whole subtree, departments their own.
async fn subjects(
    conn: &mut PgConnection,
    level: Level,
    period: Period,
) -> Result<Vec<Subject>, UseCaseError> {
    Ok(match cell_level(level) {
        Some(number) => metrics::subtree_values_of_level(conn, number, period)
            .await?
            .into_iter()
            .map(|(id, display_name, _, values)| Subject {
                name: format!("cells/{id}"),
                display_name,
                values,
            })
            .collect(),
        None => metrics::department_values(conn, period)
            .await?
            .into_iter()
            .map(|(name, values)| Subject {
                display_name: name.trim_start_matches("departments/").to_owned(),
                name,
                values,
            })
            .collect(),
    })
}

/// Scores and stores the ranking, with its event in the outbox.
#[tracing::instrument(skip_all, fields(scheme = %scheme_id, level = level.as_str(), %period))]
pub async fn publish_scores(
    conn: &mut PgConnection,
    caller: &Caller,
    scheme_id: &str,
    level: Level,
    period: Period,
) -> Result<RankingRow, UseCaseError> {
    check_county_admin(caller, "publishes scores")?;
    if !schemes::exists(&mut *conn, scheme_id).await? {
        return Err(UseCaseError::not_found(format!("schemes/{scheme_id}")));
    }
    let month = first_month(period).to_string();
    let version = schemes::in_force(&mut *conn, scheme_id, &month)
        .await?
        .ok_or_else(|| {
            UseCaseError::precondition(format!(
                "no published version of schemes/{scheme_id} applies to {period} (from {month})"
            ))
        })?;
    let indicators: Vec<&Indicator> = version
        .spec
        .indicators
        .iter()
        .filter(|i| i.level == level)
        .collect();
    if indicators.is_empty() {
        return Err(UseCaseError::precondition(format!(
            "schemes/{scheme_id}/versions/{} has no {} indicators",
            version.version,
            level.as_str()
        )));
    }
    let subjects = subjects(&mut *conn, level, period).await?;
    let cards = scoring::rank(&indicators, version.spec.redistribution, &subjects);
    let at = Utc::now();
    let period_text = period.to_string();
    let revision = schemes::upsert_ranking(
        &mut *conn,
        scheme_id,
        level.as_str(),
        &period_text,
        version.version,
        &cards,
        at,
    )
    .await?;
    let ranking = RankingRow {
        scheme_id: scheme_id.to_owned(),
        level: level.as_str().to_owned(),
        period: period_text,
        scheme_version: version.version,
        revision,
        cards,
        publish_time: at,
    };
    outbox::enqueue(
        conn,
        &publish::scores_published(&ranking, &version.spec, &caller.subject),
    )
    .await?;
    tracing::info!(revision, cards = ranking.cards.len(), by = %caller.subject, "scores published");
    Ok(ranking)
}
