//! The membership service against real PostgreSQL and RabbitMQ: one test
//! binary. While the service is only a replica of the grid, its tests are
//! the checks every replica passes (`civicgrid_testkit::replica_checks`);
//! its own areas get modules here beside them.

#![allow(clippy::unwrap_used)]

civicgrid_testkit::replica_service_tests! {
    application: civicgrid_membership::Application,
    client: civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient,
    request: civicgrid_proto::membership::v1::ListKnownCellsRequest,
    service: "civicgrid.membership.v1.MembershipService",
    binary: env!("CARGO_BIN_EXE_civicgrid-membership"),
}
