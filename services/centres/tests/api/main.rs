//! The centres service against real PostgreSQL and RabbitMQ: one test
//! binary. The checks every replica of the grid passes
//! (`civicgrid_testkit::replica_checks`, through the macro, which also
//! defines the `TestApp` holding the CentresService client) and one module
//! per area of the service's own.

#![allow(clippy::unwrap_used)]

civicgrid_testkit::replica_service_tests! {
    application: civicgrid_centres::Application,
    client: civicgrid_proto::centres::v1::centres_service_client::CentresServiceClient,
    request: civicgrid_proto::centres::v1::ListKnownCellsRequest,
    service: "civicgrid.centres.v1.CentresService",
    binary: env!("CARGO_BIN_EXE_civicgrid-centres"),
}

mod activities;
mod bookings;
mod catalogue;
mod centres;
mod coverage;
mod demo;
// The cli's demo loader itself, run against a test app by `demo`; it
// reaches `crate::demo::authorized`, which `demo` provides.
#[allow(dead_code)]
#[path = "../../../../crates/cli/src/demo_centres.rs"]
mod demo_centres;
mod lists;
mod published_state;
mod standards;
mod support;
mod task_demands;
