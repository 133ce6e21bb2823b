//! EndPost: a post stops at a time; from then on it counts for nothing.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::assign_post::community_one_shoulder;
use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::visible;
use crate::events::publish;
use crate::store::posts::{self, PostRow};

/// A parsed EndPost request.
#[derive(Debug, Clone)]
pub struct EndPost {
    /// Which.
    pub id: Uuid,
    /// When; `None`: now.
    pub end_time: Option<DateTime<Utc>>,
}

/// Ends the post and writes `membership.post.ended`.
#[tracing::instrument(skip_all, fields(post = %input.id))]
pub async fn end_post(
    conn: &mut PgConnection,
    caller: &Caller,
    input: EndPost,
) -> Result<PostRow, CommandError> {
    let name = format!("posts/{}", input.id);
    let mut row = posts::lock(&mut *conn, input.id)
        .await?
        .filter(|row| visible(&row.area_path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| CommandError::not_found(name.clone()))?;
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow ending posts",
        ));
    }
    let at = now();
    let end = input.end_time.unwrap_or(at);
    if let Some(until) = row.valid_until
        && until <= end
    {
        return Err(CommandError::precondition(format!(
            "{name} has ended already, at {}",
            until.to_rfc3339()
        )));
    }
    if end < row.valid_from {
        return Err(CommandError::invalid_field(
            "end_time",
            format!(
                "must not be before the post's valid_from ({})",
                row.valid_from.to_rfc3339()
            ),
        ));
    }
    posts::end(&mut *conn, row.id, end).await?;
    row.valid_until = Some(end);
    let one_shoulder = community_one_shoulder(
        &mut *conn,
        &row.area_path,
        &row.organisation_id,
        at,
        &caller.subject,
        "",
    )
    .await?;
    outbox::enqueue(
        &mut *conn,
        &publish::post_ended(&row, end, one_shoulder, &caller.subject),
    )
    .await?;
    tracing::info!(post = %row.id, kind = %row.kind, "post ended");
    Ok(row)
}
