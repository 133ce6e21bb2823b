//! EndReport: a unit withdrew or a member moved; the report stops.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::visible;
use crate::events::publish;
use crate::store::reports::{self, MemberReportRow, UnitReportRow};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportId {
    /// `unitReports/{id}`
    Unit(Uuid),
    /// `memberReports/{id}`
    Member(Uuid),
}

/// A parsed EndReport request.
#[derive(Debug, Clone)]
pub struct EndReport {
    /// Which.
    pub id: ReportId,
    /// Why.
    pub reason: String,
}

/// The report as it is after ending.
#[derive(Debug, Clone)]
pub enum Ended {
    /// A unit report.
    Unit(UnitReportRow),
    /// A member report.
    Member(MemberReportRow),
}

/// NOT_FOUND outside the scope, PERMISSION_DENIED for readers, FAILED_PRECONDITION when ended.
fn check(
    caller: &Caller,
    name: &str,
    community_path: &str,
    ended_at: Option<DateTime<Utc>>,
) -> Result<(), CommandError> {
    if !visible(community_path, caller.scope_roots("cells").as_deref()) {
        return Err(CommandError::not_found(name));
    }
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow ending reports",
        ));
    }
    if let Some(at) = ended_at {
        return Err(CommandError::precondition(format!(
            "{name} has ended already, at {}",
            at.to_rfc3339()
        )));
    }
    Ok(())
}

/// Ends the report and writes `membership.report.ended`.
#[tracing::instrument(skip_all)]
pub async fn end_report(
    conn: &mut PgConnection,
    caller: &Caller,
    input: EndReport,
) -> Result<Ended, CommandError> {
    let at = now();
    let (name, community, ended) = match input.id {
        ReportId::Unit(id) => {
            let name = format!("unitReports/{id}");
            let mut row = reports::get_unit(&mut *conn, id, true)
                .await?
                .ok_or_else(|| CommandError::not_found(name.clone()))?;
            check(caller, &name, &row.community_path, row.ended_at)?;
            reports::end(&mut *conn, true, id, at, &input.reason).await?;
            row.ended_at = Some(at);
            row.end_reason = input.reason.clone();
            (name, row.community_id.clone(), Ended::Unit(row))
        }
        ReportId::Member(id) => {
            let name = format!("memberReports/{id}");
            let mut row = reports::lock_member(&mut *conn, id)
                .await?
                .ok_or_else(|| CommandError::not_found(name.clone()))?;
            check(caller, &name, &row.community_path, row.ended_at)?;
            reports::end(&mut *conn, false, id, at, &input.reason).await?;
            row.ended_at = Some(at);
            row.end_reason = input.reason.clone();
            (name, row.community_id.clone(), Ended::Member(row))
        }
    };
    outbox::enqueue(
        &mut *conn,
        &publish::report_ended(&name, &community, &input.reason, at, &caller.subject),
    )
    .await?;
    tracing::info!(report = %name, "report ended");
    Ok(ended)
}
