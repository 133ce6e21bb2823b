//! AwardPoints: one ledger entry under a rule, capped per quarter, once
//! per rule and source event. Run by the API and by the check-in handler.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::CommandError;
use crate::domain::points::{Rule, capped};
use crate::domain::report::Quarter;
use crate::events::publish;
use crate::store::members;
use crate::store::points::{self, EntryRow};

/// A parsed award.
#[derive(Debug, Clone)]
pub struct AwardPoints {
    /// Whose.
    pub member: Uuid,
    /// Under which rule.
    pub rule: Rule,
    /// Why.
    pub reason: String,
    /// What earned them.
    pub source_event_id: String,
    /// When they were earned (the cap's quarter).
    pub earned_at: DateTime<Utc>,
}

/// Appends the entry and writes `membership.points.awarded`; the existing
/// entry for a repeated source; `None` when the cap is reached.
#[tracing::instrument(skip_all, fields(member = %input.member, rule = input.rule.code))]
pub async fn award_points(
    conn: &mut PgConnection,
    actor: &str,
    input: AwardPoints,
) -> Result<Option<EntryRow>, CommandError> {
    if let Some(existing) =
        points::by_source(&mut *conn, input.rule.code, &input.source_event_id).await?
    {
        return Ok(Some(existing));
    }
    // The member's row serialises awards to one member, so two awards
    // cannot both pass the cap.
    let member = members::lock(&mut *conn, input.member)
        .await?
        .ok_or_else(|| CommandError::not_found(format!("members/{}", input.member)))?;
    let quarter = Quarter::of(input.earned_at);
    let so_far = points::sum_in_quarter(&mut *conn, member.id, input.rule.code, quarter).await?;
    let points = capped(input.rule, so_far);
    if points == 0 {
        tracing::debug!("cap of the rule reached for the quarter");
        return Ok(None);
    }
    let row = EntryRow {
        id: Uuid::now_v7(),
        member_id: member.id,
        rule: input.rule.code.to_owned(),
        points,
        reason: input.reason,
        source_event_id: input.source_event_id,
        award_time: super::now(),
    };
    if !points::append(&mut *conn, &row, quarter).await? {
        return Err(CommandError::aborted(
            "the same award was made concurrently; read the balance again",
        ));
    }
    outbox::enqueue(&mut *conn, &publish::points_awarded(&row, actor)).await?;
    tracing::info!(points, "points awarded");
    Ok(Some(row))
}
