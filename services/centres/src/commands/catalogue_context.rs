//! The centre a catalogue command works on, within the caller's scope.

use civicgrid_runtime::auth::Caller;
use sqlx::PgConnection;

use super::CommandError;
use crate::domain::access::sees;
use crate::domain::centre::{Centre, centre_name};
use crate::store::centres;

/// The centre `id`; NOT_FOUND when absent or outside the caller's scope.
pub(crate) async fn visible_centre(
    conn: &mut PgConnection,
    caller: &Caller,
    id: &str,
) -> Result<Centre, CommandError> {
    centres::get(&mut *conn, id)
        .await?
        .filter(|centre| {
            sees(
                &centre.location_path,
                caller.scope_roots("cells").as_deref(),
            )
        })
        .ok_or_else(|| CommandError::NotFound(centre_name(id)))
}
