//! Importing and exporting a county's layout through the gRPC API, against
//! real PostgreSQL: all or nothing, every bad line named, scope enforced.

#![allow(clippy::unwrap_used)]
// Cell.newly_built is deprecated but still in the contract: these tests pin it.
#![allow(deprecated)]

use std::time::Instant;

use crate::support::{SMALL_COUNTY, TestApp, fields};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_runtime::status::field_violations;
use civicgrid_testkit::{TestKeys, with_token};
use tonic::Code;

/// (id, parent, level, display name, newly built) of every cell, by id.
async fn cells(app: &TestApp) -> Vec<(String, Option<String>, i16, String, bool)> {
    sqlx::query_as("SELECT id, parent_id, level, display_name, newly_built FROM cells ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// A county of exactly `total` (at least 1,111) cells, in an order where
/// children come before their parents: 10 streets, 10 communities each, 10
/// grids each, and the rest buildings spread over the grids.
fn generated_county(total: usize) -> String {
    assert!(total >= 1111);
    let mut rows = vec!["cc,,county,Generated county,".to_owned()];
    let mut grids = Vec::new();
    for s in 0..10 {
        rows.push(format!("st{s},cc,street,Street {s},"));
        for m in 0..10 {
            rows.push(format!(
                "st{s}-m{m},st{s},community,\"Community {s}.{m}, east\","
            ));
            for g in 0..10 {
                grids.push(format!("st{s}-m{m}-g{g}"));
                rows.push(format!("st{s}-m{m}-g{g},st{s}-m{m},grid,Grid {g},"));
            }
        }
    }
    let mut b = 0;
    while rows.len() < total {
        let grid = &grids[b % grids.len()];
        rows.push(format!(
            "{grid}-b{b},{grid},building,楼栋 {b},{}",
            b % 7 == 0
        ));
        b += 1;
    }
    // Children first: the importer must order them itself.
    rows.reverse();
    format!(
        "cell_id,parent_id,level,display_name,newly_built\n{}\n",
        rows.join("\n")
    )
}

#[tokio::test]
async fn a_file_with_bad_lines_is_rejected_naming_every_one_and_nothing_is_imported() {
    let app = TestApp::spawn().await;
    app.import_csv(SMALL_COUNTY).await.unwrap();
    let before = app.counts().await;
    let csv = "cell_id,parent_id,level,display_name,newly_built\n\
               s3,c,street,Street 3,\n\
               s1,c,street,Taken,\n\
               s3-m,s3,community,Fine,\n\
               s3-x,s3,grid,Skips a level,\n\
               s3-y,nowhere,community,Orphan,\n\
               S3-Z,s3,community,Bad code,\n\
               s3-m2,s3,community,,\n\
               s3-g,s3-m,grid,Grid,perhaps\n\
               s3-m,s3,community,Twice,\n\
               s3-u,s3-m,unit,Unit,true\n";
    let status = app.import_csv(csv).await.unwrap_err();
    assert_eq!(
        fields(&status),
        vec![
            "content.line[3].cell_id",
            "content.line[5].parent_id",
            "content.line[6].parent_id",
            "content.line[7].cell_id",
            "content.line[8].display_name",
            "content.line[9].newly_built",
            "content.line[10].cell_id",
            "content.line[11].parent_id",
            "content.line[11].newly_built",
        ]
    );
    let descriptions: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|(_, description)| description)
        .collect();
    assert_eq!(descriptions[0], "cell `s1` already exists");
    assert_eq!(
        descriptions[1],
        "a grid must be placed under a community, but `s3` is a street"
    );
    assert_eq!(
        descriptions[2],
        "parent cell `nowhere` is neither in the file nor stored"
    );
    assert_eq!(descriptions[6], "`s3-m` is already on line 4");
    assert_eq!(app.counts().await, before);
}

#[tokio::test]
async fn three_thousand_cells_import_in_one_call_with_one_event_each() {
    let app = TestApp::spawn().await;
    let csv = generated_county(3000);
    let started = Instant::now();
    let created = app.import_csv(&csv).await.unwrap();
    let took = started.elapsed();
    eprintln!("imported 3,000 cells in {took:?}");
    assert_eq!(created, 3000);
    assert_eq!(app.counts().await, (3000, 3000));
    let routing_keys: Vec<String> = sqlx::query_scalar("SELECT DISTINCT routing_key FROM outbox")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(routing_keys, vec!["grid.cell.created"]);
    // Paths were built from parents in the file.
    let path: String = sqlx::query_scalar("SELECT path FROM cells WHERE id = 'st0-m8-g5-b1085'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(path, "/cc/st0/st0-m8/st0-m8-g5/st0-m8-g5-b1085/");
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM cells c LEFT JOIN cells p ON p.id = c.parent_id \
         WHERE c.level > 1 AND (p.id IS NULL OR c.path <> p.path || c.id || '/')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    // And the relay publishes every one.
    let relaying = Instant::now();
    assert_eq!(app.relay_all().await, 3000);
    eprintln!("relayed 3,000 events in {:?}", relaying.elapsed());
}

#[tokio::test]
async fn a_json_layout_imports_under_cells_already_stored() {
    let app = TestApp::spawn().await;
    app.import_csv(SMALL_COUNTY).await.unwrap();
    let json = r#"[
        {"cell_id": "s1-g2-b", "parent_id": "s1-g2", "level": "building", "display_name": "Building", "newly_built": true},
        {"cell_id": "s1-g2", "parent_id": "s1-m", "level": "grid", "display_name": "Grid 2"}
    ]"#;
    let admin = TestKeys::get().county_admin();
    let created = app
        .import(&admin, pb::LayoutFormat::Json, json, false)
        .await
        .unwrap();
    assert_eq!(created, 2);
    let building = app
        .client()
        .await
        .get_cell(with_token(
            pb::GetCellRequest {
                name: "cells/s1-g2-b".into(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .cell
        .unwrap();
    assert_eq!(
        building.ancestors,
        vec!["cells/c", "cells/s1", "cells/s1-m", "cells/s1-g2"]
    );
    assert!(building.newly_built);

    let bad = r#"[{"cell_id": "x", "parent_id": "s1-m", "level": "grid", "display_name": 5}]"#;
    let status = app
        .import(&admin, pb::LayoutFormat::Json, bad, false)
        .await
        .unwrap_err();
    assert_eq!(fields(&status), vec!["content.entry[1].display_name"]);
}

#[tokio::test]
async fn validate_only_checks_everything_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = TestKeys::get().county_admin();
    let created = app
        .import(&admin, pb::LayoutFormat::Csv, SMALL_COUNTY, true)
        .await
        .unwrap();
    assert_eq!(created, 0);
    assert_eq!(app.counts().await, (0, 0));
    let status = app
        .import(
            &admin,
            pb::LayoutFormat::Csv,
            "cell_id,parent_id,level,display_name\ns,nowhere,street,S\n",
            true,
        )
        .await
        .unwrap_err();
    assert_eq!(fields(&status), vec!["content.line[2].parent_id"]);
    assert_eq!(app.counts().await, (0, 0));
}

#[tokio::test]
async fn a_street_admin_imports_under_their_own_street_only() {
    let app = TestApp::spawn().await;
    app.import_csv(SMALL_COUNTY).await.unwrap();
    let before = app.counts().await;
    let street1 = TestKeys::get().token(&[Role::StreetAdmin], &["cells/s1"], None);

    let own = "cell_id,parent_id,level,display_name\n\
               s1-m2,s1,community,New community\n\
               s1-m2-g,s1-m2,grid,New grid\n";
    assert_eq!(
        app.import(&street1, pb::LayoutFormat::Csv, own, false)
            .await
            .unwrap(),
        2
    );
    let after_own = app.counts().await;
    assert_eq!(after_own, (before.0 + 2, before.1 + 2));

    let foreign = "cell_id,parent_id,level,display_name\n\
                   s1-m3,s1,community,Mine\n\
                   s2-m2,s2,community,Not mine\n";
    let status = app
        .import(&street1, pb::LayoutFormat::Csv, foreign, false)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("line 3"), "{}", status.message());

    let county = "cell_id,parent_id,level,display_name\nc2,,county,Another county\n";
    let status = app
        .import(&street1, pb::LayoutFormat::Csv, county, false)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    let worker = TestKeys::get().token(&[Role::GridWorker], &["cells/s1"], None);
    let status = app
        .import(&worker, pb::LayoutFormat::Csv, own, false)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(app.counts().await, after_own);
}

#[tokio::test]
async fn an_exported_county_imports_into_an_empty_grid_as_the_same_cells() {
    let app = TestApp::spawn().await;
    app.import_csv(&generated_county(1200)).await.unwrap();
    app.import_csv(
        "cell_id,parent_id,level,display_name\nst0-m8-g8-b88-u,st0-m8-g8-b88,unit,\"Unit \"\"A\"\", east\"\n",
    )
    .await
    .unwrap();
    let original = cells(&app).await;
    let admin = TestKeys::get().county_admin();
    for format in [pb::LayoutFormat::Csv, pb::LayoutFormat::Json] {
        let export = app
            .client()
            .await
            .export_cells(with_token(
                pb::ExportCellsRequest {
                    root: "cells/cc".into(),
                    format: format as i32,
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(export.cell_count as usize, original.len());
        let fresh = TestApp::spawn().await;
        let content = String::from_utf8(export.content).unwrap();
        let created = fresh.import(&admin, format, &content, false).await.unwrap();
        assert_eq!(created as usize, original.len(), "{format:?}");
        assert_eq!(cells(&fresh).await, original, "{format:?}");
    }
}

#[tokio::test]
async fn an_export_lists_parents_first_and_hides_roots_outside_the_scope() {
    let app = TestApp::spawn().await;
    app.import_csv(SMALL_COUNTY).await.unwrap();
    let street1 = TestKeys::get().token(&[Role::StreetAdmin], &["cells/s1"], None);
    let mut client = app.client().await;
    let export = client
        .export_cells(with_token(
            pb::ExportCellsRequest {
                root: "cells/s1".into(),
                format: pb::LayoutFormat::Csv as i32,
            },
            &street1,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        String::from_utf8(export.content).unwrap(),
        "cell_id,parent_id,level,display_name,newly_built\n\
         s1,c,street,Street 1,false\n\
         s1-m,s1,community,Community 1,false\n\
         s1-g,s1-m,grid,Grid 1,true\n\
         s1-b,s1-g,building,Building 1,false\n\
         s1-u,s1-b,unit,Unit 1,false\n"
    );
    for root in ["cells/s2", "cells/c", "cells/nowhere"] {
        let status = client
            .export_cells(with_token(
                pb::ExportCellsRequest {
                    root: root.into(),
                    format: pb::LayoutFormat::Json as i32,
                },
                &street1,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{root}");
    }
    let status = client
        .export_cells(with_token(pb::ExportCellsRequest::default(), &street1))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), vec!["root", "format"]);
}

#[tokio::test]
async fn a_malformed_import_request_names_every_bad_field() {
    let app = TestApp::spawn().await;
    let status = app
        .client()
        .await
        .import_cells(with_token(
            pb::ImportCellsRequest::default(),
            &TestKeys::get().county_admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), vec!["format", "content"]);
    let status = app.import_csv("not,a,layout\n1,2,3\n").await.unwrap_err();
    assert_eq!(
        fields(&status),
        vec!["content.line[1]"; 7],
        "three unknown columns, four missing"
    );
}

#[tokio::test]
async fn thousands_of_bad_lines_come_back_as_one_readable_status() {
    let app = TestApp::spawn().await;
    let mut csv = String::from("cell_id,parent_id,level,display_name\nc,,county,County\n");
    for i in 0..3000 {
        csv.push_str(&format!("s{i},c,district,Street {i}\n"));
    }
    let status = app.import_csv(&csv).await.unwrap_err();
    let named = fields(&status);
    assert!(named.len() > 20, "{}", named.len());
    assert_eq!(named[0], "content.line[3].level");
    assert_eq!(named[named.len() - 1], "content");
    assert_eq!(app.counts().await, (0, 0));
}
