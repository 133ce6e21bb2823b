//! Residential compounds through the GridService, against real PostgreSQL:
//! CRUD with etags, scope, field violations that write nothing, idempotent
//! retries, one event per write, and compounds in layout files.

use crate::support::{TestApp, fields};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, with_token};
use prost::Message;
use tonic::Code;

/// county c / streets s1, s2 / communities s1-m, s1-n, s2-m / a grid in
/// each / buildings s1-m-b1..b3, s1-n-b1, s2-m-b1 / unit s1-m-u
pub const COUNTY: &str = "cell_id,parent_id,level,display_name\n\
    c,,county,County\n\
    s1,c,street,Street 1\n\
    s2,c,street,Street 2\n\
    s1-m,s1,community,Community M\n\
    s1-n,s1,community,Community N\n\
    s2-m,s2,community,Community 2M\n\
    s1-m-g,s1-m,grid,Grid M\n\
    s1-n-g,s1-n,grid,Grid N\n\
    s2-m-g,s2-m,grid,Grid 2M\n\
    s1-m-b1,s1-m-g,building,M 1\n\
    s1-m-b2,s1-m-g,building,M 2\n\
    s1-m-b3,s1-m-g,building,M 3\n\
    s1-n-b1,s1-n-g,building,N 1\n\
    s2-m-b1,s2-m-g,building,2M 1\n\
    s1-m-u,s1-m-b1,unit,Unit\n";

fn compound(community: &str, buildings: &[&str]) -> pb::Compound {
    pb::Compound {
        community: format!("cells/{community}"),
        display_name: format!("Compound in {community}"),
        buildings: buildings.iter().map(|b| format!("cells/{b}")).collect(),
        address: "锦绣路 8 号".into(),
        year_built: 2024,
        newly_built: true,
        lacks_required_facilities: true,
        property_company: "绿城物业 Greentown Property".into(),
        ..Default::default()
    }
}

fn create(id: &str, compound: pb::Compound) -> pb::CreateCompoundRequest {
    pb::CreateCompoundRequest {
        compound_id: id.into(),
        compound: Some(compound),
        request_id: String::new(),
    }
}

/// The county, then compounds: jinxiu (s1-m: b1, b2), nanyuan (s1-n: b1),
/// hexi (s2-m: b1).
async fn seed(app: &TestApp) {
    app.import_csv(COUNTY).await.unwrap();
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    for (id, community, buildings) in [
        ("jinxiu", "s1-m", &["s1-m-b1", "s1-m-b2"][..]),
        ("nanyuan", "s1-n", &["s1-n-b1"][..]),
        ("hexi", "s2-m", &["s2-m-b1"][..]),
    ] {
        client
            .create_compound(with_token(
                create(id, compound(community, buildings)),
                &admin,
            ))
            .await
            .unwrap();
    }
}

/// (compounds, building claims, outbox rows)
async fn counts(app: &TestApp) -> (i64, i64, i64) {
    let count = |table: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {table}"
            )))
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    (
        count("compounds").await,
        count("compound_buildings").await,
        count("outbox").await,
    )
}

/// The compound events in the outbox, oldest first.
async fn compound_events(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    sqlx::query_as(
        "SELECT routing_key, payload FROM outbox WHERE routing_key LIKE 'grid.compound.%' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn get(app: &TestApp, token: &str, name: &str) -> Result<pb::Compound, tonic::Status> {
    app.client()
        .await
        .get_compound(with_token(
            pb::GetCompoundRequest { name: name.into() },
            token,
        ))
        .await
        .map(|r| r.into_inner().compound.unwrap())
}

async fn list(app: &TestApp, token: &str, ancestor: &str) -> Result<Vec<String>, tonic::Status> {
    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = app
            .client()
            .await
            .list_compounds(with_token(
                pb::ListCompoundsRequest {
                    ancestor: ancestor.into(),
                    page_size: 2,
                    page_token,
                },
                token,
            ))
            .await?
            .into_inner();
        names.extend(page.compounds.into_iter().map(|c| c.name));
        if page.next_page_token.is_empty() {
            return Ok(names);
        }
        page_token = page.next_page_token;
    }
}

fn update(compound: pb::Compound, paths: &[&str]) -> pb::UpdateCompoundRequest {
    pb::UpdateCompoundRequest {
        compound: Some(compound),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
    }
}

#[tokio::test]
async fn a_compound_is_created_with_one_event_read_back_and_listed_per_community_and_street() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = TestKeys::get().county_admin();
    let jinxiu = get(&app, &admin, "compounds/jinxiu").await.unwrap();
    assert_eq!(
        jinxiu,
        pb::Compound {
            name: "compounds/jinxiu".into(),
            buildings: vec!["cells/s1-m-b1".into(), "cells/s1-m-b2".into()],
            ancestors: vec!["cells/c".into(), "cells/s1".into(), "cells/s1-m".into()],
            version: 1,
            etag: "\"1\"".into(),
            create_time: jinxiu.create_time,
            update_time: jinxiu.update_time,
            ..compound("s1-m", &["s1-m-b1", "s1-m-b2"])
        }
    );

    // One grid.compound.created per create, carrying the compound as read.
    let events = compound_events(&app).await;
    assert_eq!(events.len(), 3);
    let (key, payload) = &events[0];
    assert_eq!(key, "grid.compound.created");
    let event = pb::CompoundCreated::decode(payload.as_slice()).unwrap();
    let meta = event.meta.unwrap();
    assert_eq!(
        (meta.aggregate_id.as_str(), meta.aggregate_version),
        ("compounds/jinxiu", 1)
    );
    assert_eq!(event.compound.unwrap(), jinxiu);

    assert_eq!(
        list(&app, &admin, "cells/s1-m").await.unwrap(),
        vec!["compounds/jinxiu"]
    );
    assert_eq!(
        list(&app, &admin, "cells/s1").await.unwrap(),
        vec!["compounds/jinxiu", "compounds/nanyuan"]
    );
    for everything in ["cells/c", ""] {
        assert_eq!(
            list(&app, &admin, everything).await.unwrap(),
            vec!["compounds/hexi", "compounds/jinxiu", "compounds/nanyuan"],
            "{everything:?}"
        );
    }
    // Compounds lie in communities: listing below one is a mistake.
    let status = list(&app, &admin, "cells/s1-m-g").await.unwrap_err();
    assert_eq!(fields(&status), vec!["ancestor"]);
    let status = list(&app, &admin, "cells/nowhere").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn an_update_with_the_current_etag_applies_the_mask_and_a_stale_one_is_aborted_and_changes_nothing()
 {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    let read = get(&app, &admin, "compounds/jinxiu").await.unwrap();

    let changed = pb::Compound {
        display_name: "锦绣花园 Jinxiu Garden".into(),
        buildings: vec!["cells/s1-m-b3".into(), "cells/s1-m-b1".into()],
        lacks_required_facilities: false,
        // Not in the mask: must stay as it was.
        address: "ignored".into(),
        ..read.clone()
    };
    let updated = client
        .update_compound(with_token(
            update(
                changed,
                &["display_name", "buildings", "lacks_required_facilities"],
            ),
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .compound
        .unwrap();
    assert_eq!(
        (
            updated.version,
            updated.display_name.as_str(),
            updated.buildings.clone(),
            updated.lacks_required_facilities,
            updated.address.as_str(),
            updated.newly_built,
        ),
        (
            2,
            "锦绣花园 Jinxiu Garden",
            vec!["cells/s1-m-b1".to_owned(), "cells/s1-m-b3".to_owned()],
            false,
            "锦绣路 8 号",
            true,
        )
    );
    // b2 was released: another compound may take it now.
    client
        .create_compound(with_token(
            create("xinyuan", compound("s1-m", &["s1-m-b2"])),
            &admin,
        ))
        .await
        .unwrap();

    let before = counts(&app).await;
    let stale = pb::Compound {
        display_name: "Lost update".into(),
        ..read
    };
    let status = client
        .update_compound(with_token(update(stale, &["display_name"]), &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    assert_eq!(counts(&app).await, before);
    assert_eq!(
        get(&app, &admin, "compounds/jinxiu").await.unwrap(),
        updated
    );

    let events = compound_events(&app).await;
    let updates: Vec<_> = events
        .iter()
        .filter(|(key, _)| key == "grid.compound.updated")
        .collect();
    assert_eq!(updates.len(), 1);
    let event = pb::CompoundUpdated::decode(updates[0].1.as_slice()).unwrap();
    assert_eq!(event.meta.unwrap().aggregate_version, 2);
    assert_eq!(event.compound.unwrap(), updated);
    assert_eq!(
        event.update_mask.unwrap().paths,
        vec!["display_name", "buildings", "lacks_required_facilities"]
    );
}

#[tokio::test]
async fn a_street_admin_sees_and_edits_only_the_compounds_of_their_street() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let street1 = TestKeys::get().token(&[Role::StreetAdmin], &["cells/s1"], None);
    let mut client = app.client().await;

    get(&app, &street1, "compounds/jinxiu").await.unwrap();
    let status = get(&app, &street1, "compounds/hexi").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    for ancestor in ["", "cells/c"] {
        assert_eq!(
            list(&app, &street1, ancestor).await.unwrap(),
            vec!["compounds/jinxiu", "compounds/nanyuan"],
            "{ancestor:?}"
        );
    }
    let status = list(&app, &street1, "cells/s2").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let before = counts(&app).await;
    let hexi = pb::Compound {
        name: "compounds/hexi".into(),
        display_name: "Mine now".into(),
        ..Default::default()
    };
    let status = client
        .update_compound(with_token(update(hexi, &["display_name"]), &street1))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = client
        .create_compound(with_token(
            create("elsewhere", compound("s2-m", &[])),
            &street1,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let analyst = TestKeys::get().token(&[Role::ReadOnlyAnalyst], &["*"], None);
    let status = client
        .create_compound(with_token(create("mine", compound("s1-m", &[])), &analyst))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(counts(&app).await, before);

    // In their own street they may build.
    client
        .create_compound(with_token(
            create("own", compound("s1-m", &["s1-m-b3"])),
            &street1,
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_bad_compound_names_every_bad_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    let before = counts(&app).await;

    // What the request says by itself.
    let request = pb::CreateCompoundRequest {
        compound_id: "Bad Id".into(),
        compound: Some(pb::Compound {
            community: "s1-m".into(),
            display_name: " ".into(),
            buildings: vec!["cells/s1-m-b3".into(), "cells/s1-m-b3".into()],
            year_built: 2999,
            ..compound("s1-m", &[])
        }),
        request_id: "not-a-uuid".into(),
    };
    let status = client
        .create_compound(with_token(request, &admin))
        .await
        .unwrap_err();
    assert_eq!(
        fields(&status),
        vec![
            "compound_id",
            "request_id",
            "compound.community",
            "compound.display_name",
            "compound.buildings[1]",
            "compound.year_built",
        ]
    );

    // What only the stored cells can tell.
    for (community, expected) in [
        ("s1", "compound.community"),
        ("nowhere", "compound.community"),
    ] {
        let status = client
            .create_compound(with_token(create("cp", compound(community, &[])), &admin))
            .await
            .unwrap_err();
        assert_eq!(fields(&status), vec![expected], "{community}");
    }
    let status = client
        .create_compound(with_token(
            create(
                "cp",
                compound("s1-m", &["s1-m-b3", "s1-m-g", "s1-n-b1", "gone", "s1-m-u"]),
            ),
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        fields(&status),
        vec![
            "compound.buildings[1]",
            "compound.buildings[2]",
            "compound.buildings[3]",
            "compound.buildings[4]",
        ]
    );
    let descriptions: Vec<String> = civicgrid_runtime::status::field_violations(&status)
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(descriptions[0], "is a grid cell, not a building");
    assert_eq!(descriptions[1], "is not a cell in cells/s1-m");

    // A building of another compound must be released there first.
    let status = client
        .create_compound(with_token(
            create("cp", compound("s1-m", &["s1-m-b3", "s1-m-b2"])),
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status
            .message()
            .contains("cells/s1-m-b2 already belongs to compounds/jinxiu"),
        "{}",
        status.message()
    );
    let nanyuan = pb::Compound {
        name: "compounds/nanyuan".into(),
        buildings: vec!["cells/s1-n-b1".into(), "cells/s1-m-b1".into()],
        ..Default::default()
    };
    let status = client
        .update_compound(with_token(update(nanyuan, &["buildings"]), &admin))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), vec!["compound.buildings[1]"]);

    let status = client
        .update_compound(with_token(
            update(
                pb::Compound {
                    name: "compounds/jinxiu".into(),
                    year_built: 1492,
                    ..Default::default()
                },
                &["year_built", "community"],
            ),
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), vec!["compound.year_built", "update_mask"]);

    assert_eq!(counts(&app).await, before);
    let status = get(&app, &admin, "compounds/cp").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn a_taken_id_already_exists_but_a_retried_request_returns_the_first_compound_once() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    let before = counts(&app).await;
    let status = client
        .create_compound(with_token(create("jinxiu", compound("s1-m", &[])), &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(counts(&app).await, before);

    let mut retried = create("xinyuan", compound("s1-m", &["s1-m-b3"]));
    retried.request_id = uuid::Uuid::new_v4().to_string();
    let first = client
        .create_compound(with_token(retried.clone(), &admin))
        .await
        .unwrap()
        .into_inner();
    let second = client
        .create_compound(with_token(retried, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, second);
    assert_eq!(
        counts(&app).await,
        (before.0 + 1, before.1 + 1, before.2 + 1)
    );
}

/// Every compound as stored, by id: what an export and a replica must keep.
type StoredCompound = (
    String,
    String,
    String,
    String,
    Vec<String>,
    String,
    Option<i16>,
    bool,
    bool,
    String,
);

async fn stored_compounds(pool: &sqlx::PgPool) -> Vec<StoredCompound> {
    sqlx::query_as(
        "SELECT id, community_id, community_path, display_name, building_ids, address, year_built, \
                newly_built, lacks_required_facilities, property_company \
         FROM compounds ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn export(app: &TestApp, root: &str, format: pb::LayoutFormat) -> pb::ExportCellsResponse {
    app.client()
        .await
        .export_cells(with_token(
            pb::ExportCellsRequest {
                root: root.into(),
                format: format as i32,
            },
            &TestKeys::get().county_admin(),
        ))
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn compounds_export_with_their_county_and_import_into_a_fresh_grid_as_the_same_file() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    // One compound with every optional field empty, one with a quote and a comma.
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    client
        .create_compound(with_token(
            create(
                "bare",
                pb::Compound {
                    community: "cells/s1-m".into(),
                    display_name: "Bare".into(),
                    ..Default::default()
                },
            ),
            &admin,
        ))
        .await
        .unwrap();
    let jinxiu = get(&app, &admin, "compounds/jinxiu").await.unwrap();
    client
        .update_compound(with_token(
            update(
                pb::Compound {
                    display_name: "锦绣花园 \"Jinxiu\", east".into(),
                    ..jinxiu
                },
                &["display_name"],
            ),
            &admin,
        ))
        .await
        .unwrap();
    let original = stored_compounds(&app.pool).await;

    for format in [pb::LayoutFormat::Csv, pb::LayoutFormat::Json] {
        let first = export(&app, "cells/c", format).await;
        assert_eq!(
            (first.cell_count, first.compound_count),
            (15, 4),
            "{format:?}"
        );
        let fresh = TestApp::spawn().await;
        let content = String::from_utf8(first.content.clone()).unwrap();
        let imported = fresh
            .client()
            .await
            .import_cells(with_token(
                pb::ImportCellsRequest {
                    format: format as i32,
                    content: content.into_bytes(),
                    validate_only: false,
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (imported.created_count, imported.created_compound_count),
            (15, 4),
            "{format:?}"
        );
        assert_eq!(stored_compounds(&fresh.pool).await, original, "{format:?}");
        let again = export(&fresh, "cells/c", format).await;
        assert_eq!(
            String::from_utf8(again.content).unwrap(),
            String::from_utf8(first.content).unwrap(),
            "{format:?}"
        );
        // Each imported compound has its one event, as if created by hand.
        let created = compound_events(&fresh)
            .await
            .into_iter()
            .filter(|(key, _)| key == "grid.compound.created")
            .count();
        assert_eq!(created, 4, "{format:?}");
    }

    // A street's export carries the street's compounds; below a community
    // there are none, and the file has the five columns of old.
    let street = export(&app, "cells/s2", pb::LayoutFormat::Csv).await;
    assert_eq!(street.compound_count, 1);
    let text = String::from_utf8(street.content).unwrap();
    assert!(
        text.contains("s2-m-b1,s2-m-g,building,2M 1,false,hexi,,,,"),
        "{text}"
    );
    assert!(text.contains("hexi,s2-m,compound,"), "{text}");
    let grid = export(&app, "cells/s1-m-g", pb::LayoutFormat::Csv).await;
    assert_eq!(grid.compound_count, 0);
    assert!(
        String::from_utf8(grid.content)
            .unwrap()
            .starts_with("cell_id,parent_id,level,display_name,newly_built\n")
    );
}

static REPLICA_MIGRATOR: sqlx::migrate::Migrator =
    sqlx::migrate!("../../crates/cell-tree/migrations");

#[tokio::test]
async fn the_compound_events_the_grid_publishes_build_a_replica_equal_to_the_grid() {
    use civicgrid_cell_tree::CompoundReplica;
    use civicgrid_messaging::{Handler, InboundEvent};

    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    for round in 0..3 {
        let jinxiu = get(&app, &admin, "compounds/jinxiu").await.unwrap();
        client
            .update_compound(with_token(
                update(
                    pb::Compound {
                        display_name: format!("Jinxiu, round {round}"),
                        lacks_required_facilities: round < 2,
                        ..jinxiu
                    },
                    &["display_name", "lacks_required_facilities"],
                ),
                &admin,
            ))
            .await
            .unwrap();
    }

    let replica = civicgrid_testkit::TestDatabase::create(&REPLICA_MIGRATOR)
        .await
        .unwrap();
    let events: Vec<(uuid::Uuid, String, Vec<u8>)> = sqlx::query_as(
        "SELECT event_id, routing_key, payload FROM outbox \
         WHERE routing_key LIKE 'grid.compound.%' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(events.len(), 6);
    // Delivered newest first, then all again in order: redeliveries and
    // overtaken creates must leave each compound once, at its last version.
    let mut conn = replica.pool.acquire().await.unwrap();
    for (event_id, routing_key, payload) in events.iter().rev().chain(events.iter()) {
        let event = InboundEvent {
            event_id: *event_id,
            routing_key: routing_key.clone(),
            payload: payload.clone(),
            previous_deliveries: 0,
            span: tracing::Span::none(),
        };
        CompoundReplica.handle(&mut conn, &event).await.unwrap();
    }
    assert_eq!(
        stored_compounds(&replica.pool).await,
        stored_compounds(&app.pool).await
    );
    let versions: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, version FROM compounds ORDER BY id")
            .fetch_all(&replica.pool)
            .await
            .unwrap();
    assert_eq!(
        versions,
        vec![
            ("hexi".to_owned(), 1),
            ("jinxiu".to_owned(), 4),
            ("nanyuan".to_owned(), 1)
        ]
    );
}
