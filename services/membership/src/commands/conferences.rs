//! Joint conferences: CreateConference, RecordMeeting, RaiseConferenceIssue
//! and ResolveConferenceIssue. Small use cases over one aggregate, kept
//! together.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::{OrganisationId, level, visible};
use crate::events::publish;
use crate::store::conferences::{self, ConferenceRow, IssueRow, MeetingRow};
use crate::store::organisations;

/// A parsed CreateConference request.
#[derive(Debug, Clone)]
pub struct CreateConference {
    /// 1 street, 2 community, 3 county.
    pub kind: i16,
    /// Its cell.
    pub cell: String,
    /// Name.
    pub display_name: String,
    /// Member units, distinct.
    pub member_units: Vec<OrganisationId>,
}

/// A parsed RaiseConferenceIssue request.
#[derive(Debug, Clone)]
pub struct RaiseIssue {
    /// The conference.
    pub conference: Uuid,
    /// The meeting it was raised at.
    pub meeting: Option<Uuid>,
    /// What.
    pub title: String,
    /// Who owns it.
    pub owner: OrganisationId,
    /// By when.
    pub due_time: DateTime<Utc>,
}

fn check_editor(caller: &Caller) -> Result<(), CommandError> {
    if may_edit(caller) {
        Ok(())
    } else {
        Err(CommandError::permission_denied(
            "your roles do not allow changing conferences",
        ))
    }
}

/// The conference `id` if the caller sees it.
async fn visible_conference(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<ConferenceRow, CommandError> {
    conferences::get(&mut *conn, id)
        .await?
        .filter(|c| visible(&c.cell_path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| CommandError::not_found(format!("conferences/{id}")))
}

/// Stores a conference body.
pub async fn create_conference(
    conn: &mut PgConnection,
    caller: &Caller,
    input: CreateConference,
) -> Result<ConferenceRow, CommandError> {
    check_editor(caller)?;
    let cell_name = civicgrid_cell_tree::resource_name(&input.cell);
    let cell = civicgrid_cell_tree::get(&mut *conn, &input.cell)
        .await?
        .filter(|c| visible(&c.path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| {
            CommandError::invalid_field(
                "conference.cell",
                format!("{cell_name} is not in your scope"),
            )
        })?;
    let wanted = match input.kind {
        1 => level::STREET,
        2 => level::COMMUNITY,
        _ => level::COUNTY,
    };
    if cell.level != wanted {
        return Err(CommandError::invalid_field(
            "conference.cell",
            format!("a conference of this kind belongs to a level {wanted} cell"),
        ));
    }
    let ids: Vec<String> = input
        .member_units
        .iter()
        .map(|u| u.as_str().to_owned())
        .collect();
    let found = organisations::find_all(&mut *conn, &ids).await?;
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|o| &o.id == *id)) {
        return Err(CommandError::invalid_field(
            "conference.member_units",
            format!("organisations/{missing} does not exist"),
        ));
    }
    let row = ConferenceRow {
        id: Uuid::now_v7(),
        kind: input.kind,
        cell_id: cell.id,
        cell_path: cell.path,
        display_name: input.display_name,
        member_units: ids,
        create_time: now(),
    };
    conferences::insert(&mut *conn, &row).await?;
    Ok(row)
}

/// Records a meeting of a conference.
pub async fn record_meeting(
    conn: &mut PgConnection,
    caller: &Caller,
    conference: Uuid,
    topic: String,
    held_at: Option<DateTime<Utc>>,
) -> Result<MeetingRow, CommandError> {
    let conference = visible_conference(&mut *conn, caller, conference).await?;
    check_editor(caller)?;
    let row = MeetingRow {
        id: Uuid::now_v7(),
        conference_id: conference.id,
        topic,
        held_at: held_at.unwrap_or_else(now),
    };
    conferences::insert_meeting(&mut *conn, &row).await?;
    Ok(row)
}

/// Raises an issue owned by a member unit; writes `membership.conference_issue.raised`.
#[tracing::instrument(skip_all, fields(conference = %input.conference))]
pub async fn raise_issue(
    conn: &mut PgConnection,
    caller: &Caller,
    input: RaiseIssue,
) -> Result<IssueRow, CommandError> {
    let conference = visible_conference(&mut *conn, caller, input.conference).await?;
    check_editor(caller)?;
    if !conference
        .member_units
        .iter()
        .any(|u| u == input.owner.as_str())
    {
        return Err(CommandError::invalid_field(
            "issue.owner",
            format!(
                "{} is no member unit of the conference",
                input.owner.resource_name()
            ),
        ));
    }
    if let Some(meeting) = input.meeting
        && !conferences::meeting_exists(&mut *conn, conference.id, meeting).await?
    {
        return Err(CommandError::invalid_field(
            "issue.meeting",
            "is no meeting of the conference",
        ));
    }
    let row = IssueRow {
        id: Uuid::now_v7(),
        conference_id: conference.id,
        meeting_id: input.meeting,
        title: input.title,
        owner_id: input.owner.as_str().to_owned(),
        due_time: input.due_time,
        raise_time: now(),
        resolve_time: None,
        resolution: String::new(),
    };
    conferences::insert_issue(&mut *conn, &row).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::conference_issue_raised(&conference, &row, &caller.subject),
    )
    .await?;
    tracing::info!(issue = %row.id, owner = %row.owner_id, "conference issue raised");
    Ok(row)
}

/// Resolves an open issue; writes `membership.conference_issue.resolved`.
#[tracing::instrument(skip_all, fields(conference = %conference, issue = %issue))]
pub async fn resolve_issue(
    conn: &mut PgConnection,
    caller: &Caller,
    conference: Uuid,
    issue: Uuid,
    resolution: String,
) -> Result<IssueRow, CommandError> {
    let name = format!("conferences/{conference}/issues/{issue}");
    let conference = visible_conference(&mut *conn, caller, conference).await?;
    let mut row = conferences::lock_issue(&mut *conn, conference.id, issue)
        .await?
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    check_editor(caller)?;
    if let Some(at) = row.resolve_time {
        return Err(CommandError::precondition(format!(
            "{name} was resolved already, at {}",
            at.to_rfc3339()
        )));
    }
    let at = now();
    conferences::resolve(&mut *conn, row.id, at, &resolution).await?;
    row.resolve_time = Some(at);
    row.resolution = resolution;
    outbox::enqueue(
        &mut *conn,
        &publish::conference_issue_resolved(&conference, &row, &caller.subject),
    )
    .await?;
    tracing::info!(on_time = at <= row.due_time, "conference issue resolved");
    Ok(row)
}
