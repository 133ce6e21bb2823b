//! The event log (positions in commit order, `ReadEvents`), catch-up
//! subscriptions and rebuilds, against the real PostgreSQL and RabbitMQ:
//! a producer database with its relay and log server, and consumer
//! databases, each test with its own names.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use civicgrid_messaging::admin::SubscriptionAdminApi;
use civicgrid_messaging::event_log::EventLogApi;
use civicgrid_messaging::outbox::enqueue_all;
use civicgrid_messaging::{
    Broker, Consumer, EventSource, Handler, HandlerError, InboundEvent, NewEvent, Outcome, Relay,
    Subscription, TokenSource, Topology,
};
use civicgrid_proto::common::v1::EventMeta;
use civicgrid_proto::events::v1 as pb;
use civicgrid_proto::events::v1::event_log_service_client::EventLogServiceClient;
use civicgrid_proto::events::v1::event_log_service_server::EventLogServiceServer;
use civicgrid_proto::events::v1::subscription_admin_service_client::SubscriptionAdminServiceClient;
use civicgrid_proto::events::v1::subscription_admin_service_server::SubscriptionAdminServiceServer;
use civicgrid_proto::grid::v1::{CellCreated, CellUpdated, TaskChanged};
use civicgrid_runtime::auth::{Authenticator, Role, Verifier};
use civicgrid_testkit::{TestBroker, TestDatabase, TestKeys, invalid_fields, with_token};
use futures::future::BoxFuture;
use lapin::options::BasicGetOptions;
use sqlx::{PgConnection, PgPool};
use tonic::service::interceptor::InterceptedService;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

const CELL_KEYS: [&str; 2] = ["grid.cell.created", "grid.cell.updated"];
const TASK_KEYS: [&str; 3] = [
    "grid.task.reported",
    "grid.task.accepted",
    "grid.task.assigned",
];

/// Records every event it applies, in the order applied.
struct Recorder;

impl Handler for Recorder {
    fn name(&self) -> &'static str {
        "test.history-recorder"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let (aggregate_id, version) =
                civicgrid_messaging::consumer::aggregate_of(&event.payload)
                    .ok_or_else(|| HandlerError::Permanent("no EventMeta".into()))?;
            sqlx::query(
                "INSERT INTO recorded (event_id, routing_key, aggregate_id, version, payload) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(event.event_id)
            .bind(&event.routing_key)
            .bind(&aggregate_id)
            .bind(version)
            .bind(&event.payload)
            .execute(conn)
            .await?;
            Ok(())
        })
    }
}

/// One producer (database, relay, event-log server) and the broker names.
struct Producer {
    db: TestDatabase,
    broker: TestBroker,
    topology: Topology,
    addr: SocketAddr,
    relay: Relay,
}

impl Producer {
    async fn start() -> Producer {
        civicgrid_runtime::telemetry::init_for_tests();
        let db = TestDatabase::create(&MIGRATOR).await.unwrap();
        let broker = TestBroker::new();
        let topology = Topology::new(&broker.exchange, &broker.queue_prefix, 3);
        let addr = serve(EventLogServiceServer::new(EventLogApi::new(
            db.pool.clone(),
        )))
        .await;
        let relay = Relay::new(
            db.pool.clone(),
            Broker::new(broker.url.clone(), "test-relay"),
            topology.clone(),
            "grid",
        );
        Producer {
            db,
            broker,
            topology,
            addr,
            relay,
        }
    }

    async fn client(&self) -> EventLogServiceClient<tonic::transport::Channel> {
        EventLogServiceClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }

    /// A consumer with its own database: `purpose` names its queue and
    /// subscription; `catch_up` makes it read this producer's log.
    async fn consumer(&self, purpose: &str, catch_up: bool) -> Replica {
        let db = TestDatabase::create(&MIGRATOR).await.unwrap();
        sqlx::query(
            "CREATE TABLE recorded (seq BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL, \
             routing_key TEXT NOT NULL, aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, \
             payload BYTEA NOT NULL, recorded_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        let handler = Arc::new(Recorder);
        let mut subscription = Subscription::new(&self.topology, "replica", purpose);
        for key in CELL_KEYS.iter().chain(&TASK_KEYS) {
            subscription = subscription.on(key, handler.clone());
        }
        if catch_up {
            subscription = subscription.catch_up("grid", &["DELETE FROM recorded"]);
        }
        self.broker.track_queue(&subscription.queue.name);
        let consumer = self.consumer_of(&db.pool, subscription);
        Replica { db, consumer }
    }

    fn consumer_of(&self, pool: &PgPool, subscription: Subscription) -> Consumer {
        Consumer::new(
            pool.clone(),
            Broker::new(self.broker.url.clone(), "test-consumer"),
            self.topology.clone(),
            subscription,
        )
        .with_retry(Duration::from_millis(1), Duration::from_millis(5))
        .with_source(EventSource::new(
            "grid",
            &format!("http://{}", self.addr),
            TokenSource::Fixed(TestKeys::get().token(&[Role::Service], &["*"], None)),
        ))
    }

    /// Commits `changes`, ten to a transaction, and relays them.
    async fn publish(&self, changes: &[Vec<NewEvent>]) {
        for chunk in changes.chunks(10) {
            let events: Vec<NewEvent> = chunk.iter().flatten().cloned().collect();
            commit(&self.db.pool, &events).await;
        }
        self.relay.drain().await.unwrap();
    }

    /// Runs a second consumer of `replica`'s subscription (prefetching, as
    /// a service does) until it has recorded `expected` events, then stops
    /// it; the driven consumer must find only duplicates left.
    async fn consume_live(&self, replica: &Replica, expected: i64) {
        let running = self.consumer_of(&replica.db.pool, replica.consumer.subscription().clone());
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(running.run(stop.clone()));
        let pool = replica.db.pool.clone();
        civicgrid_testkit::eventually(Duration::from_secs(60), "live events to be applied", || {
            let pool = pool.clone();
            async move {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM recorded")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
                (n >= expected).then_some(())
            }
        })
        .await;
        stop.cancel();
        task.await.unwrap();
        let rest = replica.consumer.drain().await.unwrap();
        assert!(rest.iter().all(|o| *o == Outcome::Duplicate), "{rest:?}");
    }
}

struct Replica {
    db: TestDatabase,
    consumer: Consumer,
}

impl Replica {
    /// What it applied: every column but the local `seq` and `recorded_at`.
    async fn data(&self) -> Vec<(Uuid, String, String, i64, Vec<u8>)> {
        sqlx::query_as(
            "SELECT event_id, routing_key, aggregate_id, version, payload FROM recorded ORDER BY event_id",
        )
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    /// Each aggregate's versions in the order they were applied.
    async fn versions_as_applied(&self) -> BTreeMap<String, Vec<i64>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT aggregate_id, version FROM recorded ORDER BY seq")
                .fetch_all(&self.db.pool)
                .await
                .unwrap();
        let mut map: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (aggregate, version) in rows {
            map.entry(aggregate).or_default().push(version);
        }
        map
    }
}

async fn serve<S>(service: S) -> SocketAddr
where
    S: tonic::server::NamedService
        + tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let key = std::fs::read(&TestKeys::get().public_key_path).unwrap();
    let auth = Authenticator::new(Verifier::from_pem(&key, "civicgrid").unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(InterceptedService::new(service, auth))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    addr
}

fn meta(event_id: Uuid, key: &str, aggregate: &str, version: i64) -> Option<EventMeta> {
    Some(EventMeta {
        event_id: event_id.to_string(),
        producer: "grid".into(),
        aggregate_id: aggregate.into(),
        aggregate_version: version,
        event_type: key.into(),
        ..Default::default()
    })
}

fn cell_event(cell: usize, version: i64) -> NewEvent {
    let id = Uuid::now_v7();
    let aggregate = format!("cells/c{cell}");
    if version == 1 {
        let key = "grid.cell.created";
        NewEvent::encode(
            id,
            key,
            &CellCreated {
                meta: meta(id, key, &aggregate, version),
                cell: None,
            },
        )
    } else {
        let key = "grid.cell.updated";
        NewEvent::encode(
            id,
            key,
            &CellUpdated {
                meta: meta(id, key, &aggregate, version),
                cell: None,
                update_mask: None,
            },
        )
    }
}

/// The grid's task events: `reported` at version 1; each later version
/// carries two events (a transition with two history steps).
fn task_events(task: usize, version: i64) -> Vec<NewEvent> {
    let aggregate = format!("tasks/t{task}");
    let keys: &[&str] = if version == 1 {
        &["grid.task.reported"]
    } else {
        &["grid.task.accepted", "grid.task.assigned"]
    };
    keys.iter()
        .map(|key| {
            let id = Uuid::now_v7();
            NewEvent::encode(
                id,
                key,
                &TaskChanged {
                    meta: meta(id, key, &aggregate, version),
                    task: None,
                    history: None,
                },
            )
        })
        .collect()
}

/// A mix of 1,000 cell and task events (124 cells and 72 tasks, four
/// versions each), committed a change at a time
/// (each change is its own transaction, as the grid writes them).
fn history(batch: usize) -> Vec<Vec<NewEvent>> {
    let mut changes = Vec::new();
    for round in 0..4i64 {
        for i in 0..124 {
            changes.push(vec![cell_event(batch * 1000 + i, round + 1)]);
        }
        for i in 0..72 {
            changes.push(task_events(batch * 1000 + i, round + 1));
        }
    }
    changes
}

async fn commit(pool: &PgPool, events: &[NewEvent]) {
    let mut tx = pool.begin().await.unwrap();
    enqueue_all(&mut tx, events).await.unwrap();
    tx.commit().await.unwrap();
}

async fn read_all(
    client: &mut EventLogServiceClient<tonic::transport::Channel>,
    after: i64,
) -> Vec<pb::Event> {
    let token = TestKeys::get().token(&[Role::Service], &["*"], None);
    let mut stream = client
        .read_events(with_token(
            pb::ReadEventsRequest {
                after_position: after,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut events = Vec::new();
    while let Some(page) = stream.message().await.unwrap() {
        events.extend(page.events);
    }
    events
}

#[tokio::test]
async fn a_reader_at_position_n_never_misses_an_event_that_commits_later_with_a_smaller_id() {
    let p = Producer::start().await;
    let early = cell_event(1, 1);
    let late = cell_event(2, 1);
    // Transaction 1 inserts first (the smaller id) and stays open...
    let mut slow = p.db.pool.begin().await.unwrap();
    enqueue_all(&mut slow, std::slice::from_ref(&early))
        .await
        .unwrap();
    // ...while transaction 2 inserts after it and commits.
    commit(&p.db.pool, std::slice::from_ref(&late)).await;
    assert_eq!(p.relay.drain().await.unwrap(), 1);

    let mut client = p.client().await;
    let first = read_all(&mut client, 0).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].event_id, late.event_id.to_string());
    let seen_up_to = first[0].position;

    slow.commit().await.unwrap();
    assert_eq!(p.relay.drain().await.unwrap(), 1);
    let next = read_all(&mut client, seen_up_to).await;
    assert_eq!(
        next.len(),
        1,
        "the late commit must appear after position {seen_up_to}"
    );
    assert_eq!(next[0].event_id, early.event_id.to_string());
    assert!(next[0].position > seen_up_to);

    let ids: Vec<(Uuid, i64, i64)> =
        sqlx::query_as("SELECT event_id, id, position FROM outbox ORDER BY id")
            .fetch_all(&p.db.pool)
            .await
            .unwrap();
    assert_eq!(
        ids[0].0, early.event_id,
        "the early insert has the smaller id"
    );
    assert!(
        ids[0].2 > ids[1].2,
        "but the larger position, as it committed later"
    );
}

#[tokio::test]
async fn read_events_streams_matching_events_with_their_metadata_and_refuses_bad_requests() {
    let p = Producer::start().await;
    for change in history(0).iter().take(30) {
        commit(&p.db.pool, change).await;
    }
    p.relay.drain().await.unwrap();
    let mut client = p.client().await;
    let keys = TestKeys::get();

    let reader = keys.token(&[Role::IntegrationClient], &["*"], None);
    let mut stream = client
        .read_events(with_token(
            pb::ReadEventsRequest {
                after_position: 0,
                routing_key_patterns: vec!["grid.cell.*".into()],
                max_events: 5,
            },
            &reader,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut events = Vec::new();
    while let Some(page) = stream.message().await.unwrap() {
        events.extend(page.events);
    }
    assert_eq!(events.len(), 5);
    assert!(events.windows(2).all(|w| w[0].position < w[1].position));
    assert!(
        events
            .iter()
            .all(|e| e.routing_key.starts_with("grid.cell."))
    );
    assert_eq!(events[0].message_type, "civicgrid.grid.v1.CellCreated");
    assert!(events[0].publish_time.is_some());
    let decoded = <CellCreated as prost::Message>::decode(events[0].payload.as_slice()).unwrap();
    assert_eq!(decoded.meta.unwrap().event_id, events[0].event_id);

    for token in [
        keys.token(&[Role::GridWorker], &["*"], None),
        keys.token(&[Role::IntegrationClient], &["cells/st01"], None),
        keys.token(&[Role::ReadOnlyAnalyst], &["*"], None),
    ] {
        let status = client
            .read_events(with_token(pb::ReadEventsRequest::default(), &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
    }
    let admin = keys.county_admin();
    let status = client
        .read_events(with_token(
            pb::ReadEventsRequest {
                after_position: -1,
                routing_key_patterns: vec![
                    "grid.cell.*".into(),
                    "grid..x".into(),
                    "grid.ce*".into(),
                ],
                max_events: -2,
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        invalid_fields(status),
        vec![
            "after_position",
            "max_events",
            "routing_key_patterns[1]",
            "routing_key_patterns[2]"
        ]
    );
}

#[tokio::test]
async fn a_consumer_started_after_a_thousand_events_ends_with_the_data_of_one_running_all_along() {
    let p = Producer::start().await;
    let all_along = p.consumer("all-along", false).await;
    all_along.consumer.declare().await.unwrap();
    let changes = history(0);
    assert_eq!(changes.iter().map(Vec::len).sum::<usize>(), 1000);
    p.publish(&changes).await;
    p.consume_live(&all_along, 1000).await;

    // Its queue did not exist while the events were published.
    let late = p.consumer("late", true).await;
    late.consumer.declare().await.unwrap();
    let progress = late.consumer.catch_up().await.unwrap();
    assert_eq!(progress.applied, 1000);
    assert_eq!(late.consumer.drain().await.unwrap(), Vec::<Outcome>::new());

    assert_eq!(late.data().await.len(), 1000);
    assert_eq!(late.data().await, all_along.data().await);
    assert_eq!(
        late.versions_as_applied().await,
        all_along.versions_as_applied().await
    );
    assert_eq!(late.consumer.checkpoint().await.unwrap(), progress.head);
}

#[tokio::test]
async fn events_published_during_a_catch_up_are_applied_once_and_none_is_lost() {
    let p = Producer::start().await;
    let all_along = p.consumer("all-along", false).await;
    all_along.consumer.declare().await.unwrap();
    p.publish(&history(0)).await;

    let late = p.consumer("late", true).await;
    late.consumer.declare().await.unwrap();
    // A second thousand events is written and relayed while it catches up.
    let pool = p.db.pool.clone();
    let relay = &p.relay;
    let publishing = async {
        for (i, chunk) in history(1).chunks(5).enumerate() {
            let events: Vec<NewEvent> = chunk.iter().flatten().cloned().collect();
            commit(&pool, &events).await;
            if i % 4 == 0 {
                relay.drain().await.unwrap();
            }
        }
        relay.drain().await.unwrap();
    };
    let (caught_up, ()) = tokio::join!(late.consumer.catch_up(), publishing);
    let caught_up = caught_up.unwrap();
    assert!(
        caught_up.applied >= 1000,
        "the history at least: {caught_up:?}"
    );

    // The recorder writes a row per application: 2,000 rows with 2,000
    // distinct ids is none lost and none applied twice.
    p.consume_live(&late, 2000).await;
    p.consume_live(&all_along, 2000).await;
    assert_eq!(late.data().await.len(), 2000);
    assert_eq!(late.data().await, all_along.data().await);
    for (aggregate, versions) in late.versions_as_applied().await {
        assert!(
            versions.is_sorted(),
            "{aggregate} applied out of order: {versions:?}"
        );
    }
}

#[tokio::test]
async fn a_live_event_ahead_of_its_aggregate_waits_for_the_gap_to_be_filled_from_the_log() {
    let p = Producer::start().await;
    let replica = p.consumer("gaps", true).await;
    replica.consumer.declare().await.unwrap();
    replica.consumer.catch_up().await.unwrap();
    commit(&p.db.pool, &[cell_event(7, 1)]).await;
    commit(&p.db.pool, &[cell_event(7, 2)]).await;
    commit(&p.db.pool, &[cell_event(7, 3)]).await;
    p.relay.drain().await.unwrap();

    // Version 1 is lost on the way (taken off the queue and never applied).
    let channel = Broker::new(p.broker.url.clone(), "thief")
        .channel()
        .await
        .unwrap();
    let lost = channel
        .basic_get(
            replica.consumer.queue_name().into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap();
    assert!(lost.is_some());

    // Version 2 arrives first: held, version 1 comes from the log, then 2 applies.
    assert_eq!(
        replica.consumer.consume_once().await.unwrap(),
        Some(Outcome::Applied)
    );
    assert_eq!(
        replica.consumer.consume_once().await.unwrap(),
        Some(Outcome::Applied)
    );
    assert_eq!(
        replica.versions_as_applied().await.get("cells/c7"),
        Some(&vec![1, 2, 3])
    );
}

#[tokio::test]
async fn a_rebuild_through_the_admin_rpc_reproduces_the_read_model_byte_for_byte() {
    let p = Producer::start().await;
    p.publish(&history(0)).await;
    let replica = p.consumer("rebuilt", true).await;
    replica.consumer.declare().await.unwrap();
    replica.consumer.catch_up().await.unwrap();
    let before = replica.data().await;
    assert_eq!(before.len(), 1000);

    // The admin RPC runs on its own consumer of the same subscription, as a
    // service serves it beside its running consumer.
    let admin_consumer = Consumer::new(
        replica.db.pool.clone(),
        Broker::new(p.broker.url.clone(), "admin"),
        p.topology.clone(),
        replica.consumer.subscription().clone(),
    )
    .with_source(EventSource::new(
        "grid",
        &format!("http://{}", p.addr),
        TokenSource::Fixed(TestKeys::get().token(&[Role::Service], &["*"], None)),
    ));
    let addr = serve(SubscriptionAdminServiceServer::new(
        SubscriptionAdminApi::new("test", replica.db.pool.clone(), vec![admin_consumer]),
    ))
    .await;
    let mut admin = SubscriptionAdminServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let keys = TestKeys::get();
    let denied = admin
        .rebuild_subscription(with_token(
            pb::RebuildSubscriptionRequest {
                subscription: "rebuilt".into(),
            },
            &keys.token(&[Role::Service], &["*"], None),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let unknown = admin
        .rebuild_subscription(with_token(
            pb::RebuildSubscriptionRequest {
                subscription: "nope".into(),
            },
            &keys.county_admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    assert_eq!(
        replica.data().await,
        before,
        "a refused rebuild changes nothing"
    );

    let mut stream = admin
        .rebuild_subscription(with_token(
            pb::RebuildSubscriptionRequest {
                subscription: "rebuilt".into(),
            },
            &keys.county_admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    let mut last = None;
    while let Some(progress) = stream.message().await.unwrap() {
        last = Some(progress);
    }
    let last = last.unwrap();
    assert!(last.done);
    assert_eq!(last.applied_events, 1000);
    assert_eq!(replica.data().await, before);
    assert_eq!(
        replica.consumer.drain().await.unwrap(),
        Vec::<Outcome>::new()
    );
}
