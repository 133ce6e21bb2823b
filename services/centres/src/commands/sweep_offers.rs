//! The offer sweep: every offer (of an activity's place or a service
//! slot's) that lapsed unaccepted passes to the next in line, exactly once
//! however many sweepers run.
//!
//! Restart-safe because it keeps no state: each sweep finds every lapsed
//! offer from the database. Multi-replica-safe because each activity (or
//! slot) is swept in its own transaction holding its row lock, taken
//! with SKIP LOCKED (another sweeper already has it), and the lapsed
//! offers are read again under that lock, so an offer a first sweeper
//! passed on is no longer one when a second looks.

use chrono::{DateTime, Duration, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::transaction::transact;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::CommandError;
use super::waitlist::{pass_place, pass_slot_place};
use crate::domain::activity::{ActivityState, RegistrationState};
use crate::domain::catalogue::SlotBookingState;
use crate::events::publish;
use crate::store::{activities, catalogue, registrations};

/// Activities looked at per sweep; the next sweep takes the rest.
const BATCH: i64 = 500;

/// Who the sweeper's events name as their actor.
pub const SWEEPER: &str = "centres/waitlist-sweeper";

/// One sweep at `now` over service slots and activities: returns how many
/// lapsed offers it passed on.
#[tracing::instrument(skip_all)]
pub async fn sweep_once(
    pool: &PgPool,
    offer_ttl: Duration,
    now: DateTime<Utc>,
) -> Result<usize, CommandError> {
    let mut passed = 0;
    for slot_id in catalogue::slots_with_lapsed_offers(pool, now, BATCH).await? {
        passed += transact(
            pool,
            &(slot_id, offer_ttl, now),
            |tx, &(slot_id, offer_ttl, now)| Box::pin(sweep_slot(tx, slot_id, offer_ttl, now)),
        )
        .await?;
    }
    let candidates = registrations::activities_with_lapsed_offers(pool, now, BATCH).await?;
    for activity_id in candidates {
        passed += transact(
            pool,
            &(activity_id, offer_ttl, now),
            |tx, &(activity_id, offer_ttl, now)| {
                Box::pin(sweep_activity(tx, activity_id, offer_ttl, now))
            },
        )
        .await?;
    }
    Ok(passed)
}

/// Passes on the offers of one activity that lapsed by `now`; 0 when
/// another transaction holds the activity.
#[tracing::instrument(level = "debug", skip_all, fields(activity = %activity_id))]
pub async fn sweep_activity(
    conn: &mut PgConnection,
    activity_id: Uuid,
    offer_ttl: Duration,
    now: DateTime<Utc>,
) -> Result<usize, CommandError> {
    let Some(mut activity) = activities::lock_unless_busy(&mut *conn, activity_id).await? else {
        return Ok(0);
    };
    if activity.state != ActivityState::Scheduled {
        return Ok(0);
    }
    let lapsed = registrations::lapsed_offers(&mut *conn, activity_id, now).await?;
    for mut offer in lapsed.iter().cloned() {
        offer.become_(RegistrationState::Expired, now, offer_ttl);
        registrations::save(&mut *conn, &offer).await?;
        outbox::enqueue(&mut *conn, &publish::registration_changed(&offer, SWEEPER)).await?;
        pass_place(&mut *conn, &mut activity, now, offer_ttl, SWEEPER).await?;
    }
    if !lapsed.is_empty() {
        activities::save(&mut *conn, &activity).await?;
    }
    Ok(lapsed.len())
}

/// Passes on the offers of one service slot that lapsed by `now`; 0 when
/// another transaction holds the slot.
#[tracing::instrument(level = "debug", skip_all, fields(slot = %slot_id))]
pub async fn sweep_slot(
    conn: &mut PgConnection,
    slot_id: Uuid,
    offer_ttl: Duration,
    now: DateTime<Utc>,
) -> Result<usize, CommandError> {
    let Some(mut slot) = catalogue::lock_slot_unless_busy(&mut *conn, slot_id).await? else {
        return Ok(0);
    };
    let lapsed = catalogue::lapsed_offers(&mut *conn, slot_id, now).await?;
    for mut offer in lapsed.iter().cloned() {
        offer.become_(SlotBookingState::Expired, now, offer_ttl);
        catalogue::save_booking(&mut *conn, &offer).await?;
        outbox::enqueue(
            &mut *conn,
            &publish::slot_booking_changed(&slot, &offer, SWEEPER),
        )
        .await?;
        pass_slot_place(&mut *conn, &mut slot, now, offer_ttl, SWEEPER).await?;
    }
    Ok(lapsed.len())
}
