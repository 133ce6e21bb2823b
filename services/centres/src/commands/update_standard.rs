//! UpdateStandard: a new version of a category's standard comes into force.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;

use super::publish_state::publish_compliance;
use super::{CommandError, now};
use crate::convert::standard_name;
use crate::domain::access::may_set_standards;
use crate::domain::centre::Category;
use crate::domain::standard::{Requirement, Standard};
use crate::events::publish;
use crate::store::centres::{self, CentreQuery};
use crate::store::standards;

/// A parsed UpdateStandard request.
#[derive(Debug, Clone)]
pub struct UpdateStandard {
    /// The category.
    pub category: Category,
    /// What it now requires.
    pub requirement: Requirement,
    /// The version the caller last read, from its etag.
    pub expected_version: Option<i64>,
}

/// Stores the next version and writes `centres.standard.updated`, then
/// `centres.compliance.changed` for every centre of the category.
#[tracing::instrument(skip_all, fields(category = %input.category))]
pub async fn update_standard(
    conn: &mut PgConnection,
    caller: &Caller,
    input: UpdateStandard,
) -> Result<Standard, CommandError> {
    if !may_set_standards(caller) {
        return Err(CommandError::PermissionDenied(
            "only a county admin of the whole county sets standards".to_owned(),
        ));
    }
    let name = standard_name(input.category);
    // Keeps centre writers of the category out until this commits, so every
    // centre is checked here or, once this committed, by its own writer
    // against this version.
    standards::lock_category(&mut *conn, input.category).await?;
    let current = standards::current(&mut *conn, input.category)
        .await?
        .ok_or_else(|| CommandError::NotFound(name.clone()))?;
    if let Some(expected) = input.expected_version
        && expected != current.version
    {
        return Err(CommandError::Aborted(format!(
            "{name} changed since you read it (your etag is for version {expected}, it is now at {}); read it again",
            current.version
        )));
    }
    let standard = Standard {
        category: input.category,
        requirement: input.requirement,
        version: current.version + 1,
        set_by: caller.subject.clone(),
        create_time: now(),
    };
    if !standards::insert(&mut *conn, &standard).await? {
        return Err(CommandError::Aborted(format!(
            "{name} changed while you updated it; read it again"
        )));
    }
    let updated = publish::standard_updated(&standard, &caller.subject);
    outbox::enqueue(&mut *conn, &updated).await?;
    let of_category = CentreQuery {
        category: Some(standard.category),
        limit: i64::MAX,
        ..CentreQuery::default()
    };
    // Each centre's check was caused by the new version's event.
    let causation = updated.event_id.to_string();
    for centre in centres::list(&mut *conn, &of_category).await? {
        publish_compliance(&mut *conn, &centre, &standard, &caller.subject, &causation).await?;
    }
    tracing::info!(category = %standard.category, version = standard.version, "standard in force");
    Ok(standard)
}
