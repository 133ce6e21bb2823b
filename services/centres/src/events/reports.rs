//! Membership's report events (双报到) into the resource list, through the
//! same command path the API uses (`commands::apply_report`).

use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use civicgrid_proto::membership::v1 as membership;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use std::sync::Arc;

use crate::commands::apply_report::{self, ReportError};

/// `membership.report.unit_registered`.
pub const UNIT_REGISTERED: &str = "membership.report.unit_registered";
/// `membership.report.member_registered`.
pub const MEMBER_REGISTERED: &str = "membership.report.member_registered";
/// `membership.report.ended`.
pub const ENDED: &str = "membership.report.ended";

/// The queue `civicgrid.centres.membership-reports` with its three keys.
/// A live subscription: membership serves no event log to catch up from
/// yet, so reports made before centres first started are not read.
pub fn subscription(topology: &Topology) -> Subscription {
    let handler: Arc<dyn Handler> = Arc::new(ReportResources);
    Subscription::new(topology, "centres", "membership-reports")
        .on(UNIT_REGISTERED, handler.clone())
        .on(MEMBER_REGISTERED, handler.clone())
        .on(ENDED, handler)
}

/// Turns report events into resources (and withdraws them).
pub struct ReportResources;

impl Handler for ReportResources {
    fn name(&self) -> &'static str {
        "centres.report-resources"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let causation = event.event_id.to_string();
            let outcome = match event.routing_key.as_str() {
                UNIT_REGISTERED => {
                    let report: membership::UnitReportRegistered = event.decode()?;
                    apply_report::unit_report_registered(conn, &report, &causation).await
                }
                MEMBER_REGISTERED => {
                    let report: membership::MemberReportRegistered = event.decode()?;
                    apply_report::member_report_registered(conn, &report, &causation).await
                }
                ENDED => {
                    let ended: membership::ReportEnded = event.decode()?;
                    apply_report::withdraw(conn, &ended.report, &causation).await
                }
                other => {
                    return Err(HandlerError::Permanent(format!("no handler for {other}")));
                }
            };
            match outcome {
                Ok(_) => Ok(()),
                Err(ReportError::Invalid(why)) => Err(HandlerError::Permanent(why)),
                Err(ReportError::NotYet(why)) => Err(HandlerError::Transient(why)),
            }
        })
    }
}
