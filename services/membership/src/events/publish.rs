//! Domain changes into versioned protobuf events for the outbox. Member
//! events carry no personal data at all: no consumer needs a name, an ID
//! number or a phone, masked or not.

use civicgrid_messaging::NewEvent;
use civicgrid_messaging::event::meta;
use civicgrid_proto::membership::v1 as pb;

use crate::convert;
use crate::domain::organisation::organisation_name;
use crate::store::agreements::{AgreementRow, CommitmentRow};
use crate::store::conferences::{ConferenceRow, IssueRow};
use crate::store::members::MemberRow;
use crate::store::organisations::OrganisationRow;
use crate::store::posts::PostRow;
use crate::store::reports::{MemberReportRow, UnitReportRow};

const PRODUCER: &str = "membership";

/// Routing key of [`organisation_created`].
pub const ORGANISATION_CREATED: &str = "membership.organisation.created";
/// Routing key of [`organisation_updated`].
pub const ORGANISATION_UPDATED: &str = "membership.organisation.updated";
/// Routing key of [`member_registered`].
pub const MEMBER_REGISTERED: &str = "membership.member.registered";

/// `membership.organisation.created` for a new organisation.
pub fn organisation_created(row: &OrganisationRow, actor: &str, causation: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        ORGANISATION_CREATED,
        &organisation_name(&row.id),
        row.version,
        actor,
        causation,
    );
    NewEvent::encode(
        event_id,
        ORGANISATION_CREATED,
        &pb::OrganisationCreated {
            meta: Some(meta),
            organisation: Some(convert::organisation(row)),
        },
    )
}

/// `membership.organisation.updated`, naming the changed `paths`.
pub fn organisation_updated(row: &OrganisationRow, paths: Vec<String>, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        ORGANISATION_UPDATED,
        &organisation_name(&row.id),
        row.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        ORGANISATION_UPDATED,
        &pb::OrganisationUpdated {
            meta: Some(meta),
            organisation: Some(convert::organisation(row)),
            update_mask: Some(prost_types::FieldMask { paths }),
        },
    )
}

/// `membership.member.registered`, without personal data.
pub fn member_registered(row: &MemberRow, actor: &str, causation: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        MEMBER_REGISTERED,
        &format!("members/{}", row.id),
        row.version,
        actor,
        causation,
    );
    NewEvent::encode(
        event_id,
        MEMBER_REGISTERED,
        &pb::MemberRegistered {
            meta: Some(meta),
            member: Some(convert::member_without_personal_data(row)),
        },
    )
}

/// Routing key of [`post_assigned`].
pub const POST_ASSIGNED: &str = "membership.post.assigned";
/// Routing key of [`post_ended`].
pub const POST_ENDED: &str = "membership.post.ended";

/// `cell` of a post event: the organisation's own cell, or the cell its
/// area lies in when it is placed in a compound (the compound's community).
fn post_cell(row: &PostRow) -> String {
    row.cell_id
        .as_deref()
        .map(civicgrid_cell_tree::resource_name)
        .unwrap_or_else(|| convert::area_cell(&row.area_path))
}

/// `membership.post.assigned`, with 一肩挑 of the post's community after it.
pub fn post_assigned(row: &PostRow, one_shoulder: bool, actor: &str, causation: &str) -> NewEvent {
    let post = convert::post(row);
    let (event_id, meta) = meta(PRODUCER, POST_ASSIGNED, &post.name, 1, actor, causation);
    NewEvent::encode(
        event_id,
        POST_ASSIGNED,
        &pb::PostAssigned {
            meta: Some(meta),
            cell: post_cell(row),
            post: post.name,
            member: post.member,
            organisation: post.organisation,
            kind: post.kind,
            compound: post.compound,
            valid_from: post.valid_from,
            valid_until: post.valid_until,
            community_secretary_is_director: one_shoulder,
        },
    )
}

/// `membership.post.ended`, with 一肩挑 of the post's community after it.
pub fn post_ended(
    row: &PostRow,
    ended_at: chrono::DateTime<chrono::Utc>,
    one_shoulder: bool,
    actor: &str,
) -> NewEvent {
    let post = convert::post(row);
    let (event_id, meta) = meta(PRODUCER, POST_ENDED, &post.name, 2, actor, "");
    NewEvent::encode(
        event_id,
        POST_ENDED,
        &pb::PostEnded {
            meta: Some(meta),
            cell: post_cell(row),
            post: post.name,
            member: post.member,
            organisation: post.organisation,
            kind: post.kind,
            compound: post.compound,
            ended_at: Some(convert::to_timestamp(ended_at)),
            community_secretary_is_director: one_shoulder,
        },
    )
}

/// Routing key of [`one_shoulder_changed`].
pub const ONE_SHOULDER_CHANGED: &str = "membership.community.one_shoulder.changed";

/// `membership.community.one_shoulder.changed`: 一肩挑 of the community at
/// `community_path` (its committee `committee`), as derived at `version`.
pub fn one_shoulder_changed(
    community_path: &str,
    committee: &str,
    one_shoulder: bool,
    version: i64,
    actor: &str,
    causation: &str,
) -> NewEvent {
    let community = convert::area_cell(community_path);
    let (event_id, meta) = meta(
        PRODUCER,
        ONE_SHOULDER_CHANGED,
        &community,
        version,
        actor,
        causation,
    );
    NewEvent::encode(
        event_id,
        ONE_SHOULDER_CHANGED,
        &pb::OneShoulderChanged {
            meta: Some(meta),
            community,
            ancestors: convert::area(community_path),
            committee: organisation_name(committee),
            secretary_is_director: one_shoulder,
            version,
        },
    )
}

/// Routing key of [`unit_report_registered`].
pub const UNIT_REPORT_REGISTERED: &str = "membership.report.unit_registered";
/// Routing key of [`member_report_registered`].
pub const MEMBER_REPORT_REGISTERED: &str = "membership.report.member_registered";
/// Routing key of [`report_ended`].
pub const REPORT_ENDED: &str = "membership.report.ended";

/// The contract's form of a pledged resource.
pub fn resource(resource: &crate::domain::report::Resource) -> pb::PledgedResource {
    pb::PledgedResource {
        category: resource.category.clone(),
        capacity: resource.capacity,
        unit: resource.unit.clone(),
        description: resource.description.clone(),
    }
}

/// `membership.report.unit_registered`.
pub fn unit_report_registered(row: &UnitReportRow, actor: &str) -> NewEvent {
    let name = format!("unitReports/{}", row.id);
    let (event_id, meta) = meta(PRODUCER, UNIT_REPORT_REGISTERED, &name, 1, actor, "");
    NewEvent::encode(
        event_id,
        UNIT_REPORT_REGISTERED,
        &pb::UnitReportRegistered {
            meta: Some(meta),
            report: name,
            unit: organisation_name(&row.unit_id),
            community: civicgrid_cell_tree::resource_name(&row.community_id),
            period_year: row.period_year,
            resources: row.resources.iter().map(resource).collect(),
            registered_at: Some(convert::to_timestamp(row.registered_at)),
        },
    )
}

/// `membership.report.member_registered`, without personal data.
pub fn member_report_registered(row: &MemberReportRow, actor: &str) -> NewEvent {
    let name = format!("memberReports/{}", row.id);
    let (event_id, meta) = meta(PRODUCER, MEMBER_REPORT_REGISTERED, &name, 1, actor, "");
    NewEvent::encode(
        event_id,
        MEMBER_REPORT_REGISTERED,
        &pb::MemberReportRegistered {
            meta: Some(meta),
            report: name,
            member: format!("members/{}", row.member_id),
            work_unit: row
                .work_unit_id
                .as_deref()
                .map(organisation_name)
                .unwrap_or_default(),
            community: civicgrid_cell_tree::resource_name(&row.community_id),
            period_year: row.period_year,
            skills: row.skills.clone(),
            volunteer_posts: row.volunteer_posts.clone(),
            registered_at: Some(convert::to_timestamp(row.registered_at)),
        },
    )
}

/// `membership.report.ended` of the report `name` (`unitReports/..` or `memberReports/..`).
pub fn report_ended(
    name: &str,
    community_id: &str,
    reason: &str,
    at: chrono::DateTime<chrono::Utc>,
    actor: &str,
) -> NewEvent {
    let (event_id, meta) = meta(PRODUCER, REPORT_ENDED, name, 2, actor, "");
    NewEvent::encode(
        event_id,
        REPORT_ENDED,
        &pb::ReportEnded {
            meta: Some(meta),
            report: name.to_owned(),
            community: civicgrid_cell_tree::resource_name(community_id),
            reason: reason.to_owned(),
            ended_at: Some(convert::to_timestamp(at)),
        },
    )
}

/// Routing key of [`agreement_signed`].
pub const AGREEMENT_SIGNED: &str = "membership.agreement.signed";
/// Routing key of [`commitment_fulfilled`].
pub const COMMITMENT_FULFILLED: &str = "membership.agreement.commitment_fulfilled";

/// `membership.agreement.signed`.
pub fn agreement_signed(row: &AgreementRow, commitments: usize, actor: &str) -> NewEvent {
    let name = format!("agreements/{}", row.id);
    let (event_id, meta) = meta(PRODUCER, AGREEMENT_SIGNED, &name, 1, actor, "");
    NewEvent::encode(
        event_id,
        AGREEMENT_SIGNED,
        &pb::AgreementSigned {
            meta: Some(meta),
            agreement: name,
            parties: row.parties.iter().map(|p| organisation_name(p)).collect(),
            community: civicgrid_cell_tree::resource_name(&row.community_id),
            commitment_count: i32::try_from(commitments).unwrap_or(i32::MAX),
            term_start: Some(convert::to_timestamp(row.term_start)),
            term_end: Some(convert::to_timestamp(row.term_end)),
        },
    )
}

/// `membership.agreement.commitment_fulfilled`.
pub fn commitment_fulfilled(
    agreement: &AgreementRow,
    commitment: &CommitmentRow,
    at: chrono::DateTime<chrono::Utc>,
    actor: &str,
) -> NewEvent {
    let name = format!("agreements/{}", agreement.id);
    // The agreement is the aggregate; its version is not tracked, so the
    // commitment's position orders nothing and 2 marks "after signing".
    let (event_id, meta) = meta(PRODUCER, COMMITMENT_FULFILLED, &name, 2, actor, "");
    NewEvent::encode(
        event_id,
        COMMITMENT_FULFILLED,
        &pb::CommitmentFulfilled {
            meta: Some(meta),
            commitment: format!("{name}/commitments/{}", commitment.id),
            agreement: name,
            community: civicgrid_cell_tree::resource_name(&agreement.community_id),
            due_time: Some(convert::to_timestamp(commitment.due_time)),
            fulfilled_at: Some(convert::to_timestamp(at)),
        },
    )
}

/// Routing key of [`member_updated`].
pub const MEMBER_UPDATED: &str = "membership.member.updated";
/// Routing key of [`member_transferred`].
pub const MEMBER_TRANSFERRED: &str = "membership.member.transferred";

/// `membership.member.updated`, without personal data, naming the changed `paths`.
pub fn member_updated(row: &MemberRow, paths: Vec<String>, actor: &str) -> NewEvent {
    let name = format!("members/{}", row.id);
    let (event_id, meta) = meta(PRODUCER, MEMBER_UPDATED, &name, row.version, actor, "");
    NewEvent::encode(
        event_id,
        MEMBER_UPDATED,
        &pb::MemberUpdated {
            meta: Some(meta),
            member: Some(convert::member_without_personal_data(row)),
            update_mask: Some(prost_types::FieldMask { paths }),
        },
    )
}

/// `membership.member.transferred`, without personal data.
pub fn member_transferred(
    row: &MemberRow,
    transfer: &crate::store::members::TransferRow,
    actor: &str,
) -> NewEvent {
    let name = format!("members/{}", row.id);
    let (event_id, meta) = meta(PRODUCER, MEMBER_TRANSFERRED, &name, row.version, actor, "");
    NewEvent::encode(
        event_id,
        MEMBER_TRANSFERRED,
        &pb::MemberTransferred {
            meta: Some(meta),
            member: Some(convert::member_without_personal_data(row)),
            transfer: Some(convert::transfer(transfer)),
        },
    )
}

/// Routing key of [`conference_issue_raised`].
pub const CONFERENCE_ISSUE_RAISED: &str = "membership.conference_issue.raised";
/// Routing key of [`conference_issue_resolved`].
pub const CONFERENCE_ISSUE_RESOLVED: &str = "membership.conference_issue.resolved";

/// `cell` of a conference event: empty for the county joint conference.
fn conference_cell(conference: &ConferenceRow) -> String {
    if conference.kind == 3 {
        String::new()
    } else {
        civicgrid_cell_tree::resource_name(&conference.cell_id)
    }
}

/// `membership.conference_issue.raised`.
pub fn conference_issue_raised(
    conference: &ConferenceRow,
    issue: &IssueRow,
    actor: &str,
) -> NewEvent {
    let name = format!("conferences/{}/issues/{}", conference.id, issue.id);
    let (event_id, meta) = meta(PRODUCER, CONFERENCE_ISSUE_RAISED, &name, 1, actor, "");
    NewEvent::encode(
        event_id,
        CONFERENCE_ISSUE_RAISED,
        &pb::ConferenceIssueRaised {
            meta: Some(meta),
            issue: name,
            cell: conference_cell(conference),
            owner: organisation_name(&issue.owner_id),
            due_time: Some(convert::to_timestamp(issue.due_time)),
            raised_at: Some(convert::to_timestamp(issue.raise_time)),
        },
    )
}

/// `membership.conference_issue.resolved`.
pub fn conference_issue_resolved(
    conference: &ConferenceRow,
    issue: &IssueRow,
    actor: &str,
) -> NewEvent {
    let name = format!("conferences/{}/issues/{}", conference.id, issue.id);
    let resolved = issue.resolve_time.unwrap_or(issue.raise_time);
    let (event_id, meta) = meta(PRODUCER, CONFERENCE_ISSUE_RESOLVED, &name, 2, actor, "");
    NewEvent::encode(
        event_id,
        CONFERENCE_ISSUE_RESOLVED,
        &pb::ConferenceIssueResolved {
            meta: Some(meta),
            issue: name,
            cell: conference_cell(conference),
            owner: organisation_name(&issue.owner_id),
            due_time: Some(convert::to_timestamp(issue.due_time)),
            resolved_at: Some(convert::to_timestamp(resolved)),
            on_time: resolved <= issue.due_time,
        },
    )
}

/// Routing key of [`points_awarded`].
pub const POINTS_AWARDED: &str = "membership.points.awarded";

/// `membership.points.awarded`: one ledger entry.
pub fn points_awarded(row: &crate::store::points::EntryRow, actor: &str) -> NewEvent {
    let name = format!("members/{}/points/{}", row.member_id, row.id);
    let (event_id, meta) = meta(
        PRODUCER,
        POINTS_AWARDED,
        &name,
        1,
        actor,
        &row.source_event_id,
    );
    NewEvent::encode(
        event_id,
        POINTS_AWARDED,
        &pb::PointsAwarded {
            meta: Some(meta),
            entry: name,
            member: format!("members/{}", row.member_id),
            rule: row.rule.clone(),
            points: row.points,
            reason: row.reason.clone(),
            source_event_id: row.source_event_id.clone(),
        },
    )
}
