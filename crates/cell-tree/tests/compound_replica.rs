//! The compound replica handler against a real database, fed the events of
//! the published contract (`CompoundCreated`, `CompoundUpdated`).

#![allow(clippy::unwrap_used)]

use civicgrid_cell_tree::{
    COMPOUND_CREATED, COMPOUND_UPDATED, CompoundReplica, CompoundRow, get_compound,
};
use civicgrid_messaging::{Handler, HandlerError, InboundEvent, NewEvent};
use civicgrid_proto::common::v1::EventMeta;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_testkit::TestDatabase;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The compound `id` in community `m` of street `s` at `version`, its
/// name and buildings changing with the version.
fn compound(id: &str, version: i64) -> pb::Compound {
    pb::Compound {
        name: format!("compounds/{id}"),
        community: "cells/m".into(),
        display_name: format!("{id} v{version}"),
        buildings: (1..=version).map(|b| format!("cells/{id}-b{b}")).collect(),
        address: "锦绣路 8 号".into(),
        year_built: 2023,
        newly_built: true,
        lacks_required_facilities: version < 3,
        property_company: "绿城物业".into(),
        ancestors: vec!["cells/c".into(), "cells/s".into(), "cells/m".into()],
        version,
        etag: format!("\"{version}\""),
        create_time: Some(prost_types::Timestamp {
            seconds: 1_780_000_000,
            nanos: 0,
        }),
        update_time: Some(prost_types::Timestamp {
            seconds: 1_780_000_000 + version,
            nanos: 0,
        }),
    }
}

fn meta(compound: &pb::Compound, routing_key: &str) -> Option<EventMeta> {
    Some(EventMeta {
        event_id: Uuid::now_v7().to_string(),
        event_type: routing_key.into(),
        aggregate_id: compound.name.clone(),
        aggregate_version: compound.version,
        producer: "grid".into(),
        ..Default::default()
    })
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

/// The event the grid publishes for `compound`: created at version 1,
/// updated after.
fn event(compound: pb::Compound) -> InboundEvent {
    if compound.version == 1 {
        inbound(NewEvent::encode(
            Uuid::now_v7(),
            COMPOUND_CREATED,
            &pb::CompoundCreated {
                meta: meta(&compound, COMPOUND_CREATED),
                compound: Some(compound),
            },
        ))
    } else {
        inbound(NewEvent::encode(
            Uuid::now_v7(),
            COMPOUND_UPDATED,
            &pb::CompoundUpdated {
                meta: meta(&compound, COMPOUND_UPDATED),
                compound: Some(compound),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into(), "buildings".into()],
                }),
            },
        ))
    }
}

async fn stored(db: &TestDatabase, id: &str) -> CompoundRow {
    get_compound(&db.pool, id).await.unwrap().unwrap()
}

#[tokio::test]
async fn the_replica_holds_each_compound_once_at_its_latest_version_whatever_the_order() {
    let db = TestDatabase::create(&MIGRATOR).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    // Three versions of two compounds, delivered out of order and twice:
    // updates overtake their create, and redeliveries repeat old versions.
    let deliveries = [
        ("jinxiu", 2),
        ("nanyuan", 1),
        ("jinxiu", 3),
        ("jinxiu", 1),
        ("nanyuan", 3),
        ("jinxiu", 2),
        ("nanyuan", 2),
        ("jinxiu", 3),
        ("nanyuan", 1),
    ];
    for (id, version) in deliveries {
        CompoundReplica
            .handle(&mut conn, &event(compound(id, version)))
            .await
            .unwrap();
    }
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM compounds ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(ids, vec!["jinxiu", "nanyuan"]);
    for id in ["jinxiu", "nanyuan"] {
        let row = stored(&db, id).await;
        // The replica shows exactly what the grid published last.
        assert_eq!(row.to_proto(), compound(id, 3), "{id}");
        assert_eq!(row.community_path, "/c/s/m/");
        assert!(!row.lacks_required_facilities);
    }
    // Scope works on the replica as on the grid.
    assert!(stored(&db, "jinxiu").await.visible(Some(&["s".to_owned()])));
    assert!(
        !stored(&db, "jinxiu")
            .await
            .visible(Some(&["s2".to_owned()]))
    );
}

#[tokio::test]
async fn an_event_with_a_broken_compound_is_permanent_poison_and_stores_nothing() {
    let db = TestDatabase::create(&MIGRATOR).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    for broken in [
        event(pb::Compound {
            name: "cells/jinxiu".into(),
            ..compound("jinxiu", 1)
        }),
        event(pb::Compound {
            community: "m".into(),
            ..compound("jinxiu", 1)
        }),
        event(pb::Compound {
            ancestors: vec!["cells/c".into(), "cells/s".into()],
            ..compound("jinxiu", 1)
        }),
        event(pb::Compound {
            buildings: vec!["Building 1".into()],
            ..compound("jinxiu", 1)
        }),
        event(pb::Compound {
            year_built: 70_000,
            ..compound("jinxiu", 1)
        }),
        inbound(NewEvent::encode(
            Uuid::now_v7(),
            COMPOUND_UPDATED,
            &pb::CompoundUpdated::default(),
        )),
        inbound(NewEvent {
            event_id: Uuid::now_v7(),
            routing_key: COMPOUND_CREATED.into(),
            message_type: String::new(),
            payload: vec![0xff, 0x01],
            trace_headers: Default::default(),
        }),
    ] {
        assert!(matches!(
            CompoundReplica.handle(&mut conn, &broken).await,
            Err(HandlerError::Permanent(_))
        ));
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM compounds")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}
