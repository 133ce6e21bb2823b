//! Cross-service flows with all four services running.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use civicgrid_e2e::{County, Workers, replica_copies};
use civicgrid_messaging::Outcome;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_proto::membership::v1::ListKnownCellsRequest;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{FaultProxy, TestKeys, endpoint, eventually, with_token};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

fn create(id: &str, parent: &str, level: pb::CellLevel) -> pb::CreateCellRequest {
    pb::CreateCellRequest {
        cell_id: id.to_owned(),
        cell: Some(pb::Cell {
            parent: parent.to_owned(),
            level: level as i32,
            display_name: format!("Cell {id}"),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn create_county_and_street(county: &County) {
    let admin = TestKeys::get().county_admin();
    let mut grid = GridServiceClient::connect(endpoint(county.grid.addr))
        .await
        .unwrap();
    grid.create_cell(with_token(create("c", "", pb::CellLevel::County), &admin))
        .await
        .unwrap();
    grid.create_cell(with_token(
        create("s1", "cells/c", pb::CellLevel::Street),
        &admin,
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn every_service_reports_serving_and_lists_its_services_over_reflection() {
    let county = County::start(Workers::Driven).await;
    // Every service of the list runs in the county, each serving its API.
    let listed: Vec<&str> = civicgrid_host::catalog::services()
        .unwrap()
        .iter()
        .map(|e| e.name)
        .collect();
    let mut running: Vec<&str> = county.all().map(|s| s.name).collect();
    running.sort_by_key(|name| listed.iter().position(|l| l == name));
    assert_eq!(running, listed);
    for service in county.all() {
        let name = service.name;
        let full_name = civicgrid_host::catalog::service(name).unwrap().api;
        let channel = tonic::transport::Endpoint::from_shared(endpoint(service.addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut health = HealthClient::new(channel.clone());
        eventually(
            Duration::from_secs(10),
            &format!("{name} to report SERVING"),
            || {
                let mut health = health.clone();
                async move {
                    let status = health
                        .check(tonic_health::pb::HealthCheckRequest {
                            service: full_name.to_owned(),
                        })
                        .await
                        .ok()?;
                    (status.into_inner().status == ServingStatus::Serving as i32).then_some(())
                }
            },
        )
        .await;
        let overall = health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            overall.status,
            ServingStatus::Serving as i32,
            "{name} overall"
        );

        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = ServerReflectionClient::new(channel.clone())
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .unwrap()
            .into_inner();
        let Some(MessageResponse::ListServicesResponse(list)) =
            responses.message().await.unwrap().unwrap().message_response
        else {
            panic!("{name}: no service list");
        };
        let mut listed: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        listed.sort();
        // Every service publishes, so every one serves its event log, and
        // the admin RPCs (its event status, rebuilds of its catch-up
        // subscriptions).
        let mut wanted = vec![
            full_name.to_owned(),
            "grpc.health.v1.Health".to_owned(),
            "civicgrid.events.v1.EventLogService".to_owned(),
            "civicgrid.events.v1.SubscriptionAdminService".to_owned(),
        ];
        if name == "grid" {
            // The grid also serves its directory and tasks.
            wanted.extend([
                "civicgrid.grid.v1.DirectoryService".to_owned(),
                "civicgrid.grid.v1.TaskService".to_owned(),
            ]);
        }
        wanted.sort();
        assert_eq!(listed, wanted, "{name}");

        // grpcurl resolves the details of an INVALID_ARGUMENT through
        // reflection: google.rpc.BadRequest must be in the served set.
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                "google.rpc.BadRequest".to_owned(),
            )),
        };
        let mut responses = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .unwrap()
            .into_inner();
        let Some(MessageResponse::FileDescriptorResponse(files)) =
            responses.message().await.unwrap().unwrap().message_response
        else {
            panic!("{name}: google.rpc.BadRequest is not served over reflection");
        };
        let files: Vec<prost_types::FileDescriptorProto> = files
            .file_descriptor_proto
            .iter()
            .map(|bytes| prost::Message::decode(bytes.as_slice()).unwrap())
            .collect();
        assert!(
            files.iter().any(|f| f.package() == "google.rpc"
                && f.message_type.iter().any(|m| m.name() == "BadRequest")),
            "{name}: {:?}",
            files.iter().map(|f| f.name()).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn a_cell_created_through_the_grid_appears_in_every_replica_once_even_when_delivered_twice() {
    let county = County::start(Workers::Driven).await;
    create_county_and_street(&county).await;
    assert_eq!(county.grid_relay.drain().await.unwrap(), 2);
    for replica in &county.replicas {
        let consumer = replica.cell_consumer();
        assert_eq!(
            consumer.drain().await.unwrap(),
            vec![Outcome::Applied, Outcome::Applied],
            "{}",
            replica.name
        );
    }

    // The same two events again, as after a relay crash between confirm and commit.
    sqlx::query("UPDATE outbox SET published_at = NULL")
        .execute(&county.grid.pool)
        .await
        .unwrap();
    assert_eq!(county.grid_relay.drain().await.unwrap(), 2);
    for replica in &county.replicas {
        let consumer = replica.cell_consumer();
        assert_eq!(
            consumer.drain().await.unwrap(),
            vec![Outcome::Duplicate, Outcome::Duplicate],
            "{}",
            replica.name
        );
        assert_eq!(
            replica_copies(&replica.pool, "s1").await,
            (1, Some(1)),
            "{}",
            replica.name
        );
        assert_eq!(
            replica_copies(&replica.pool, "c").await,
            (1, Some(1)),
            "{}",
            replica.name
        );
    }

    // What a replica knows is served to callers within their scope.
    let street = TestKeys::get().token(&[Role::StreetAdmin], &["cells/s1"], None);
    let mut membership = MembershipServiceClient::connect(endpoint(county.replicas[0].addr))
        .await
        .unwrap();
    let known = membership
        .list_known_cells(with_token(ListKnownCellsRequest::default(), &street))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<String> = known.cells.into_iter().map(|c| c.name).collect();
    assert_eq!(names, vec!["cells/s1"]);
}

#[tokio::test]
async fn in_background_mode_changes_reach_every_replica_by_themselves() {
    let county = County::start(Workers::Background).await;
    create_county_and_street(&county).await;
    let admin = TestKeys::get().county_admin();
    let mut grid = GridServiceClient::connect(endpoint(county.grid.addr))
        .await
        .unwrap();
    let renamed = pb::UpdateCellRequest {
        cell: Some(pb::Cell {
            name: "cells/s1".into(),
            display_name: "Qingshan Street".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types_mask(&["display_name"])),
    };
    grid.update_cell(with_token(renamed, &admin)).await.unwrap();
    for replica in &county.replicas {
        let pool = replica.pool.clone();
        eventually(
            Duration::from_secs(30),
            &format!("{} to apply the rename", replica.name),
            || {
                let pool = pool.clone();
                async move { (replica_copies(&pool, "s1").await == (1, Some(2))).then_some(()) }
            },
        )
        .await;
    }
}

#[tokio::test]
async fn a_cell_committed_while_the_broker_is_unreachable_reaches_the_replicas_without_a_restart() {
    let proxy = FaultProxy::start("127.0.0.1:5672".parse().unwrap())
        .await
        .unwrap();
    let grid_amqp = proxy.amqp_url();
    // Only the grid talks to the broker through the proxy.
    let county = County::start_with(Workers::Background, |settings| {
        if settings.service_name == "grid" {
            settings.amqp_url = grid_amqp.clone();
        }
    })
    .await;
    proxy.cut();
    create_county_and_street(&county).await;
    let backlog: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(&county.grid.pool)
        .await
        .unwrap();
    assert_eq!(
        backlog, 2,
        "both events wait in the outbox while the broker is away"
    );

    proxy.restore();
    for replica in &county.replicas {
        let pool = replica.pool.clone();
        eventually(
            Duration::from_secs(60),
            &format!("{} to receive the cells", replica.name),
            || {
                let pool = pool.clone();
                async move { (replica_copies(&pool, "s1").await == (1, Some(1))).then_some(()) }
            },
        )
        .await;
        let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_events")
            .fetch_one(&replica.pool)
            .await
            .unwrap();
        assert_eq!(applied, 2, "{}: each event applied once", replica.name);
    }
}

fn prost_types_mask(paths: &[&str]) -> prost_types::FieldMask {
    prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    }
}

#[tokio::test]
async fn one_trace_runs_from_the_grpc_call_through_the_broker_into_every_consumer() {
    let county = County::start(Workers::Driven).await;
    let admin = TestKeys::get().county_admin();
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let mut grid = GridServiceClient::connect(endpoint(county.grid.addr))
        .await
        .unwrap();
    let mut request = with_token(create("c", "", pb::CellLevel::County), &admin);
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    grid.create_cell(request).await.unwrap();

    county.grid_relay.drain().await.unwrap();
    for replica in &county.replicas {
        let consumer = replica.cell_consumer();
        assert_eq!(consumer.drain().await.unwrap(), vec![Outcome::Applied]);
    }
    let names: Vec<String> = civicgrid_runtime::telemetry::recorded_spans(&trace_id)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(
        names.contains(&"/civicgrid.grid.v1.GridService/CreateCell".to_owned()),
        "{names:?}"
    );
    let consumed = names
        .iter()
        .filter(|n| *n == "grid.cell.created process")
        .count();
    assert_eq!(
        consumed, 3,
        "one consumer span per replica in the caller's trace: {names:?}"
    );
}
