//! The checks every replica of the grid passes, on membership's own TestApp.

use civicgrid_proto::membership::v1::ListKnownCellsRequest;
use civicgrid_testkit::replica_checks::{self, ListCells};
use civicgrid_testkit::with_token;

use crate::support::{TestApp, spawn_app};

fn known_cells(app: &TestApp) -> ListCells {
    let client = app.client.clone();
    Box::new(move |token| {
        let mut client = client.clone();
        Box::pin(async move {
            let request = ListKnownCellsRequest::default();
            let request = match token {
                Some(token) => with_token(request, &token),
                None => tonic::Request::new(request),
            };
            let cells = client.list_known_cells(request).await?.into_inner().cells;
            Ok(cells.into_iter().map(|cell| cell.name).collect())
        })
    })
}

#[tokio::test]
async fn a_published_cell_is_applied_once_and_listed_and_a_second_delivery_is_skipped() {
    let app = spawn_app().await;
    replica_checks::a_published_cell_is_applied_once_and_listed(&app, known_cells(&app)).await;
}

#[tokio::test]
async fn published_compounds_are_applied_once_at_their_latest_version() {
    let app = spawn_app().await;
    replica_checks::published_compounds_are_applied_once_at_their_latest_version(&app).await;
}

#[tokio::test]
async fn a_call_without_a_token_is_unauthenticated() {
    let app = spawn_app().await;
    replica_checks::a_call_without_a_token_is_unauthenticated(known_cells(&app)).await;
}

#[tokio::test]
async fn a_street_admin_sees_only_the_cells_of_their_street() {
    let app = spawn_app().await;
    replica_checks::a_street_admin_sees_only_their_street(&app, known_cells(&app)).await;
}

#[tokio::test]
async fn the_service_reports_serving_over_grpc_health_once_ready() {
    let app = spawn_app().await;
    replica_checks::serving_once_ready(&app, "civicgrid.membership.v1.MembershipService").await;
}

#[test]
fn a_grid_only_key_or_an_unknown_key_stops_the_service_naming_the_key() {
    replica_checks::foreign_unknown_and_bad_keys_stop_the_binary_naming_the_key(env!(
        "CARGO_BIN_EXE_civicgrid-membership"
    ));
}
