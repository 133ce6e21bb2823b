//! What membership's and centres' contract events count for: facts of one
//! group of events (a report's, a member's, an agreement's, an issue's, an
//! activity's, a project's), a function of the group's *set* of events,
//! like a task's facts, so duplicates, order and replays do not matter.
//!
//! A fact counts in the periods of the moment its group began (a report's
//! registration, an agreement's signing, an issue's raising, a project's
//! start), with what later happened to it, as a task counts in the period
//! it was reported.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::membership::v1 as membership;
use uuid::Uuid;

use super::facts::Fact;
use super::metric::{CellMetric, Metric};

/// A decoded contract event.
#[derive(Debug, Clone)]
pub enum ParticipationBody {
    UnitReport(membership::UnitReportRegistered),
    MemberReport(membership::MemberReportRegistered),
    ReportEnded(membership::ReportEnded),
    AgreementSigned(membership::AgreementSigned),
    CommitmentFulfilled(membership::CommitmentFulfilled),
    IssueRaised(membership::ConferenceIssueRaised),
    IssueResolved(membership::ConferenceIssueResolved),
    Checkin(centres::CheckinRecorded),
    ActivityHeld(centres::ActivityHeld),
    ProjectStarted(centres::ProjectStarted),
    ProjectCompleted(centres::ProjectCompleted),
    /// A level (`super::levels`), no facts.
    CoverageChanged(centres::CoverageChanged),
    /// A level (`super::levels`), no facts.
    ComplianceChanged(centres::ComplianceChanged),
    /// A level (`super::levels`), no facts.
    OrganisationCreated(membership::OrganisationCreated),
    /// A level (`super::levels`), no facts.
    OrganisationUpdated(membership::OrganisationUpdated),
    /// A level (`super::levels`), no facts.
    OneShoulderChanged(membership::OneShoulderChanged),
}

/// One stored contract event.
#[derive(Debug, Clone)]
pub struct ParticipationEvent {
    /// The producer's event id.
    pub event_id: Uuid,
    /// What it says.
    pub body: ParticipationBody,
}

/// Every routing key consumed, with its producer.
pub const MEMBERSHIP_KEYS: [&str; 10] = [
    "membership.report.unit_registered",
    "membership.report.member_registered",
    "membership.report.ended",
    "membership.agreement.signed",
    "membership.agreement.commitment_fulfilled",
    "membership.conference_issue.raised",
    "membership.conference_issue.resolved",
    "membership.organisation.created",
    "membership.organisation.updated",
    "membership.community.one_shoulder.changed",
];

/// Every centres routing key consumed.
pub const CENTRES_KEYS: [&str; 6] = [
    "centres.checkin.recorded",
    "centres.activity.held",
    "centres.project.started",
    "centres.project.completed",
    "centres.coverage.changed",
    "centres.compliance.changed",
];

/// Groups of level events (`super::levels`) start with one of these.
const LEVEL_GROUPS: [&str; 4] = ["coverage/", "compliance/", "organisation/", "one_shoulder/"];

/// Whether `group` holds level events (and no facts).
pub fn is_level_group(group: &str) -> bool {
    LEVEL_GROUPS.iter().any(|prefix| group.starts_with(prefix))
}

impl ParticipationBody {
    /// The group whose facts the event changes: events that together make
    /// a fact share one. A member's check-ins join their reports (reported
    /// members active); an activity tied to an agreement joins it
    /// (agreements with an activity).
    pub fn group(&self) -> String {
        match self {
            ParticipationBody::UnitReport(e) => e.report.clone(),
            ParticipationBody::MemberReport(e) => e.member.clone(),
            ParticipationBody::ReportEnded(e) => e.report.clone(),
            ParticipationBody::AgreementSigned(e) => e.agreement.clone(),
            ParticipationBody::CommitmentFulfilled(e) => e.agreement.clone(),
            ParticipationBody::IssueRaised(e) => e.issue.clone(),
            ParticipationBody::IssueResolved(e) => e.issue.clone(),
            ParticipationBody::Checkin(e) if !e.member.is_empty() => e.member.clone(),
            ParticipationBody::Checkin(e) => e.activity.clone(),
            ParticipationBody::ActivityHeld(e) if !e.agreement.is_empty() => e.agreement.clone(),
            ParticipationBody::ActivityHeld(e) => e.activity.clone(),
            ParticipationBody::ProjectStarted(e) => e.project.clone(),
            ParticipationBody::ProjectCompleted(e) => e.project.clone(),
            // A level's key, prefixed: no other group is about a cell or a
            // centre, and the prefix says which level it is.
            ParticipationBody::CoverageChanged(e) if !e.community.is_empty() => {
                format!("{}{}", LEVEL_GROUPS[0], e.community)
            }
            ParticipationBody::ComplianceChanged(e) => match &e.compliance {
                Some(c) if !c.centre.is_empty() => format!("{}{}", LEVEL_GROUPS[1], c.centre),
                _ => String::new(),
            },
            ParticipationBody::CoverageChanged(_) => String::new(),
            ParticipationBody::OrganisationCreated(e) => {
                organisation_group(e.organisation.as_ref())
            }
            ParticipationBody::OrganisationUpdated(e) => {
                organisation_group(e.organisation.as_ref())
            }
            ParticipationBody::OneShoulderChanged(e) if !e.community.is_empty() => {
                format!("{}{}", LEVEL_GROUPS[3], e.community)
            }
            ParticipationBody::OneShoulderChanged(_) => String::new(),
        }
    }
}

/// An organisation's group: created and updated share it.
fn organisation_group(organisation: Option<&membership::Organisation>) -> String {
    match organisation {
        Some(o) if !o.name.is_empty() => format!("{}{}", LEVEL_GROUPS[2], o.name),
        _ => String::new(),
    }
}

fn utc(t: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    let t = t?;
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}

fn shanghai_year(t: DateTime<Utc>) -> i32 {
    (t + TimeDelta::hours(8)).year()
}

/// The facts of one group's events (duplicates and order do not matter).
pub fn facts(events: &[ParticipationEvent]) -> BTreeSet<Fact> {
    let mut events: Vec<&ParticipationEvent> = events.iter().collect();
    events.sort_by_key(|e| e.event_id);
    events.dedup_by_key(|e| e.event_id);
    let mut out = BTreeSet::new();
    let mut add = |cell: &str, metric: CellMetric, event_id: Uuid, at: Option<DateTime<Utc>>| {
        if let Some(at) = at
            && cell.starts_with("cells/")
        {
            out.insert(Fact {
                subject: cell.to_owned(),
                metric: Metric::Cell(metric),
                event_id,
                reported_at: at,
                amount: 1,
            });
        }
    };
    // The member's check-ins, earliest first, for their reports.
    let mut checkins: Vec<(DateTime<Utc>, Uuid)> = events
        .iter()
        .filter_map(|e| match &e.body {
            ParticipationBody::Checkin(c) if !c.member.is_empty() => {
                Some((utc(c.checked_in_at.as_ref())?, e.event_id))
            }
            _ => None,
        })
        .collect();
    checkins.sort();
    let signed = events.iter().find_map(|e| match &e.body {
        ParticipationBody::AgreementSigned(a) => Some(a),
        _ => None,
    });
    let raised = events.iter().find_map(|e| match &e.body {
        ParticipationBody::IssueRaised(r) => Some(r),
        _ => None,
    });
    let started = events.iter().find_map(|e| match &e.body {
        ParticipationBody::ProjectStarted(p) => Some(p),
        _ => None,
    });
    let mut first_activity: Option<Uuid> = None;
    for event in &events {
        let id = event.event_id;
        match &event.body {
            ParticipationBody::UnitReport(r) => {
                add(
                    &r.community,
                    CellMetric::UnitsReported,
                    id,
                    utc(r.registered_at.as_ref()),
                );
            }
            ParticipationBody::MemberReport(r) => {
                let at = utc(r.registered_at.as_ref());
                add(&r.community, CellMetric::MembersReported, id, at);
                // Active: a check-in in the report's year; the first one
                // explains it.
                if let Some((_, checkin)) = checkins
                    .iter()
                    .find(|(time, _)| shanghai_year(*time) == r.period_year)
                {
                    add(
                        &r.community,
                        CellMetric::ReportedMembersActive,
                        *checkin,
                        at,
                    );
                }
            }
            ParticipationBody::ReportEnded(r) => {
                add(
                    &r.community,
                    CellMetric::ReportsEnded,
                    id,
                    utc(r.ended_at.as_ref()),
                );
            }
            ParticipationBody::AgreementSigned(a) => {
                add(
                    &a.community,
                    CellMetric::AgreementsSigned,
                    id,
                    signing_time(a),
                );
            }
            ParticipationBody::CommitmentFulfilled(c) => {
                let at = utc(c.fulfilled_at.as_ref());
                add(&c.community, CellMetric::CommitmentsFulfilled, id, at);
                if let (Some(done), Some(due)) = (at, utc(c.due_time.as_ref()))
                    && done <= due
                {
                    add(&c.community, CellMetric::CommitmentsFulfilledOnTime, id, at);
                }
            }
            ParticipationBody::IssueRaised(r) => {
                add(
                    &r.cell,
                    CellMetric::ConferenceIssuesRaised,
                    id,
                    utc(r.raised_at.as_ref()),
                );
            }
            ParticipationBody::IssueResolved(s) => {
                // In the period it was raised; a resolution arriving first
                // counts by its own time until the raising arrives.
                let at = raised
                    .and_then(|r| utc(r.raised_at.as_ref()))
                    .or_else(|| utc(s.resolved_at.as_ref()));
                add(&s.cell, CellMetric::ConferenceIssuesResolved, id, at);
                if s.on_time {
                    add(&s.cell, CellMetric::ConferenceIssuesResolvedOnTime, id, at);
                }
            }
            ParticipationBody::Checkin(c) => {
                let at = utc(c.checked_in_at.as_ref());
                add(&c.cell, CellMetric::Checkins, id, at);
                if !c.member.is_empty() {
                    add(&c.cell, CellMetric::MemberCheckins, id, at);
                }
            }
            ParticipationBody::ActivityHeld(a) => {
                add(
                    &a.cell,
                    CellMetric::ActivitiesHeld,
                    id,
                    utc(a.end_time.as_ref()),
                );
                if !a.agreement.is_empty() && first_activity.is_none_or(|f| id < f) {
                    first_activity = Some(id);
                }
            }
            ParticipationBody::ProjectStarted(p) => {
                add(
                    &p.cell,
                    CellMetric::ProjectsStarted,
                    id,
                    utc(p.started_at.as_ref()),
                );
            }
            ParticipationBody::ProjectCompleted(p) => {
                let at = started
                    .and_then(|s| utc(s.started_at.as_ref()))
                    .or_else(|| utc(p.completed_at.as_ref()));
                add(&p.cell, CellMetric::ProjectsCompleted, id, at);
                if p.rating >= 4 {
                    add(&p.cell, CellMetric::ProjectsRatedSatisfied, id, at);
                }
            }
            ParticipationBody::CoverageChanged(_)
            | ParticipationBody::ComplianceChanged(_)
            | ParticipationBody::OrganisationCreated(_)
            | ParticipationBody::OrganisationUpdated(_)
            | ParticipationBody::OneShoulderChanged(_) => {}
        }
    }
    if let (Some(agreement), Some(activity)) = (signed, first_activity) {
        add(
            &agreement.community,
            CellMetric::AgreementsWithActivity,
            activity,
            signing_time(agreement),
        );
    }
    // Volunteer time: a sum, one fact per check-in carrying its minutes.
    for event in &events {
        if let ParticipationBody::Checkin(c) = &event.body
            && c.volunteer_minutes > 0
            && c.cell.starts_with("cells/")
            && let Some(at) = utc(c.checked_in_at.as_ref())
        {
            out.insert(Fact {
                subject: c.cell.clone(),
                metric: Metric::Cell(CellMetric::VolunteerMinutes),
                event_id: event.event_id,
                reported_at: at,
                amount: i64::from(c.volunteer_minutes),
            });
        }
    }
    out
}

/// An agreement counts from the start of its term.
fn signing_time(agreement: &membership::AgreementSigned) -> Option<DateTime<Utc>> {
    utc(agreement.term_start.as_ref())
        .or_else(|| utc(agreement.meta.as_ref()?.occurred_at.as_ref()))
}
