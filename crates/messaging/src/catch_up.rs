//! Catch-up subscriptions: a consumer that starts after its producer first
//! binds its queue, then applies the producer's history read through
//! `EventLogService.ReadEvents` from its own checkpoint to the head, then
//! consumes the queue. History and queue go through the same inbox and
//! handler, so an event seen in both is applied once; the checkpoint
//! `(subscription, producer, position)` is written in the transaction of
//! each effect.
//!
//! Per aggregate, a handler sees versions in order. The grid's events carry
//! versions that step by at most one (a cell: one event per version; a task:
//! one or more `grid.task.*` events per version, and `grid.supervision.*`
//! events carrying the task's current version), so a version more than one
//! ahead of the last applied is a gap: the event is held and the gap filled
//! from the log, from the position the aggregate's last version came from.

use std::path::PathBuf;
use std::time::Duration;

use civicgrid_proto::events::v1 as pb;
use civicgrid_proto::events::v1::event_log_service_client::EventLogServiceClient;
use lapin::BasicProperties;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable};
use sqlx::PgConnection;
use tonic::transport::{Channel, Endpoint};
use tracing::Instrument;
use uuid::Uuid;

use crate::broker::BrokerError;
use crate::consumer::{Applied, Consumer, Handler, HandlerError, InboundEvent, aggregate_of};

/// Largest message accepted from an event log (a page is at most ~1 MiB).
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// How long connecting to a producer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the bearer token for a producer's event log comes from.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// This token (tests).
    Fixed(String),
    /// The token in this file, read at each use so it can be rotated.
    File(PathBuf),
}

/// A producer's event log: its name, gRPC address and the token to show.
#[derive(Debug, Clone)]
pub struct EventSource {
    /// The producing service, e.g. `grid`.
    pub producer: String,
    /// Its gRPC address, e.g. `http://127.0.0.1:50052`.
    pub url: String,
    /// The bearer token (role `service`, scope `*`).
    pub token: TokenSource,
}

impl EventSource {
    /// `producer`'s log at `url`, read with `token`.
    pub fn new(producer: &str, url: &str, token: TokenSource) -> EventSource {
        EventSource {
            producer: producer.to_owned(),
            url: url.to_owned(),
            token,
        }
    }

    async fn client(&self) -> Result<EventLogServiceClient<Channel>, CatchUpError> {
        let endpoint = Endpoint::from_shared(self.url.clone())
            .map_err(|e| CatchUpError::Connect(format!("{}: {e}", self.url)))?
            .connect_timeout(CONNECT_TIMEOUT);
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| CatchUpError::Connect(format!("{}: {e}", self.url)))?;
        Ok(EventLogServiceClient::new(channel).max_decoding_message_size(MAX_PAGE_BYTES))
    }

    fn request<T>(&self, message: T) -> Result<tonic::Request<T>, CatchUpError> {
        let token = match &self.token {
            TokenSource::Fixed(token) => token.clone(),
            TokenSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| CatchUpError::Token(format!("{}: {e}", path.display())))?
                .trim()
                .to_owned(),
        };
        let mut request = tonic::Request::new(message);
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| CatchUpError::Token("the token is not valid header text".to_owned()))?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}

/// Why a catch-up stopped; it resumes from its checkpoint when retried.
#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    /// The subscription was not declared with [`crate::Subscription::catch_up`].
    #[error("subscription {0} is not a catch-up subscription")]
    NotCatchUp(String),
    /// No address is configured for the producer.
    #[error("no event source for producer `{0}` (setting `event_sources.{0}`)")]
    NoSource(String),
    /// The producer cannot be reached.
    #[error("cannot reach the event log at {0}")]
    Connect(String),
    /// The token cannot be read.
    #[error("cannot read the event-log token: {0}")]
    Token(String),
    /// The producer refused or failed the read.
    #[error("event log read failed: {0}")]
    Read(#[from] tonic::Status),
    /// The consumer's database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A handler failed transiently.
    #[error("handler failed: {0}")]
    Handler(String),
    /// The log does not hold an aggregate's missing versions.
    #[error("aggregate {0} has a gap the log cannot fill")]
    Gap(String),
    /// The broker failed (declaring the queue, dead-lettering).
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

/// How far a catch-up (or rebuild) has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Events applied now (not counting ones applied before).
    pub applied: u64,
    /// Log position reached.
    pub position: i64,
    /// The producer's head when the read started.
    pub head: i64,
}

impl Consumer {
    /// Applies the producer's history from the stored checkpoint to the
    /// head. Returns how far it got; retrying after an error resumes.
    pub async fn catch_up(&self) -> Result<Progress, CatchUpError> {
        self.catch_up_with(&mut |_| {}).await
    }

    /// The stored checkpoint in the producer's log (0 when none).
    pub async fn checkpoint(&self) -> Result<i64, CatchUpError> {
        let spec = self.spec()?;
        Ok(sqlx::query_scalar(
            "SELECT position FROM subscription_checkpoints WHERE subscription = $1 AND producer = $2",
        )
        .bind(&self.subscription.name)
        .bind(&spec.producer)
        .fetch_optional(&self.pool)
        .await?
        .unwrap_or(0))
    }

    /// Empties the subscription's read model, checkpoint, version marks and
    /// inbox rows in one transaction, then rebuilds it from position 0,
    /// calling `progress` after each page. Live deliveries in this process
    /// wait until it is done.
    pub async fn rebuild(
        &self,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<Progress, CatchUpError> {
        let spec = self.spec()?.clone();
        let _paused = self.subscription.pause.write().await;
        let mut tx = self.pool.begin().await?;
        for statement in &spec.reset {
            sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM subscription_checkpoints WHERE subscription = $1")
            .bind(&self.subscription.name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM subscription_aggregates WHERE subscription = $1")
            .bind(&self.subscription.name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM processed_events WHERE handler = ANY($1)")
            .bind(self.subscription.handler_names())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(subscription = %self.subscription.name, "read model reset; rebuilding from the log");
        self.catch_up_with(progress).await
    }

    fn spec(&self) -> Result<&crate::consumer::CatchUpSpec, CatchUpError> {
        self.subscription
            .catch_up
            .as_ref()
            .ok_or_else(|| CatchUpError::NotCatchUp(self.subscription.name.clone()))
    }

    fn source(&self) -> Result<&EventSource, CatchUpError> {
        let spec = self.spec()?;
        self.source
            .as_ref()
            .filter(|source| source.producer == spec.producer)
            .ok_or_else(|| CatchUpError::NoSource(spec.producer.clone()))
    }

    async fn read(
        &self,
        after: i64,
    ) -> Result<tonic::Streaming<pb::ReadEventsResponse>, CatchUpError> {
        let source = self.source()?;
        let mut client = source.client().await?;
        let request = source.request(pb::ReadEventsRequest {
            after_position: after,
            routing_key_patterns: self.subscription.queue.bindings.clone(),
            max_events: 0,
        })?;
        Ok(client.read_events(request).await?.into_inner())
    }

    pub(crate) async fn catch_up_with(
        &self,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<Progress, CatchUpError> {
        let from = self.checkpoint().await?;
        let mut stream = self.read(from).await?;
        let mut state = Progress {
            position: from,
            ..Progress::default()
        };
        while let Some(page) = stream.message().await? {
            state.head = page.head_position;
            match self.apply_page(&page).await {
                Ok(applied) => state.applied += applied,
                Err(reason) => {
                    // Rolled back whole; now one event at a time, so a gap
                    // is filled and a poison event dead-lettered alone.
                    tracing::debug!(%reason, "page needs event-by-event handling");
                    for event in &page.events {
                        if self.apply_logged(event).await? == Applied::Now {
                            state.applied += 1;
                        }
                    }
                    // Events filtered out or without a handler move the checkpoint too.
                    let mut tx = self.pool.begin().await?;
                    self.advance_checkpoint(&mut tx, page.scanned_position)
                        .await?;
                    tx.commit().await?;
                }
            }
            state.position = state.position.max(page.scanned_position);
            progress(state);
        }
        metrics::counter!("catch_up_events_applied_total", "subscription" => self.subscription.name.clone())
            .increment(state.applied);
        Ok(state)
    }

    /// Applies a page of logged events in one transaction, with the
    /// checkpoint at its scanned position: one commit per page instead of
    /// one per event. Any gap or failure rolls the whole page back.
    async fn apply_page(&self, page: &pb::ReadEventsResponse) -> Result<u64, String> {
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        let mut applied = 0;
        for event in &page.events {
            let Some(handler) = self.subscription.handlers.get(&event.routing_key) else {
                continue;
            };
            let event_id = Uuid::parse_str(&event.event_id).map_err(|e| e.to_string())?;
            let inbound = InboundEvent {
                event_id,
                routing_key: event.routing_key.clone(),
                payload: event.payload.clone(),
                previous_deliveries: 0,
                span: self.logged_span(event),
            };
            match self
                .apply_in(
                    &mut tx,
                    handler.as_ref(),
                    &inbound,
                    Some(event.position),
                    false,
                )
                .instrument(inbound.span.clone())
                .await
            {
                Ok(Applied::Now) => applied += 1,
                Ok(Applied::Before) => {}
                Ok(Applied::Gap { aggregate_id, .. }) => {
                    return Err(format!("gap in {aggregate_id}"));
                }
                Err(error) => return Err(error.to_string()),
            }
        }
        self.advance_checkpoint(&mut tx, page.scanned_position)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(applied)
    }

    /// Applies one event read from the log, filling a gap in its
    /// aggregate's versions from the log first.
    async fn apply_logged(&self, event: &pb::Event) -> Result<Applied, CatchUpError> {
        let applied = self.settle_logged(event).await?;
        let Applied::Gap { aggregate_id, from } = applied else {
            return Ok(applied);
        };
        self.fill_gap(&aggregate_id, from, event.position).await?;
        match self.settle_logged(event).await? {
            Applied::Gap { aggregate_id, .. } => Err(CatchUpError::Gap(aggregate_id)),
            applied => Ok(applied),
        }
    }

    /// The consumer span of an event read from the log: like a live
    /// delivery's, a child of the producer's span whose context the event
    /// was logged with, so what a handler writes while catching up stays
    /// on the trace of the request that made the change.
    fn logged_span(&self, event: &pb::Event) -> tracing::Span {
        let span = tracing::info_span!(
            "amqp.consume",
            otel.name = %format!("{} process", event.routing_key),
            otel.kind = "consumer",
            messaging.system = "rabbitmq",
            messaging.destination = %self.queue_name(),
            messaging.rabbitmq.routing_key = %event.routing_key,
            messaging.message.id = %event.event_id,
            messaging.operation = "catch_up",
        );
        civicgrid_runtime::trace_context::set_parent(
            &span,
            civicgrid_runtime::trace_context::from_map(&event.headers),
        );
        span
    }

    /// Applies one logged event through its handler, if it has one.
    async fn settle_logged(&self, event: &pb::Event) -> Result<Applied, CatchUpError> {
        let Some(handler) = self.subscription.handlers.get(&event.routing_key) else {
            return Ok(Applied::Before);
        };
        let Ok(event_id) = Uuid::parse_str(&event.event_id) else {
            tracing::error!(
                position = event.position,
                "logged event without a UUID id; skipped"
            );
            return Ok(Applied::Before);
        };
        let inbound = InboundEvent {
            event_id,
            routing_key: event.routing_key.clone(),
            payload: event.payload.clone(),
            previous_deliveries: 0,
            span: self.logged_span(event),
        };
        self.settle(handler.as_ref(), &inbound, event)
            .instrument(inbound.span.clone())
            .await
    }

    /// `apply_once` for a logged event; an event the handler can never
    /// apply goes to the queue's dead-letter queue, as a live one would.
    async fn settle(
        &self,
        handler: &dyn Handler,
        inbound: &InboundEvent,
        event: &pb::Event,
    ) -> Result<Applied, CatchUpError> {
        match self
            .apply_once(handler, inbound, Some(event.position))
            .await
        {
            Ok(applied) => Ok(applied),
            Err(HandlerError::Transient(reason)) => Err(CatchUpError::Handler(reason)),
            Err(HandlerError::Permanent(reason)) => {
                tracing::error!(event_id = %inbound.event_id, routing_key = %inbound.routing_key, %reason, "logged event cannot be applied; dead-lettering");
                self.dead_letter(event, &reason).await?;
                // Not marked processed, so a replay from the dead-letter
                // queue applies it; the aggregate and checkpoint move on.
                let mut tx = self.pool.begin().await?;
                if let Some((aggregate_id, version)) = aggregate_of(&event.payload) {
                    self.record_version(&mut tx, &aggregate_id, version, event.position)
                        .await?;
                }
                self.advance_checkpoint(&mut tx, event.position).await?;
                tx.commit().await?;
                Ok(Applied::Before)
            }
        }
    }

    /// Applies the events of `aggregate_id` logged after `from` and before
    /// `until`, in order.
    pub(crate) async fn fill_gap(
        &self,
        aggregate_id: &str,
        from: i64,
        until: i64,
    ) -> Result<(), CatchUpError> {
        tracing::info!(subscription = %self.subscription.name, aggregate_id, from, "filling a version gap from the log");
        metrics::counter!("catch_up_gaps_filled_total", "subscription" => self.subscription.name.clone())
            .increment(1);
        let mut stream = self.read(from).await?;
        while let Some(page) = stream.message().await? {
            for event in &page.events {
                if event.position >= until {
                    return Ok(());
                }
                if aggregate_of(&event.payload).is_some_and(|(id, _)| id == aggregate_id)
                    && let Applied::Gap { aggregate_id, .. } = self.settle_logged(event).await?
                {
                    return Err(CatchUpError::Gap(aggregate_id));
                }
            }
        }
        Ok(())
    }

    /// Moves the checkpoint forward to `position` (never back).
    pub(crate) async fn advance_checkpoint(
        &self,
        conn: &mut PgConnection,
        position: i64,
    ) -> sqlx::Result<()> {
        let Some(spec) = self.subscription.catch_up.as_ref() else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO subscription_checkpoints (subscription, producer, position) VALUES ($1, $2, $3) \
             ON CONFLICT (subscription, producer) DO UPDATE \
               SET position = greatest(subscription_checkpoints.position, EXCLUDED.position), updated_at = now()",
        )
        .bind(&self.subscription.name)
        .bind(&spec.producer)
        .bind(position)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Records that `version` of `aggregate_id` (logged at `position`) is applied.
    pub(crate) async fn record_version(
        &self,
        conn: &mut PgConnection,
        aggregate_id: &str,
        version: i64,
        position: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO subscription_aggregates (subscription, aggregate_id, version, position) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (subscription, aggregate_id) DO UPDATE \
               SET version = greatest(subscription_aggregates.version, EXCLUDED.version), \
                   position = greatest(subscription_aggregates.position, EXCLUDED.position)",
        )
        .bind(&self.subscription.name)
        .bind(aggregate_id)
        .bind(version)
        .bind(position)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Puts a logged event into the queue's dead-letter queue.
    async fn dead_letter(&self, event: &pb::Event, reason: &str) -> Result<(), BrokerError> {
        let channel = self.broker.channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        self.topology.declare_exchanges(&channel).await?;
        let mut headers = FieldTable::default();
        for (key, value) in &event.headers {
            headers.insert(
                key.as_str().into(),
                AMQPValue::LongString(value.as_str().into()),
            );
        }
        headers.insert(
            crate::outbox::POSITION_HEADER.into(),
            AMQPValue::LongLongInt(event.position),
        );
        headers.insert(
            DEAD_LETTER_REASON_HEADER.into(),
            AMQPValue::LongString(reason.into()),
        );
        let properties = BasicProperties::default()
            .with_message_id(event.event_id.as_str().into())
            .with_type(event.message_type.as_str().into())
            .with_content_type("application/x-protobuf".into())
            .with_delivery_mode(2)
            .with_headers(headers);
        let confirm = channel
            .basic_publish(
                self.topology.dead_letter_exchange.as_str().into(),
                self.subscription.queue.name.as_str().into(),
                BasicPublishOptions::default(),
                &event.payload,
                properties,
            )
            .await?;
        tokio::time::timeout(Duration::from_secs(10), confirm)
            .await
            .map_err(|_| BrokerError::Timeout("dead-letter confirm"))??;
        let _ = channel.close(200, "dead-lettered".into()).await;
        Ok(())
    }
}

/// Header naming why an event read from the log during catch-up was
/// dead-lettered (such messages carry no `x-death`: the broker did not
/// dead-letter them).
pub const DEAD_LETTER_REASON_HEADER: &str = "x-civicgrid-dead-letter-reason";
