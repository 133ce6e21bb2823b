//! The inbox consumer: applies each event exactly once in effect.
//!
//! For every delivery: record `(event_id, handler)` in `processed_events`
//! and run the handler in one transaction; ack only after the commit. A
//! duplicate is acked and skipped. Undecodable or permanently failing
//! messages are rejected into the dead-letter queue at once; transient
//! failures are requeued after a backoff until the queue's delivery limit
//! dead-letters them, so a poison message cannot block the queue forever.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicQosOptions,
    BasicRejectOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::backoff::Backoff;
use crate::broker::{Broker, BrokerError};
use crate::outbox::header_map;
use crate::topology::{QueueSpec, Topology};

/// Deliveries in flight per consumer. Handling is sequential; prefetch only
/// hides the round trip to the broker.
const PREFETCH: u16 = 16;

/// An event as a handler sees it.
#[derive(Debug, Clone)]
pub struct InboundEvent {
    /// The producer's event id (AMQP `message_id`).
    pub event_id: Uuid,
    /// e.g. `grid.cell.created`.
    pub routing_key: String,
    /// The encoded protobuf message.
    pub payload: Vec<u8>,
    /// How many times the broker delivered it before (0 on the first delivery).
    pub previous_deliveries: u32,
}

impl InboundEvent {
    /// Decodes the payload; an undecodable payload is permanent (poison).
    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, HandlerError> {
        M::decode(self.payload.as_slice())
            .map_err(|e| HandlerError::Permanent(format!("undecodable payload: {e}")))
    }
}

/// Why a handler failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Retrying cannot help (bad payload, broken invariant): dead-letter now.
    #[error("permanent: {0}")]
    Permanent(String),
    /// May succeed later (database down, conflict): retry with backoff.
    #[error("transient: {0}")]
    Transient(String),
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        HandlerError::Transient(error.to_string())
    }
}

/// Applies one kind of event inside the consumer's transaction.
pub trait Handler: Send + Sync {
    /// Stable name recorded in `processed_events`; renaming it re-applies history.
    fn name(&self) -> &'static str;
    /// Applies `event` using `conn`, which is inside the inbox transaction.
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>>;
}

/// A queue and the handler for each routing key bound to it.
#[derive(Clone)]
pub struct Subscription {
    /// The queue.
    pub queue: QueueSpec,
    handlers: HashMap<String, Arc<dyn Handler>>,
}

impl Subscription {
    /// A subscription on `queue` with no handlers yet.
    pub fn new(topology: &Topology, service: &str, purpose: &str) -> Subscription {
        Subscription {
            queue: topology.queue(service, purpose, &[]),
            handlers: HashMap::new(),
        }
    }

    /// Binds `routing_key` and applies its events with `handler`.
    pub fn on(mut self, routing_key: &str, handler: Arc<dyn Handler>) -> Subscription {
        self.queue.bindings.push(routing_key.to_owned());
        self.handlers.insert(routing_key.to_owned(), handler);
        self
    }
}

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The handler's effect committed.
    Applied,
    /// Already applied before; acked and skipped.
    Duplicate,
    /// Rejected into the dead-letter queue.
    DeadLettered,
    /// Requeued for another attempt.
    Requeued,
    /// No handler for the routing key; acked.
    Ignored,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::DeadLettered => "dead_lettered",
            Outcome::Requeued => "requeued",
            Outcome::Ignored => "ignored",
        }
    }
}

/// Consumes one subscription's queue into the service's database.
pub struct Consumer {
    pool: PgPool,
    broker: Arc<Broker>,
    topology: Topology,
    subscription: Subscription,
    retry_initial: Duration,
    retry_max: Duration,
}

impl Consumer {
    /// A consumer applying `subscription` into `pool`.
    pub fn new(
        pool: PgPool,
        broker: Arc<Broker>,
        topology: Topology,
        subscription: Subscription,
    ) -> Consumer {
        Consumer {
            pool,
            broker,
            topology,
            subscription,
            retry_initial: Duration::from_millis(200),
            retry_max: Duration::from_secs(30),
        }
    }

    /// Sets the backoff between attempts of a transiently failing delivery.
    pub fn with_retry(mut self, initial: Duration, max: Duration) -> Consumer {
        self.retry_initial = initial;
        self.retry_max = max;
        self
    }

    /// The queue's name.
    pub fn queue_name(&self) -> &str {
        &self.subscription.queue.name
    }

    /// Declares the exchanges, the queue, its dead-letter queue and bindings.
    pub async fn declare(&self) -> Result<(), BrokerError> {
        let channel = self.broker.channel().await?;
        self.topology
            .declare_queue(&channel, &self.subscription.queue)
            .await?;
        let _ = channel.close(200, "declared".into()).await;
        Ok(())
    }

    /// Takes one message off the queue (if any) and processes it. For tests
    /// and tools that drive delivery one step at a time.
    pub async fn consume_once(&self) -> Result<Option<Outcome>, BrokerError> {
        let channel = self.broker.channel().await?;
        let message = channel
            .basic_get(self.queue_name().into(), BasicGetOptions { no_ack: false })
            .await?;
        let outcome = match message {
            Some(message) => Some(self.process(&message.delivery).await?),
            None => None,
        };
        let _ = channel.close(200, "done".into()).await;
        Ok(outcome)
    }

    /// Processes until the queue is empty; returns the outcomes in order.
    pub async fn drain(&self) -> Result<Vec<Outcome>, BrokerError> {
        let mut outcomes = Vec::new();
        while let Some(outcome) = self.consume_once().await? {
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Consumes until `shutdown`, reconnecting with backoff whenever the
    /// broker goes away; unacked deliveries are redelivered by the broker.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        while !shutdown.is_cancelled() {
            match self.consume_until_broken(&shutdown, &mut backoff).await {
                Ok(()) => break,
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(queue = self.queue_name(), %error, retry_in_ms = delay.as_millis() as u64, "consumer lost the broker");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
        tracing::info!(queue = self.queue_name(), "consumer stopped");
    }

    async fn consume_until_broken(
        &self,
        shutdown: &CancellationToken,
        backoff: &mut Backoff,
    ) -> Result<(), BrokerError> {
        let channel = self.broker.channel().await?;
        self.topology
            .declare_queue(&channel, &self.subscription.queue)
            .await?;
        channel
            .basic_qos(PREFETCH, BasicQosOptions::default())
            .await?;
        let tag = format!("{}-{}", self.queue_name(), Uuid::new_v4());
        let mut deliveries = channel
            .basic_consume(
                self.queue_name().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        backoff.reset();
        tracing::info!(queue = self.queue_name(), "consuming");
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => {
                    let _ = channel.close(200, "shutting down".into()).await;
                    return Ok(());
                }
                next = deliveries.next() => next,
            };
            match next {
                Some(Ok(delivery)) => {
                    self.process(&delivery).await?;
                }
                Some(Err(error)) => return Err(error.into()),
                None => return Err(BrokerError::Unreachable("consumer stream ended".to_owned())),
            }
        }
    }

    /// Applies one delivery and settles it with the broker.
    async fn process(&self, delivery: &Delivery) -> Result<Outcome, BrokerError> {
        let queue = self.queue_name().to_owned();
        if delivery.redelivered {
            metrics::counter!("consumer_redeliveries_total", "queue" => queue.clone()).increment(1);
        }
        let headers = header_map(delivery.properties.headers().as_ref());
        let span = tracing::info_span!(
            "amqp.consume",
            otel.name = %format!("{} process", delivery.routing_key.as_str()),
            otel.kind = "consumer",
            messaging.system = "rabbitmq",
            messaging.destination = %queue,
            messaging.rabbitmq.routing_key = %delivery.routing_key.as_str(),
            messaging.message.id = tracing::field::Empty,
        );
        civicgrid_runtime::trace_context::set_parent(
            &span,
            civicgrid_runtime::trace_context::from_map(&headers),
        );
        let outcome = self.apply(delivery).instrument(span).await;
        match outcome {
            Outcome::Applied | Outcome::Duplicate | Outcome::Ignored => {
                delivery.acker.ack(BasicAckOptions::default()).await?;
            }
            Outcome::DeadLettered => {
                // requeue=false sends it to the queue's dead-letter exchange.
                delivery
                    .acker
                    .reject(BasicRejectOptions { requeue: false })
                    .await?;
                metrics::counter!("consumer_dead_letters_total", "queue" => queue.clone())
                    .increment(1);
            }
            Outcome::Requeued => {
                delivery
                    .acker
                    .nack(BasicNackOptions {
                        multiple: false,
                        requeue: true,
                    })
                    .await?;
            }
        }
        metrics::counter!("consumer_deliveries_total", "queue" => queue, "outcome" => outcome.label()).increment(1);
        Ok(outcome)
    }

    async fn apply(&self, delivery: &Delivery) -> Outcome {
        let routing_key = delivery.routing_key.as_str();
        let Some(handler) = self.subscription.handlers.get(routing_key) else {
            tracing::debug!(routing_key, "no handler for routing key; acked");
            return Outcome::Ignored;
        };
        let event_id = delivery
            .properties
            .message_id()
            .as_ref()
            .and_then(|id| Uuid::parse_str(id.as_str()).ok());
        let Some(event_id) = event_id else {
            tracing::error!(
                routing_key,
                "message without a UUID message_id; dead-lettering"
            );
            return Outcome::DeadLettered;
        };
        tracing::Span::current().record("messaging.message.id", event_id.to_string());
        let event = InboundEvent {
            event_id,
            routing_key: routing_key.to_owned(),
            payload: delivery.data.clone(),
            previous_deliveries: delivery_count(delivery.properties.headers().as_ref()),
        };
        match self.apply_once(handler.as_ref(), &event).await {
            Ok(true) => Outcome::Applied,
            Ok(false) => Outcome::Duplicate,
            Err(HandlerError::Permanent(reason)) => {
                tracing::error!(%event_id, routing_key, %reason, "event cannot be applied; dead-lettering");
                Outcome::DeadLettered
            }
            Err(HandlerError::Transient(reason)) => {
                let delay = Backoff::for_attempt(
                    self.retry_initial,
                    self.retry_max,
                    event.previous_deliveries + 1,
                );
                tracing::warn!(%event_id, routing_key, %reason, attempt = event.previous_deliveries + 1, retry_in_ms = delay.as_millis() as u64, "event failed; requeueing");
                // Waiting before the nack spaces out retries; the broker
                // dead-letters the message once its delivery limit is reached.
                tokio::time::sleep(delay).await;
                Outcome::Requeued
            }
        }
    }

    /// `Ok(true)` when applied now, `Ok(false)` when it had been applied before.
    async fn apply_once(
        &self,
        handler: &dyn Handler,
        event: &InboundEvent,
    ) -> Result<bool, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query("INSERT INTO processed_events (event_id, handler) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(event.event_id)
            .bind(handler.name())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        handler.handle(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Quorum queues count earlier deliveries in `x-delivery-count`.
fn delivery_count(headers: Option<&FieldTable>) -> u32 {
    let Some(headers) = headers else { return 0 };
    match headers.inner().get("x-delivery-count") {
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::LongInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::LongUInt(n)) => *n,
        Some(AMQPValue::ShortInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::ShortShortInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        _ => 0,
    }
}
