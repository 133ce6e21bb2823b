//! The assessment service against real PostgreSQL and RabbitMQ: one test
//! binary. The checks every replica of the grid passes
//! (`civicgrid_testkit::replica_checks`, through the macro, which also
//! defines `TestApp` and `spawn_app`), and a module per area of its own.

#![allow(clippy::unwrap_used)]

civicgrid_testkit::replica_service_tests! {
    application: civicgrid_assessment::Application,
    client: civicgrid_proto::assessment::v1::assessment_service_client::AssessmentServiceClient,
    request: civicgrid_proto::assessment::v1::ListKnownCellsRequest,
    service: "civicgrid.assessment.v1.AssessmentService",
    binary: env!("CARGO_BIN_EXE_civicgrid-assessment"),
}

mod burden;
mod demo_trace;
mod fixture;
mod levels;
mod metrics;
mod participation;
mod party_levels;
mod ratings;
mod schemes;
mod sites;
