//! Who may read the replica, and how much of it.

use civicgrid_cell_tree::CELL_CREATED;
use civicgrid_proto::centres::v1::ListKnownCellsRequest;
use civicgrid_proto::grid::v1::CellLevel;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, with_token};
use uuid::Uuid;

use crate::replica::cell;
use crate::spawn_app;

#[tokio::test]
async fn a_call_without_a_token_is_unauthenticated() {
    let app = spawn_app().await;
    let status = app
        .client
        .clone()
        .list_known_cells(ListKnownCellsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}

#[tokio::test]
async fn a_street_admin_sees_only_the_cells_of_their_street() {
    let app = spawn_app().await;
    let street = CellLevel::Street as i32;
    for event in [
        cell("c1", None, CellLevel::County as i32),
        cell("s1", Some("c1"), street),
        cell("s2", Some("c1"), street),
    ] {
        app.publish(CELL_CREATED, Uuid::now_v7(), &event).await;
    }
    assert_eq!(app.consumers[0].drain().await.unwrap().len(), 3);

    let token = TestKeys::get().token(&[Role::StreetAdmin], &["cells/s1"], None);
    let listed = app
        .client
        .clone()
        .list_known_cells(with_token(ListKnownCellsRequest::default(), &token))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = listed.cells.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["cells/s1"]);
}
