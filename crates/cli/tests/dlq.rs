//! `civicgrid dlq` end to end: the built binary against the real broker and
//! PostgreSQL, on a consumer whose handler fails until it is fixed.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use civicgrid_messaging::outbox::enqueue;
use civicgrid_messaging::{
    Broker, Consumer, Handler, HandlerError, InboundEvent, NewEvent, Outcome, Relay, Subscription,
    Topology,
};
use civicgrid_proto::grid::v1::{Cell, CellCreated};
use civicgrid_testkit::{TestBroker, TestDatabase, eventually};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../messaging/migrations");

/// Records created cells; gives up on every event until `fixed` is set.
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
                return Err(HandlerError::Permanent("not supported yet".into()));
            }
            let created: CellCreated = event.decode()?;
            sqlx::query("INSERT INTO cells (display_name) VALUES ($1)")
                .bind(created.cell.unwrap_or_default().display_name)
                .execute(conn)
                .await?;
            Ok(())
        })
    }
}

/// Waits until `count` messages wait in `<queue>.dlq`: the broker
/// dead-letters asynchronously, after the reject.
async fn dead_lettered(broker: &TestBroker, queue: &str, count: u32) {
    let client = Broker::new(&broker.url, "test-depth");
    let dlq = Topology::dead_letter_queue(queue);
    eventually(Duration::from_secs(10), "the dead letters", || async {
        let channel = client.channel().await.ok()?;
        let declared = channel
            .queue_declare(
                dlq.as_str().into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..lapin::options::QueueDeclareOptions::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .ok()?;
        let _ = channel.close(200, "measured".into()).await;
        (declared.message_count() == count).then_some(())
    })
    .await;
}

fn civicgrid(broker: &TestBroker, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_civicgrid"))
        .args(args)
        .args(["--amqp-url", broker.url.as_str()])
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn the_cli_lists_shows_and_replays_a_dead_letter_which_is_then_applied_once() {
    let db = TestDatabase::create(&MIGRATOR).await.unwrap();
    sqlx::query("CREATE TABLE cells (display_name TEXT NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let broker = TestBroker::new();
    let topology = Topology::new(&broker.exchange, &broker.queue_prefix, 3);
    let fixed = Arc::new(AtomicBool::new(false));
    let subscription = Subscription::new(&topology, "replica", "grid-cells").on(
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
    let event_id = Uuid::now_v7();
    let created = CellCreated {
        cell: Some(Cell {
            name: "cells/qingshan".to_owned(),
            display_name: "青山街道 Qingshan Street".to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut tx = db.pool.begin().await.unwrap();
    enqueue(
        &mut tx,
        &NewEvent::encode(event_id, "grid.cell.created", &created),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    relay.drain().await.unwrap();
    assert_eq!(consumer.drain().await.unwrap(), vec![Outcome::DeadLettered]);
    dead_lettered(&broker, &queue, 1).await;
    let id = event_id.to_string();

    let listed = civicgrid(
        &broker,
        &["dlq", "list", "--queue", &queue, "--output", "json"],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    let json: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    let letters = json.as_array().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["event_id"], id.as_str());
    assert_eq!(letters[0]["routing_key"], "grid.cell.created");
    assert_eq!(letters[0]["message_type"], "civicgrid.grid.v1.CellCreated");
    assert_eq!(letters[0]["first_death_reason"], "rejected");
    assert_eq!(letters[0]["death_count"], 1);

    let table = civicgrid(&broker, &["dlq", "list", "--queue", &queue]);
    assert!(table.status.success(), "{}", stderr(&table));
    let lines: Vec<String> = stdout(&table).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("EVENT ID"), "{lines:?}");
    assert!(
        lines[1].starts_with(&id) && lines[1].contains("rejected"),
        "{lines:?}"
    );

    let shown = civicgrid(
        &broker,
        &["dlq", "show", "--queue", &queue, "--event-id", &id],
    );
    assert!(shown.status.success(), "{}", stderr(&shown));
    let json: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
    assert_eq!(
        json["payload"]["cell"]["displayName"],
        "青山街道 Qingshan Street"
    );

    // Without --yes nothing goes.
    let refused = civicgrid(&broker, &["dlq", "discard", "--queue", &queue, "--all"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("add --yes"),
        "{}",
        stderr(&refused)
    );

    fixed.store(true, Ordering::SeqCst);
    let replayed = civicgrid(
        &broker,
        &["dlq", "replay", "--queue", &queue, "--event-id", &id],
    );
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert_eq!(
        stdout(&replayed).trim(),
        format!("replayed 1 dead letter from {queue}.dlq")
    );
    assert_eq!(consumer.drain().await.unwrap(), vec![Outcome::Applied]);
    let processed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM processed_events WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(processed, 1);
    let cells: i64 = sqlx::query_scalar("SELECT count(*) FROM cells")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(cells, 1);

    // It is gone from the dead letters, so a second replay finds nothing.
    let again = civicgrid(
        &broker,
        &["dlq", "replay", "--queue", &queue, "--event-id", &id],
    );
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again).trim(),
        format!("civicgrid: no dead letter with event id {id} in {queue}.dlq")
    );
}

#[tokio::test]
async fn the_cli_discards_only_with_yes_and_names_an_unknown_queue() {
    let broker = TestBroker::new();
    let topology = Topology::new(&broker.exchange, &broker.queue_prefix, 3);
    let spec = topology.queue("replica", "grid-cells", &["grid.cell.created"]);
    broker.track_queue(&spec.name);
    let channel = Broker::new(&broker.url, "test-setup")
        .channel()
        .await
        .unwrap();
    topology.declare_queue(&channel, &spec).await.unwrap();
    // Confirms: a quorum queue has the message once the broker confirmed it.
    channel
        .confirm_select(lapin::options::ConfirmSelectOptions::default())
        .await
        .unwrap();
    // A message rejected by hand dies exactly as a consumer's would.
    for _ in 0..2 {
        let confirmation = channel
            .basic_publish(
                broker.exchange.as_str().into(),
                "grid.cell.created".into(),
                lapin::options::BasicPublishOptions::default(),
                b"\x0a\x00",
                lapin::BasicProperties::default()
                    .with_message_id(Uuid::now_v7().to_string().into()),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(matches!(confirmation, lapin::Confirmation::Ack(None)));
    }
    for _ in 0..2 {
        let message = channel
            .basic_get(
                spec.name.as_str().into(),
                lapin::options::BasicGetOptions { no_ack: false },
            )
            .await
            .unwrap()
            .unwrap();
        message
            .delivery
            .acker
            .reject(lapin::options::BasicRejectOptions { requeue: false })
            .await
            .unwrap();
    }
    dead_lettered(&broker, &spec.name, 2).await;
    let count = |broker: &TestBroker| {
        let listed = civicgrid(
            broker,
            &["dlq", "list", "--queue", &spec.name, "--output", "json"],
        );
        assert!(listed.status.success(), "{}", stderr(&listed));
        let json: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
        json.as_array().unwrap().len()
    };
    assert_eq!(count(&broker), 2);

    // These have no message type: shown as hex, with a note saying why.
    let listed = civicgrid(
        &broker,
        &["dlq", "list", "--queue", &spec.name, "--output", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    let first = json[0]["event_id"].as_str().unwrap().to_owned();
    let shown = civicgrid(
        &broker,
        &["dlq", "show", "--queue", &spec.name, "--event-id", &first],
    );
    assert!(shown.status.success(), "{}", stderr(&shown));
    let json: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
    assert_eq!(json["payload_hex"], "0a00");
    assert_eq!(
        json["note"],
        "the message has no type property; payload shown as hex"
    );

    let refused = civicgrid(&broker, &["dlq", "discard", "--queue", &spec.name, "--all"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(count(&broker), 2);

    let discarded = civicgrid(
        &broker,
        &["dlq", "discard", "--queue", &spec.name, "--all", "--yes"],
    );
    assert!(discarded.status.success(), "{}", stderr(&discarded));
    assert_eq!(
        stdout(&discarded).trim(),
        format!("discarded 2 dead letters from {}.dlq", spec.name)
    );
    assert_eq!(count(&broker), 0);

    let missing = format!("{}.nothing", broker.queue_prefix);
    let unknown = civicgrid(&broker, &["dlq", "list", "--queue", &missing]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        stderr(&unknown).trim(),
        format!("civicgrid: no queue named {missing} (or its dead-letter queue {missing}.dlq)")
    );
    let _ = channel.close(200, "done".into()).await;
}

#[test]
fn every_dlq_command_explains_itself_with_help() {
    for command in [
        vec!["dlq", "--help"],
        vec!["dlq", "list", "--help"],
        vec!["dlq", "show", "--help"],
        vec!["dlq", "replay", "--help"],
        vec!["dlq", "discard", "--help"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_civicgrid"))
            .args(&command)
            .output()
            .unwrap();
        assert!(output.status.success(), "{command:?}");
        let help = stdout(&output);
        assert!(help.contains("Usage: civicgrid dlq"), "{command:?}: {help}");
        if command.len() > 2 {
            assert!(help.contains("--queue <QUEUE>"), "{command:?}: {help}");
        }
    }
}

#[test]
fn an_unreachable_broker_is_named_and_exits_non_zero() {
    let output = Command::new(env!("CARGO_BIN_EXE_civicgrid"))
        .args(["dlq", "list", "--queue", "civicgrid.any.queue"])
        .args(["--amqp-url", "amqp://guest:secret@127.0.0.1:1/%2f"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message
            .starts_with("civicgrid: cannot reach the broker at amqp://guest:***@127.0.0.1:1/%2f"),
        "{message}"
    );
}
