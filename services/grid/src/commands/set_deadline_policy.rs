//! SetDeadlinePolicy: the allowances of one category and urgency, published
//! as `grid.deadline_policy.set` (a service explaining a score can show the
//! allowance a deadline came from).

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;

use super::{CommandError, check_may_edit_directory, now};
use crate::domain::directory::{DeadlinePolicy, DirectoryRuleError, Versioned};
use crate::events::publish;
use crate::store::directory as store;
use crate::store::lookups::Lookups;

/// Creates or replaces the policy of one category and urgency (version +1);
/// FAILED_PRECONDITION when the category does not exist.
#[tracing::instrument(skip_all, fields(policy = %policy.resource_name()))]
pub async fn set_deadline_policy(
    conn: &mut PgConnection,
    lookups: &Lookups,
    caller: &Caller,
    policy: DeadlinePolicy,
) -> Result<Versioned<DeadlinePolicy>, CommandError> {
    check_may_edit_directory(caller)?;
    if !store::lock_category(&mut *conn, policy.category.as_str()).await? {
        return Err(DirectoryRuleError::CategoryMissing(policy.category).into());
    }
    let stored = store::upsert_deadline_policy(&mut *conn, &policy, now()).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::deadline_policy_set(&stored, &caller.subject),
    )
    .await?;
    lookups.invalidate();
    tracing::info!(
        policy = %policy.resource_name(),
        version = stored.version,
        by = %caller.subject,
        "deadline policy set"
    );
    Ok(stored)
}
