//! The replica handler against a real database.

#![allow(clippy::unwrap_used)]

use civicgrid_cell_tree::{CELL_CREATED, CELL_UPDATED, CellReplica, CellRow, MIGRATOR};
use civicgrid_messaging::{Handler, HandlerError, InboundEvent, NewEvent};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_testkit::TestDatabase;
use uuid::Uuid;

fn cell(id: &str, version: i64, display_name: &str) -> pb::Cell {
    pb::Cell {
        name: format!("cells/{id}"),
        parent: "cells/c".into(),
        level: 2,
        display_name: display_name.into(),
        ancestors: vec!["cells/c".into()],
        version,
        ..Default::default()
    }
}

fn inbound(event: NewEvent) -> InboundEvent {
    InboundEvent {
        event_id: event.event_id,
        routing_key: event.routing_key,
        payload: event.payload,
        previous_deliveries: 0,
        span: tracing::Span::none(),
    }
}

fn created(cell: pb::Cell) -> InboundEvent {
    inbound(NewEvent::encode(
        Uuid::now_v7(),
        CELL_CREATED,
        &pb::CellCreated {
            meta: None,
            cell: Some(cell),
        },
    ))
}

fn updated(cell: pb::Cell) -> InboundEvent {
    inbound(NewEvent::encode(
        Uuid::now_v7(),
        CELL_UPDATED,
        &pb::CellUpdated {
            meta: None,
            cell: Some(cell),
            update_mask: None,
        },
    ))
}

async fn stored(db: &TestDatabase, id: &str) -> CellRow {
    civicgrid_cell_tree::get(&db.pool, id)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn events_applied_in_any_order_leave_the_newest_version() {
    let db = TestDatabase::create(&MIGRATOR).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    // The update overtakes the create; the late create must not roll it back.
    CellReplica
        .handle(&mut conn, &updated(cell("s1", 2, "Renamed")))
        .await
        .unwrap();
    CellReplica
        .handle(&mut conn, &created(cell("s1", 1, "Original")))
        .await
        .unwrap();
    let row = stored(&db, "s1").await;
    assert_eq!(
        (row.version, row.display_name.as_str(), row.path.as_str()),
        (2, "Renamed", "/c/s1/")
    );
    // Applying the same state twice changes nothing.
    CellReplica
        .handle(&mut conn, &updated(cell("s1", 2, "Renamed")))
        .await
        .unwrap();
    assert_eq!(stored(&db, "s1").await, row);
}

#[tokio::test]
async fn an_event_with_a_broken_cell_is_permanent_poison() {
    let db = TestDatabase::create(&MIGRATOR).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    for broken in [
        created(pb::Cell {
            name: "not-a-name".into(),
            ..cell("x", 1, "X")
        }),
        created(pb::Cell {
            level: 9,
            ..cell("x", 1, "X")
        }),
        inbound(NewEvent {
            event_id: Uuid::now_v7(),
            routing_key: CELL_CREATED.into(),
            message_type: String::new(),
            payload: vec![0xff, 0x01],
            trace_headers: Default::default(),
        }),
    ] {
        assert!(matches!(
            CellReplica.handle(&mut conn, &broken).await,
            Err(HandlerError::Permanent(_))
        ));
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM cells")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}
