//! The assessment service against real PostgreSQL and RabbitMQ: one test
//! binary. While the service is only a replica of the grid, its tests are
//! the checks every replica passes (`civicgrid_testkit::replica_checks`);
//! its own areas get modules here beside them.

#![allow(clippy::unwrap_used)]

civicgrid_testkit::replica_service_tests! {
    application: civicgrid_assessment::Application,
    client: civicgrid_proto::assessment::v1::assessment_service_client::AssessmentServiceClient,
    request: civicgrid_proto::assessment::v1::ListKnownCellsRequest,
    service: "civicgrid.assessment.v1.AssessmentService",
    binary: env!("CARGO_BIN_EXE_civicgrid-assessment"),
}
