//! A grid command run by an event handler, inside the consumer's inbox
//! transaction: its effect, its outbox row and the `processed_events` row
//! commit together or not at all.

use std::sync::Arc;
use std::time::Duration;

use civicgrid_grid::api::cells::parse;
use civicgrid_grid::commands::create_cell::create_cell;
use civicgrid_messaging::{
    Broker, Consumer, Handler, HandlerError, InboundEvent, Outcome, Subscription, Topology,
};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::{Caller, Role};
use futures::future::BoxFuture;
use lapin::BasicProperties;
use lapin::options::BasicPublishOptions;
use prost::Message;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::support::TestApp;

const ROUTING_KEY: &str = "test.cell.requested";

/// Creates the cell an event asks for, with the same command CreateCell runs.
struct CreateRequestedCell;

impl Handler for CreateRequestedCell {
    fn name(&self) -> &'static str {
        "test.create-requested-cell"
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let request: pb::CreateCellRequest = event.decode()?;
            let input = parse::create_cell(&request)
                .map_err(|status| HandlerError::Permanent(status.message().to_owned()))?;
            let caller = Caller {
                subject: "test-handler".into(),
                roles: vec![Role::CountyAdmin],
                scope: vec!["*".into()],
                department: None,
            };
            // A parent that does not exist yet may arrive later: retry.
            create_cell(conn, &caller, input)
                .await
                .map(|_| ())
                .map_err(|error| HandlerError::Transient(error.to_string()))
        })
    }
}

fn consumer(app: &TestApp) -> Consumer {
    let topology = Topology::new(&app.broker.exchange, &app.broker.queue_prefix, 10);
    let subscription = Subscription::new(&topology, "grid-test", "requested-cells")
        .on(ROUTING_KEY, Arc::new(CreateRequestedCell));
    app.broker.track_queue(&subscription.queue.name);
    Consumer::new(
        app.pool.clone(),
        Broker::new(app.broker.url.clone(), "test-inbox"),
        topology,
        subscription,
    )
    .with_retry(Duration::from_millis(1), Duration::from_millis(5))
}

async fn publish(app: &TestApp, event_id: Uuid, request: &pb::CreateCellRequest) {
    let broker = Broker::new(app.broker.url.clone(), "test-publisher");
    let channel = broker.channel().await.unwrap();
    channel
        .basic_publish(
            app.broker.exchange.as_str().into(),
            ROUTING_KEY.into(),
            BasicPublishOptions::default(),
            &request.encode_to_vec(),
            BasicProperties::default().with_message_id(event_id.to_string().into()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    broker.close().await;
}

/// (cells named `id`, grid.cell.created rows in the outbox, processed_events rows)
async fn footprint(app: &TestApp, id: &str) -> (i64, i64, i64) {
    let cells = sqlx::query_scalar("SELECT count(*) FROM cells WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let events =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE routing_key = 'grid.cell.created'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let processed = sqlx::query_scalar("SELECT count(*) FROM processed_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    (cells, events, processed)
}

#[tokio::test]
async fn a_command_failing_in_an_event_handler_commits_nothing_and_the_redelivery_applies_it_once()
{
    let app = TestApp::spawn().await;
    let consumer = consumer(&app);
    consumer.declare().await.unwrap();
    let request = pb::CreateCellRequest {
        cell_id: "s1".into(),
        cell: Some(pb::Cell {
            parent: "cells/c".into(),
            level: pb::CellLevel::Street as i32,
            display_name: "Street 1".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let event_id = Uuid::now_v7();
    publish(&app, event_id, &request).await;

    // The parent county is not there yet: the command fails, and neither
    // the street, nor its event, nor the inbox row is kept.
    assert_eq!(
        consumer.consume_once().await.unwrap(),
        Some(Outcome::Requeued)
    );
    assert_eq!(footprint(&app, "s1").await, (0, 0, 0));

    // Once the county exists, the redelivered event applies.
    app.import_csv("cell_id,parent_id,level,display_name,newly_built\nc,,county,County,\n")
        .await
        .unwrap();
    assert_eq!(footprint(&app, "s1").await, (0, 1, 0));
    assert_eq!(
        consumer.consume_once().await.unwrap(),
        Some(Outcome::Applied)
    );
    assert_eq!(footprint(&app, "s1").await, (1, 2, 1));

    // The same event again is a duplicate: applied exactly once.
    publish(&app, event_id, &request).await;
    assert_eq!(
        consumer.consume_once().await.unwrap(),
        Some(Outcome::Duplicate)
    );
    assert_eq!(footprint(&app, "s1").await, (1, 2, 1));
    assert_eq!(consumer.consume_once().await.unwrap(), None);
}
