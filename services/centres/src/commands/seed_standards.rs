//! Puts the shipped standard (`standards/default.toml`) in force as
//! version 1 of every category that has no standard yet. Runs at every
//! start; after the first it changes nothing, so later versions set through
//! the API always win, and two replicas starting together insert each
//! version 1 once (the primary key settles the race).

use sqlx::PgConnection;

use super::{CommandError, now};
use crate::domain::standard::{DEFAULT_STANDARDS, Standard, parse_standards};
use crate::store::standards;

/// Who the shipped versions are recorded as set by.
pub const SHIPPED: &str = "standards/default.toml";

/// Inserts the shipped version of each category without a standard; how many.
#[tracing::instrument(skip_all)]
pub async fn seed_standards(conn: &mut PgConnection) -> Result<usize, CommandError> {
    // The file is compiled in and parsed by a unit test, so failing here
    // means a broken build, reported rather than panicking.
    let shipped = parse_standards(DEFAULT_STANDARDS).map_err(|why| {
        CommandError::Database(sqlx::Error::Decode(format!("{SHIPPED}: {why}").into()))
    })?;
    let existing = standards::in_force(&mut *conn).await?;
    let at = now();
    let mut seeded = 0;
    for (category, requirement) in shipped {
        if existing.contains_key(&category) {
            continue;
        }
        let standard = Standard {
            category,
            requirement,
            version: 1,
            set_by: SHIPPED.to_owned(),
            create_time: at,
        };
        if standards::insert(&mut *conn, &standard).await? {
            seeded += 1;
        }
    }
    Ok(seeded)
}
