//! The demo county's party side (`crates/cli/src/demo_membership.rs`,
//! compiled into this binary so it runs against the real service without
//! the whole stack): it loads once, a second run changes nothing, it shows
//! what the issue asks of it, and it leaves no ID number or phone in clear
//! in any column or event.

#[path = "../../../../crates/cli/src/demo_membership.rs"]
#[allow(dead_code)]
mod demo_membership;

use std::collections::HashSet;

use civicgrid_proto::grid::v1 as grid;
use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use uuid::Uuid;

use crate::support::*;

/// The demo grid as the grid would publish it: county, streets,
/// communities, grids, and the six compounds.
async fn publish_demo_grid(app: &TestApp) {
    let mut cells: Vec<(String, Option<String>, grid::CellLevel)> =
        vec![("demo-county".into(), None, grid::CellLevel::County)];
    for s in ["qingshan", "hexi", "dongcheng"] {
        let street = format!("demo-county-{s}");
        cells.push((
            street.clone(),
            Some("demo-county".into()),
            grid::CellLevel::Street,
        ));
        for c in 1..=2 {
            let community = format!("{street}-c{c}");
            cells.push((
                community.clone(),
                Some(street.clone()),
                grid::CellLevel::Community,
            ));
            for g in 1..=2 {
                cells.push((
                    format!("{community}-g{g}"),
                    Some(community.clone()),
                    grid::CellLevel::Grid,
                ));
            }
        }
    }
    let mut ancestors: std::collections::HashMap<String, Vec<String>> = Default::default();
    let count = cells.len();
    for (id, parent, level) in cells {
        let above = parent
            .as_ref()
            .map(|p| {
                let mut above = ancestors[p].clone();
                above.push(format!("cells/{p}"));
                above
            })
            .unwrap_or_default();
        ancestors.insert(id.clone(), above.clone());
        let event = grid::CellCreated {
            meta: None,
            cell: Some(grid::Cell {
                name: format!("cells/{id}"),
                parent: parent.map(|p| format!("cells/{p}")).unwrap_or_default(),
                level: level as i32,
                display_name: id.clone(),
                ancestors: above,
                version: 1,
                ..Default::default()
            }),
        };
        app.publish("grid.cell.created", Uuid::now_v7(), &event)
            .await;
    }
    assert_eq!(app.consumers[0].drain().await.unwrap().len(), count);
    for (code, street, c) in [
        ("jinxiu", "qingshan", 1),
        ("xinyue", "qingshan", 2),
        ("hexi-xincun", "hexi", 1),
        ("binjiang", "hexi", 1),
        ("taoyuan", "hexi", 2),
        ("dongfang", "dongcheng", 1),
    ] {
        let community = format!("demo-county-{street}-c{c}");
        let compound = grid::CompoundCreated {
            meta: None,
            compound: Some(grid::Compound {
                name: format!("compounds/demo-county-{code}"),
                community: format!("cells/{community}"),
                display_name: code.into(),
                ancestors: ancestors[&community]
                    .iter()
                    .cloned()
                    .chain([format!("cells/{community}")])
                    .collect(),
                version: 1,
                ..Default::default()
            }),
        };
        app.publish("grid.compound.created", Uuid::now_v7(), &compound)
            .await;
    }
    assert_eq!(app.consumers[1].drain().await.unwrap().len(), 6);
}

/// Runs of digits (an ID number's may end in X) in `bytes`.
fn digit_runs(bytes: &[u8]) -> Vec<String> {
    let mut runs = Vec::new();
    let mut run = String::new();
    for &b in bytes {
        if b.is_ascii_digit() || ((b == b'X' || b == b'x') && run.len() == 17) {
            run.push(char::from(b.to_ascii_uppercase()));
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// A secret (11-digit phone or 18-character ID number) inside a digit run of `bytes`.
fn leaks(bytes: &[u8], secrets: &HashSet<String>) -> Option<String> {
    digit_runs(bytes).into_iter().find(|run| {
        [11, 18].iter().any(|&width| {
            run.len() >= width
                && (0..=run.len() - width).any(|i| secrets.contains(&run[i..i + width]))
        })
    })
}

#[tokio::test]
async fn the_demo_loads_once_shows_every_flag_and_leaves_no_personal_data_in_clear() {
    let app = spawn_app().await;
    publish_demo_grid(&app).await;
    let addr = format!("http://{}", app.addr);
    demo_membership::load_into(&addr, &admin()).await.unwrap();
    let after_first = counts(&app).await;
    assert_eq!((after_first.0, after_first.1), (60, 3000));
    demo_membership::load_into(&addr, &admin()).await.unwrap();
    assert_eq!(counts(&app).await, after_first);

    let mut client = app.client.clone();
    let gaps = client
        .get_standardisation_gaps(with_token(
            pb::GetStandardisationGapsRequest::default(),
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (gaps.secretary_is_director_count, gaps.community_count),
        (3, 6)
    );
    let red = client
        .get_red_property_report(with_token(
            pb::GetRedPropertyReportRequest::default(),
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((red.compounds.len(), red.complete_count), (6, 2));
    let co = client
        .get_co_building_report(with_token(
            pb::GetCoBuildingReportRequest::default(),
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(co.near_duplicates.len(), 3);
    let overdue = client
        .list_overdue_conference_issues(with_token(
            pb::ListOverdueConferenceIssuesRequest::default(),
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(overdue.issues.len(), 6);

    // The demo's personal data, opened from the sealed columns with the
    // service's key, must appear nowhere in clear.
    let keys = civicgrid_membership::sealing::PersonalDataKeys::load(
        &test_config().membership_data_key_path,
    )
    .unwrap();
    let sealed: Vec<(Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT id_number_sealed, phone_sealed FROM members")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let mut secrets = HashSet::new();
    for (id_number, phone) in &sealed {
        secrets.insert(keys.open(id_number).unwrap());
        secrets.insert(keys.open(phone).unwrap());
    }
    assert_eq!(secrets.len(), 6000);
    // The scan finds a secret where there is one.
    let sample = secrets.iter().next().unwrap().clone();
    assert!(leaks(format!("{{\"x\":\"{sample}\"}}").as_bytes(), &secrets).is_some());
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT t::text FROM \"{table}\" t"
        )))
        .fetch_all(&app.pool)
        .await
        .unwrap();
        for row in rows {
            assert_eq!(leaks(row.as_bytes(), &secrets), None, "in {table}");
        }
    }
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar("SELECT payload FROM outbox")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for payload in payloads {
        assert_eq!(leaks(&payload, &secrets), None, "in an event");
    }
    for (id_number, phone) in &sealed {
        assert_eq!(leaks(id_number, &secrets), None);
        assert_eq!(leaks(phone, &secrets), None);
    }
}
