//! Event history across services: a replica deployed after the grid
//! catches up from the grid's event log, and an operator's rebuild of a
//! replica reproduces it exactly.

#![allow(clippy::unwrap_used)]

use civicgrid_e2e::{County, Workers};
use civicgrid_host::Service;
use civicgrid_messaging::Outcome;
use civicgrid_proto::events::v1::RebuildSubscriptionRequest;
use civicgrid_proto::events::v1::subscription_admin_service_client::SubscriptionAdminServiceClient;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_testkit::{TestDatabase, TestKeys, endpoint, test_settings, with_token};
use sqlx::PgPool;

/// A county, 40 streets, and a rename of every other street: 61 events.
async fn build_grid(county: &County) {
    let admin = TestKeys::get().county_admin();
    let mut grid = GridServiceClient::connect(endpoint(county.grid.addr))
        .await
        .unwrap();
    let create = |id: &str, parent: &str, level: pb::CellLevel| pb::CreateCellRequest {
        cell_id: id.to_owned(),
        cell: Some(pb::Cell {
            parent: parent.to_owned(),
            level: level as i32,
            display_name: format!("Cell {id}"),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    grid.create_cell(with_token(create("c", "", pb::CellLevel::County), &admin))
        .await
        .unwrap();
    for i in 0..40 {
        let street = grid
            .create_cell(with_token(
                create(&format!("s{i}"), "cells/c", pb::CellLevel::Street),
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        if i % 2 == 0 {
            let mut cell = street.cell.unwrap();
            cell.display_name = format!("Street {i}, renamed");
            grid.update_cell(with_token(
                pb::UpdateCellRequest {
                    cell: Some(cell),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["display_name".into()],
                    }),
                },
                &admin,
            ))
            .await
            .unwrap();
        }
    }
}

/// Every column of every replicated cell, as text (the replica has no
/// local-time columns: its times are the grid's).
async fn cells(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT to_jsonb(c)::text FROM cells c ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_replica_deployed_after_the_grid_holds_the_same_cells_as_one_running_all_along() {
    let county = County::start(Workers::Driven).await;
    build_grid(&county).await;
    assert_eq!(county.grid_relay.drain().await.unwrap(), 61);
    let centres = &county.replicas[1];
    for outcome in centres.consumers[0].drain().await.unwrap() {
        assert_eq!(outcome, Outcome::Applied);
    }
    let all_along = cells(&centres.pool).await;
    assert_eq!(all_along.len(), 41);

    // A second centres deployment, started now: its queue never saw the events.
    let db = TestDatabase::create_empty().await.unwrap();
    let mut settings = test_settings("centres", &db, &county.broker);
    settings.queue_prefix = format!("{}.late", county.broker.queue_prefix);
    settings
        .event_sources
        .insert("grid".to_owned(), endpoint(county.grid.addr));
    let late = civicgrid_centres::Application::build(settings, Default::default())
        .await
        .unwrap();
    let consumer = late.consumers().remove(0);
    county.broker.track_queue(consumer.queue_name());
    consumer.declare().await.unwrap();
    let progress = consumer.catch_up().await.unwrap();
    assert_eq!(progress.applied, 61);
    assert_eq!(consumer.drain().await.unwrap(), Vec::<Outcome>::new());
    assert_eq!(cells(late.pool()).await, all_along);
}

#[tokio::test]
async fn rebuilding_a_replica_through_its_admin_rpc_gives_back_the_same_cells() {
    let county = County::start(Workers::Driven).await;
    build_grid(&county).await;
    county.grid_relay.drain().await.unwrap();
    let centres = &county.replicas[1];
    centres.consumers[0].drain().await.unwrap();
    let before = cells(&centres.pool).await;
    assert_eq!(before.len(), 41);

    let mut admin = SubscriptionAdminServiceClient::connect(endpoint(centres.addr))
        .await
        .unwrap();
    let unknown = admin
        .rebuild_subscription(with_token(
            RebuildSubscriptionRequest {
                subscription: "no-such".into(),
            },
            &TestKeys::get().county_admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    let mut stream = admin
        .rebuild_subscription(with_token(
            RebuildSubscriptionRequest {
                subscription: "grid-cells".into(),
            },
            &TestKeys::get().county_admin(),
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
    assert_eq!(last.applied_events, 61);
    assert_eq!(cells(&centres.pool).await, before);
    // The queue's copies of the events are recognised as applied.
    for outcome in centres.consumers[0].drain().await.unwrap() {
        assert_eq!(outcome, Outcome::Duplicate);
    }
}
