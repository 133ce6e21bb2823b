//! `centres.activity.held` into agreements' activity: a co-building
//! activity under an agreement moves its last activity time, once per
//! activity however often the event is delivered.

use std::sync::Arc;

use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use civicgrid_proto::centres::v1 as centres;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::agreements;

/// Routing key of the activities centres publishes when they close.
pub const ACTIVITY_HELD: &str = "centres.activity.held";

/// Applies `ActivityHeld`.
pub struct AgreementActivity;

impl AgreementActivity {
    /// The subscription membership consumes held activities through.
    pub fn subscription(topology: &Topology) -> Subscription {
        Subscription::new(topology, "membership", "centres-activities")
            .on(ACTIVITY_HELD, Arc::new(AgreementActivity))
    }
}

impl Handler for AgreementActivity {
    fn name(&self) -> &'static str {
        "agreement-activity"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let held = event.decode::<centres::ActivityHeld>()?;
            // Only activities under an agreement matter here.
            if held.agreement.is_empty() {
                return Ok(());
            }
            let bad = |what: &str| HandlerError::Permanent(format!("activity event with {what}"));
            let agreement = held
                .agreement
                .strip_prefix("agreements/")
                .and_then(|id| Uuid::parse_str(id).ok())
                .ok_or_else(|| bad("a bad agreement name"))?;
            if held.activity.is_empty() {
                return Err(bad("no activity name"));
            }
            let end = held
                .end_time
                .as_ref()
                .or(held.start_time.as_ref())
                .and_then(|t| {
                    chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
                })
                .ok_or_else(|| bad("no end or start time"))?;
            agreements::record_activity(conn, &held.activity, agreement, end).await?;
            Ok(())
        })
    }
}
