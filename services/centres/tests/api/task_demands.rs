//! Residents' requests from the grid (`grid.task.reported`) into the
//! demand list, per `task_demand_categories`.

use civicgrid_centres::config::CentresSettings;
use civicgrid_messaging::Outcome;
use civicgrid_proto::centres::v1 as pb;
use civicgrid_proto::grid::v1 as grid;
use civicgrid_testkit::with_token;
use prost::Message;

use crate::support::*;

/// The centres service with `categories/pipe-leak` mapped to `plumbing`.
async fn mapped_app() -> crate::TestApp {
    let config = CentresSettings {
        task_demand_categories: [("categories/pipe-leak".to_owned(), "plumbing".to_owned())]
            .into_iter()
            .collect(),
        task_demand_days: 7,
        ..Default::default()
    };
    crate::TestApp::spawn::<civicgrid_centres::Application>(
        config,
        |app| (app.grpc_addr(), app.pool().clone(), app.consumers()),
        crate::Client::new,
    )
    .await
}

/// `grid.task.reported` as the grid publishes it (TaskChanged with the
/// whole task and its first history entry).
fn reported(task_id: uuid::Uuid, category: &str, cell: &str) -> grid::TaskChanged {
    let reported_at = prost_types::Timestamp {
        seconds: 1_780_000_000,
        nanos: 0,
    };
    grid::TaskChanged {
        meta: None,
        task: Some(grid::Task {
            name: format!("tasks/{task_id}"),
            cell: cell.into(),
            category: category.into(),
            channel: grid::Channel::Resident as i32,
            description: "楼道水管漏水".into(),
            reporter_contact: "138****5678".into(),
            state: grid::TaskState::Reported as i32,
            version: 1,
            create_time: Some(reported_at),
            ..Default::default()
        }),
        history: Some(grid::TaskHistoryEntry {
            sequence: 1,
            action: "reported".into(),
            actor: "resident-app".into(),
            time: Some(reported_at),
            ..Default::default()
        }),
    }
}

async fn demands(app: &crate::TestApp) -> Vec<pb::Demand> {
    app.client
        .clone()
        .list_demands(with_token(pb::ListDemandsRequest::default(), &admin()))
        .await
        .unwrap()
        .into_inner()
        .demands
}

#[tokio::test]
async fn a_reported_task_of_a_mapped_category_becomes_one_demand_of_its_cell_also_when_delivered_twice()
 {
    let app = mapped_app().await;
    small_county(&app).await;
    let consumer = app
        .consumers
        .iter()
        .find(|c| c.queue_name().ends_with(".grid-tasks"))
        .unwrap();
    let task_id = uuid::Uuid::now_v7();
    let event = reported(task_id, "categories/pipe-leak", "cells/s1-g");
    let event_id = uuid::Uuid::now_v7();
    app.publish("grid.task.reported", event_id, &event).await;
    // The same event again, and the same report under another event id
    // (a replay from the grid's log after a rebuild): still one demand.
    app.publish("grid.task.reported", event_id, &event).await;
    app.publish("grid.task.reported", uuid::Uuid::now_v7(), &event)
        .await;
    assert_eq!(
        consumer.drain().await.unwrap(),
        [Outcome::Applied, Outcome::Duplicate, Outcome::Applied]
    );

    let listed = demands(&app).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let demand = &listed[0];
    let start = prost_types::Timestamp {
        seconds: 1_780_000_000,
        nanos: 0,
    };
    let end = prost_types::Timestamp {
        seconds: 1_780_000_000 + 7 * 86_400,
        nanos: 0,
    };
    assert_eq!(
        (
            demand.task.as_str(),
            demand.category.as_str(),
            demand.cell.as_str(),
            demand.quantity,
            demand.start_time,
            demand.end_time,
            demand.description.as_str(),
            demand.requested_by.as_str(),
            demand.state(),
        ),
        (
            format!("tasks/{task_id}").as_str(),
            "plumbing",
            "cells/s1-g",
            1,
            Some(start),
            Some(end),
            "楼道水管漏水",
            "resident-app",
            pb::DemandState::Open,
        )
    );
    // One event, with the task, caused by the grid's report; no contact.
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE routing_key = 'centres.demand.registered'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(payloads.len(), 1);
    let registered = pb::DemandRegistered::decode(payloads[0].as_slice()).unwrap();
    assert_eq!(registered.demand.as_ref(), Some(demand));
    assert_eq!(
        registered.meta.as_ref().unwrap().causation_id,
        event_id.to_string()
    );
    assert!(!format!("{registered:?}").contains("5678"));
}

#[tokio::test]
async fn a_reported_task_of_an_unmapped_category_is_acknowledged_and_enters_no_demand() {
    let app = mapped_app().await;
    small_county(&app).await;
    let consumer = app
        .consumers
        .iter()
        .find(|c| c.queue_name().ends_with(".grid-tasks"))
        .unwrap();
    let event = reported(uuid::Uuid::now_v7(), "categories/noise", "cells/s1-g");
    app.publish("grid.task.reported", uuid::Uuid::now_v7(), &event)
        .await;
    assert_eq!(consumer.drain().await.unwrap(), [Outcome::Applied]);
    assert!(demands(&app).await.is_empty());
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE routing_key = 'centres.demand.registered'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(events, 0);
}

#[tokio::test]
async fn a_reported_task_in_a_cell_the_replica_does_not_know_yet_is_retried_not_dropped() {
    let app = mapped_app().await;
    small_county(&app).await;
    let consumer = app
        .consumers
        .iter()
        .find(|c| c.queue_name().ends_with(".grid-tasks"))
        .unwrap();
    let event = reported(uuid::Uuid::now_v7(), "categories/pipe-leak", "cells/s1-new");
    app.publish("grid.task.reported", uuid::Uuid::now_v7(), &event)
        .await;
    assert_eq!(
        consumer.consume_once().await.unwrap(),
        Some(Outcome::Requeued)
    );
    assert!(demands(&app).await.is_empty());
}
