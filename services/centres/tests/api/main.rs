//! The centres service against real PostgreSQL and RabbitMQ: one test
//! binary. While the service is only a replica of the grid, its tests are
//! the checks every replica passes (`civicgrid_testkit::replica_checks`);
//! its own areas get modules here beside them.

#![allow(clippy::unwrap_used)]

civicgrid_testkit::replica_service_tests! {
    application: civicgrid_centres::Application,
    client: civicgrid_proto::centres::v1::centres_service_client::CentresServiceClient,
    request: civicgrid_proto::centres::v1::ListKnownCellsRequest,
    service: "civicgrid.centres.v1.CentresService",
    binary: env!("CARGO_BIN_EXE_civicgrid-centres"),
}
