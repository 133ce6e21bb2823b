//! The grid through a PostgreSQL restart: callers can act on what they are
//! told. The grid runs on a private PostgreSQL instance of its own (the
//! shared server is never restarted), which the test stops and restarts
//! while clients keep reporting tasks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use civicgrid_grid::Application;
use civicgrid_host::Service;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::directory_service_client::DirectoryServiceClient;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_proto::grid::v1::task_service_client::TaskServiceClient;
use civicgrid_runtime::CancellationToken;
use civicgrid_testkit::{
    PrivatePostgres, TestBroker, TestKeys, endpoint, eventually, test_settings, with_token,
};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use uuid::Uuid;

const CLIENTS: usize = 4;
/// Generous bound for one phase of the outage (the pool gives up on an
/// acquire after its 3 s timeout; a restart takes about a second).
const PHASE: Duration = Duration::from_secs(60);

/// What the callers saw, shared between them and the test.
#[derive(Default)]
struct Seen {
    ok: AtomicUsize,
    unavailable: AtomicUsize,
    /// Anything other than OK and UNAVAILABLE, with its message.
    other: std::sync::Mutex<Vec<String>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_reporting_through_a_database_restart_see_only_unavailable_and_each_report_is_stored_once()
 {
    civicgrid_runtime::telemetry::init_for_tests();
    let instance = PrivatePostgres::start().await.unwrap();
    let db = instance.create_database().await.unwrap();
    let broker = TestBroker::new();
    // The production pool settings (3 s acquire timeout, ping after idle):
    // the outage must be detected by what ships, not by a test-only tweak.
    let app = Application::build(
        test_settings("grid", &db, &broker),
        super::support::test_config(),
    )
    .await
    .unwrap();
    let addr = app.grpc_addr();
    let shutdown = CancellationToken::new();
    let _stop_app = shutdown.clone().drop_guard();
    tokio::spawn(app.run(shutdown.clone()));
    seed(&endpoint(addr)).await;
    let health = HealthClient::new(channel(addr).await);
    eventually(
        PHASE,
        "SERVING at start",
        serving_is(&health, ServingStatus::Serving),
    )
    .await;

    let seen = Arc::new(Seen::default());
    let stop_reporting = CancellationToken::new();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (seen, stop) = (seen.clone(), stop_reporting.clone());
            tokio::spawn(async move { report_until(addr, seen, stop).await })
        })
        .collect();
    let ok_by = |count: usize| {
        let seen = seen.clone();
        move || {
            let seen = seen.clone();
            async move { (seen.ok.load(Ordering::SeqCst) >= count).then_some(()) }
        }
    };
    eventually(PHASE, "reports flowing", ok_by(20)).await;

    // A long outage: the database is down until a caller has been told
    // UNAVAILABLE and health says NOT_SERVING.
    instance.stop().await.unwrap();
    let unavailable_before = seen.unavailable.load(Ordering::SeqCst);
    eventually(PHASE, "a caller told UNAVAILABLE while the database is down", || {
        let seen = seen.clone();
        async move { (seen.unavailable.load(Ordering::SeqCst) > unavailable_before).then_some(()) }
    })
    .await;
    eventually(
        PHASE,
        "NOT_SERVING while the database is down",
        serving_is(&health, ServingStatus::NotServing),
    )
    .await;
    instance.start_again().await.unwrap();
    eventually(
        PHASE,
        "SERVING once the database is back",
        serving_is(&health, ServingStatus::Serving),
    )
    .await;
    let after_first = seen.ok.load(Ordering::SeqCst);
    eventually(
        PHASE,
        "reports flowing after the first restart",
        ok_by(after_first + 20),
    )
    .await;

    // A quick restart under load: every session, busy or idle, is
    // terminated with 57P01 and the server is back at once.
    instance.restart().await.unwrap();
    let after_second = seen.ok.load(Ordering::SeqCst);
    eventually(
        PHASE,
        "reports flowing after the second restart",
        ok_by(after_second + 20),
    )
    .await;

    stop_reporting.cancel();
    let mut reported: BTreeMap<Uuid, String> = BTreeMap::new();
    for client in clients {
        let stored = tokio::time::timeout(PHASE, client).await.unwrap().unwrap();
        reported.extend(stored);
    }

    let other = seen.other.lock().unwrap().clone();
    assert!(
        other.is_empty(),
        "callers saw only OK or UNAVAILABLE, but also: {other:#?}"
    );
    assert!(
        seen.unavailable.load(Ordering::SeqCst) > 0,
        "the outage reached the callers"
    );
    let stored: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as("SELECT id, request_id FROM tasks")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), reported.len(), "one task per report");
    let by_key: BTreeMap<Uuid, String> = stored
        .into_iter()
        .map(|(id, key)| (key.unwrap(), format!("tasks/{id}")))
        .collect();
    assert_eq!(
        by_key, reported,
        "each report stored once, under the task its caller was answered with"
    );
    let (events, distinct_events, history): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM outbox WHERE routing_key = 'grid.task.reported'), \
                (SELECT count(DISTINCT event_id) FROM outbox WHERE routing_key = 'grid.task.reported'), \
                (SELECT count(*) FROM task_history)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let tasks = reported.len() as i64;
    assert_eq!(
        (events, distinct_events, history),
        (tasks, tasks, tasks),
        "one event and one history entry per task"
    );
}

/// One caller: reports a new task after another, each with its own
/// request id, retrying an UNAVAILABLE with the same id (as a gRPC retry
/// policy would) until it is accepted. Stops after `stop`, once its
/// current report is in. Returns request id → the task it was answered with.
async fn report_until(
    addr: std::net::SocketAddr,
    seen: Arc<Seen>,
    stop: CancellationToken,
) -> BTreeMap<Uuid, String> {
    let mut tasks = TaskServiceClient::new(channel(addr).await);
    let token = TestKeys::get().county_admin();
    let mut reported = BTreeMap::new();
    while !stop.is_cancelled() {
        let key = Uuid::new_v4();
        let request = report(key);
        let name = loop {
            match tasks.report_task(with_token(request.clone(), &token)).await {
                Ok(response) => {
                    seen.ok.fetch_add(1, Ordering::SeqCst);
                    break response.into_inner().task.unwrap().name;
                }
                Err(status) if status.code() == Code::Unavailable => {
                    seen.unavailable.fetch_add(1, Ordering::SeqCst);
                }
                Err(status) => {
                    seen.other.lock().unwrap().push(format!(
                        "{:?}: {}",
                        status.code(),
                        status.message()
                    ));
                }
            }
            // A client's retry backoff, not a wait for the test's sake.
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        reported.insert(key, name);
    }
    reported
}

fn report(key: Uuid) -> pb::ReportTaskRequest {
    let task = pb::Task {
        cell: "cells/s1-g".into(),
        category: "categories/leak".into(),
        urgency: pb::Urgency::Normal as i32,
        channel: pb::Channel::Resident as i32,
        description: "Water is coming through the ceiling".into(),
        ..Default::default()
    };
    pb::ReportTaskRequest {
        task: Some(task),
        reporter_contact: "13812345678".into(),
        request_id: key.to_string(),
    }
}

/// The small county and a category to report in.
async fn seed(endpoint: &str) {
    let admin = TestKeys::get().county_admin();
    GridServiceClient::connect(endpoint.to_owned())
        .await
        .unwrap()
        .import_cells(with_token(
            pb::ImportCellsRequest {
                format: pb::LayoutFormat::Csv as i32,
                content: super::support::SMALL_COUNTY.as_bytes().to_vec(),
                validate_only: false,
            },
            &admin,
        ))
        .await
        .unwrap();
    let category = pb::Category {
        display_name: "Water leak".into(),
        ..Default::default()
    };
    DirectoryServiceClient::connect(endpoint.to_owned())
        .await
        .unwrap()
        .create_category(with_token(
            pb::CreateCategoryRequest {
                category_id: "leak".into(),
                category: Some(category),
            },
            &admin,
        ))
        .await
        .unwrap();
}

async fn channel(addr: std::net::SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(endpoint(addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn serving_is(
    health: &HealthClient<Channel>,
    wanted: ServingStatus,
) -> impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<()>> + Send>> {
    let health = health.clone();
    move || {
        let mut health = health.clone();
        Box::pin(async move {
            let status = health
                .check(HealthCheckRequest::default())
                .await
                .ok()?
                .into_inner()
                .status;
            (status == wanted as i32).then_some(())
        })
    }
}
