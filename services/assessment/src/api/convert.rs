//! Domain values into proto messages.

use std::collections::HashMap;

use civicgrid_proto::assessment::v1 as pb;

use crate::domain::metric::rate;
use crate::domain::period::Period;
use crate::store::metrics::Evidence;

/// A cell's counts as `CellMetrics`.
pub fn cell_metrics(
    cell_id: &str,
    period: Period,
    rolled_up: bool,
    values: &HashMap<String, i64>,
) -> pb::CellMetrics {
    let get = |name: &str| values.get(name).copied().unwrap_or(0);
    let reported = get("tasks_reported");
    let resolved = get("tasks_resolved");
    let rated = get("tasks_rated");
    pb::CellMetrics {
        name: format!("cells/{cell_id}/metrics/{period}"),
        cell: format!("cells/{cell_id}"),
        period: period.to_string(),
        rolled_up,
        tasks_reported: reported,
        tasks_accepted: get("tasks_accepted"),
        tasks_accepted_on_time: get("tasks_accepted_on_time"),
        tasks_resolved: resolved,
        tasks_resolved_on_time: get("tasks_resolved_on_time"),
        tasks_rated: rated,
        tasks_satisfied: get("tasks_satisfied"),
        reopenings: get("reopenings"),
        returns: get("returns"),
        whistles: get("whistles"),
        supervision_warnings: get("supervision_warnings"),
        supervision_orders: get("supervision_orders"),
        supervision_red: get("supervision_red"),
        response_rate: rate(get("tasks_accepted_on_time"), reported),
        resolution_rate: rate(resolved, reported),
        on_time_resolution_rate: rate(get("tasks_resolved_on_time"), resolved),
        satisfaction_rate: rate(get("tasks_satisfied"), rated),
        whistles_per_task: rate(get("whistles"), reported),
        units_reported: get("units_reported"),
        members_reported: get("members_reported"),
        reported_members_active: get("reported_members_active"),
        reports_ended: get("reports_ended"),
        agreements_signed: get("agreements_signed"),
        agreements_with_activity: get("agreements_with_activity"),
        commitments_fulfilled: get("commitments_fulfilled"),
        commitments_fulfilled_on_time: get("commitments_fulfilled_on_time"),
        conference_issues_raised: get("conference_issues_raised"),
        conference_issues_resolved: get("conference_issues_resolved"),
        conference_issues_resolved_on_time: get("conference_issues_resolved_on_time"),
        checkins: get("checkins"),
        member_checkins: get("member_checkins"),
        activities_held: get("activities_held"),
        projects_started: get("projects_started"),
        projects_completed: get("projects_completed"),
        projects_rated_satisfied: get("projects_rated_satisfied"),
        tasks_rejected: get("tasks_rejected"),
        tasks_merged: get("tasks_merged"),
        volunteer_minutes: get("volunteer_minutes"),
        compounds_total: get("compounds_total"),
        compounds_covered: get("compounds_covered"),
        centres_total: get("centres_total"),
        centres_compliant: get("centres_compliant"),
        party_organisations_total: get("party_organisations_total"),
        party_organisations_with_branch_committee: get("party_organisations_with_branch_committee"),
        communities_total: get("communities_total"),
        communities_one_shoulder: get("communities_one_shoulder"),
    }
}

/// A department's counts as `DepartmentMetrics`.
pub fn department_metrics(
    department_id: &str,
    period: Period,
    values: &HashMap<String, i64>,
) -> pb::DepartmentMetrics {
    let get = |name: &str| values.get(name).copied().unwrap_or(0);
    pb::DepartmentMetrics {
        name: format!("departments/{department_id}/metrics/{period}"),
        department: format!("departments/{department_id}"),
        period: period.to_string(),
        parts_assigned: get("parts_assigned"),
        check_ins: get("check_ins"),
        check_ins_on_time: get("check_ins_on_time"),
        parts_resolved: get("parts_resolved"),
        parts_resolved_on_time: get("parts_resolved_on_time"),
        returns: get("returns"),
        extensions_requested: get("extensions_requested"),
        extensions_granted: get("extensions_granted"),
        supervision_orders: get("supervision_orders"),
        check_in_on_time_rate: rate(get("check_ins_on_time"), get("check_ins")),
        resolution_on_time_rate: rate(get("parts_resolved_on_time"), get("parts_resolved")),
        ratings: get("ratings"),
        ratings_satisfied: get("ratings_satisfied"),
        ratings_basically_satisfied: get("ratings_basically_satisfied"),
        ratings_dissatisfied: get("ratings_dissatisfied"),
        rating_satisfaction_rate: rate(get("ratings_satisfied"), get("ratings")),
    }
}

/// One event behind a metric.
pub fn evidence(row: &Evidence) -> pb::MetricEvidence {
    pb::MetricEvidence {
        event_id: row.event_id.to_string(),
        event_type: row.routing_key.clone(),
        aggregate_id: row.aggregate_id.clone(),
        aggregate_version: row.aggregate_version,
        occurred_at: Some(prost_types::Timestamp {
            seconds: row.occurred_at.timestamp(),
            nanos: i32::try_from(row.occurred_at.timestamp_subsec_nanos()).unwrap_or(0),
        }),
        subject: row.subject.clone(),
        amount: row.amount,
    }
}
