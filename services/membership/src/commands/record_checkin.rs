//! RecordCheckin: an attendance confirmed by a centre, applied from
//! `centres.checkin.recorded` on the consumer's inbox transaction.

use sqlx::PgConnection;

use super::CommandError;
use super::award_points::{AwardPoints, award_points};
use crate::domain::points;
use crate::domain::post::community_of;
use crate::store::reports::{self, CheckinRow};

/// Stores the check-in once, with the community its centre's cell lies in
/// (as the replicated grid knows it); `false` when it was stored already.
#[tracing::instrument(skip_all, fields(checkin = %row.checkin))]
pub async fn record_checkin(
    conn: &mut PgConnection,
    mut row: CheckinRow,
) -> Result<bool, CommandError> {
    row.community_id = civicgrid_cell_tree::get(&mut *conn, &row.cell_id)
        .await?
        .and_then(|cell| community_of(&cell.path))
        .map(|(id, _)| id);
    let stored = reports::insert_checkin(&mut *conn, &row).await?;
    if !stored {
        tracing::debug!("check-in applied before under another event id");
        return Ok(false);
    }
    // A party member's attendance earns volunteer points, once per check-in.
    if let Some(member) = row.member_id
        && crate::store::members::get(&mut *conn, member)
            .await?
            .is_some()
        && let Some(rule) = points::rule("volunteer_service")
    {
        award_points(
            &mut *conn,
            "centres",
            AwardPoints {
                member,
                rule,
                reason: format!("took part in {}", row.activity),
                source_event_id: row.checkin.clone(),
                earned_at: row.checked_in_at,
            },
        )
        .await?;
    }
    Ok(true)
}
