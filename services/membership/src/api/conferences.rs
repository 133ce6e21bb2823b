//! Joint conferences: requests parsed here (they are small), the overdue
//! list read here, the changes run by `commands::conferences`.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use crate::api::agreements::check_reader;
use crate::api::organisations::within_path;
use crate::api::posts::parse::{time, uuid_name};
use crate::commands::conferences::{CreateConference, RaiseIssue};
use crate::commands::now;
use crate::convert::to_timestamp;
use crate::domain::organisation::{OrganisationId, organisation_name, parse_display_name};
use crate::store::conferences::{self, ConferenceRow, IssueRow, MeetingRow};

/// The `Conference` of `row`.
pub fn conference(row: &ConferenceRow) -> pb::Conference {
    pb::Conference {
        name: format!("conferences/{}", row.id),
        kind: i32::from(row.kind),
        cell: civicgrid_cell_tree::resource_name(&row.cell_id),
        display_name: row.display_name.clone(),
        member_units: row
            .member_units
            .iter()
            .map(|u| organisation_name(u))
            .collect(),
        create_time: Some(to_timestamp(row.create_time)),
    }
}

/// The `Meeting` of `row`.
pub fn meeting(row: &MeetingRow) -> pb::Meeting {
    pb::Meeting {
        name: format!("conferences/{}/meetings/{}", row.conference_id, row.id),
        topic: row.topic.clone(),
        held_at: Some(to_timestamp(row.held_at)),
    }
}

/// The `ConferenceIssue` of `row`.
pub fn issue(row: &IssueRow) -> pb::ConferenceIssue {
    pb::ConferenceIssue {
        name: format!("conferences/{}/issues/{}", row.conference_id, row.id),
        meeting: row
            .meeting_id
            .map(|m| format!("conferences/{}/meetings/{m}", row.conference_id))
            .unwrap_or_default(),
        title: row.title.clone(),
        owner: organisation_name(&row.owner_id),
        due_time: Some(to_timestamp(row.due_time)),
        raise_time: Some(to_timestamp(row.raise_time)),
        resolve_time: row.resolve_time.map(to_timestamp),
        resolution: row.resolution.clone(),
    }
}

fn text(value: &str, field: &str, most: usize, violations: &mut FieldViolations) -> String {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > most {
        violations.add(field, format!("is required: 1-{most} characters"));
    }
    value.to_owned()
}

/// A CreateConferenceRequest into a command input.
pub fn parse_create(request: &pb::CreateConferenceRequest) -> Result<CreateConference, Status> {
    let mut violations = FieldViolations::new();
    let Some(c) = request.conference.as_ref() else {
        violations.add("conference", "is required");
        return Err(violations.into_status());
    };
    let kind = i16::try_from(c.kind).ok().filter(|k| (1..=3).contains(k));
    if kind.is_none() {
        violations.add(
            "conference.kind",
            "must be a ConferenceKind other than UNSPECIFIED",
        );
    }
    let cell = civicgrid_cell_tree::parse_name(&c.cell).map(str::to_owned);
    if cell.is_none() {
        violations.add("conference.cell", "must be a cell name `cells/{cell_id}`");
    }
    let display_name = parse_display_name(&c.display_name)
        .map_err(|why| violations.add("conference.display_name", why))
        .ok();
    let mut units: Vec<OrganisationId> = Vec::new();
    for (i, unit) in c.member_units.iter().enumerate() {
        match OrganisationId::parse_name(unit) {
            Some(id) if !units.contains(&id) => units.push(id),
            Some(_) => violations.add(
                format!("conference.member_units[{i}]"),
                "names a unit twice",
            ),
            None => violations.add(
                format!("conference.member_units[{i}]"),
                "must be an organisation name `organisations/{organisation_id}`",
            ),
        }
    }
    if c.member_units.is_empty() {
        violations.add("conference.member_units", "must name at least one unit");
    }
    match (kind, cell, display_name) {
        (Some(kind), Some(cell), Some(display_name)) if violations.is_empty() => {
            Ok(CreateConference {
                kind,
                cell,
                display_name,
                member_units: units,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// A RecordMeetingRequest into (conference, topic, held at).
pub fn parse_meeting(
    request: &pb::RecordMeetingRequest,
) -> Result<(Uuid, String, Option<chrono::DateTime<chrono::Utc>>), Status> {
    let mut violations = FieldViolations::new();
    let conference = uuid_name(&request.parent, "conferences", "parent", &mut violations);
    let m = request.meeting.clone().unwrap_or_default();
    let topic = text(&m.topic, "meeting.topic", 200, &mut violations);
    let held_at = time(m.held_at.as_ref(), "meeting.held_at", &mut violations);
    match conference {
        Some(conference) if violations.is_empty() => Ok((conference, topic, held_at)),
        _ => Err(violations.into_status()),
    }
}

/// A RaiseConferenceIssueRequest into a command input.
pub fn parse_raise(request: &pb::RaiseConferenceIssueRequest) -> Result<RaiseIssue, Status> {
    let mut violations = FieldViolations::new();
    let conference = uuid_name(&request.parent, "conferences", "parent", &mut violations);
    let i = request.issue.clone().unwrap_or_default();
    let title = text(&i.title, "issue.title", 200, &mut violations);
    let owner = OrganisationId::parse_name(&i.owner);
    if owner.is_none() {
        violations.add(
            "issue.owner",
            "must be an organisation name `organisations/{organisation_id}`",
        );
    }
    let meeting = match i.meeting.as_str() {
        "" => None,
        name => {
            let id = name
                .rsplit_once("/meetings/")
                .and_then(|(_, id)| Uuid::parse_str(id).ok());
            if id.is_none() {
                violations.add("issue.meeting", "must be empty or a meeting name");
            }
            id
        }
    };
    let due = time(i.due_time.as_ref(), "issue.due_time", &mut violations);
    if i.due_time.is_none() {
        violations.add("issue.due_time", "is required");
    }
    match (conference, owner, due) {
        (Some(conference), Some(owner), Some(due_time)) if violations.is_empty() => {
            Ok(RaiseIssue {
                conference,
                meeting,
                title,
                owner,
                due_time,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// A ResolveConferenceIssueRequest into (conference, issue, resolution).
pub fn parse_resolve(
    request: &pb::ResolveConferenceIssueRequest,
) -> Result<(Uuid, Uuid, String), Status> {
    let mut violations = FieldViolations::new();
    let ids = request
        .name
        .strip_prefix("conferences/")
        .and_then(|rest| rest.split_once("/issues/"))
        .and_then(|(c, i)| Some((Uuid::parse_str(c).ok()?, Uuid::parse_str(i).ok()?)));
    if ids.is_none() {
        violations.add(
            "name",
            "must be an issue name `conferences/{conference_id}/issues/{issue_id}`",
        );
    }
    let resolution = text(&request.resolution, "resolution", 500, &mut violations);
    match ids {
        Some((c, i)) if violations.is_empty() => Ok((c, i, resolution)),
        _ => Err(violations.into_status()),
    }
}

/// Open issues past due in the caller's scope at or below `ancestor`.
pub async fn overdue(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListOverdueConferenceIssuesRequest,
) -> Result<pb::ListOverdueConferenceIssuesResponse, Status> {
    check_reader(caller)?;
    let roots = caller.scope_roots("cells");
    let within = within_path(pool, roots.as_deref(), &request.ancestor).await?;
    let rows = conferences::overdue(pool, &within, roots.as_deref(), now())
        .await
        .map_err(status::database)?;
    Ok(pb::ListOverdueConferenceIssuesResponse {
        issues: rows.iter().map(issue).collect(),
    })
}
