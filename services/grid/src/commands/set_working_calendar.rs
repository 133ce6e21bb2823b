//! SetWorkingCalendar: one year's holidays and make-up working days,
//! published as `grid.working_calendar.set`.

use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;

use super::{CommandError, check_may_edit_directory, now};
use crate::domain::calendar::YearCalendar;
use crate::domain::directory::Versioned;
use crate::events::publish;
use crate::store::directory as store;
use crate::store::lookups::Lookups;

/// Creates or replaces one year's working calendar (version +1).
#[tracing::instrument(skip_all, fields(year = calendar.year))]
pub async fn set_working_calendar(
    conn: &mut PgConnection,
    lookups: &Lookups,
    caller: &Caller,
    calendar: YearCalendar,
) -> Result<Versioned<YearCalendar>, CommandError> {
    check_may_edit_directory(caller)?;
    let stored = store::upsert_working_calendar(&mut *conn, &calendar, now()).await?;
    outbox::enqueue(
        &mut *conn,
        &publish::working_calendar_set(&stored, &caller.subject),
    )
    .await?;
    lookups.invalidate();
    tracing::info!(
        year = calendar.year,
        version = stored.version,
        by = %caller.subject,
        "working calendar set"
    );
    Ok(stored)
}
