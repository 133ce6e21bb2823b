//! The checks every service that keeps a replica of the grid's cells must
//! pass (membership, centres and assessment today), written once. A
//! service's test binary calls each from a `#[tokio::test]` of its own,
//! handing over how to list its known cells: the RPC differs per service
//! (its own package's `ListKnownCells`), the behaviour must not.

use std::time::Duration;

use civicgrid_messaging::Outcome;
use civicgrid_proto::grid::v1 as grid;
use civicgrid_runtime::auth::Role;
use futures::future::BoxFuture;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use uuid::Uuid;

use crate::{TestApp, TestKeys, eventually};

/// The grid's routing key for a new cell (the published contract).
const CELL_CREATED: &str = "grid.cell.created";

/// Lists the resource names of the cells a service knows, as the caller
/// holding the token (`None`: no token at all) sees them.
pub type ListCells =
    Box<dyn Fn(Option<String>) -> BoxFuture<'static, Result<Vec<String>, tonic::Status>>>;

/// A cell as the grid publishes it.
pub fn cell(id: &str, parent: Option<&str>, level: grid::CellLevel) -> grid::CellCreated {
    grid::CellCreated {
        meta: None,
        cell: Some(grid::Cell {
            name: format!("cells/{id}"),
            parent: parent.map(|p| format!("cells/{p}")).unwrap_or_default(),
            level: level as i32,
            display_name: id.to_uppercase(),
            ancestors: parent
                .map(|p| vec![format!("cells/{p}")])
                .unwrap_or_default(),
            version: 1,
            ..Default::default()
        }),
    }
}

/// A published cell is applied once, listed, stored once; a second
/// delivery of the same event is skipped.
pub async fn a_published_cell_is_applied_once_and_listed<C>(app: &TestApp<C>, list: ListCells) {
    let event_id = Uuid::now_v7();
    let county = cell("c1", None, grid::CellLevel::County);
    app.publish(CELL_CREATED, event_id, &county).await;
    assert_eq!(
        app.consumers[0].drain().await.unwrap(),
        vec![Outcome::Applied]
    );
    app.publish(CELL_CREATED, event_id, &county).await;
    assert_eq!(
        app.consumers[0].drain().await.unwrap(),
        vec![Outcome::Duplicate]
    );
    let names = list(Some(TestKeys::get().county_admin())).await.unwrap();
    assert_eq!(names, ["cells/c1"]);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM cells")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

/// A published compound reaches the service's compound replica (its
/// second subscription) once, at its latest version, whatever the order of
/// delivery; a repeat is skipped.
pub async fn published_compounds_are_applied_once_at_their_latest_version<C>(app: &TestApp<C>) {
    let compound = |version: i64, display_name: &str| grid::Compound {
        name: "compounds/k1".to_owned(),
        community: "cells/m1".to_owned(),
        display_name: display_name.to_owned(),
        buildings: vec!["cells/b1".to_owned()],
        ancestors: vec![
            "cells/c1".to_owned(),
            "cells/s1".to_owned(),
            "cells/m1".to_owned(),
        ],
        version,
        ..Default::default()
    };
    let created = grid::CompoundCreated {
        meta: None,
        compound: Some(compound(1, "Old name")),
    };
    let updated = grid::CompoundUpdated {
        meta: None,
        compound: Some(compound(2, "New name")),
        update_mask: None,
    };
    // The update overtakes the creation, and the creation comes twice.
    let created_id = Uuid::now_v7();
    app.publish("grid.compound.updated", Uuid::now_v7(), &updated)
        .await;
    app.publish("grid.compound.created", created_id, &created)
        .await;
    app.publish("grid.compound.created", created_id, &created)
        .await;
    assert_eq!(
        app.consumers[1].drain().await.unwrap(),
        vec![Outcome::Applied, Outcome::Applied, Outcome::Duplicate]
    );
    let stored: Vec<(String, i64)> = sqlx::query_as("SELECT display_name, version FROM compounds")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, [("New name".to_owned(), 2)]);
}

/// No token, no answer.
pub async fn a_call_without_a_token_is_unauthenticated(list: ListCells) {
    let status = list(None).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}

/// A street admin lists only the cells of their own street.
pub async fn a_street_admin_sees_only_their_street<C>(app: &TestApp<C>, list: ListCells) {
    for event in [
        cell("c1", None, grid::CellLevel::County),
        cell("s1", Some("c1"), grid::CellLevel::Street),
        cell("s2", Some("c1"), grid::CellLevel::Street),
    ] {
        app.publish(CELL_CREATED, Uuid::now_v7(), &event).await;
    }
    assert_eq!(app.consumers[0].drain().await.unwrap().len(), 3);
    let token = TestKeys::get().token(&[Role::StreetAdmin], &["cells/s1"], None);
    assert_eq!(list(Some(token)).await.unwrap(), ["cells/s1"]);
}

/// gRPC health says SERVING, overall and for `service`, once the
/// database, the broker and the queues are ready.
pub async fn serving_once_ready<C>(app: &TestApp<C>, service: &str) {
    let health = HealthClient::new(app.channel.clone());
    for service in ["", service] {
        eventually(
            Duration::from_secs(10),
            &format!("{service:?} SERVING"),
            || {
                let mut health = health.clone();
                async move {
                    let request = HealthCheckRequest {
                        service: service.to_owned(),
                    };
                    let status = health.check(request).await.ok()?.into_inner().status;
                    (status == ServingStatus::Serving as i32).then_some(())
                }
            },
        )
        .await;
    }
}

/// The binary at `binary` (a service without keys of its own) refuses the
/// grid's keys, an unknown key and a bad value, exiting with 2 and naming
/// the key.
pub fn foreign_unknown_and_bad_keys_stop_the_binary_naming_the_key(binary: &str) {
    for (key, value, named) in [
        ("CIVICGRID_DATA_KEY_PATH", "/keys/data.key", "data_key_path"),
        (
            "CIVICGRID_SUPERVISION_SWEEP_INTERVAL_MS",
            "1000",
            "supervision_sweep_interval_ms",
        ),
        ("CIVICGRID_GRPC_ADRESS", "127.0.0.1:1", "grpc_adress"),
        ("CIVICGRID_DELIVERY_LIMIT", "-3", "delivery_limit"),
    ] {
        let output = std::process::Command::new(binary)
            .env(key, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{key}={value}: {stderr}");
        assert!(
            stderr.to_lowercase().contains(named),
            "{key}={value}: {stderr}"
        );
    }
}

/// The test binary of a service that is (so far) only a replica of the
/// grid: spawns it, lists its known cells through its own RPC, and runs
/// every check above as a `#[tokio::test]` of its own.
///
/// ```ignore
/// civicgrid_testkit::replica_service_tests! {
///     application: civicgrid_membership::Application,
///     client: civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient,
///     request: civicgrid_proto::membership::v1::ListKnownCellsRequest,
///     service: "civicgrid.membership.v1.MembershipService",
///     binary: env!("CARGO_BIN_EXE_civicgrid-membership"),
/// }
/// ```
#[macro_export]
macro_rules! replica_service_tests {
    (
        application: $application:ty,
        client: $client:ident :: $( $client_path:ident )::+,
        request: $request:ty,
        service: $service:expr,
        binary: $binary:expr $(,)?
    ) => {
        type Client = $client $( :: $client_path )+<tonic::transport::Channel>;

        /// The service under test with its API client.
        pub type TestApp = $crate::TestApp<Client>;

        /// The service on port 0 with its own database and broker names.
        pub async fn spawn_app() -> TestApp {
            TestApp::spawn::<$application>(
                Default::default(),
                |app| (app.grpc_addr(), app.pool().clone(), app.consumers()),
                Client::new,
            )
            .await
        }

        /// ListKnownCells as the holder of a token sees it.
        fn known_cells(app: &TestApp) -> $crate::replica_checks::ListCells {
            let client = app.client.clone();
            Box::new(move |token| {
                let mut client = client.clone();
                Box::pin(async move {
                    let request = <$request>::default();
                    let request = match token {
                        Some(token) => $crate::with_token(request, &token),
                        None => tonic::Request::new(request),
                    };
                    let cells = client.list_known_cells(request).await?.into_inner().cells;
                    Ok(cells.into_iter().map(|cell| cell.name).collect())
                })
            })
        }

        #[tokio::test]
        async fn a_published_cell_is_applied_once_and_listed_and_a_second_delivery_is_skipped() {
            let app = spawn_app().await;
            $crate::replica_checks::a_published_cell_is_applied_once_and_listed(&app, known_cells(&app)).await;
        }

        #[tokio::test]
        async fn published_compounds_are_applied_once_at_their_latest_version() {
            let app = spawn_app().await;
            $crate::replica_checks::published_compounds_are_applied_once_at_their_latest_version(&app).await;
        }

        #[tokio::test]
        async fn a_call_without_a_token_is_unauthenticated() {
            let app = spawn_app().await;
            $crate::replica_checks::a_call_without_a_token_is_unauthenticated(known_cells(&app)).await;
        }

        #[tokio::test]
        async fn a_street_admin_sees_only_the_cells_of_their_street() {
            let app = spawn_app().await;
            $crate::replica_checks::a_street_admin_sees_only_their_street(&app, known_cells(&app)).await;
        }

        #[tokio::test]
        async fn the_service_reports_serving_over_grpc_health_once_ready() {
            let app = spawn_app().await;
            $crate::replica_checks::serving_once_ready(&app, $service).await;
        }

        #[test]
        fn a_grid_only_key_or_an_unknown_key_stops_the_service_naming_the_key() {
            $crate::replica_checks::foreign_unknown_and_bad_keys_stop_the_binary_naming_the_key($binary);
        }
    };
}
