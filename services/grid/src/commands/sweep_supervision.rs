//! The supervision sweep: issue each rung of the ladder for every lapsed
//! deadline, exactly once, however many sweepers run.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use sqlx::PgPool;

use super::CommandError;
use crate::domain::supervision::{Ladder, Level, levels_due, open_lapses};
use crate::events::publish;
use crate::store::{supervision, tasks};

/// Tasks looked at per sweep; the next sweep takes the rest.
const BATCH: i64 = 500;

/// One sweep at `now`: returns how many orders it issued. Each task is
/// handled in its own transaction with the task row locked, so a sweep and
/// a department's check-in never cross, and the unique order key makes a
/// second sweeper's insert a no-op.
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
        let mut tx = pool.begin().await?;
        let Some(task) = tasks::lock(&mut tx, task_id).await? else {
            continue;
        };
        for lapse in open_lapses(&task.lifecycle) {
            for level in levels_due(ladder, lapse.due, now) {
                if let Some(order) =
                    supervision::issue(&mut tx, task_id, &lapse, level, now).await?
                {
                    let change = if level == Level::Red {
                        "escalated"
                    } else {
                        "issued"
                    };
                    outbox::enqueue(
                        &mut tx,
                        &publish::supervision_changed(&order, change, task.lifecycle.version),
                    )
                    .await?;
                    issued += 1;
                }
            }
        }
        tx.commit().await?;
    }
    Ok(issued)
}
