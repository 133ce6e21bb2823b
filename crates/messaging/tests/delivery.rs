//! The outbox, relay and inbox consumer against the real PostgreSQL and
//! RabbitMQ, each test with its own database and broker names.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use civicgrid_messaging::MIGRATOR;
use civicgrid_messaging::outbox::{backlog, enqueue};
use civicgrid_messaging::{
    Broker, Consumer, Handler, HandlerError, InboundEvent, NewEvent, Outcome, Relay, Subscription,
    Topology,
};
use civicgrid_proto::common::v1::EventMeta;
use civicgrid_testkit::{FaultProxy, TestBroker, TestDatabase, eventually};
use futures::future::BoxFuture;
use lapin::BasicProperties;
use lapin::options::{BasicGetOptions, BasicPublishOptions};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Records every applied event in `applied`; fails as told by `mode`.
struct Recorder {
    fail_transiently: bool,
}

impl Handler for Recorder {
    fn name(&self) -> &'static str {
        "test.recorder"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let meta: EventMeta = event.decode()?;
            if self.fail_transiently && meta.aggregate_id == "poison" {
                return Err(HandlerError::Transient("this one always fails".into()));
            }
            sqlx::query("INSERT INTO applied (event_id, aggregate_id) VALUES ($1, $2)")
                .bind(event.event_id)
                .bind(&meta.aggregate_id)
                .execute(conn)
                .await?;
            Ok(())
        })
    }
}

struct Harness {
    db: TestDatabase,
    broker: TestBroker,
    topology: Topology,
}

impl Harness {
    async fn new() -> Harness {
        civicgrid_runtime::telemetry::init_for_tests();
        let db = TestDatabase::create(&MIGRATOR).await.unwrap();
        // `tx`: the transaction that applied it, to see batches.
        sqlx::query(
            "CREATE TABLE applied (event_id UUID NOT NULL, aggregate_id TEXT NOT NULL, \
             tx BIGINT NOT NULL DEFAULT txid_current())",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        let broker = TestBroker::new();
        let topology = Topology::new(&broker.exchange, &broker.queue_prefix, 3);
        Harness {
            db,
            broker,
            topology,
        }
    }

    fn consumer(&self, amqp_url: &str, fail_transiently: bool) -> Consumer {
        let subscription = Subscription::new(&self.topology, "test", "things").on(
            "test.thing.happened",
            Arc::new(Recorder { fail_transiently }),
        );
        self.broker.track_queue(&subscription.queue.name);
        Consumer::new(
            self.db.pool.clone(),
            Broker::new(amqp_url, "test-consumer"),
            self.topology.clone(),
            subscription,
        )
        .with_retry(Duration::from_millis(1), Duration::from_millis(5))
    }

    fn relay(&self, amqp_url: &str) -> Relay {
        Relay::new(
            self.db.pool.clone(),
            Broker::new(amqp_url, "test-relay"),
            self.topology.clone(),
            "test",
        )
    }
}

fn event(aggregate_id: &str) -> NewEvent {
    let event_id = Uuid::now_v7();
    let meta = EventMeta {
        event_id: event_id.to_string(),
        aggregate_id: aggregate_id.to_owned(),
        ..Default::default()
    };
    NewEvent::encode(event_id, "test.thing.happened", &meta)
}

async fn commit_events(pool: &PgPool, events: &[NewEvent]) {
    let mut tx = pool.begin().await.unwrap();
    for event in events {
        enqueue(&mut tx, event).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn applied(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT aggregate_id FROM applied ORDER BY aggregate_id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_committed_event_is_published_once_and_applied_once_even_when_delivered_twice() {
    let h = Harness::new().await;
    let consumer = h.consumer(&h.broker.url, false);
    consumer.declare().await.unwrap();
    let relay = h.relay(&h.broker.url);
    let first = event("a");
    commit_events(&h.db.pool, std::slice::from_ref(&first)).await;

    assert_eq!(relay.drain().await.unwrap(), 1);
    assert_eq!(backlog(&h.db.pool).await.unwrap(), 0);

    // The same event published a second time, as a relay that crashed
    // between the broker's confirm and its own commit would do.
    sqlx::query("UPDATE outbox SET published_at = NULL")
        .execute(&h.db.pool)
        .await
        .unwrap();
    assert_eq!(relay.drain().await.unwrap(), 1);

    assert_eq!(
        consumer.drain().await.unwrap(),
        vec![Outcome::Applied, Outcome::Duplicate]
    );
    assert_eq!(applied(&h.db.pool).await, vec!["a"]);
}

#[tokio::test]
async fn an_event_committed_while_the_broker_is_unreachable_is_delivered_once_it_is_back() {
    let h = Harness::new().await;
    let consumer = h.consumer(&h.broker.url, false);
    consumer.declare().await.unwrap();
    let proxy = FaultProxy::start("127.0.0.1:5672".parse().unwrap())
        .await
        .unwrap();
    let relay = h.relay(&proxy.amqp_url());
    // Connect once while the link is up, then lose the broker.
    assert_eq!(relay.drain().await.unwrap(), 0);
    commit_events(&h.db.pool, &[event("before-cut")]).await;
    assert_eq!(relay.drain().await.unwrap(), 1);
    proxy.cut();

    commit_events(&h.db.pool, &[event("during-outage")]).await;
    assert!(
        relay.relay_once().await.is_err(),
        "publishing through a cut link must fail"
    );
    assert_eq!(
        backlog(&h.db.pool).await.unwrap(),
        1,
        "the event waits in the outbox"
    );

    // The running relay (the one a service runs) heals by itself.
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(relay.run(shutdown.clone()));
    proxy.restore();
    let pool = h.db.pool.clone();
    eventually(
        Duration::from_secs(30),
        "the outbox to drain after the broker is back",
        || {
            let pool = pool.clone();
            async move { (backlog(&pool).await.ok()? == 0).then_some(()) }
        },
    )
    .await;
    shutdown.cancel();
    running.await.unwrap();

    assert_eq!(
        consumer.drain().await.unwrap(),
        vec![Outcome::Applied, Outcome::Applied]
    );
    assert_eq!(
        applied(&h.db.pool).await,
        vec!["before-cut", "during-outage"]
    );
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_after_bounded_attempts_and_do_not_block_the_queue() {
    let h = Harness::new().await;
    let consumer = h.consumer(&h.broker.url, true);
    consumer.declare().await.unwrap();
    let relay = h.relay(&h.broker.url);

    // An undecodable message, straight onto the exchange.
    let broker = Broker::new(h.broker.url.clone(), "test-raw");
    let channel = broker.channel().await.unwrap();
    channel
        .basic_publish(
            h.broker.exchange.as_str().into(),
            "test.thing.happened".into(),
            BasicPublishOptions::default(),
            b"\xff\xff not protobuf",
            BasicProperties::default().with_message_id(Uuid::now_v7().to_string().into()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    // One that always fails transiently, then a good one behind both.
    commit_events(&h.db.pool, &[event("poison"), event("good")]).await;
    relay.drain().await.unwrap();

    let outcomes = consumer.drain().await.unwrap();
    assert_eq!(
        outcomes.first(),
        Some(&Outcome::DeadLettered),
        "undecodable: dead-lettered at once"
    );
    let requeues = outcomes.iter().filter(|o| **o == Outcome::Requeued).count();
    assert!(
        (1..=4).contains(&requeues),
        "bounded retries of the failing event, got {outcomes:?}"
    );
    assert!(outcomes.contains(&Outcome::Applied));
    assert_eq!(applied(&h.db.pool).await, vec!["good"]);

    // Both bad messages wait in the dead-letter queue; nothing is left behind.
    let dlq = Topology::dead_letter_queue(consumer.queue_name());
    let mut dead = 0;
    for _ in 0..200 {
        match channel
            .basic_get(dlq.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            Some(_) => dead += 1,
            None if dead >= 2 => break,
            // Dead-lettering is asynchronous inside the broker.
            None => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
    assert_eq!(dead, 2, "both poison messages in the dead-letter queue");
    let pool = &h.db.pool;
    assert_eq!(consumer.drain().await.unwrap(), vec![]);
    assert_eq!(applied(pool).await, vec!["good"]);
}

#[tokio::test]
async fn the_trace_context_of_the_committing_span_travels_with_the_message() {
    let h = Harness::new().await;
    let consumer = h.consumer(&h.broker.url, false);
    consumer.declare().await.unwrap();
    let span = tracing::info_span!("request");
    let trace_id = {
        let _entered = span.enter();
        commit_events(&h.db.pool, &[event("traced")]).await;
        civicgrid_runtime::trace_context::current_trace_id().expect("a trace id")
    };
    let headers: serde_json::Value = sqlx::query_scalar("SELECT headers FROM outbox")
        .fetch_one(&h.db.pool)
        .await
        .unwrap();
    let traceparent = headers["traceparent"].as_str().expect("traceparent header");
    assert!(
        traceparent.contains(&trace_id),
        "{traceparent} carries {trace_id}"
    );

    h.relay(&h.broker.url).drain().await.unwrap();
    let broker = Broker::new(h.broker.url.clone(), "test-peek");
    let channel = broker.channel().await.unwrap();
    let message = channel
        .basic_get(
            consumer.queue_name().into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap()
        .unwrap();
    let carried = match message
        .delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("traceparent"))
    {
        Some(lapin::types::AMQPValue::LongString(value)) => value.to_string(),
        other => panic!("no traceparent header: {other:?}"),
    };
    assert!(
        carried.contains(&trace_id),
        "message header {carried} carries {trace_id}"
    );
}

#[tokio::test]
async fn a_committed_outbox_row_wakes_the_relay_and_a_rolled_back_one_does_not() {
    let h = Harness::new().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&h.db.pool)
        .await
        .unwrap();
    listener
        .listen(civicgrid_messaging::outbox::NOTIFY_CHANNEL)
        .await
        .unwrap();

    let mut tx = h.db.pool.begin().await.unwrap();
    enqueue(&mut tx, &event("rolled-back")).await.unwrap();
    tx.rollback().await.unwrap();
    // A rolled-back NOTIFY is discarded by the server: nothing can arrive.
    let early = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await;
    assert!(
        early.is_err(),
        "a rolled-back insert woke the relay: {early:?}"
    );

    // Rows written by any statement, not only `enqueue`, wake it on commit.
    sqlx::query(
        "INSERT INTO outbox (event_id, routing_key, message_type, payload) \
         VALUES ($1, 'test.thing.happened', 'x', '\\x00')",
    )
    .bind(Uuid::now_v7())
    .execute(&h.db.pool)
    .await
    .unwrap();
    let woke = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("a committed insert wakes the relay")
        .unwrap();
    assert_eq!(woke.channel(), civicgrid_messaging::outbox::NOTIFY_CHANNEL);
}

#[tokio::test]
async fn two_relays_on_one_outbox_publish_every_event_exactly_once() {
    let h = Harness::new().await;
    let consumer = h.consumer(&h.broker.url, false);
    consumer.declare().await.unwrap();
    // More than one batch, so the relays take turns more than once.
    let events: Vec<NewEvent> = (0..450).map(|i| event(&format!("e{i:03}"))).collect();
    commit_events(&h.db.pool, &events).await;

    let (first, second) = (h.relay(&h.broker.url), h.relay(&h.broker.url));
    let until_empty = |relay: Relay, pool: PgPool| async move {
        let mut published = 0;
        while backlog(&pool).await.unwrap() > 0 {
            published += relay.relay_once().await.unwrap();
            tokio::task::yield_now().await;
        }
        published
    };
    let (a, b) = tokio::join!(
        until_empty(first, h.db.pool.clone()),
        until_empty(second, h.db.pool.clone())
    );
    assert_eq!(a + b, 450, "published {a} + {b}");

    let outcomes = consumer.drain().await.unwrap();
    assert_eq!(outcomes.len(), 450);
    assert!(
        outcomes.iter().all(|o| *o == Outcome::Applied),
        "a repeat was delivered"
    );
    assert_eq!(applied(&h.db.pool).await.len(), 450);
}

async fn dead_letters(channel: &lapin::Channel, queue: &str, expected: usize) -> usize {
    let dlq = Topology::dead_letter_queue(queue);
    let mut dead = 0;
    for _ in 0..400 {
        match channel
            .basic_get(dlq.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            Some(_) => dead += 1,
            None if dead >= expected => break,
            // Dead-lettering is asynchronous inside the broker.
            None => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
    dead
}

#[tokio::test]
async fn a_running_consumer_applies_waiting_deliveries_in_batches_once_each_and_dead_letters_a_poison_one_alone()
 {
    let h = Harness::new().await;
    let consumer = h.consumer(&h.broker.url, true);
    consumer.declare().await.unwrap();
    let queue = consumer.queue_name().to_owned();
    let relay = h.relay(&h.broker.url);
    let pool = h.db.pool.clone();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    // 300 events waiting, each published twice (a relay crash between the
    // broker's confirm and its commit), before the consumer runs.
    let events: Vec<NewEvent> = (0..300).map(|i| event(&format!("e-{i:03}"))).collect();
    commit_events(&h.db.pool, &events).await;
    assert_eq!(relay.drain().await.unwrap(), 300);
    sqlx::query("UPDATE outbox SET published_at = NULL")
        .execute(&h.db.pool)
        .await
        .unwrap();
    assert_eq!(relay.drain().await.unwrap(), 300);

    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(consumer.run(shutdown.clone()));
    eventually(
        Duration::from_secs(60),
        "the 300 events to be applied",
        || async move { (count("SELECT count(*) FROM applied").await >= 300).then_some(()) },
    )
    .await;
    // Then a poison event (always failing) among good ones.
    let mut mixed: Vec<NewEvent> = (0..10).map(|i| event(&format!("f-{i:02}"))).collect();
    mixed.insert(5, event("poison"));
    commit_events(&h.db.pool, &mixed).await;
    assert_eq!(relay.drain().await.unwrap(), 11);
    eventually(
        Duration::from_secs(60),
        "the 10 good ones to be applied",
        || async move { (count("SELECT count(*) FROM applied").await >= 310).then_some(()) },
    )
    .await;
    let broker = Broker::new(h.broker.url.clone(), "test-dlq");
    let channel = broker.channel().await.unwrap();
    assert_eq!(
        dead_letters(&channel, &queue, 1).await,
        1,
        "the poison one alone is dead-lettered"
    );
    shutdown.cancel();
    running.await.unwrap();

    assert_eq!(
        count("SELECT count(*) FROM applied").await,
        310,
        "each applied once"
    );
    assert_eq!(
        count("SELECT count(DISTINCT event_id) FROM applied").await,
        310
    );
    let first_transactions =
        count("SELECT count(DISTINCT tx) FROM applied WHERE aggregate_id LIKE 'e-%'").await;
    assert!(
        first_transactions <= 60,
        "600 waiting deliveries are applied in batches, not one transaction each: {first_transactions} transactions"
    );
}

/// Records the trace id its handler runs on, per aggregate.
struct TraceRecorder;

impl Handler for TraceRecorder {
    fn name(&self) -> &'static str {
        "test.trace-recorder"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let meta: EventMeta = event.decode()?;
            let trace = civicgrid_runtime::trace_context::current_trace_id().unwrap_or_default();
            sqlx::query("INSERT INTO applied (event_id, aggregate_id) VALUES ($1, $2)")
                .bind(event.event_id)
                .bind(format!("{}={trace}", meta.aggregate_id))
                .execute(conn)
                .await?;
            Ok(())
        })
    }
}

#[tokio::test]
async fn each_event_of_a_batch_is_handled_on_the_trace_it_was_committed_in() {
    let h = Harness::new().await;
    let subscription = Subscription::new(&h.topology, "test", "traces")
        .on("test.thing.happened", Arc::new(TraceRecorder));
    h.broker.track_queue(&subscription.queue.name);
    let consumer = Consumer::new(
        h.db.pool.clone(),
        Broker::new(&h.broker.url, "test-consumer"),
        h.topology.clone(),
        subscription,
    );
    consumer.declare().await.unwrap();
    // Five events, each committed by a request of its own trace, all
    // waiting before the consumer runs, so they arrive as one batch.
    let mut expected = Vec::new();
    for i in 0..5 {
        let span = tracing::info_span!("request");
        let _entered = span.enter();
        commit_events(&h.db.pool, &[event(&format!("t-{i}"))]).await;
        let trace = civicgrid_runtime::trace_context::current_trace_id().expect("a trace id");
        expected.push(format!("t-{i}={trace}"));
    }
    assert_eq!(h.relay(&h.broker.url).drain().await.unwrap(), 5);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(consumer.run(shutdown.clone()));
    let pool = h.db.pool.clone();
    let seen = eventually(
        Duration::from_secs(60),
        "the 5 events to be applied",
        || {
            let pool = pool.clone();
            async move {
                let seen = applied(&pool).await;
                (seen.len() == 5).then_some(seen)
            }
        },
    )
    .await;
    shutdown.cancel();
    running.await.unwrap();
    let batches: i64 = sqlx::query_scalar("SELECT count(DISTINCT tx) FROM applied")
        .fetch_one(&h.db.pool)
        .await
        .unwrap();
    // What has arrived while a batch was applied makes the next one: the
    // first delivery may go alone, the rest together.
    assert!(
        batches < 5,
        "some events shared a batch ({batches} transactions)"
    );
    assert_eq!(seen, expected);
}
