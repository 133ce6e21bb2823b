//! `make bench`, second part: how fast a replica catches up from a
//! producer's event log, beside the live path, in the same run.
//!
//! BENCH_EVENTS (default 100,000) cell events (a fifth of them creates,
//! the rest updates, every cell's versions in order) are written into a
//! producer's outbox and relayed to a queue bound beforehand. Then the
//! same handler (the cell replica every service runs) applies them twice,
//! into two fresh databases: from the live queue (a running consumer,
//! prefetching, one transaction per event), and through
//! `EventLogService.ReadEvents` (a catch-up from position 0, one
//! transaction per page). Both end with the same cells.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use civicgrid_cell_tree::{CELL_CREATED, CELL_UPDATED, CellReplica};
use civicgrid_messaging::event::meta;
use civicgrid_messaging::event_log::EventLogApi;
use civicgrid_messaging::outbox::enqueue_all;
use civicgrid_messaging::{Broker, Consumer, EventSource, NewEvent, Relay, TokenSource, Topology};
use civicgrid_proto::events::v1::event_log_service_server::EventLogServiceServer;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::{Authenticator, Role, Verifier};
use civicgrid_testkit::{TestBroker, TestDatabase, TestKeys};
use sqlx::PgPool;
use tonic::service::interceptor::InterceptedService;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn consumer_database() -> TestDatabase {
    let db = TestDatabase::create_empty().await.expect("database");
    let mut messaging = sqlx::migrate!("../messaging/migrations");
    messaging.set_ignore_missing(true);
    messaging.run(&db.pool).await.expect("messaging migrations");
    let mut cells = sqlx::migrate!("./migrations");
    cells.set_ignore_missing(true);
    cells.run(&db.pool).await.expect("cell migrations");
    db
}

fn cell_event(i: usize, version: i64) -> NewEvent {
    let id = format!("c{i}");
    let name = format!("cells/{id}");
    let cell = pb::Cell {
        name: name.clone(),
        parent: "cells/county".into(),
        ancestors: vec!["cells/county".into()],
        level: 2,
        display_name: format!("Street {i}, version {version}"),
        version,
        etag: version.to_string(),
        create_time: Some(prost_types::Timestamp {
            seconds: 1_780_000_000,
            nanos: 0,
        }),
        update_time: Some(prost_types::Timestamp {
            seconds: 1_780_000_000 + version,
            nanos: 0,
        }),
        ..Default::default()
    };
    if version == 1 {
        let (event_id, meta) = meta("grid", CELL_CREATED, &name, version, "bench", "");
        NewEvent::encode(
            event_id,
            CELL_CREATED,
            &pb::CellCreated {
                meta: Some(meta),
                cell: Some(cell),
            },
        )
    } else {
        let (event_id, meta) = meta("grid", CELL_UPDATED, &name, version, "bench", "");
        NewEvent::encode(
            event_id,
            CELL_UPDATED,
            &pb::CellUpdated {
                meta: Some(meta),
                cell: Some(cell),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into()],
                }),
            },
        )
    }
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn cells(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT to_jsonb(c)::text FROM cells c ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn run() {
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
        .max(5);
    let cells_total = events / 5;
    let events = cells_total * 5;

    let producer = TestDatabase::create_empty().await.expect("database");
    sqlx::migrate!("../messaging/migrations")
        .run(&producer.pool)
        .await
        .expect("migrations");
    let broker = TestBroker::new();
    let topology = Topology::new(&broker.exchange, &broker.queue_prefix, 5);

    // The producer's event log, served as every service serves it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let key = std::fs::read(&TestKeys::get().public_key_path).unwrap();
    let auth = Authenticator::new(Verifier::from_pem(&key, "civicgrid").unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(InterceptedService::new(
                EventLogServiceServer::new(EventLogApi::new(producer.pool.clone())),
                auth,
            ))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let source = EventSource::new(
        "grid",
        &format!("http://{addr}"),
        TokenSource::Fixed(TestKeys::get().token(&[Role::Service], &["*"], None)),
    );
    let consumer = |db: &TestDatabase, service: &str| {
        let subscription =
            CellReplica::subscription(&topology, service).catch_up("grid", CellReplica::RESET);
        broker.track_queue(&subscription.queue.name);
        Consumer::new(
            db.pool.clone(),
            Broker::new(broker.url.clone(), service.to_owned()),
            topology.clone(),
            subscription,
        )
        .with_source(source.clone())
    };

    let live_db = consumer_database().await;
    let live = consumer(&live_db, "bench-live");
    live.declare().await.expect("declare the live queue");

    println!("catch-up bench: {events} cell events ({cells_total} cells, 5 versions each)");
    let started = Instant::now();
    for version in 1..=5 {
        let all: Vec<NewEvent> = (0..cells_total).map(|i| cell_event(i, version)).collect();
        for chunk in all.chunks(1000) {
            let mut tx = producer.pool.begin().await.unwrap();
            enqueue_all(&mut tx, chunk).await.unwrap();
            tx.commit().await.unwrap();
        }
    }
    let written = started.elapsed();
    let relay = Relay::new(
        producer.pool.clone(),
        Broker::new(broker.url.clone(), "bench-relay"),
        topology.clone(),
        "grid",
    );
    let started = Instant::now();
    let relayed = relay.drain().await.expect("relay");
    let relay_time = started.elapsed();
    assert_eq!(relayed, events);
    let bytes: i64 = count(&producer.pool, "SELECT pg_total_relation_size('outbox')").await;
    println!(
        "  written in {:.1}s; relayed in {:.1}s ({:.0} events/s); outbox {:.1} MiB, {:.0} bytes per event",
        written.as_secs_f64(),
        relay_time.as_secs_f64(),
        events as f64 / relay_time.as_secs_f64(),
        bytes as f64 / 1024.0 / 1024.0,
        bytes as f64 / events as f64,
    );

    // Live: the queue holds every event; its checkpoint starts at the head,
    // so the running consumer reads no history and applies the queue alone.
    let head = count(&producer.pool, "SELECT max(position) FROM outbox").await;
    sqlx::query("INSERT INTO subscription_checkpoints (subscription, producer, position) VALUES ('grid-cells', 'grid', $1)")
        .bind(head)
        .execute(&live_db.pool)
        .await
        .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let started = Instant::now();
    let running = tokio::spawn(live.run(stop.clone()));
    while count(&live_db.pool, "SELECT count(*) FROM processed_events").await < events as i64 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let live_time = started.elapsed();
    stop.cancel();
    running.await.unwrap();

    // Catch-up: a replica deployed now, reading the log from position 0.
    let late_db = consumer_database().await;
    let late = Arc::new(consumer(&late_db, "bench-late"));
    let started = Instant::now();
    let progress = late.catch_up().await.expect("catch up");
    let catch_up_time = started.elapsed();
    assert_eq!(progress.applied, events as u64);
    assert_eq!(
        cells(&late_db.pool).await,
        cells(&live_db.pool).await,
        "both replicas hold the same cells"
    );

    let live_rate = events as f64 / live_time.as_secs_f64();
    let catch_up_rate = events as f64 / catch_up_time.as_secs_f64();
    println!(
        "  live queue -> replica:           {live_rate:>8.0} events/s ({:.1}s)",
        live_time.as_secs_f64()
    );
    println!(
        "  ReadEvents catch-up -> replica:  {catch_up_rate:>8.0} events/s ({:.1}s)",
        catch_up_time.as_secs_f64()
    );
    println!("  catch-up / live: {:.2}x", catch_up_rate / live_rate);
}
