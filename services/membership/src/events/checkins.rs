//! `centres.checkin.recorded` into participation: each check-in becomes
//! the RecordCheckin command on the inbox transaction, so a redelivered
//! event is skipped by the inbox and the same check-in under another event
//! id by its key.

use std::sync::Arc;

use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use civicgrid_proto::centres::v1 as centres;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::commands::CommandError;
use crate::commands::record_checkin::record_checkin;
use crate::store::reports::CheckinRow;

/// Routing key of the check-ins centres publishes.
pub const CHECKIN_RECORDED: &str = "centres.checkin.recorded";

/// Applies `CheckinRecorded`.
pub struct CheckinParticipation;

impl CheckinParticipation {
    /// The subscription membership consumes check-ins through.
    pub fn subscription(topology: &Topology) -> Subscription {
        Subscription::new(topology, "membership", "centres-checkins")
            .on(CHECKIN_RECORDED, Arc::new(CheckinParticipation))
    }
}

/// The row of a check-in event; a malformed event is permanent.
pub fn row_from_event(event: &centres::CheckinRecorded) -> Result<CheckinRow, HandlerError> {
    let bad = |what: &str| HandlerError::Permanent(format!("check-in event with {what}"));
    if event.checkin.is_empty() || event.activity.is_empty() {
        return Err(bad("no checkin or activity name"));
    }
    let member_id = match event.member.as_str() {
        "" => None,
        name => Some(
            name.strip_prefix("members/")
                .and_then(|id| Uuid::parse_str(id).ok())
                .ok_or_else(|| bad("a bad member name"))?,
        ),
    };
    let cell_id = civicgrid_cell_tree::parse_name(&event.cell)
        .ok_or_else(|| bad("a bad cell name"))?
        .to_owned();
    let optional = |name: &str, prefix: &str| -> Option<String> {
        name.strip_prefix(prefix)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
    };
    let at = event
        .checked_in_at
        .as_ref()
        .and_then(|t| {
            chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        })
        .ok_or_else(|| bad("no checked_in_at"))?;
    Ok(CheckinRow {
        checkin: event.checkin.clone(),
        activity: event.activity.clone(),
        organiser_id: optional(&event.organiser, "organisations/"),
        agreement_id: optional(&event.agreement, "agreements/"),
        member_id,
        cell_id,
        compound_id: optional(&event.compound, "compounds/"),
        community_id: None,
        volunteer_minutes: event.volunteer_minutes.max(0),
        checked_in_at: at,
    })
}

impl Handler for CheckinParticipation {
    fn name(&self) -> &'static str {
        "checkin-participation"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let checkin = event.decode::<centres::CheckinRecorded>()?;
            let row = row_from_event(&checkin)?;
            record_checkin(conn, row)
                .await
                .map_err(|error| match error {
                    CommandError::UseCase(civicgrid_runtime::error::UseCaseError::Database(e)) => {
                        HandlerError::from(e)
                    }
                    other => HandlerError::Permanent(other.to_string()),
                })?;
            Ok(())
        })
    }
}
