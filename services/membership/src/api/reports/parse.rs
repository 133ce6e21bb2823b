//! Report requests into command inputs, once, with every field violation named.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::api::posts::parse::uuid_name;
use crate::commands::end_report::{EndReport, ReportId};
use crate::commands::register_report::{RegisterMemberReport, RegisterUnitReport};
use crate::domain::organisation::OrganisationId;
use crate::domain::report::{Quarter, parse_labels, parse_resource, parse_year};

fn community(name: &str, field: &str, violations: &mut FieldViolations) -> Option<String> {
    let id = civicgrid_cell_tree::parse_name(name).map(str::to_owned);
    if id.is_none() {
        violations.add(field, "must be a cell name `cells/{cell_id}`");
    }
    id
}

fn year(year: i32, field: &str, violations: &mut FieldViolations) -> Option<i32> {
    let parsed = parse_year(year);
    if parsed.is_none() {
        violations.add(field, "must be a year from 2000 to 2200");
    }
    parsed
}

/// A Quarter in `field`.
pub fn quarter(
    quarter: Option<&pb::Quarter>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<Quarter> {
    let parsed = quarter.and_then(|q| Quarter::new(q.year, q.quarter));
    if parsed.is_none() {
        violations.add(
            field,
            "is required: a year from 2000 to 2200 and a quarter 1-4",
        );
    }
    parsed
}

/// A RegisterUnitReportRequest into a command input.
pub fn register_unit_report(
    request: &pb::RegisterUnitReportRequest,
) -> Result<RegisterUnitReport, Status> {
    let mut violations = FieldViolations::new();
    let Some(report) = request.report.as_ref() else {
        violations.add("report", "is required");
        return Err(violations.into_status());
    };
    let unit = OrganisationId::parse_name(&report.unit);
    if unit.is_none() {
        violations.add(
            "report.unit",
            "must be an organisation name `organisations/{organisation_id}`",
        );
    }
    let community = community(&report.community, "report.community", &mut violations);
    let period_year = year(report.period_year, "report.period_year", &mut violations);
    if report.resources.len() > crate::domain::report::MAX_ITEMS {
        violations.add("report.resources", "must have at most 20 items");
    }
    let mut resources = Vec::new();
    for (i, r) in report.resources.iter().enumerate() {
        match parse_resource(&r.category, r.capacity, &r.unit, &r.description) {
            Ok(resource) => resources.push(resource),
            Err(problems) => {
                for (part, why) in problems {
                    violations.add(format!("report.resources[{i}].{part}"), why);
                }
            }
        }
    }
    match (unit, community, period_year) {
        (Some(unit), Some(community), Some(period_year)) if violations.is_empty() => {
            Ok(RegisterUnitReport {
                unit,
                community,
                period_year,
                resources,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// A RegisterMemberReportRequest into a command input.
pub fn register_member_report(
    request: &pb::RegisterMemberReportRequest,
) -> Result<RegisterMemberReport, Status> {
    let mut violations = FieldViolations::new();
    let Some(report) = request.report.as_ref() else {
        violations.add("report", "is required");
        return Err(violations.into_status());
    };
    let member = uuid_name(&report.member, "members", "report.member", &mut violations);
    let community = community(&report.community, "report.community", &mut violations);
    let period_year = year(report.period_year, "report.period_year", &mut violations);
    let skills = parse_labels(&report.skills)
        .map_err(|why| violations.add("report.skills", why))
        .ok();
    let posts = parse_labels(&report.volunteer_posts)
        .map_err(|why| violations.add("report.volunteer_posts", why))
        .ok();
    match (member, community, period_year, skills, posts) {
        (Some(member), Some(community), Some(period_year), Some(skills), Some(volunteer_posts))
            if violations.is_empty() =>
        {
            Ok(RegisterMemberReport {
                member,
                community,
                period_year,
                skills,
                volunteer_posts,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// A `unitReports/{id}` or `memberReports/{id}` in `field`.
pub fn report_name(name: &str, field: &str, violations: &mut FieldViolations) -> Option<ReportId> {
    let parsed = name.split_once('/').and_then(|(collection, id)| {
        let id = Uuid::parse_str(id).ok()?;
        match collection {
            "unitReports" => Some(ReportId::Unit(id)),
            "memberReports" => Some(ReportId::Member(id)),
            _ => None,
        }
    });
    if parsed.is_none() {
        violations.add(
            field,
            "must be a report name `unitReports/{id}` or `memberReports/{id}`",
        );
    }
    parsed
}

/// An EndReportRequest into a command input.
pub fn end_report(request: &pb::EndReportRequest) -> Result<EndReport, Status> {
    let mut violations = FieldViolations::new();
    let id = report_name(&request.name, "name", &mut violations);
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        violations.add("reason", "is required: 1-200 characters");
    }
    match id {
        Some(id) if violations.is_empty() => Ok(EndReport {
            id,
            reason: reason.to_owned(),
        }),
        _ => Err(violations.into_status()),
    }
}
