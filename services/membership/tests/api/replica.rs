//! The service's replica of the grid, fed by the grid's published events.

use civicgrid_cell_tree::CELL_CREATED;
use civicgrid_messaging::Outcome;
use civicgrid_proto::grid::v1 as grid;
use civicgrid_proto::membership::v1::ListKnownCellsRequest;
use civicgrid_testkit::{TestKeys, with_token};
use uuid::Uuid;

use crate::spawn_app;

/// A cell as the grid publishes it.
pub fn cell(id: &str, parent: Option<&str>, level: i32) -> grid::CellCreated {
    grid::CellCreated {
        meta: None,
        cell: Some(grid::Cell {
            name: format!("cells/{id}"),
            parent: parent.map(|p| format!("cells/{p}")).unwrap_or_default(),
            level,
            display_name: id.to_uppercase(),
            ancestors: parent
                .map(|p| vec![format!("cells/{p}")])
                .unwrap_or_default(),
            version: 1,
            ..Default::default()
        }),
    }
}

#[tokio::test]
async fn a_published_cell_is_applied_once_and_listed_and_a_second_delivery_is_skipped() {
    let app = spawn_app().await;
    let event_id = Uuid::now_v7();
    let county = cell("c1", None, grid::CellLevel::County as i32);
    app.publish(CELL_CREATED, event_id, &county).await;
    assert_eq!(
        app.consumers[0].drain().await.unwrap(),
        vec![Outcome::Applied]
    );
    app.publish(CELL_CREATED, event_id, &county).await;
    assert_eq!(
        app.consumers[0].drain().await.unwrap(),
        vec![Outcome::Duplicate]
    );

    let listed = app
        .client
        .clone()
        .list_known_cells(with_token(
            ListKnownCellsRequest::default(),
            &TestKeys::get().county_admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = listed.cells.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["cells/c1"]);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM cells")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}
