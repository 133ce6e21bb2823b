//! The grid's cell tree through its gRPC API, against real PostgreSQL and
//! RabbitMQ; each test has its own database and broker names.

#![allow(clippy::unwrap_used)]
// Cell.newly_built is deprecated but still in the contract: these tests pin it.
#![allow(deprecated)]

use crate::support::TestApp;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_runtime::status::field_violations;
use civicgrid_testkit::{TestKeys, with_token};
use tonic::Code;

/// county c / streets s1, s2 / community s1-c1 / grid s1-c1-g1
async fn seed(app: &TestApp) {
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    for (id, parent, level) in [
        ("c", "", 1),
        ("s1", "cells/c", 2),
        ("s2", "cells/c", 2),
        ("s1-c1", "cells/s1", 3),
        ("s2-c1", "cells/s2", 3),
        ("s1-c1-g1", "cells/s1-c1", 4),
    ] {
        client
            .create_cell(with_token(create(id, parent, level), &admin))
            .await
            .unwrap();
    }
}

fn create(id: &str, parent: &str, level: i32) -> pb::CreateCellRequest {
    pb::CreateCellRequest {
        cell_id: id.to_owned(),
        cell: Some(pb::Cell {
            parent: parent.to_owned(),
            level,
            display_name: format!("Cell {id}"),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

fn names(cells: &[pb::Cell]) -> Vec<&str> {
    cells.iter().map(|c| c.name.as_str()).collect()
}

#[tokio::test]
async fn the_six_levels_are_created_with_one_event_each_and_listed_by_subtree_in_pages() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    let chain = [
        ("c", "", 1),
        ("s", "cells/c", 2),
        ("m", "cells/s", 3),
        ("g", "cells/m", 4),
        ("b", "cells/g", 5),
        ("u", "cells/b", 6),
    ];
    for (id, parent, level) in chain {
        let cell = client
            .create_cell(with_token(create(id, parent, level), &admin))
            .await
            .unwrap()
            .into_inner()
            .cell
            .unwrap();
        assert_eq!(cell.name, format!("cells/{id}"));
        assert_eq!(cell.version, 1);
    }
    let unit = client
        .get_cell(with_token(
            pb::GetCellRequest {
                name: "cells/u".into(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .cell
        .unwrap();
    assert_eq!(
        unit.ancestors,
        vec!["cells/c", "cells/s", "cells/m", "cells/g", "cells/b"]
    );
    assert_eq!(unit.level, pb::CellLevel::Unit as i32);

    let types: Vec<String> = sqlx::query_scalar("SELECT routing_key FROM outbox ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(types, vec!["grid.cell.created"; 6]);

    // Pages of two below the street, in name order, then the end.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_cells(with_token(
                pb::ListCellsRequest {
                    ancestor: "cells/s".into(),
                    page_size: 2,
                    page_token: token,
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.cells.into_iter().map(|c| c.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, vec!["cells/b", "cells/g", "cells/m", "cells/u"]);

    let buildings = client
        .list_cells(with_token(
            pb::ListCellsRequest {
                ancestor: "cells/c".into(),
                level: pb::CellLevel::Building as i32,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&buildings.cells), vec!["cells/b"]);
}

#[tokio::test]
async fn a_call_without_a_valid_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let mut client = app.client().await;
    let status = client
        .list_cells(pb::ListCellsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = client
        .list_cells(with_token(pb::ListCellsRequest::default(), "not.a.token"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = client.create_cell(create("c", "", 1)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(app.counts().await, (0, 0));
}

#[tokio::test]
async fn a_street_admin_cannot_read_list_or_change_another_streets_cells() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let street1 = TestKeys::get().token(&[Role::StreetAdmin], &["cells/s1"], None);
    let mut client = app.client().await;

    // Own street: visible.
    client
        .get_cell(with_token(
            pb::GetCellRequest {
                name: "cells/s1-c1".into(),
            },
            &street1,
        ))
        .await
        .unwrap();
    // Another street: as if it did not exist.
    for name in ["cells/s2", "cells/s2-c1", "cells/c"] {
        let status = client
            .get_cell(with_token(
                pb::GetCellRequest { name: name.into() },
                &street1,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{name}");
    }
    // Listing everything, or below the county, shows only the own street.
    for ancestor in ["", "cells/c"] {
        let listed = client
            .list_cells(with_token(
                pb::ListCellsRequest {
                    ancestor: ancestor.into(),
                    ..Default::default()
                },
                &street1,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            names(&listed.cells),
            vec!["cells/s1", "cells/s1-c1", "cells/s1-c1-g1"],
            "ancestor {ancestor:?}"
        );
    }
    let status = client
        .list_cells(with_token(
            pb::ListCellsRequest {
                ancestor: "cells/s2".into(),
                ..Default::default()
            },
            &street1,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // Writes outside the scope are refused and change nothing.
    let before = app.counts().await;
    let status = client
        .create_cell(with_token(create("s2-c2", "cells/s2", 3), &street1))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let rename = pb::UpdateCellRequest {
        cell: Some(pb::Cell {
            name: "cells/s2".into(),
            display_name: "Mine now".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["display_name".into()],
        }),
    };
    let status = client
        .update_cell(with_token(rename, &street1))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(app.counts().await, before);

    // Inside the scope the same admin may build.
    client
        .create_cell(with_token(create("s1-c2", "cells/s1", 3), &street1))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_read_only_analyst_may_read_but_not_write() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let analyst = TestKeys::get().token(&[Role::ReadOnlyAnalyst], &["*"], None);
    let mut client = app.client().await;
    client
        .get_cell(with_token(
            pb::GetCellRequest {
                name: "cells/s2".into(),
            },
            &analyst,
        ))
        .await
        .unwrap();
    let status = client
        .create_cell(with_token(create("s3", "cells/c", 2), &analyst))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_malformed_request_names_every_bad_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    let request = pb::CreateCellRequest {
        cell_id: "Not Valid".into(),
        cell: Some(pb::Cell {
            level: 2,
            parent: String::new(),
            display_name: String::new(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let status = client
        .create_cell(with_token(request, &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, vec!["cell_id", "cell.parent", "cell.display_name"]);

    let status = client
        .list_cells(with_token(
            pb::ListCellsRequest {
                page_size: -1,
                page_token: "garbage".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    let fields: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, vec!["page_size", "page_token"]);
    assert_eq!(app.counts().await, (0, 0));
}

#[tokio::test]
async fn a_cell_under_a_parent_of_the_wrong_level_fails_its_precondition_and_writes_nothing() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    let before = app.counts().await;
    let status = client
        .create_cell(with_token(create("g9", "cells/s1", 4), &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = client
        .create_cell(with_token(create("g9", "cells/missing", 4), &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(app.counts().await, before);
}

#[tokio::test]
async fn a_taken_id_already_exists_but_a_retried_request_returns_the_first_cell_once() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    let before = app.counts().await;
    let status = client
        .create_cell(with_token(create("s1", "cells/c", 2), &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);

    let mut retried = create("s3", "cells/c", 2);
    retried.request_id = uuid::Uuid::new_v4().to_string();
    let first = client
        .create_cell(with_token(retried.clone(), &admin))
        .await
        .unwrap()
        .into_inner();
    let second = client
        .create_cell(with_token(retried, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, second);
    assert_eq!(app.counts().await, (before.0 + 1, before.1 + 1));
}

#[tokio::test]
async fn an_update_with_a_stale_etag_is_aborted_and_changes_nothing() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = TestKeys::get().county_admin();
    let mut client = app.client().await;
    let read = client
        .get_cell(with_token(
            pb::GetCellRequest {
                name: "cells/s1-c1-g1".into(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .cell
        .unwrap();
    let mask = || {
        Some(prost_types::FieldMask {
            paths: vec!["display_name".into(), "newly_built".into()],
        })
    };
    let first = pb::UpdateCellRequest {
        cell: Some(pb::Cell {
            display_name: "Riverside Compound".into(),
            newly_built: true,
            ..read.clone()
        }),
        update_mask: mask(),
    };
    let updated = client
        .update_cell(with_token(first, &admin))
        .await
        .unwrap()
        .into_inner()
        .cell
        .unwrap();
    assert_eq!(
        (
            updated.version,
            updated.newly_built,
            updated.display_name.as_str()
        ),
        (2, true, "Riverside Compound")
    );

    let before = app.counts().await;
    let stale = pb::UpdateCellRequest {
        cell: Some(pb::Cell {
            display_name: "Lost Update".into(),
            ..read
        }),
        update_mask: mask(),
    };
    let status = client
        .update_cell(with_token(stale, &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    assert_eq!(app.counts().await, before);
    let now = client
        .get_cell(with_token(
            pb::GetCellRequest {
                name: "cells/s1-c1-g1".into(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .cell
        .unwrap();
    assert_eq!(now, updated);

    let events: Vec<String> = sqlx::query_scalar(
        "SELECT routing_key FROM outbox WHERE routing_key = 'grid.cell.updated'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn a_bad_configuration_value_stops_the_service_naming_the_key() {
    for (key, value, named) in [
        ("CIVICGRID_GRPC_ADDR", "not-an-address", "grpc_addr"),
        ("CIVICGRID_DATABASE_URL", "mysql://nowhere", "database_url"),
        ("CIVICGRID_DELIVERY_LIMIT", "-3", "delivery_limit"),
        ("CIVICGRID_GRPC_ADRESS", "127.0.0.1:1", "grpc_adress"),
        (
            "CIVICGRID_SUPERVISION_SWEEP_INTERVAL_MS",
            "soon",
            "supervision_sweep_interval_ms",
        ),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_civicgrid-grid"))
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
