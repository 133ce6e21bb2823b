//! Operating the grid service: start-up, readiness, dependencies going away.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use civicgrid_grid::Application;
use civicgrid_host::Service;
use civicgrid_runtime::CancellationToken;
use civicgrid_testkit::{
    FaultProxy, TestBroker, TestDatabase, TestKeys, endpoint, eventually, test_settings,
};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The grid's own section for tests: the test data key.
fn grid_config() -> civicgrid_grid::config::GridSettings {
    civicgrid_grid::config::GridSettings {
        data_key_path: TestKeys::get().data_key_path.clone(),
        ..Default::default()
    }
}

#[tokio::test]
async fn replicas_starting_together_apply_each_migration_exactly_once() {
    civicgrid_runtime::telemetry::init_for_tests();
    let db = TestDatabase::create_empty().await.unwrap();
    let broker = TestBroker::new();
    let starts =
        (0..4).map(|_| Application::build(test_settings("grid", &db, &broker), grid_config()));
    // join_all polls them together: all start before any finishes migrating.
    let apps = futures::future::join_all(starts).await;
    assert!(apps.iter().all(Result::is_ok), "every replica started");
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let expected: Vec<i64> = civicgrid_host::migrator(Application::MIGRATIONS)
        .unwrap()
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(applied, expected);
}

#[tokio::test]
async fn health_follows_the_database_not_serving_while_it_is_unreachable_and_serving_once_back() {
    civicgrid_runtime::telemetry::init_for_tests();
    let db = TestDatabase::create_empty().await.unwrap();
    let broker = TestBroker::new();
    let proxy = FaultProxy::start("127.0.0.1:5432".parse().unwrap())
        .await
        .unwrap();
    let mut settings = test_settings("grid", &db, &broker);
    settings.database_url = format!("postgres://postgres@{}/{}", proxy.addr, db.name);
    settings.database_acquire_timeout_ms = 500;
    let app = Application::build(settings, grid_config()).await.unwrap();
    let addr = app.grpc_addr();
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone()));
    let channel = tonic::transport::Endpoint::from_shared(endpoint(addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let health = HealthClient::new(channel);
    let status_is = |wanted: ServingStatus| {
        let health = health.clone();
        move || {
            let mut health = health.clone();
            async move {
                let status = health
                    .check(HealthCheckRequest::default())
                    .await
                    .ok()?
                    .into_inner()
                    .status;
                (status == wanted as i32).then_some(())
            }
        }
    };

    eventually(
        Duration::from_secs(15),
        "SERVING at start",
        status_is(ServingStatus::Serving),
    )
    .await;
    proxy.cut();
    eventually(
        Duration::from_secs(15),
        "NOT_SERVING without the database",
        status_is(ServingStatus::NotServing),
    )
    .await;
    proxy.restore();
    eventually(
        Duration::from_secs(15),
        "SERVING once the database is back",
        status_is(ServingStatus::Serving),
    )
    .await;
    shutdown.cancel();
}
