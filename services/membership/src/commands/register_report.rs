//! RegisterUnitReport and RegisterMemberReport (双报到): a unit or an
//! in-service member registers with a community for a year. A report for a
//! later year is the yearly re-registration: it ends the earlier one.

use civicgrid_messaging::{NewEvent, outbox};
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::{OrganisationId, level, visible};
use crate::domain::report::{Resource, may_report_as_unit};
use crate::events::publish;
use crate::store::reports::{self, MemberReportRow, UnitReportRow};
use crate::store::{members, organisations};

/// A parsed RegisterUnitReport request.
#[derive(Debug, Clone)]
pub struct RegisterUnitReport {
    /// The reporting unit.
    pub unit: OrganisationId,
    /// The community's cell code.
    pub community: String,
    /// The year.
    pub period_year: i32,
    /// What it pledges.
    pub resources: Vec<Resource>,
}

/// A parsed RegisterMemberReport request.
#[derive(Debug, Clone)]
pub struct RegisterMemberReport {
    /// The member.
    pub member: Uuid,
    /// The residential community's cell code.
    pub community: String,
    /// The year.
    pub period_year: i32,
    /// Skills offered.
    pub skills: Vec<String>,
    /// Volunteer posts chosen.
    pub volunteer_posts: Vec<String>,
}

/// The path of community `id`, when the caller sees it and it is a community.
async fn community_path(
    conn: &mut PgConnection,
    caller: &Caller,
    id: &str,
) -> Result<String, CommandError> {
    let name = civicgrid_cell_tree::resource_name(id);
    let cell = civicgrid_cell_tree::get(&mut *conn, id)
        .await?
        .filter(|cell| visible(&cell.path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| {
            CommandError::invalid_field(
                "report.community",
                format!("{name} is not a cell in your scope"),
            )
        })?;
    if cell.level != level::COMMUNITY {
        return Err(CommandError::invalid_field(
            "report.community",
            format!("{name} is no community"),
        ));
    }
    Ok(cell.path)
}

fn check_editor(caller: &Caller) -> Result<(), CommandError> {
    if may_edit(caller) {
        Ok(())
    } else {
        Err(CommandError::permission_denied(
            "your roles do not allow registering reports",
        ))
    }
}

/// Registers the unit's report, ending its reports there of earlier years,
/// and writes `membership.report.unit_registered` (and `.ended`).
#[tracing::instrument(skip_all, fields(unit = %input.unit, year = input.period_year))]
pub async fn register_unit_report(
    conn: &mut PgConnection,
    caller: &Caller,
    input: RegisterUnitReport,
) -> Result<UnitReportRow, CommandError> {
    check_editor(caller)?;
    let community_path = community_path(&mut *conn, caller, &input.community).await?;
    // The unit may sit anywhere in the county: it is the community that
    // must be the caller's.
    let unit = organisations::get(&mut *conn, input.unit.as_str())
        .await?
        .ok_or_else(|| {
            CommandError::invalid_field(
                "report.unit",
                format!("{} does not exist", input.unit.resource_name()),
            )
        })?;
    if !may_report_as_unit(unit.kind) {
        return Err(CommandError::invalid_field(
            "report.unit",
            format!(
                "is a {}; units that report are work units and \"two new\" organisations",
                unit.kind
            ),
        ));
    }
    let at = now();
    let mut events: Vec<NewEvent> = Vec::new();
    let reason = format!("re-registered for {}", input.period_year);
    for earlier in
        reports::earlier_unit_reports(&mut *conn, &unit.id, &input.community, input.period_year)
            .await?
    {
        reports::end(&mut *conn, true, earlier.id, at, &reason).await?;
        events.push(publish::report_ended(
            &format!("unitReports/{}", earlier.id),
            &earlier.community_id,
            &reason,
            at,
            &caller.subject,
        ));
    }
    let row = UnitReportRow {
        id: Uuid::now_v7(),
        unit_id: unit.id,
        community_id: input.community,
        community_path,
        period_year: input.period_year,
        resources: input.resources,
        registered_at: at,
        ended_at: None,
        end_reason: String::new(),
    };
    if !reports::insert_unit(&mut *conn, &row).await? {
        return Err(CommandError::already_exists(format!(
            "an active report of {} to {} for {}",
            input.unit.resource_name(),
            civicgrid_cell_tree::resource_name(&row.community_id),
            row.period_year
        )));
    }
    events.push(publish::unit_report_registered(&row, &caller.subject));
    outbox::enqueue_all(&mut *conn, &events).await?;
    tracing::info!(report = %row.id, unit = %row.unit_id, community = %row.community_id, "unit report registered");
    Ok(row)
}

/// Registers the member's report, ending their reports of earlier years,
/// and writes `membership.report.member_registered` (and `.ended`).
#[tracing::instrument(skip_all, fields(member = %input.member, year = input.period_year))]
pub async fn register_member_report(
    conn: &mut PgConnection,
    caller: &Caller,
    input: RegisterMemberReport,
) -> Result<MemberReportRow, CommandError> {
    check_editor(caller)?;
    let community_path = community_path(&mut *conn, caller, &input.community).await?;
    let member_name = format!("members/{}", input.member);
    let member = members::get(&mut *conn, input.member)
        .await?
        .ok_or_else(|| {
            CommandError::invalid_field("report.member", format!("{member_name} does not exist"))
        })?;
    let Some(work_unit) = member.work_unit_id.clone() else {
        return Err(CommandError::precondition(format!(
            "{member_name} has no work unit: only in-service members (在职) report to their community"
        )));
    };
    let at = now();
    let mut events: Vec<NewEvent> = Vec::new();
    let reason = format!("re-registered for {}", input.period_year);
    for earlier in reports::earlier_member_reports(&mut *conn, member.id, input.period_year).await?
    {
        reports::end(&mut *conn, false, earlier.id, at, &reason).await?;
        events.push(publish::report_ended(
            &format!("memberReports/{}", earlier.id),
            &earlier.community_id,
            &reason,
            at,
            &caller.subject,
        ));
    }
    let row = MemberReportRow {
        id: Uuid::now_v7(),
        member_id: member.id,
        community_id: input.community,
        community_path,
        work_unit_id: Some(work_unit),
        period_year: input.period_year,
        skills: input.skills,
        volunteer_posts: input.volunteer_posts,
        registered_at: at,
        ended_at: None,
        end_reason: String::new(),
    };
    if !reports::insert_member(&mut *conn, &row).await? {
        return Err(CommandError::already_exists(format!(
            "an active report of {member_name} for {}",
            row.period_year
        )));
    }
    events.push(publish::member_report_registered(&row, &caller.subject));
    outbox::enqueue_all(&mut *conn, &events).await?;
    tracing::info!(report = %row.id, member = %row.member_id, community = %row.community_id, "member report registered");
    Ok(row)
}
