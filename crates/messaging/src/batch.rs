//! Batched application of live deliveries: the deliveries that are already
//! waiting when one arrives are applied in one transaction, so a consumer
//! pays one commit (one WAL flush) per batch rather than per event, and a
//! handler whose work is set-wise ([`Handler::handle_batch`]) pays one
//! round of statements per batch too.
//!
//! Nothing about delivery changes: every delivery is acked only after the
//! commit that holds its effect, and a batch that cannot be applied whole
//! (a handler error, a version gap, a delivery without an id, a failed
//! commit) is rolled back and its deliveries are processed one at a time
//! exactly as before, so a poison message is still dead-lettered alone and
//! a gap is still filled from the log.

use std::collections::HashSet;
use std::sync::Arc;

use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use sqlx::PgConnection;
use tracing::Instrument;
use uuid::Uuid;

use crate::broker::BrokerError;
use crate::consumer::{Applied, Consumer, Handler, HandlerError, InboundEvent, Outcome};

/// Most deliveries applied in one transaction: enough to amortise the
/// commit, small enough that a rolled-back batch costs little to redo.
pub const MAX_BATCH: usize = 128;

/// One delivery of a batch, read and checked.
struct Item<'a> {
    delivery: &'a Delivery,
    event: InboundEvent,
    position: Option<i64>,
    handler: Option<Arc<dyn Handler>>,
    span: tracing::Span,
}

impl Consumer {
    /// Applies `deliveries` (in delivery order) and settles each with the
    /// broker: together in one transaction when that works, else one by one.
    pub(crate) async fn process_batch(
        &self,
        deliveries: &[Delivery],
    ) -> Result<Vec<Outcome>, BrokerError> {
        if let [one] = deliveries {
            return Ok(vec![self.process(one).await?]);
        }
        let applied = {
            // A rebuild in this process holds the write side.
            let _running = self.subscription.pause.read().await;
            self.apply_batch(deliveries).await
        };
        match applied {
            Ok(outcomes) => {
                let queue = self.queue_name().to_owned();
                metrics::histogram!("consumer_batch_size", "queue" => queue.clone())
                    .record(deliveries.len() as f64);
                // One ack for the lot: the last delivery's, with `multiple`,
                // settles every earlier one on the channel too, and the
                // consumer settles each batch before it takes the next, so
                // those are exactly this batch's.
                if let Some(last) = deliveries.last() {
                    last.acker.ack(BasicAckOptions { multiple: true }).await?;
                }
                for outcome in &outcomes {
                    metrics::counter!("consumer_deliveries_total", "queue" => queue.clone(), "outcome" => outcome.label()).increment(1);
                }
                Ok(outcomes)
            }
            Err(reason) => {
                tracing::debug!(queue = self.queue_name(), %reason, size = deliveries.len(), "batch needs delivery-by-delivery handling");
                metrics::counter!("consumer_batches_split_total", "queue" => self.queue_name().to_owned()).increment(1);
                let mut outcomes = Vec::with_capacity(deliveries.len());
                for delivery in deliveries {
                    outcomes.push(self.process(delivery).await?);
                }
                Ok(outcomes)
            }
        }
    }

    /// The whole batch in one transaction, or an error and nothing written.
    async fn apply_batch(&self, deliveries: &[Delivery]) -> Result<Vec<Outcome>, String> {
        let mut items = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let span = self.delivery_span(delivery);
            let event_id = delivery
                .properties
                .message_id()
                .as_ref()
                .and_then(|id| Uuid::parse_str(id.as_str()).ok())
                .ok_or("a delivery without a UUID message_id")?;
            span.record("messaging.message.id", event_id.to_string());
            let routing_key = delivery.routing_key.as_str();
            items.push(Item {
                delivery,
                event: InboundEvent {
                    event_id,
                    routing_key: routing_key.to_owned(),
                    payload: delivery.data.clone(),
                    previous_deliveries: crate::consumer::delivery_count(
                        delivery.properties.headers().as_ref(),
                    ),
                    span: span.clone(),
                },
                position: crate::consumer::position_of(delivery.properties.headers().as_ref()),
                handler: self.subscription.handlers.get(routing_key).cloned(),
                span,
            });
        }
        let Some(first) = items.first() else {
            return Ok(Vec::new());
        };
        let batch_span =
            tracing::info_span!(parent: &first.span, "consume batch", size = items.len());
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        let outcomes = if self.checks_versions() {
            self.apply_each(&mut tx, &items)
                .instrument(batch_span.clone())
                .await
        } else {
            self.apply_set(&mut tx, &items)
                .instrument(batch_span.clone())
                .await
        }
        .map_err(|e| e.to_string())?;
        tx.commit()
            .instrument(batch_span)
            .await
            .map_err(|e| e.to_string())?;
        for item in &items {
            if item.handler.is_none() {
                tracing::debug!(parent: &item.span, routing_key = %item.delivery.routing_key.as_str(), "no handler for routing key; acked");
            }
        }
        Ok(outcomes)
    }

    /// Whether the subscription checks each aggregate's versions (then each
    /// event goes through [`Consumer::apply_in`] on its own).
    fn checks_versions(&self) -> bool {
        self.subscription
            .catch_up
            .as_ref()
            .is_some_and(|spec| spec.versions_in_order)
    }

    /// Each event through the inbox and its version check in turn, inside
    /// the batch's transaction; a gap fails the batch.
    async fn apply_each(
        &self,
        conn: &mut PgConnection,
        items: &[Item<'_>],
    ) -> Result<Vec<Outcome>, HandlerError> {
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            let Some(handler) = &item.handler else {
                outcomes.push(Outcome::Ignored);
                continue;
            };
            let applied = self
                .apply_in(conn, handler.as_ref(), &item.event, item.position, true)
                .instrument(item.span.clone())
                .await?;
            outcomes.push(match applied {
                Applied::Now => Outcome::Applied,
                Applied::Before => Outcome::Duplicate,
                Applied::Gap { aggregate_id, .. } => {
                    return Err(HandlerError::Transient(format!("gap in {aggregate_id}")));
                }
            });
        }
        Ok(outcomes)
    }

    /// The inbox rows of the whole batch in one statement, then the new
    /// events handed to their handlers in runs (consecutive events of one
    /// handler together, so the delivery order is kept), then the
    /// checkpoint once.
    async fn apply_set(
        &self,
        conn: &mut PgConnection,
        items: &[Item<'_>],
    ) -> Result<Vec<Outcome>, HandlerError> {
        let handled: Vec<&Item<'_>> = items.iter().filter(|i| i.handler.is_some()).collect();
        let ids: Vec<Uuid> = handled.iter().map(|i| i.event.event_id).collect();
        let names: Vec<&str> = handled
            .iter()
            .filter_map(|i| i.handler.as_ref().map(|h| h.name()))
            .collect();
        let mut new: HashSet<(Uuid, String)> = sqlx::query_as(
            "INSERT INTO processed_events (event_id, handler) \
             SELECT * FROM UNNEST($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING \
             RETURNING event_id, handler",
        )
        .bind(&ids)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        let mut outcomes = Vec::with_capacity(items.len());
        let mut run: Vec<InboundEvent> = Vec::new();
        let mut run_handler: Option<&Arc<dyn Handler>> = None;
        for item in items {
            let Some(handler) = &item.handler else {
                outcomes.push(Outcome::Ignored);
                continue;
            };
            // Taken out when used: the same event twice in one batch is
            // new only the first time.
            if !new.remove(&(item.event.event_id, handler.name().to_owned())) {
                outcomes.push(Outcome::Duplicate);
                continue;
            }
            if let Some(previous) = run_handler
                && !Arc::ptr_eq(previous, handler)
            {
                previous.handle_batch(conn, &run).await?;
                run.clear();
            }
            run_handler = Some(handler);
            run.push(item.event.clone());
            outcomes.push(Outcome::Applied);
        }
        if let Some(handler) = run_handler
            && !run.is_empty()
        {
            handler.handle_batch(conn, &run).await?;
        }
        if let Some(position) = items.iter().filter_map(|i| i.position).max() {
            self.advance_checkpoint(conn, position).await?;
        }
        Ok(outcomes)
    }
}
