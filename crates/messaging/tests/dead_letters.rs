//! Dead-letter tools against the real PostgreSQL and RabbitMQ: an event a
//! handler cannot apply dies into `<queue>.dlq`, is listed and decoded there
//! without being moved, and once the handler is fixed a replay applies it
//! exactly once. Each test has its own database and broker names.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use civicgrid_messaging::dead_letters::{DeadLetterError, DeadLetters, DecodedPayload, Selection};
use civicgrid_messaging::outbox::enqueue;
use civicgrid_messaging::{
    Broker, Consumer, Handler, HandlerError, InboundEvent, NewEvent, Outcome, Relay, Subscription,
    Topology,
};
use civicgrid_proto::grid::v1::{Cell, CellCreated};
use civicgrid_testkit::{TestBroker, TestDatabase, eventually};
use futures::future::BoxFuture;
use lapin::options::{BasicGetOptions, BasicNackOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use sqlx::PgConnection;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Stores created cells; gives up on every event until `fixed` is set, as a
/// handler with a bug would.
struct CellProjector {
    fixed: Arc<AtomicBool>,
}

impl Handler for CellProjector {
    fn name(&self) -> &'static str {
        "test.cell_projector"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            if !self.fixed.load(Ordering::SeqCst) {
                return Err(HandlerError::Permanent(
                    "cell level not supported yet".into(),
                ));
            }
            let created: CellCreated = event.decode()?;
            let cell = created.cell.unwrap_or_default();
            sqlx::query("INSERT INTO cells (name, display_name) VALUES ($1, $2)")
                .bind(&cell.name)
                .bind(&cell.display_name)
                .execute(conn)
                .await?;
            Ok(())
        })
    }
}

struct Harness {
    db: TestDatabase,
    broker: TestBroker,
    consumer: Consumer,
    relay: Relay,
    fixed: Arc<AtomicBool>,
    queue: String,
}

impl Harness {
    async fn new() -> Harness {
        civicgrid_runtime::telemetry::init_for_tests();
        let db = TestDatabase::create(&MIGRATOR).await.unwrap();
        sqlx::query("CREATE TABLE cells (name TEXT PRIMARY KEY, display_name TEXT NOT NULL)")
            .execute(&db.pool)
            .await
            .unwrap();
        let broker = TestBroker::new();
        let topology = Topology::new(&broker.exchange, &broker.queue_prefix, 3);
        let fixed = Arc::new(AtomicBool::new(false));
        let subscription = Subscription::new(&topology, "replica", "cells").on(
            "grid.cell.created",
            Arc::new(CellProjector {
                fixed: fixed.clone(),
            }),
        );
        let queue = subscription.queue.name.clone();
        broker.track_queue(&queue);
        let consumer = Consumer::new(
            db.pool.clone(),
            Broker::new(&broker.url, "test-consumer"),
            topology.clone(),
            subscription,
        );
        consumer.declare().await.unwrap();
        let relay = Relay::new(
            db.pool.clone(),
            Broker::new(&broker.url, "test-relay"),
            topology,
            "grid",
        );
        Harness {
            db,
            broker,
            consumer,
            relay,
            fixed,
            queue,
        }
    }

    /// Commits a CellCreated for `cell` into the outbox and publishes it.
    async fn publish_cell(&self, cell: &str, display_name: &str) -> Uuid {
        let event_id = Uuid::now_v7();
        let created = CellCreated {
            cell: Some(Cell {
                name: format!("cells/{cell}"),
                display_name: display_name.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut event = NewEvent::encode(event_id, "grid.cell.created", &created);
        event.trace_headers = HashMap::from([("traceparent".to_owned(), TRACEPARENT.to_owned())]);
        let mut tx = self.db.pool.begin().await.unwrap();
        enqueue(&mut tx, &event).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(self.relay.drain().await.unwrap(), 1);
        event_id
    }

    async fn dead_letters(&self) -> DeadLetters {
        DeadLetters::open(&self.broker.url, &self.queue)
            .await
            .unwrap()
    }

    async fn listed_ids(&self) -> Vec<Uuid> {
        self.dead_letters()
            .await
            .list()
            .await
            .unwrap()
            .iter()
            .map(|letter| letter.event_id.unwrap())
            .collect()
    }

    /// Waits until `count` messages wait in the dead-letter queue: the
    /// broker dead-letters asynchronously, after the consumer's reject.
    async fn dead_lettered(&self, count: u32) {
        let broker = Broker::new(&self.broker.url, "test-depth");
        let dlq = Topology::dead_letter_queue(&self.queue);
        eventually(Duration::from_secs(10), "the dead letters", || async {
            let channel = broker.channel().await.ok()?;
            let queue = channel
                .queue_declare(
                    dlq.as_str().into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
                .ok()?;
            let _ = channel.close(200, "measured".into()).await;
            (queue.message_count() == count).then_some(())
        })
        .await;
    }

    async fn processed(&self, event_id: Uuid) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM processed_events WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_permanently_failing_event_is_listed_with_its_reason_and_shown_decoded() {
    let h = Harness::new().await;
    let event_id = h.publish_cell("st01", "青山街道 Qingshan Street").await;
    assert_eq!(
        h.consumer.drain().await.unwrap(),
        vec![Outcome::DeadLettered]
    );
    h.dead_lettered(1).await;

    let dead_letters = h.dead_letters().await;
    let listed = dead_letters.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    let letter = &listed[0];
    assert_eq!(letter.event_id, Some(event_id));
    assert_eq!(letter.routing_key, "grid.cell.created");
    assert_eq!(
        letter.message_type.as_deref(),
        Some("civicgrid.grid.v1.CellCreated")
    );
    assert_eq!(letter.producer.as_deref(), Some("grid"));
    assert_eq!(letter.original_queue.as_deref(), Some(h.queue.as_str()));
    assert_eq!(letter.first_death_reason.as_deref(), Some("rejected"));
    assert_eq!(letter.death_count, 1);
    assert!(letter.died_at.is_some());
    assert_eq!(
        letter.headers.get("traceparent").map(String::as_str),
        Some(TRACEPARENT)
    );

    let shown = dead_letters.show(event_id).await.unwrap();
    let DecodedPayload::Json(json) = shown.decoded() else {
        panic!("not decoded: {:?}", shown.decoded());
    };
    assert_eq!(json["cell"]["displayName"], "青山街道 Qingshan Street");
    assert_eq!(json["cell"]["name"], "cells/st01");
    // Looking did not take it away.
    assert_eq!(h.listed_ids().await, vec![event_id]);
}

#[tokio::test]
async fn listing_dead_letters_keeps_every_message_in_its_place() {
    let h = Harness::new().await;
    let mut published = Vec::new();
    for n in 0..5 {
        published.push(h.publish_cell(&format!("c{n}"), &format!("Cell {n}")).await);
    }
    assert_eq!(h.consumer.drain().await.unwrap().len(), 5);
    h.dead_lettered(5).await;

    assert_eq!(h.listed_ids().await, published);
    assert_eq!(h.listed_ids().await, published);
    // Showing one in the middle does not move it either.
    h.dead_letters().await.show(published[2]).await.unwrap();
    assert_eq!(h.listed_ids().await, published);
}

#[tokio::test]
async fn a_replayed_event_is_applied_once_after_the_handler_is_fixed() {
    let h = Harness::new().await;
    let event_id = h.publish_cell("st01", "Qingshan Street").await;
    let other = h.publish_cell("st02", "Hexi Street").await;
    assert_eq!(
        h.consumer.drain().await.unwrap(),
        vec![Outcome::DeadLettered, Outcome::DeadLettered]
    );
    h.dead_lettered(2).await;

    for _ in 0..3 {
        assert_eq!(h.listed_ids().await, vec![event_id, other]);
    }

    h.fixed.store(true, Ordering::SeqCst);
    let dead_letters = h.dead_letters().await;
    assert_eq!(
        dead_letters
            .replay(Selection::Event(event_id))
            .await
            .unwrap(),
        1
    );
    // Only the chosen one left the dead-letter queue.
    assert_eq!(h.listed_ids().await, vec![other]);

    // The copy in the queue is the message as published: id, type, routing
    // key, trace context and body, without the dead-letter queue's counts.
    let channel = Broker::new(&h.broker.url, "test-peek")
        .channel()
        .await
        .unwrap();
    let copy = channel
        .basic_get(h.queue.as_str().into(), BasicGetOptions { no_ack: false })
        .await
        .unwrap()
        .unwrap()
        .delivery;
    assert_eq!(copy.routing_key.as_str(), "grid.cell.created");
    assert_eq!(
        copy.properties.message_id().as_ref().unwrap().as_str(),
        event_id.to_string()
    );
    assert_eq!(
        copy.properties.kind().as_ref().unwrap().as_str(),
        "civicgrid.grid.v1.CellCreated"
    );
    let headers = copy.properties.headers().as_ref().unwrap().inner();
    assert_eq!(
        headers.get("traceparent"),
        Some(&AMQPValue::LongString(TRACEPARENT.into()))
    );
    // Every look at the dead-letter queue counted as a delivery there; the
    // copy starts afresh, or the consumer would back off for failures that
    // never happened.
    assert!(matches!(
        headers.get("x-delivery-count"),
        None | Some(AMQPValue::LongLongInt(0))
    ));
    assert!(!headers.contains_key("BCC"));
    copy.acker
        .nack(BasicNackOptions {
            multiple: false,
            requeue: true,
        })
        .await
        .unwrap();
    let _ = channel.close(200, "peeked".into()).await;

    assert_eq!(h.consumer.drain().await.unwrap(), vec![Outcome::Applied]);
    assert_eq!(h.processed(event_id).await, 1);
    let names: Vec<String> = sqlx::query_scalar("SELECT display_name FROM cells")
        .fetch_all(&h.db.pool)
        .await
        .unwrap();
    assert_eq!(names, vec!["Qingshan Street".to_owned()]);
}

#[tokio::test]
async fn replaying_an_event_that_died_twice_applies_it_once() {
    let h = Harness::new().await;
    let event_id = h.publish_cell("st01", "Qingshan Street").await;
    // The relay publishes the same row again, as after a crash between the
    // broker's confirm and its own commit; both copies die.
    sqlx::query("UPDATE outbox SET published_at = NULL")
        .execute(&h.db.pool)
        .await
        .unwrap();
    assert_eq!(h.relay.drain().await.unwrap(), 1);
    assert_eq!(h.consumer.drain().await.unwrap().len(), 2);
    h.dead_lettered(2).await;
    assert_eq!(h.listed_ids().await, vec![event_id, event_id]);

    h.fixed.store(true, Ordering::SeqCst);
    assert_eq!(
        h.dead_letters().await.replay(Selection::All).await.unwrap(),
        2
    );
    assert_eq!(
        h.consumer.drain().await.unwrap(),
        vec![Outcome::Applied, Outcome::Duplicate]
    );
    assert_eq!(h.processed(event_id).await, 1);
    assert!(h.listed_ids().await.is_empty());
}

#[tokio::test]
async fn discarding_removes_only_the_chosen_dead_letters() {
    let h = Harness::new().await;
    let first = h.publish_cell("c1", "One").await;
    let second = h.publish_cell("c2", "Two").await;
    let third = h.publish_cell("c3", "Three").await;
    h.consumer.drain().await.unwrap();
    h.dead_lettered(3).await;

    let dead_letters = h.dead_letters().await;
    assert_eq!(
        dead_letters
            .discard(Selection::Event(second))
            .await
            .unwrap(),
        1
    );
    assert_eq!(h.listed_ids().await, vec![first, third]);
    assert_eq!(dead_letters.discard(Selection::All).await.unwrap(), 2);
    assert!(h.listed_ids().await.is_empty());
    assert_eq!(h.processed(first).await, 0);
}

#[tokio::test]
async fn an_unknown_queue_or_event_id_is_a_clear_error_that_changes_nothing() {
    let h = Harness::new().await;
    let event_id = h.publish_cell("st01", "Qingshan Street").await;
    h.consumer.drain().await.unwrap();
    h.dead_lettered(1).await;

    let missing = format!("{}.nothing", h.broker.queue_prefix);
    let error = DeadLetters::open(&h.broker.url, &missing)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, DeadLetterError::UnknownQueue { .. }));
    assert_eq!(
        error.to_string(),
        format!("no queue named {missing} (or its dead-letter queue {missing}.dlq)")
    );

    let unknown = Uuid::now_v7();
    let dead_letters = h.dead_letters().await;
    for result in [
        dead_letters.show(unknown).await.map(|_| 0),
        dead_letters.replay(Selection::Event(unknown)).await,
        dead_letters.discard(Selection::Event(unknown)).await,
    ] {
        let error = result.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("no dead letter with event id {unknown} in {}.dlq", h.queue)
        );
    }
    assert_eq!(h.listed_ids().await, vec![event_id]);
}

#[tokio::test]
async fn an_unreachable_broker_is_named_without_its_password() {
    let error = DeadLetters::open("amqp://guest:secret@127.0.0.1:1/%2f", "civicgrid.any")
        .await
        .err()
        .unwrap();
    assert!(matches!(error, DeadLetterError::Unreachable { .. }));
    let message = error.to_string();
    assert!(
        message.starts_with("cannot reach the broker at amqp://guest:***@127.0.0.1:1/%2f"),
        "{message}"
    );
}
