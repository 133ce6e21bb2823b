//! AssignPost: a member takes a post in an organisation from a time on.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::{OrganisationId, visible};
use crate::domain::post::{Period, PostKind, community_of, secretary_is_director};
use crate::events::publish;
use crate::store::posts::{self, PostRow};
use crate::store::{members, organisations};

/// A parsed AssignPost request.
#[derive(Debug, Clone)]
pub struct AssignPost {
    /// Who takes it.
    pub member: Uuid,
    /// Where.
    pub organisation: OrganisationId,
    /// What.
    pub kind: PostKind,
    /// From when; `None`: now.
    pub valid_from: Option<DateTime<Utc>>,
    /// Until when (exclusive); `None`: open-ended.
    pub valid_until: Option<DateTime<Utc>>,
    /// Idempotency key.
    pub request_id: Option<Uuid>,
}

/// Whether the community of `area_path` has 一肩挑 at `at`. When the post
/// that changed (held in `organisation`) is one of the community party
/// committee's, also writes `membership.community.one_shoulder.changed`
/// with the community's next version, bumped before the posts are read so
/// that the highest version carries the latest state. A post whose end was
/// scheduled publishes nothing when the end comes: the state is "as of the
/// last change in the committee", as the post events' flag is.
pub(crate) async fn community_one_shoulder(
    conn: &mut PgConnection,
    area_path: &str,
    organisation: &str,
    at: DateTime<Utc>,
    actor: &str,
    causation: &str,
) -> Result<bool, CommandError> {
    let Some((community, path)) = community_of(area_path) else {
        return Ok(false);
    };
    let Some(committee) = organisations::community_committee(&mut *conn, &path).await? else {
        return Ok(false);
    };
    let version = if committee == organisation {
        Some(posts::next_one_shoulder_version(&mut *conn, &community).await?)
    } else {
        None
    };
    let facts = posts::facts_of(&mut *conn, &committee).await?;
    let one_shoulder = secretary_is_director(&facts, &committee, at);
    if let Some(version) = version {
        outbox::enqueue(
            &mut *conn,
            &publish::one_shoulder_changed(
                &path,
                &committee,
                one_shoulder,
                version,
                actor,
                causation,
            ),
        )
        .await?;
    }
    Ok(one_shoulder)
}

/// Stores the post unless it would overlap a post it excludes, and writes
/// `membership.post.assigned`.
#[tracing::instrument(skip_all, fields(organisation = %input.organisation, kind = %input.kind))]
pub async fn assign_post(
    conn: &mut PgConnection,
    caller: &Caller,
    input: AssignPost,
) -> Result<PostRow, CommandError> {
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow assigning posts",
        ));
    }
    let roots = caller.scope_roots("cells");
    if let Some(request_id) = input.request_id
        && let Some(existing) = posts::assigned_by_request(&mut *conn, request_id).await?
    {
        // A retry of a request that already succeeded: same answer, no new event.
        return posts::get(&mut *conn, existing)
            .await?
            .filter(|row| visible(&row.area_path, roots.as_deref()))
            .ok_or_else(|| CommandError::not_found(format!("posts/{existing}")));
    }
    // Locked so that two overlapping posts of one holder cannot both pass
    // the check below.
    let organisation = organisations::lock(&mut *conn, input.organisation.as_str())
        .await?
        .filter(|row| visible(&row.area_path, roots.as_deref()))
        .ok_or_else(|| {
            CommandError::invalid_field(
                "post.organisation",
                format!(
                    "{} does not exist in your scope",
                    input.organisation.resource_name()
                ),
            )
        })?;
    input
        .kind
        .check_organisation(organisation.kind)
        .map_err(|why| CommandError::invalid_field("post.kind", why))?;
    let member = members::get(&mut *conn, input.member)
        .await?
        .filter(|row| visible(&row.area_path, roots.as_deref()))
        .ok_or_else(|| {
            CommandError::invalid_field(
                "post.member",
                format!("members/{} does not exist in your scope", input.member),
            )
        })?;
    let at = now();
    let period = Period {
        from: input.valid_from.unwrap_or(at),
        until: input.valid_until,
    };
    if period.until.is_some_and(|until| until <= period.from) {
        return Err(CommandError::invalid_field(
            "post.valid_until",
            "must be after valid_from",
        ));
    }
    let holder = (!input.kind.single_holder()).then_some(member.id);
    if let Some(existing) =
        posts::overlapping(&mut *conn, &organisation.id, input.kind, holder, period).await?
    {
        let whose = if holder.is_some() {
            "the member's own"
        } else {
            "another member's"
        };
        return Err(CommandError::already_exists(format!(
            "posts/{existing} ({whose} {} post in {} for an overlapping period)",
            input.kind,
            input.organisation.resource_name()
        )));
    }
    let row = PostRow {
        id: Uuid::now_v7(),
        member_id: member.id,
        organisation_id: organisation.id.clone(),
        kind: input.kind,
        valid_from: period.from,
        valid_until: period.until,
        create_time: at,
        area_path: organisation.area_path.clone(),
        cell_id: organisation.cell_id.clone(),
        compound_id: organisation.compound_id.clone(),
    };
    posts::insert(&mut *conn, &row).await?;
    if let Some(request_id) = input.request_id {
        posts::remember_request(&mut *conn, request_id, row.id).await?;
    }
    let causation = input
        .request_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    let one_shoulder = community_one_shoulder(
        &mut *conn,
        &row.area_path,
        &row.organisation_id,
        at,
        &caller.subject,
        &causation,
    )
    .await?;
    outbox::enqueue(
        &mut *conn,
        &publish::post_assigned(&row, one_shoulder, &caller.subject, &causation),
    )
    .await?;
    tracing::info!(post = %row.id, member = %row.member_id, kind = %row.kind, "post assigned");
    Ok(row)
}
