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

use civicgrid_runtime::shutdown::pause;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
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
use crate::catch_up::{CatchUpError, EventSource};
use crate::outbox::header_map;
use crate::topology::{QueueSpec, Topology};

/// Deliveries in flight per consumer: what has arrived while a batch was
/// applied makes the next batch (up to [`crate::batch::MAX_BATCH`]), so a
/// consumer under load commits once per batch instead of once per event.
const PREFETCH: u16 = 256;

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
    /// The consumer span it is applied in: a child of the producer's span
    /// whose context the delivery (or the logged event) carries. The
    /// handler runs inside it, so an outbox row the handler writes carries
    /// this event's trace, also when a batch holds events of many traces.
    /// `Span::none()` for events built by hand.
    pub span: tracing::Span,
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

    /// Applies `events` (in delivery order, each new to this handler) using
    /// `conn`, inside one inbox transaction. By default one by one; a
    /// handler whose work is set-wise overrides it to pay one round of
    /// statements for the lot. All or nothing: an error rolls back the
    /// batch, whose events are then handled one at a time.
    fn handle_batch<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [InboundEvent],
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            for event in events {
                // Each in its own consumer span: a batch (one transaction)
                // may hold events of several traces.
                self.handle(&mut *conn, event)
                    .instrument(event.span.clone())
                    .await?;
            }
            Ok(())
        })
    }
}

/// A queue and the handler for each routing key bound to it.
#[derive(Clone)]
pub struct Subscription {
    /// The queue.
    pub queue: QueueSpec,
    pub(crate) handlers: HashMap<String, Arc<dyn Handler>>,
    pub(crate) name: String,
    pub(crate) catch_up: Option<CatchUpSpec>,
    /// Held for reading while a live delivery is applied, for writing by a
    /// rebuild, so this process applies nothing live while it rebuilds.
    pub(crate) pause: Arc<tokio::sync::RwLock<()>>,
}

/// How a catch-up subscription reads its producer's history.
#[derive(Debug, Clone)]
pub struct CatchUpSpec {
    /// The producing service (a key of the `event_sources` setting).
    pub producer: String,
    /// SQL statements that empty the subscription's read model, run in one
    /// transaction before a rebuild (e.g. `DELETE FROM cells`).
    pub reset: Vec<String>,
    /// Whether every aggregate's events reach this subscription with
    /// versions that never step by more than one (several events may share
    /// a version). Then a version further ahead is a gap, filled from the
    /// log before the event is applied.
    pub versions_in_order: bool,
}

impl Subscription {
    /// A subscription on `queue` with no handlers yet.
    pub fn new(topology: &Topology, service: &str, purpose: &str) -> Subscription {
        Subscription {
            queue: topology.queue(service, purpose, &[]),
            handlers: HashMap::new(),
            name: purpose.to_owned(),
            catch_up: None,
            pause: Arc::default(),
        }
    }

    /// Binds `routing_key` and applies its events with `handler`.
    pub fn on(mut self, routing_key: &str, handler: Arc<dyn Handler>) -> Subscription {
        self.queue.bindings.push(routing_key.to_owned());
        self.handlers.insert(routing_key.to_owned(), handler);
        self
    }

    /// Makes this a catch-up subscription of `producer`'s event log: before
    /// consuming its queue, the consumer applies the history it has not
    /// seen, and a gap in an aggregate's versions is filled from the log.
    /// `reset` empties the read model for a rebuild.
    pub fn catch_up(mut self, producer: &str, reset: &[&str]) -> Subscription {
        self.catch_up = Some(CatchUpSpec {
            producer: producer.to_owned(),
            reset: reset.iter().map(|s| (*s).to_owned()).collect(),
            versions_in_order: true,
        });
        self
    }

    /// Turns off the per-aggregate version check of a catch-up
    /// subscription, for one that binds only some of an aggregate's events
    /// (e.g. only `grid.supervision.*`, which carry the task's version).
    pub fn without_version_order(mut self) -> Subscription {
        if let Some(spec) = self.catch_up.as_mut() {
            spec.versions_in_order = false;
        }
        self
    }

    /// The subscription's name (its queue's purpose, e.g. `grid-cells`):
    /// the key of its checkpoints and of `civicgrid replay --subscription`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it catches up, when it is a catch-up subscription.
    pub fn catch_up_spec(&self) -> Option<&CatchUpSpec> {
        self.catch_up.as_ref()
    }

    /// The names its handlers record in `processed_events`.
    pub fn handler_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.handlers.values().map(|h| h.name()).collect();
        names.sort_unstable();
        names.dedup();
        names
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
    pub(crate) fn label(self) -> &'static str {
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
    pub(crate) pool: PgPool,
    pub(crate) broker: Arc<Broker>,
    pub(crate) topology: Topology,
    pub(crate) subscription: Subscription,
    retry_initial: Duration,
    retry_max: Duration,
    pub(crate) source: Option<EventSource>,
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
            source: None,
        }
    }

    /// Where a catch-up subscription reads its producer's log.
    pub fn with_source(mut self, source: EventSource) -> Consumer {
        self.source = Some(source);
        self
    }

    /// The subscription it consumes.
    pub fn subscription(&self) -> &Subscription {
        &self.subscription
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
        if self.subscription.catch_up.is_some() {
            // Bind first, so whatever is published while the history is
            // read waits in the queue; then the history; then the queue.
            loop {
                let caught_up = match self.declare().await {
                    Ok(()) => self.catch_up().await,
                    Err(error) => Err(CatchUpError::Broker(error)),
                };
                match caught_up {
                    Ok(report) => {
                        tracing::info!(
                            queue = self.queue_name(),
                            applied = report.applied,
                            position = report.position,
                            "caught up"
                        );
                        break;
                    }
                    Err(error) => {
                        let delay = backoff.next_delay();
                        tracing::warn!(queue = self.queue_name(), %error, retry_in_ms = delay.as_millis() as u64, "catch-up failed");
                        if !pause(delay, &shutdown).await {
                            return;
                        }
                    }
                }
            }
            backoff.reset();
        }
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
                    // Whatever else has already arrived joins this one.
                    let mut batch = vec![delivery];
                    while batch.len() < crate::batch::MAX_BATCH {
                        match deliveries.next().now_or_never() {
                            Some(Some(Ok(delivery))) => batch.push(delivery),
                            // Unsettled deliveries come back from the broker.
                            Some(Some(Err(error))) => return Err(error.into()),
                            Some(None) => {
                                return Err(BrokerError::Unreachable(
                                    "consumer stream ended".to_owned(),
                                ));
                            }
                            None => break,
                        }
                    }
                    self.process_batch(&batch).await?;
                }
                Some(Err(error)) => return Err(error.into()),
                None => return Err(BrokerError::Unreachable("consumer stream ended".to_owned())),
            }
        }
    }

    /// Applies one delivery and settles it with the broker.
    pub(crate) async fn process(&self, delivery: &Delivery) -> Result<Outcome, BrokerError> {
        let queue = self.queue_name().to_owned();
        let span = self.delivery_span(delivery);
        let outcome = if self.subscription.catch_up.is_some() {
            // A rebuild in this process holds the write side.
            let _running = self.subscription.pause.read().await;
            self.apply(delivery).instrument(span).await
        } else {
            self.apply(delivery).instrument(span).await
        };
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

    /// The consumer span of one delivery, a child of the producer's span
    /// whose context the message carries, so a trace runs from the call
    /// that made the change into every consumer.
    pub(crate) fn delivery_span(&self, delivery: &Delivery) -> tracing::Span {
        if delivery.redelivered {
            metrics::counter!("consumer_redeliveries_total", "queue" => self.queue_name().to_owned()).increment(1);
        }
        let headers = header_map(delivery.properties.headers().as_ref());
        let span = tracing::info_span!(
            "amqp.consume",
            otel.name = %format!("{} process", delivery.routing_key.as_str()),
            otel.kind = "consumer",
            messaging.system = "rabbitmq",
            messaging.destination = %self.queue_name(),
            messaging.rabbitmq.routing_key = %delivery.routing_key.as_str(),
            messaging.message.id = tracing::field::Empty,
        );
        civicgrid_runtime::trace_context::set_parent(
            &span,
            civicgrid_runtime::trace_context::from_map(&headers),
        );
        span
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
            span: tracing::Span::current(),
        };
        let position = position_of(delivery.properties.headers().as_ref());
        let mut applied = self.apply_once(handler.as_ref(), &event, position).await;
        if let Ok(Applied::Gap { aggregate_id, from }) = &applied {
            // An earlier version of this aggregate has not been applied:
            // hold this event and fill the gap from the producer's log.
            match self
                .fill_gap(aggregate_id, *from, position.unwrap_or(i64::MAX))
                .await
            {
                Ok(()) => applied = self.apply_once(handler.as_ref(), &event, position).await,
                Err(error) => {
                    tracing::warn!(%event_id, routing_key, %error, "cannot fill the gap from the log yet")
                }
            }
        }
        match applied {
            Ok(Applied::Now) => Outcome::Applied,
            Ok(Applied::Before) => Outcome::Duplicate,
            Ok(Applied::Gap { aggregate_id, .. }) => {
                let delay = Backoff::for_attempt(
                    self.retry_initial,
                    self.retry_max,
                    event.previous_deliveries + 1,
                );
                tracing::warn!(%event_id, routing_key, aggregate_id, retry_in_ms = delay.as_millis() as u64, "earlier versions of the aggregate are missing; holding the event");
                metrics::counter!("consumer_gaps_held_total", "queue" => self.queue_name().to_owned()).increment(1);
                tokio::time::sleep(delay).await;
                Outcome::Requeued
            }
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

    /// Applies `event` once: the inbox row, for a catch-up subscription the
    /// aggregate's version check and the checkpoint at `position`, and the
    /// handler's effect, all in one transaction. A gap changes nothing.
    pub(crate) async fn apply_once(
        &self,
        handler: &dyn Handler,
        event: &InboundEvent,
        position: Option<i64>,
    ) -> Result<Applied, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let applied = self
            .apply_in(&mut tx, handler, event, position, true)
            .await?;
        if !matches!(applied, Applied::Gap { .. }) {
            tx.commit().await?;
        }
        Ok(applied)
    }

    /// [`Consumer::apply_once`] inside the caller's transaction (which a
    /// catch-up shares between the events of a page). On a gap nothing was
    /// written. Without `checkpoint` the caller moves the checkpoint itself
    /// in the same transaction (once per page).
    pub(crate) async fn apply_in(
        &self,
        conn: &mut PgConnection,
        handler: &dyn Handler,
        event: &InboundEvent,
        position: Option<i64>,
        checkpoint: bool,
    ) -> Result<Applied, HandlerError> {
        let position_to_checkpoint = position.filter(|_| checkpoint);
        let Some(spec) = self.subscription.catch_up.as_ref() else {
            if !self.record_processed(conn, handler, event).await? {
                return Ok(Applied::Before);
            }
            handler.handle(conn, event).await?;
            return Ok(Applied::Now);
        };
        let mut version_seen = None;
        if spec.versions_in_order
            && let Some((aggregate_id, version)) = aggregate_of(&event.payload)
        {
            let last: Option<(i64, i64)> = sqlx::query_as(
                "SELECT version, position FROM subscription_aggregates \
                 WHERE subscription = $1 AND aggregate_id = $2 FOR UPDATE",
            )
            .bind(&self.subscription.name)
            .bind(&aggregate_id)
            .fetch_optional(&mut *conn)
            .await?;
            let (last_version, last_position) = last.unwrap_or((0, 0));
            if version > last_version + 1 {
                let known: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM processed_events WHERE event_id = $1 AND handler = $2",
                )
                .bind(event.event_id)
                .bind(handler.name())
                .fetch_optional(&mut *conn)
                .await?;
                if known.is_some() {
                    return Ok(Applied::Before);
                }
                return Ok(Applied::Gap {
                    aggregate_id,
                    from: last_position,
                });
            }
            if version < last_version {
                // Only a redelivered sibling of an older version gets here.
                metrics::counter!("consumer_stale_versions_total", "subscription" => self.subscription.name.clone()).increment(1);
            }
            version_seen = Some((aggregate_id, version, position.unwrap_or(last_position)));
        }
        if !self.record_processed(conn, handler, event).await? {
            if let Some(position) = position_to_checkpoint {
                self.advance_checkpoint(conn, position).await?;
            }
            return Ok(Applied::Before);
        }
        if let Some((aggregate_id, version, position)) = version_seen {
            self.record_version(conn, &aggregate_id, version, position)
                .await?;
        }
        handler.handle(conn, event).await?;
        if let Some(position) = position_to_checkpoint {
            self.advance_checkpoint(conn, position).await?;
        }
        Ok(Applied::Now)
    }

    /// Inserts the inbox row; false when the event had been applied before.
    async fn record_processed(
        &self,
        conn: &mut PgConnection,
        handler: &dyn Handler,
        event: &InboundEvent,
    ) -> sqlx::Result<bool> {
        let inserted = sqlx::query("INSERT INTO processed_events (event_id, handler) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(event.event_id)
            .bind(handler.name())
            .execute(conn)
            .await?
            .rows_affected();
        Ok(inserted > 0)
    }
}

/// What [`Consumer::apply_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Applied now.
    Now,
    /// Applied before (the inbox knew it).
    Before,
    /// An earlier version of `aggregate_id` is missing; the log after
    /// position `from` (where its last applied version came from) has it.
    Gap { aggregate_id: String, from: i64 },
}

/// The position a relay stamped on a live message.
pub(crate) fn position_of(headers: Option<&FieldTable>) -> Option<i64> {
    match headers?.inner().get(crate::outbox::POSITION_HEADER)? {
        AMQPValue::LongLongInt(n) => Some(*n),
        AMQPValue::LongInt(n) => Some(i64::from(*n)),
        AMQPValue::LongUInt(n) => Some(i64::from(*n)),
        _ => None,
    }
}

/// The aggregate and version in an event's `EventMeta` (field 1 of every
/// civicgrid event), decoded without knowing the event's type.
pub fn aggregate_of(payload: &[u8]) -> Option<(String, i64)> {
    #[derive(Clone, PartialEq, prost::Message)]
    struct Envelope {
        #[prost(message, optional, tag = "1")]
        meta: Option<civicgrid_proto::common::v1::EventMeta>,
    }
    let meta = <Envelope as prost::Message>::decode(payload).ok()?.meta?;
    (!meta.aggregate_id.is_empty() && meta.aggregate_version > 0)
        .then_some((meta.aggregate_id, meta.aggregate_version))
}

/// Quorum queues count earlier deliveries in `x-delivery-count`.
pub(crate) fn delivery_count(headers: Option<&FieldTable>) -> u32 {
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
