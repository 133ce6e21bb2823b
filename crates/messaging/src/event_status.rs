//! What `SubscriptionAdminService.GetEventStatus` reports: how far behind a
//! service's event machinery is, read from its own tables and its queues.

use chrono::{DateTime, Utc};
use lapin::Channel;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use sqlx::PgPool;

use crate::broker::BrokerError;
use crate::consumer::Consumer;
use crate::topology::Topology;

/// The publishing side: the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxStatus {
    /// Rows not yet confirmed by the broker.
    pub backlog: i64,
    /// When the oldest of them committed.
    pub oldest_unpublished: Option<DateTime<Utc>>,
    /// The highest position in the event log.
    pub head_position: i64,
}

/// The outbox of the service at `pool`. Two queries, so the backlog is
/// counted on the partial index of unpublished rows, never the whole log.
pub async fn outbox_status(pool: &PgPool) -> sqlx::Result<OutboxStatus> {
    let (backlog, oldest_unpublished): (i64, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT count(*), min(created_at) FROM outbox WHERE published_at IS NULL")
            .fetch_one(pool)
            .await?;
    let head_position: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM outbox")
        .fetch_one(pool)
        .await?;
    Ok(OutboxStatus {
        backlog,
        oldest_unpublished,
        head_position,
    })
}

/// A subscription's queues as the broker sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepths {
    /// Messages ready in the live queue.
    pub queued: i64,
    /// Consumers attached to the live queue.
    pub consumers: i64,
    /// Messages parked in the dead-letter queue.
    pub dead_letters: i64,
}

/// A catch-up subscription's place in one producer's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    pub producer: String,
    pub position: i64,
    pub updated_at: DateTime<Utc>,
}

/// Asks the broker for `consumer`'s queue and dead-letter queue, passively
/// (declaring nothing: a queue that does not exist yet is an error, which
/// says the consumer never started).
pub async fn queue_depths(consumer: &Consumer) -> Result<QueueDepths, BrokerError> {
    let channel = consumer.broker.channel().await?;
    let live = passive(&channel, consumer.queue_name()).await;
    let dead = match &live {
        Ok(_) => {
            passive(
                &channel,
                &Topology::dead_letter_queue(consumer.queue_name()),
            )
            .await
        }
        Err(_) => Ok((0, 0)),
    };
    let _ = channel.close(200, "status read".into()).await;
    let (queued, consumers) = live?;
    let (dead_letters, _) = dead?;
    Ok(QueueDepths {
        queued,
        consumers,
        dead_letters,
    })
}

async fn passive(channel: &Channel, queue: &str) -> Result<(i64, i64), BrokerError> {
    let queue = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    Ok((
        i64::from(queue.message_count()),
        i64::from(queue.consumer_count()),
    ))
}

/// `consumer`'s checkpoints, one per producer it catches up from.
pub async fn checkpoints(consumer: &Consumer) -> sqlx::Result<Vec<CheckpointRow>> {
    let rows: Vec<(String, i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT producer, position, updated_at FROM subscription_checkpoints \
         WHERE subscription = $1 ORDER BY producer",
    )
    .bind(consumer.subscription().name())
    .fetch_all(&consumer.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(producer, position, updated_at)| CheckpointRow {
            producer,
            position,
            updated_at,
        })
        .collect())
}
