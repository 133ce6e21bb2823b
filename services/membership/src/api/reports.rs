//! Report reads: participation per quarter and the units' feedback cards.

pub mod parse;

use std::collections::HashMap;

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::{PgExecutor, PgPool};
use tonic::Status;
use uuid::Uuid;

use crate::api::members::check_reader;
use crate::commands::end_report::ReportId;
use crate::convert::to_timestamp;
use crate::domain::organisation::{organisation_name, visible};
use crate::domain::report::Quarter;
use crate::events::publish::resource;
use crate::store::reports::{self, Attendance, MemberReportRow, UnitReportRow};

/// The `UnitReport` of `row`.
pub fn unit_report(row: &UnitReportRow) -> pb::UnitReport {
    pb::UnitReport {
        name: format!("unitReports/{}", row.id),
        unit: organisation_name(&row.unit_id),
        community: civicgrid_cell_tree::resource_name(&row.community_id),
        period_year: row.period_year,
        resources: row.resources.iter().map(resource).collect(),
        registered_at: Some(to_timestamp(row.registered_at)),
        ended_at: row.ended_at.map(to_timestamp),
        end_reason: row.end_reason.clone(),
    }
}

/// The `MemberReport` of `row`.
pub fn member_report(row: &MemberReportRow) -> pb::MemberReport {
    pb::MemberReport {
        name: format!("memberReports/{}", row.id),
        member: format!("members/{}", row.member_id),
        community: civicgrid_cell_tree::resource_name(&row.community_id),
        period_year: row.period_year,
        skills: row.skills.clone(),
        volunteer_posts: row.volunteer_posts.clone(),
        work_unit: row
            .work_unit_id
            .as_deref()
            .map(organisation_name)
            .unwrap_or_default(),
        registered_at: Some(to_timestamp(row.registered_at)),
        ended_at: row.ended_at.map(to_timestamp),
        end_reason: row.end_reason.clone(),
    }
}

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The community `name` if the caller sees it (its code).
async fn visible_community(pool: &PgPool, caller: &Caller, name: &str) -> Result<String, Status> {
    let mut violations = FieldViolations::new();
    let Some(id) = civicgrid_cell_tree::parse_name(name) else {
        violations.add("community", "must be a cell name `cells/{cell_id}`");
        return Err(violations.into_status());
    };
    civicgrid_cell_tree::get(pool, id)
        .await
        .map_err(status::database)?
        .filter(|cell| visible(&cell.path, caller.scope_roots("cells").as_deref()))
        .map(|cell| cell.id)
        .ok_or_else(|| UseCaseError::NotFound(name.to_owned()).into())
}

/// Attendance of each member in `community`, since each one's time.
async fn attendance_of<'e>(
    executor: impl PgExecutor<'e>,
    community: &str,
    quarter: Quarter,
    members: &[(Uuid, chrono::DateTime<chrono::Utc>)],
) -> Result<HashMap<Uuid, Attendance>, Status> {
    Ok(reports::attendance(executor, community, quarter, members)
        .await
        .map_err(status::database)?
        .into_iter()
        .collect())
}

/// Participation in a community in a quarter, and who never took part.
pub async fn participation(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::GetParticipationRequest,
) -> Result<pb::GetParticipationResponse, Status> {
    check_reader(caller)?;
    let mut violations = FieldViolations::new();
    let quarter = parse::quarter(request.quarter.as_ref(), "quarter", &mut violations);
    let Some(quarter) = quarter else {
        return Err(violations.into_status());
    };
    let community = visible_community(pool, caller, &request.community).await?;
    // One snapshot for every count: a check-in applied between two reads
    // would otherwise show a community attendance that a member's own
    // attendance (read just before) does not yet hold.
    let mut tx = pool.begin().await.map_err(status::database)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(status::database)?;
    let member_reports = reports::active_member_reports(&mut *tx, &community, quarter.year, None)
        .await
        .map_err(status::database)?;
    let unit_reports = reports::active_unit_reports(&mut *tx, &community, quarter.year)
        .await
        .map_err(status::database)?;
    let members: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = member_reports
        .iter()
        .map(|r| (r.member_id, r.registered_at))
        .collect();
    let attended = attendance_of(&mut *tx, &community, quarter, &members).await?;
    let mut response = pb::GetParticipationResponse {
        community_attended: count(
            reports::community_attendance(&mut *tx, &community, quarter)
                .await
                .map_err(status::database)?,
        ),
        ..Default::default()
    };
    for report in &member_reports {
        let a = attended.get(&report.member_id).copied().unwrap_or_default();
        let name = format!("memberReports/{}", report.id);
        if a.since == 0 {
            response.members_never_took_part.push(name.clone());
        }
        response.members.push(pb::MemberParticipation {
            report: name,
            member: format!("members/{}", report.member_id),
            attended: count(a.in_quarter),
            attended_since_registration: count(a.since),
        });
    }
    for report in &unit_reports {
        let staff: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> =
            reports::members_of_unit(&mut *tx, &report.unit_id)
                .await
                .map_err(status::database)?
                .into_iter()
                .map(|id| (id, report.registered_at))
                .collect();
        let of_unit = attendance_of(&mut *tx, &community, quarter, &staff).await?;
        let in_quarter: i64 = of_unit.values().map(|a| a.in_quarter).sum();
        let since: i64 = of_unit.values().map(|a| a.since).sum();
        let name = format!("unitReports/{}", report.id);
        if since == 0 {
            response.units_never_took_part.push(name.clone());
        }
        response.units.push(pb::UnitParticipation {
            report: name,
            unit: organisation_name(&report.unit_id),
            attended: count(in_quarter),
            attended_since_registration: count(since),
        });
    }
    Ok(response)
}

/// The feedback card of a unit report for a quarter.
pub async fn feedback_card(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::GetUnitFeedbackCardRequest,
) -> Result<pb::GetUnitFeedbackCardResponse, Status> {
    check_reader(caller)?;
    let mut violations = FieldViolations::new();
    let id = parse::report_name(&request.report, "report", &mut violations);
    let quarter = parse::quarter(request.quarter.as_ref(), "quarter", &mut violations);
    let (Some(ReportId::Unit(id)), Some(quarter)) = (id, quarter) else {
        if violations.is_empty() {
            violations.add("report", "must be a unit report name `unitReports/{id}`");
        }
        return Err(violations.into_status());
    };
    let mut conn = pool.acquire().await.map_err(status::database)?;
    let report = reports::get_unit(&mut conn, id, false)
        .await
        .map_err(status::database)?;
    // Its one read completed: back to the pool without a ping.
    conn.settle();
    drop(conn);
    let report = report
        .filter(|r| visible(&r.community_path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| UseCaseError::NotFound(request.report.clone()))?;
    let reported = reports::active_member_reports(
        pool,
        &report.community_id,
        report.period_year,
        Some(&report.unit_id),
    )
    .await
    .map_err(status::database)?;
    let members: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = reported
        .iter()
        .map(|r| (r.member_id, r.registered_at))
        .collect();
    let attended = attendance_of(pool, &report.community_id, quarter, &members).await?;
    let mut card = pb::UnitFeedbackCard {
        report: request.report.clone(),
        unit: organisation_name(&report.unit_id),
        community: civicgrid_cell_tree::resource_name(&report.community_id),
        quarter: request.quarter,
        resources: report.resources.iter().map(resource).collect(),
        members_reported: count(i64::try_from(reported.len()).unwrap_or(i64::MAX)),
        ..Default::default()
    };
    for r in &reported {
        let a = attended.get(&r.member_id).copied().unwrap_or_default();
        card.attendances += count(a.in_quarter);
        card.volunteer_minutes += a.minutes_in_quarter;
        if a.in_quarter > 0 {
            card.members_took_part += 1;
        } else {
            card.members_absent.push(format!("members/{}", r.member_id));
        }
    }
    Ok(pb::GetUnitFeedbackCardResponse { card: Some(card) })
}

/// Whose offers ListDemandOffers lists.
enum OfferParent {
    Report(Uuid),
    Member(Uuid),
}

fn offer_parent(name: &str, violations: &mut FieldViolations) -> Option<OfferParent> {
    let parsed = name.split_once('/').and_then(|(collection, id)| {
        let id = Uuid::parse_str(id).ok()?;
        match collection {
            "memberReports" => Some(OfferParent::Report(id)),
            "members" => Some(OfferParent::Member(id)),
            _ => None,
        }
    });
    if parsed.is_none() {
        violations.add(
            "parent",
            "must be a member report name `memberReports/{report_id}` or a member name `members/{member_id}`",
        );
    }
    parsed
}

/// The open demands of the parent's communities offered to its active
/// member reports (`domain::demand::is_offered`), by demand; NOT_FOUND
/// for a report or member outside the caller's scope.
pub async fn demand_offers(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListDemandOffersRequest,
) -> Result<pb::ListDemandOffersResponse, Status> {
    use crate::domain::demand::{Offeree, is_offered};
    use crate::store::demands;

    check_reader(caller)?;
    let mut violations = FieldViolations::new();
    let parent = offer_parent(&request.parent, &mut violations);
    let size = civicgrid_runtime::paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!("parent={}", request.parent);
    let after =
        civicgrid_runtime::paging::decode(&request.page_token, &fingerprint, &mut violations)
            .and_then(|after| {
                let id = Uuid::parse_str(&after).ok();
                if id.is_none() {
                    violations.add("page_token", "is not a token this service issued");
                }
                id
            });
    let Some(parent) = parent else {
        return Err(violations.into_status());
    };
    violations.check(())?;
    let roots = caller.scope_roots("cells");
    let not_found = || Status::from(UseCaseError::NotFound(request.parent.clone()));
    let reports: Vec<MemberReportRow> = match parent {
        OfferParent::Report(id) => {
            let report = reports::get_member(pool, id)
                .await
                .map_err(status::database)?
                .filter(|r| visible(&r.community_path, roots.as_deref()))
                .ok_or_else(not_found)?;
            vec![report]
        }
        OfferParent::Member(id) => {
            // Scoped like every member read: by where the member belongs.
            crate::store::members::get(pool, id)
                .await
                .map_err(status::database)?
                .filter(|m| visible(&m.area_path, roots.as_deref()))
                .ok_or_else(not_found)?;
            reports::active_of_member(pool, id)
                .await
                .map_err(status::database)?
        }
    };
    let now = chrono::Utc::now();
    let mut communities: Vec<String> = reports.iter().map(|r| r.community_id.clone()).collect();
    communities.sort_unstable();
    communities.dedup();
    let candidates = demands::open_in(pool, &communities, now, after)
        .await
        .map_err(status::database)?;
    let mut offers = Vec::new();
    for demand in &candidates {
        let matched = demand.to_domain();
        // One offer per demand: under the member's first report that takes it.
        let Some(report) = reports.iter().find(|r| {
            let offeree = Offeree {
                community_id: &r.community_id,
                skills: &r.skills,
                volunteer_posts: &r.volunteer_posts,
                active: r.ended_at.is_none(),
            };
            is_offered(&offeree, &matched, now)
        }) else {
            continue;
        };
        offers.push(pb::DemandOffer {
            demand: format!("demands/{}", demand.id),
            report: format!("memberReports/{}", report.id),
            member: format!("members/{}", report.member_id),
            category: demand.category.clone(),
            community: civicgrid_cell_tree::resource_name(&demand.community_id),
            cell: demand
                .cell_id
                .as_deref()
                .map(civicgrid_cell_tree::resource_name)
                .unwrap_or_default(),
            compound: demand
                .compound_id
                .as_deref()
                .map(civicgrid_cell_tree::compound_name)
                .unwrap_or_default(),
            start_time: Some(to_timestamp(demand.start_time)),
            end_time: Some(to_timestamp(demand.end_time)),
            description: demand.description.clone(),
            task: demand.task.clone(),
        });
        if offers.len() > size {
            break;
        }
    }
    let (offers, next_page_token) =
        civicgrid_runtime::paging::paged(offers, size, &fingerprint, |offer| {
            offer.demand.trim_start_matches("demands/").to_owned()
        });
    Ok(pb::ListDemandOffersResponse {
        offers,
        next_page_token,
    })
}
