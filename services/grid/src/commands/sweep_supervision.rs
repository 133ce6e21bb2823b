//! The supervision sweep: issue each rung of the ladder for every lapsed
//! deadline, exactly once, however many sweepers run.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::transaction::transact;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::CommandError;
use crate::domain::supervision::{Ladder, Level, levels_due, open_lapses};
use crate::domain::task::TaskId;
use crate::events::publish;
use crate::store::{supervision, tasks};

/// Tasks looked at per sweep; the next sweep takes the rest.
const BATCH: i64 = 500;

/// One sweep at `now`: returns how many orders it issued. Each task is
/// handled in its own transaction ([`sweep_task`]), so one task's failure
/// or conflict does not hold back the others.
#[tracing::instrument(skip_all)]
pub async fn sweep_once(
    pool: &PgPool,
    ladder: &Ladder,
    now: DateTime<Utc>,
) -> Result<usize, CommandError> {
    let candidates =
        supervision::tasks_to_sweep(pool, now, ladder.warning_before, ladder.red_after, BATCH)
            .await?;
    let mut issued = 0;
    for task_id in candidates {
        issued += transact(
            pool,
            &(ladder, task_id, now),
            |tx, &(ladder, task_id, now)| Box::pin(sweep_task(tx, ladder, task_id, now)),
        )
        .await?;
    }
    Ok(issued)
}

/// Issues the orders due at `now` for one task: returns how many. The task
/// row is locked, so a sweep and a department's check-in never cross, and
/// the unique order key makes a second sweeper's insert a no-op.
#[tracing::instrument(level = "debug", skip_all, fields(task = %task_id))]
pub async fn sweep_task(
    conn: &mut PgConnection,
    ladder: &Ladder,
    task_id: Uuid,
    now: DateTime<Utc>,
) -> Result<usize, CommandError> {
    let Some(task) = tasks::lock(&mut *conn, TaskId::from_uuid(task_id)).await? else {
        return Ok(0);
    };
    let mut issued = 0;
    for lapse in open_lapses(&task.lifecycle) {
        for level in levels_due(ladder, lapse.due, now) {
            if let Some(order) = supervision::issue(&mut *conn, task_id, &lapse, level, now).await?
            {
                let change = if level == Level::Red {
                    "escalated"
                } else {
                    "issued"
                };
                outbox::enqueue(
                    &mut *conn,
                    &publish::supervision_changed(&order, change, task.lifecycle.version),
                )
                .await?;
                issued += 1;
            }
        }
    }
    Ok(issued)
}
